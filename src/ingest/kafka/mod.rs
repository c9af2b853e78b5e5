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
mod json;
mod positions;
pub(crate) mod schema_guard;
mod writer;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message as _;
use rdkafka::{ClientConfig, Offset};
use serde::Serialize;

use self::decode::Message;
use self::positions::{LakePositions, Positions};
use self::writer::{Decided, LakeWriter, commit_group_offsets};
use super::batch;
use super::pipeline::Progress;
use super::readers::SourceRecord;
use super::summary::Counts;
use crate::dedup::DedupIndex;
use crate::lake::{Lake, LakeError};
use crate::normalize::Normaliser;
use crate::registry::{RegistryUnreachable, WriterSchemas};

/// How long broker calls made outside the poll loop (metadata, watermarks) may take.
const BROKER_TIMEOUT: Duration = Duration::from_secs(15);

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
    #[error("the lake writer stopped before the run ended; a re-run resumes from the lake")]
    WriterStopped,
}

/// Why a run from Kafka ended; serialised as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoppedBy {
    /// `--once`: every partition was read up to where it ended when the run started.
    CaughtUp,
    /// SIGINT or SIGTERM.
    Signal,
}

impl StoppedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            StoppedBy::CaughtUp => "caught_up",
            StoppedBy::Signal => "signal",
        }
    }
}

impl Serialize for StoppedBy {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
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
    pub stopped_by: StoppedBy,
}

/// Consumes `options.topic` into the lake at `lake_root` until caught up (`once`) or until
/// `stop` is set (SIGINT/SIGTERM), finishing the batch in hand either way. This thread polls,
/// decodes and decides batch N+1 while a writer thread commits batch N.
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
    let positions: Positions = Arc::new(Mutex::new(HashMap::new()));
    let lake = Lake::open(lake_root)?;
    if crate::lake::reference::sync_skills(lake_root, normaliser.skills().taxonomy())? {
        tracing::info!(table = crate::lake::reference::SKILLS, "skill taxonomy written to the lake");
    }
    let index = batch::load_index(&lake)?;
    let mut writer = LakeWriter::new(lake, &options.topic, &options.group, Arc::clone(&positions));
    let schemas = WriterSchemas::new(&options.registry)?;
    let consumer: BaseConsumer<LakePositions> = ClientConfig::new()
        .set("bootstrap.servers", &options.brokers)
        .set("group.id", &options.group)
        .set("client.id", "rats-consume")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        // A consumer that was killed stays in the group until its session times out, and the
        // next run of the same group waits for that before it gets the partitions: 45 s with
        // librdkafka's default, so a crashed run restarted at once (cron, systemd, CI) sat idle
        // for most of a minute. Ten seconds, the pre-3.0 default, still rides out any pause of
        // this process: heartbeats come from librdkafka's own thread.
        .set("session.timeout.ms", "10000")
        // Read ahead up to two batches, in fetches large enough that polling a batch rarely
        // waits for the broker (the default 1 MB per partition per fetch starves a 10,000-message
        // batch), capped at 16 MB (librdkafka's default is 64 MB) for the peak memory: with the
        // prompt refill below, a read-ahead of about one batch keeps up.
        .set("queued.min.messages", (options.batch_size * 2).clamp(1_000, 100_000).to_string())
        .set("queued.max.messages.kbytes", "16384")
        .set("max.partition.fetch.bytes", "8388608")
        // Once the read-ahead is full, librdkafka waits this long before it looks again whether
        // to fetch. With its default of a second, a batch that emptied the read-ahead waited
        // for the rest: polls of 130-470 ms, two or three in a run of twenty batches, part of
        // them with both cores idle once the writer was done (BENCHMARKS.md). Looking again
        // every 10 ms costs nothing next to that: a fetch is sent only when the read-ahead has
        // room.
        .set("fetch.queue.backoff.ms", "10")
        // A caught-up fetch waits at the broker up to this long for new messages, and requests
        // behind it on the connection wait too: the group's offset commit and leaving the group
        // at the end of the run (with librdkafka's 500 ms, every `--once` run spent half a
        // second after its last batch; strace: the commit's answer came 0.50 s after its
        // request). A `--once` run stops when caught up, so its fetches need not wait for new
        // messages at all; a run that keeps going waits 100 ms, not to fetch ten times a second
        // while the topic is idle.
        .set("fetch.wait.max.ms", if options.once { "10" } else { "100" })
        .create_with_context(LakePositions {
            topic: options.topic.clone(),
            positions: Arc::clone(&positions),
        })
        .map_err(|e| kafka_error(format!("cannot create the consumer: {e}")))?;

    let partitions = topic_partitions(&consumer, options)?;
    for &partition in &partitions {
        writer.open_stream(partition)?;
    }
    let from: BTreeMap<i32, i64> = writer.lake_positions();
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
    tracing::info!(topic = %options.topic, group = %options.group, ?from, "consuming from the lake's positions");
    consumer
        .subscribe(&[&options.topic])
        .map_err(|e| kafka_error(format!("cannot subscribe to {}: {e}", options.topic)))?;

    let mut intake = Intake {
        consumer: &consumer,
        options,
        normaliser,
        schemas,
        index,
        counts: Counts::default(),
        // --once reads up to where each partition ended at start.
        targets: if options.once { ends } else { BTreeMap::new() },
        next: from.iter().map(|(&p, &o)| (p, o)).collect(),
        fetched: HashMap::new(),
    };
    let stopped_by = std::thread::scope(|scope| {
        // A rendezvous channel: at most two batches are in memory, one deciding, one committing.
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Decided>(0);
        let (consumer, writer) = (&consumer, &mut writer);
        let committer = scope.spawn(move || -> Result<(), LakeError> {
            for decided in receiver {
                writer.commit(decided, consumer)?;
            }
            Ok(())
        });
        let read = intake.run(stop, &sender, progress);
        drop(sender);
        let written = committer.join().expect("the writer thread never panics");
        match (read, written) {
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(KafkaConsumeError::Lake(e)),
            (Ok(Some(stopped_by)), Ok(())) => Ok(stopped_by),
            // The writer only hangs up on an error, so this arm is for completeness.
            (Ok(None), Ok(())) => Err(KafkaConsumeError::WriterStopped),
        }
    })?;
    commit_group_offsets(&consumer, &options.topic, &positions, CommitMode::Sync);
    consumer.unsubscribe();

    let ends = high_watermarks(&consumer, &options.topic, &partitions, BROKER_TIMEOUT);
    close(&consumer);
    let partitions = writer
        .lake_positions()
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
    let counts = intake.counts;
    let processed = counts.read - counts.skipped;
    Ok(KafkaSummary {
        lake: lake_root.display().to_string(),
        topic: options.topic.clone(),
        group: options.group.clone(),
        quarantine_percent: counts.quarantine_percent(),
        totals: counts,
        partitions,
        seconds,
        records_per_second: if seconds > 0.0 { processed as f64 / seconds } else { 0.0 },
        stopped_by,
    })
}

/// Closes the consumer, leaving its group, before it is dropped. Dropped open, rdkafka's
/// consumer closes itself but waits for the close in polls of 100 ms, and the close's last step
/// ends no poll: every run ended with 100 ms of nothing (strace: no system call between the
/// group's last answer and the consumer's threads leaving). Polled every millisecond, the close
/// takes as long as the broker's answer.
fn close(consumer: &BaseConsumer<LakePositions>) {
    if consumer.close_queue().is_err() {
        return;
    }
    let deadline = Instant::now() + BROKER_TIMEOUT;
    while !consumer.closed() && Instant::now() < deadline {
        // What is still queued is not consumed: the lake's positions say where the next run starts.
        let _ = consumer.poll(Duration::from_millis(1));
    }
}

/// The Kafka side: polls messages into batches, decodes and decides them, and hands them to
/// the writer.
struct Intake<'a> {
    consumer: &'a BaseConsumer<LakePositions>,
    options: &'a KafkaOptions,
    normaliser: &'a Normaliser,
    schemas: WriterSchemas,
    index: DedupIndex,
    counts: Counts,
    /// --once: each partition's end at start.
    targets: BTreeMap<i32, i64>,
    /// The next offset to take into a batch per partition; anything below is in the lake or
    /// in a batch in hand (a rebalance re-delivers from the lake's position).
    next: HashMap<i32, i64>,
    /// Fetch positions, which also step over offsets that hold no message (compaction,
    /// transaction markers).
    fetched: HashMap<i32, i64>,
}

impl Intake<'_> {
    /// Polls until caught up (--once) or stopped; returns why it stopped, or `None` when the
    /// writer hung up (on an error, which the caller reports).
    fn run(
        &mut self,
        stop: &AtomicBool,
        sender: &SyncSender<Decided>,
        progress: &dyn Progress,
    ) -> Result<Option<StoppedBy>, KafkaConsumeError> {
        let mut pending: Vec<Message> = Vec::new();
        let mut batch_started: Option<Instant> = None;
        let mut last_error: Option<String> = None;
        loop {
            let stopping = stop.load(Ordering::Relaxed);
            let done = self.options.once && self.caught_up();
            let lingered = batch_started.is_some_and(|t| t.elapsed() >= self.options.linger);
            if !pending.is_empty() && (pending.len() >= self.options.batch_size || lingered || done || stopping) {
                if let Some(t) = batch_started {
                    tracing::debug!(messages = pending.len(), poll_ms = t.elapsed().as_millis(), "batch polled");
                }
                let decided = self.decide(std::mem::take(&mut pending))?;
                batch_started = None;
                progress.records_done(decided.records.len() as u64);
                let waiting = Instant::now();
                if sender.send(decided).is_err() {
                    return Ok(None);
                }
                tracing::debug!(wait_ms = waiting.elapsed().as_millis(), "batch handed to the writer");
            }
            if stopping {
                return Ok(Some(StoppedBy::Signal));
            }
            if done {
                return Ok(Some(StoppedBy::CaughtUp));
            }
            match self.consumer.poll(Duration::from_millis(100)) {
                Some(Ok(message)) => {
                    last_error = None;
                    let (partition, offset) = (message.partition(), message.offset());
                    if offset < self.next.get(&partition).copied().unwrap_or(0) {
                        self.counts.read += 1;
                        self.counts.skipped += 1;
                        continue;
                    }
                    self.next.insert(partition, offset + 1);
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
                None if self.options.once => self.note_fetch_positions(),
                None => {}
            }
        }
    }

    /// Every partition read up to its end at start.
    fn caught_up(&self) -> bool {
        let at = |map: &HashMap<i32, i64>, p: &i32| map.get(p).copied().unwrap_or(0);
        self.targets
            .iter()
            .all(|(p, &end)| at(&self.next, p).max(at(&self.fetched, p)) >= end)
    }

    fn note_fetch_positions(&mut self) {
        if let Ok(list) = self.consumer.position() {
            for element in list.elements_for_topic(&self.options.topic) {
                if let Offset::Offset(o) = element.offset() {
                    self.fetched.insert(element.partition(), o);
                }
            }
        }
    }

    /// Fetches the batch's writer schemas, decodes and decides it.
    fn decide(&mut self, messages: Vec<Message>) -> Result<Decided, KafkaConsumeError> {
        let ids: BTreeSet<u32> = messages
            .iter()
            .filter_map(|m| decode::frame(m.payload.as_deref()).ok().map(|(id, _)| id))
            .collect();
        let mut schemas = BTreeMap::new();
        for id in ids {
            schemas.insert(id, self.schemas.get(id)?);
        }
        let started = Instant::now();
        let mut records = decode_all(&self.options.topic, messages, &schemas);
        let decoded = Instant::now();
        let fates = batch::decide(&mut records, self.normaliser, &mut self.index);
        tracing::debug!(
            records = records.len(),
            decode_ms = (decoded - started).as_millis(),
            decide_ms = decoded.elapsed().as_millis(),
            "batch decided"
        );
        self.counts.read += records.len() as u64;
        batch::count(&fates, &mut self.counts);
        Ok(Decided { records, fates })
    }
}

/// Decodes a batch on every core (the pool's threads take work as they finish), in order.
fn decode_all(topic: &str, messages: Vec<Message>, schemas: &BTreeMap<u32, crate::registry::WriterSchema>) -> Vec<SourceRecord> {
    use rayon::iter::{IntoParallelIterator, ParallelIterator};
    let readers = &decode::Readers::new(schemas);
    messages.into_par_iter().map(|m| decode::decode(topic, m, readers)).collect()
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
