//! The lake side of consuming Kafka: commits decided batches (on its own thread, while the
//! next batch is polled and decided), keeps each partition's position, and moves the group's
//! Kafka offsets up to the lake after every commit.

use std::collections::BTreeMap;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::{Offset, TopicPartitionList};

use super::decode::stream_name;
use super::positions::{LakePositions, Positions};
use crate::ingest::batch::{self, Fate, Origin, Stream, Streams};
use crate::ingest::readers::SourceRecord;
use crate::ingest::summary::Counts;
use crate::lake::{Lake, LakeError};

/// How long the per-batch lag report may wait for the partitions' ends; a broker that does
/// not answer in time leaves the lag out of that batch's log line instead of stalling it.
const LAG_TIMEOUT: Duration = Duration::from_secs(1);

/// A batch ready to commit: its records (in the order they were fetched) and their fates.
pub struct Decided {
    pub records: Vec<SourceRecord>,
    pub fates: Vec<Fate>,
}

/// The lake and what it holds of each partition.
pub struct LakeWriter {
    pub lake: Lake,
    topic: String,
    group: String,
    /// Per partition (by stream name), what each table holds.
    streams: Streams,
    /// The lake's positions, shared with the rebalance callback.
    pub positions: Positions,
}

impl LakeWriter {
    pub fn new(lake: Lake, topic: &str, group: &str, positions: Positions) -> Self {
        LakeWriter {
            lake,
            topic: topic.to_string(),
            group: group.to_string(),
            streams: Streams::new(),
            positions,
        }
    }

    /// Reads a partition's position from the lake (once per run and partition).
    pub fn open_stream(&mut self, partition: i32) -> Result<(), LakeError> {
        let name = stream_name(&self.topic, partition);
        if !self.streams.contains_key(&name) {
            let app_id = format!("rats.consume.kafka.{}.{}.{partition}", self.group, self.topic);
            let stream = Stream::open(&self.lake, app_id)?;
            self.positions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(partition, stream.resume_from() as i64);
            self.streams.insert(name, stream);
        }
        Ok(())
    }

    /// The next offset the lake needs, per partition.
    pub fn lake_positions(&self) -> BTreeMap<i32, i64> {
        lake_positions(&self.positions)
    }

    /// Commits one batch, records the partitions' new positions and commits the group's
    /// offsets up to them.
    pub fn commit(&mut self, decided: Decided, consumer: &BaseConsumer<LakePositions>) -> Result<(), LakeError> {
        let started = Instant::now();
        let mut ranges: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
        for r in &decided.records {
            let (partition, offset) = partition_offset(r);
            let range = ranges.entry(partition).or_insert((offset, offset));
            range.0 = range.0.min(offset);
            range.1 = range.1.max(offset);
        }
        for &partition in ranges.keys() {
            self.open_stream(partition)?;
        }
        let metadata = serde_json::json!({
            "rats.operation": "consume",
            "rats.source": "kafka",
            "rats.topic": self.topic,
            "rats.group": self.group,
            "rats.offsets": ranges.iter().map(|(p, (a, b))| format!("{p}:{a}-{b}")).collect::<Vec<_>>(),
        });
        let metadata = metadata.as_object().cloned().unwrap_or_default();
        let origin = Origin {
            input_format: "confluent-avro",
            mapping: None,
        };
        let records = decided.records.len();
        let mut counts = Counts::default();
        batch::count(&decided.fates, &mut counts);
        batch::commit(
            &mut self.lake,
            &mut self.streams,
            decided.records,
            decided.fates,
            &origin,
            &metadata,
        )?;
        {
            let mut positions = self.positions.lock().unwrap_or_else(PoisonError::into_inner);
            for &partition in ranges.keys() {
                positions.insert(partition, self.streams[&stream_name(&self.topic, partition)].resume_from() as i64);
            }
        }
        commit_group_offsets(consumer, &self.topic, &self.positions, CommitMode::Async);

        let seconds = started.elapsed().as_secs_f64();
        let positions = self.lake_positions();
        let lag: i64 = super::high_watermarks(consumer, &self.topic, &ranges.keys().copied().collect::<Vec<_>>(), LAG_TIMEOUT)
            .iter()
            .map(|(p, end)| (end - positions.get(p).copied().unwrap_or(0)).max(0))
            .sum();
        tracing::info!(
            records,
            written = counts.written,
            duplicates = counts.duplicates,
            quarantined = counts.quarantined,
            offsets = ?ranges,
            commit_ms = (seconds * 1000.0).round(),
            lag,
            "batch committed"
        );
        Ok(())
    }
}

/// The next offset the lake needs, per partition.
pub fn lake_positions(positions: &Positions) -> BTreeMap<i32, i64> {
    positions
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|(&p, &o)| (p, o))
        .collect()
}

/// Moves the group's committed offsets to the lake's positions. A failure is logged, not
/// fatal: the lake, not Kafka, decides where the next run starts.
pub fn commit_group_offsets(consumer: &BaseConsumer<LakePositions>, topic: &str, positions: &Positions, mode: CommitMode) {
    let mut list = TopicPartitionList::new();
    for (partition, next) in lake_positions(positions) {
        if next > 0
            && let Err(e) = list.add_partition_offset(topic, partition, Offset::Offset(next))
        {
            tracing::warn!(partition, error = %e, "cannot list the offset to commit");
        }
    }
    if list.count() == 0 {
        return;
    }
    match consumer.commit(&list, mode) {
        Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
        Err(e) => {
            tracing::warn!(error = %e, "committing the group's offsets failed; the lake holds the positions, the next commit catches up");
        }
    }
}

/// The partition and Kafka offset a record came from.
fn partition_offset(record: &SourceRecord) -> (i32, i64) {
    let partition = record
        .coordinates
        .file
        .rsplit('/')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(-1);
    (partition, record.coordinates.byte_offset as i64)
}
