//! `rats consume` from Kafka: a consumer group reads Confluent-framed Avro, and every batch
//! goes through the same normalisation, dedup and sinks as file ingest. Exactly once into the
//! lake: each Delta commit records, per partition, the next offset it covers (application
//! transaction `rats.consume.kafka.GROUP.TOPIC.PARTITION`), partitions start from the lake's
//! positions, and Kafka's group offsets are committed only after the lake commit, so they are
//! never ahead of it and `kafka-consumer-groups` shows the lake's true lag.
//!
//! One consumer process per lake: the dedup index lives in the process, so two consumers
//! writing one lake could each keep a copy of the same posting.

pub mod decode;
mod positions;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message as _;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde::Serialize;

use self::decode::{Message, stream_name};
use self::positions::{LakePositions, Positions};
use super::batch::{self, Origin, Stream, Streams};
use super::pipeline::Progress;
use super::readers::SourceRecord;
use super::summary::Counts;
use crate::dedup::DedupIndex;
use crate::lake::{Lake, LakeError};
use crate::normalize::Normaliser;
use crate::registry::{RegistryUnreachable, WriterSchemas};

/// How long broker calls made outside the poll loop (metadata, watermarks) may take.
const BROKER_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the per-batch lag report may wait for the partitions' ends; a broker that does
/// not answer in time leaves the lag out of that batch's log line instead of stalling it.
const LAG_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum KafkaConsumeError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("{0}; the batch in hand was not committed, and a re-run resumes from the lake")]
    Registry(#[from] RegistryUnreachable),
    #[error("Kafka at {brokers}: {message}")]
    Kafka { brokers: String, message: String },
    #[error("topic {topic} does not exist on {brokers}")]
    NoTopic { brokers: String, topic: String },
}

/// Where to read and how.
#[derive(Debug, Clone)]
pub struct KafkaOptions {
    pub brokers: String,
    pub topic: String,
    pub group: String,
    pub registry: String,
    /// Messages per lake commit, at most.
    pub batch_size: usize,
    /// Stop once every partition is read up to where it ended when the run started.
    pub once: bool,
    /// The longest a partly filled batch waits for more messages before it is committed.
    pub linger: Duration,
}

/// One partition's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct PartitionSummary {
    pub partition: i32,
    /// The lake's position when the run started (the first offset this run could read).
    pub from_offset: i64,
    /// The lake's position now: the next offset to read.
    pub next_offset: i64,
    /// The partition's end when the run finished.
    pub high_watermark: i64,
    /// Messages in the partition the lake does not hold yet.
    pub lag: i64,
}

/// The run: counts add up as for files (`read = written + duplicates + quarantined + skipped`).
#[derive(Debug, Clone, Serialize)]
pub struct KafkaSummary {
    pub lake: String,
    pub topic: String,
    pub group: String,
    #[serde(flatten)]
    pub totals: Counts,
    pub quarantine_percent: f64,
    pub partitions: Vec<PartitionSummary>,
    pub seconds: f64,
    /// Messages processed per second of the run.
    pub records_per_second: f64,
    /// `caught_up` (--once) or `signal`.
    pub stopped_by: &'static str,
}

/// Consumes `options.topic` into the lake at `lake_root` until caught up (`once`) or until
/// `stop` is set (SIGINT/SIGTERM), finishing the batch in hand either way.
pub fn consume_kafka(
    lake_root: &Path,
    options: &KafkaOptions,
    normaliser: &Normaliser,
    stop: &AtomicBool,
    progress: &dyn Progress,
) -> Result<KafkaSummary, KafkaConsumeError> {
    let started = Instant::now();
    let kafka_error = |message: String| KafkaConsumeError::Kafka {
        brokers: options.brokers.clone(),
        message,
    };
    let mut run = Run {
        lake: Lake::open(lake_root)?,
        index: DedupIndex::new(),
        schemas: WriterSchemas::new(&options.registry)?,
        streams: Streams::new(),
        positions: Arc::new(Mutex::new(HashMap::new())),
        counts: Counts::default(),
        options,
        normaliser,
    };
    run.index = batch::load_index(&run.lake)?;
    let consumer: BaseConsumer<LakePositions> = ClientConfig::new()
        .set("bootstrap.servers", &options.brokers)
        .set("group.id", &options.group)
        .set("client.id", "rats-consume")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .create_with_context(LakePositions {
            topic: options.topic.clone(),
            positions: Arc::clone(&run.positions),
        })
        .map_err(|e| kafka_error(format!("cannot create the consumer: {e}")))?;

    let partitions = topic_partitions(&consumer, options)?;
    for &partition in &partitions {
        run.open_stream(partition)?;
    }
    let from: BTreeMap<i32, i64> = run.lake_positions();
    let ends = high_watermarks(&consumer, &options.topic, &partitions, BROKER_TIMEOUT);
    for (partition, &next) in &from {
        if ends.get(partition).is_some_and(|&end| next > end) {
            tracing::warn!(
                partition,
                lake_position = next,
                end = ends[partition],
                "the lake holds more of this partition than the topic has: was the topic recreated? Use a new lake or --group"
            );
        }
    }
    // --once reads up to where each partition ended at start.
    let targets: BTreeMap<i32, i64> = if options.once { ends } else { BTreeMap::new() };
    tracing::info!(topic = %options.topic, group = %options.group, ?from, "consuming from the lake's positions");
    consumer
        .subscribe(&[&options.topic])
        .map_err(|e| kafka_error(format!("cannot subscribe to {}: {e}", options.topic)))?;

    // The next offset to take into a batch per partition; anything below is in the lake or in
    // the batch in hand (a rebalance re-delivers from the lake's position).
    let mut next: HashMap<i32, i64> = from.iter().map(|(&p, &o)| (p, o)).collect();
    let mut pending: Vec<Message> = Vec::new();
    let mut batch_started: Option<Instant> = None;
    let mut last_error: Option<String> = None;
    let caught_up = |next: &HashMap<i32, i64>, fetched: &HashMap<i32, i64>| {
        targets
            .iter()
            .all(|(p, &end)| next.get(p).copied().unwrap_or(0).max(fetched.get(p).copied().unwrap_or(0)) >= end)
    };
    // Fetch positions, which also step over offsets that hold no message (compaction, markers).
    let mut fetched: HashMap<i32, i64> = HashMap::new();
    let stopped_by = loop {
        let stopping = stop.load(Ordering::Relaxed);
        let done = options.once && caught_up(&next, &fetched);
        let lingered = batch_started.is_some_and(|t| t.elapsed() >= options.linger);
        if !pending.is_empty() && (pending.len() >= options.batch_size || lingered || done || stopping) {
            let messages = std::mem::take(&mut pending);
            batch_started = None;
            run.process(messages, &consumer, progress)?;
        }
        if stopping {
            break "signal";
        }
        if done {
            break "caught_up";
        }
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                last_error = None;
                let (partition, offset) = (message.partition(), message.offset());
                let expected = next.get(&partition).copied().unwrap_or(0);
                if offset < expected {
                    run.counts.read += 1;
                    run.counts.skipped += 1;
                    continue;
                }
                next.insert(partition, offset + 1);
                pending.push(Message {
                    partition,
                    offset,
                    payload: message.payload().map(<[u8]>::to_vec),
                });
                batch_started.get_or_insert_with(Instant::now);
            }
            Some(Err(e)) => {
                let text = e.to_string();
                if last_error.as_deref() != Some(text.as_str()) {
                    tracing::warn!(error = %text, "Kafka reported an error; the consumer keeps trying");
                }
                last_error = Some(text);
            }
            None if options.once => {
                if let Ok(list) = consumer.position() {
                    for element in list.elements_for_topic(&options.topic) {
                        if let Offset::Offset(o) = element.offset() {
                            fetched.insert(element.partition(), o);
                        }
                    }
                }
            }
            None => {}
        }
    };
    run.commit_group_offsets(&consumer, CommitMode::Sync);
    consumer.unsubscribe();

    let ends = high_watermarks(&consumer, &options.topic, &partitions, BROKER_TIMEOUT);
    let now = run.lake_positions();
    let partitions = now
        .iter()
        .map(|(&partition, &next_offset)| {
            let high_watermark = ends.get(&partition).copied().unwrap_or(next_offset);
            PartitionSummary {
                partition,
                from_offset: from.get(&partition).copied().unwrap_or(0),
                next_offset,
                high_watermark,
                lag: (high_watermark - next_offset).max(0),
            }
        })
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    let processed = run.counts.read - run.counts.skipped;
    Ok(KafkaSummary {
        lake: lake_root.display().to_string(),
        topic: options.topic.clone(),
        group: options.group.clone(),
        quarantine_percent: run.counts.quarantine_percent(),
        totals: run.counts,
        partitions,
        seconds,
        records_per_second: if seconds > 0.0 { processed as f64 / seconds } else { 0.0 },
        stopped_by,
    })
}

/// The state of one consume run.
struct Run<'a> {
    lake: Lake,
    index: DedupIndex,
    schemas: WriterSchemas,
    /// Per partition (by stream name), what each table holds.
    streams: Streams,
    /// The lake's positions, shared with the rebalance callback.
    positions: Positions,
    counts: Counts,
    options: &'a KafkaOptions,
    normaliser: &'a Normaliser,
}

impl Run<'_> {
    fn app_id(&self, partition: i32) -> String {
        format!("rats.consume.kafka.{}.{}.{partition}", self.options.group, self.options.topic)
    }

    /// Reads a partition's position from the lake (once per run and partition).
    fn open_stream(&mut self, partition: i32) -> Result<(), LakeError> {
        let name = stream_name(&self.options.topic, partition);
        if !self.streams.contains_key(&name) {
            let stream = Stream::open(&self.lake, self.app_id(partition))?;
            self.positions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(partition, stream.resume_from() as i64);
            self.streams.insert(name, stream);
        }
        Ok(())
    }

    fn lake_positions(&self) -> BTreeMap<i32, i64> {
        self.positions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(&p, &o)| (p, o))
            .collect()
    }

    /// Decodes, decides and commits one batch, then moves the group's offsets up to it.
    fn process(
        &mut self,
        messages: Vec<Message>,
        consumer: &BaseConsumer<LakePositions>,
        progress: &dyn Progress,
    ) -> Result<(), KafkaConsumeError> {
        let started = Instant::now();
        for partition in messages.iter().map(|m| m.partition).collect::<BTreeSet<_>>() {
            self.open_stream(partition)?;
        }
        let ids: BTreeSet<u32> = messages
            .iter()
            .filter_map(|m| decode::frame(m.payload.as_deref()).ok().map(|(id, _)| id))
            .collect();
        let mut schemas = BTreeMap::new();
        for id in ids {
            schemas.insert(id, self.schemas.get(id)?);
        }
        let records = decode_all(&self.options.topic, messages, &schemas);
        let fates = batch::decide(&records, self.normaliser, &mut self.index);
        let mut counts = Counts {
            read: records.len() as u64,
            ..Counts::default()
        };
        batch::count(&fates, &mut counts);

        let mut ranges: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
        for r in &records {
            let (partition, offset) = partition_offset(r);
            let range = ranges.entry(partition).or_insert((offset, offset));
            range.0 = range.0.min(offset);
            range.1 = range.1.max(offset);
        }
        let metadata = serde_json::json!({
            "rats.operation": "consume",
            "rats.source": "kafka",
            "rats.topic": self.options.topic,
            "rats.group": self.options.group,
            "rats.offsets": ranges.iter().map(|(p, (a, b))| format!("{p}:{a}-{b}")).collect::<Vec<_>>(),
        });
        let metadata = metadata.as_object().cloned().unwrap_or_default();
        let origin = Origin {
            input_format: "confluent-avro",
            mapping: None,
        };
        batch::commit(&mut self.lake, &mut self.streams, &records, &fates, &origin, &metadata)?;
        {
            let mut positions = self.positions.lock().unwrap_or_else(PoisonError::into_inner);
            for &partition in ranges.keys() {
                let stream = &self.streams[&stream_name(&self.options.topic, partition)];
                positions.insert(partition, stream.resume_from() as i64);
            }
        }
        self.commit_group_offsets(consumer, CommitMode::Async);

        let seconds = started.elapsed().as_secs_f64();
        let lag: i64 = high_watermarks(
            consumer,
            &self.options.topic,
            &ranges.keys().copied().collect::<Vec<_>>(),
            LAG_TIMEOUT,
        )
        .iter()
        .map(|(p, end)| {
            (end - self
                .positions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(p)
                .copied()
                .unwrap_or(0))
            .max(0)
        })
        .sum();
        tracing::info!(
            records = counts.read,
            written = counts.written,
            duplicates = counts.duplicates,
            quarantined = counts.quarantined,
            offsets = ?ranges,
            records_per_second = (counts.read as f64 / seconds.max(1e-9)).round(),
            lag,
            "batch committed"
        );
        progress.records_done(counts.read);
        self.counts.add(&counts);
        Ok(())
    }

    /// Moves the group's committed offsets to the lake's positions. A failure is logged, not
    /// fatal: the lake, not Kafka, decides where the next run starts.
    fn commit_group_offsets(&self, consumer: &BaseConsumer<LakePositions>, mode: CommitMode) {
        let mut list = TopicPartitionList::new();
        for (partition, next) in self.lake_positions() {
            if next > 0
                && let Err(e) = list.add_partition_offset(&self.options.topic, partition, Offset::Offset(next))
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

/// Decodes a batch on every core, in order.
fn decode_all(topic: &str, messages: Vec<Message>, schemas: &BTreeMap<u32, crate::registry::WriterSchema>) -> Vec<SourceRecord> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let chunk = messages.len().div_ceil(threads).max(1);
    let mut parts: Vec<Vec<Message>> = Vec::new();
    let mut messages = messages.into_iter().peekable();
    while messages.peek().is_some() {
        parts.push(messages.by_ref().take(chunk).collect());
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(move || part.into_iter().map(|m| decode::decode(topic, m, schemas)).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("decoding never panics")).collect()
    })
}

/// The topic's partitions, or why it cannot be read.
fn topic_partitions(consumer: &BaseConsumer<LakePositions>, options: &KafkaOptions) -> Result<Vec<i32>, KafkaConsumeError> {
    let metadata = consumer
        .fetch_metadata(Some(&options.topic), BROKER_TIMEOUT)
        .map_err(|e| KafkaConsumeError::Kafka {
            brokers: options.brokers.clone(),
            message: format!("cannot read the topic's metadata: {e} (is the broker running?)"),
        })?;
    let topic = metadata.topics().iter().find(|t| t.name() == options.topic);
    match topic {
        Some(t) if t.error().is_none() && !t.partitions().is_empty() => {
            Ok(t.partitions().iter().map(rdkafka::metadata::MetadataPartition::id).collect())
        }
        _ => Err(KafkaConsumeError::NoTopic {
            brokers: options.brokers.clone(),
            topic: options.topic.clone(),
        }),
    }
}

/// Each partition's end (the offset the next message will get); partitions the broker does
/// not answer for are left out.
fn high_watermarks(consumer: &BaseConsumer<LakePositions>, topic: &str, partitions: &[i32], timeout: Duration) -> BTreeMap<i32, i64> {
    partitions
        .iter()
        .filter_map(|&p| match consumer.fetch_watermarks(topic, p, timeout) {
            Ok((_, high)) => Some((p, high)),
            Err(e) => {
                tracing::warn!(partition = p, error = %e, "cannot read the partition's end");
                None
            }
        })
        .collect()
}
