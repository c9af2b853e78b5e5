//! `rats produce`: files into Kafka as Confluent-framed Avro. Records are read with the same
//! readers as `consume`, encoded with the contract schema registered in a Schema Registry
//! (subject `<topic>-value`, Confluent's topic name strategy), keyed by the board's id, with
//! `source` and `scraped_at` headers, through an idempotent producer.

use std::path::PathBuf;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use rdkafka::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use schema_registry_converter::async_impl::avro::AvroEncoder;
use schema_registry_converter::async_impl::schema_registry::{SrSettings, is_compatible_schema};
use schema_registry_converter::error::SRCError;
use schema_registry_converter::schema_registry_common::{SchemaType, SubjectNameStrategy, SuppliedSchema};
use serde::Serialize;

use crate::ingest::readers::{self, InputFormat, OpenError, ReadError};
use crate::{contract, registry};

/// Deliveries awaited at most at once; librdkafka batches underneath.
const IN_FLIGHT: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("cannot create the Kafka producer for {brokers}: {source}")]
    Producer {
        brokers: String,
        source: rdkafka::error::KafkaError,
    },
    #[error("schema registry {url}: cannot register the contract for {topic}: {message}")]
    Registry { url: String, topic: String, message: String },
    #[error(
        "schema registry {url}: the contract is not compatible with the versions registered under {subject} (by the subject's compatibility level); nothing was sent"
    )]
    Incompatible { url: String, subject: String },
    #[error("cannot start the I/O runtime: {0}")]
    Runtime(std::io::Error),
}

/// What to produce, and where.
#[derive(Debug, Clone)]
pub struct ProduceOptions {
    pub inputs: Vec<PathBuf>,
    pub format: InputFormat,
    pub mapping: Option<PathBuf>,
    pub brokers: String,
    pub topic: String,
    pub registry: String,
}

/// The delivery summary: `read = sent + failed + unreadable`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ProduceSummary {
    pub topic: String,
    pub read: u64,
    /// Acknowledged by the broker.
    pub sent: u64,
    /// Not delivered (the reason is logged per record).
    pub failed: u64,
    /// Not a contract record (the file, line and field are logged).
    pub unreadable: u64,
}

/// Produces every record of `options.inputs`.
pub fn produce_files(options: &ProduceOptions) -> Result<ProduceSummary, ProduceError> {
    let inputs = readers::open_all(&options.inputs, options.format, options.mapping.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ProduceError::Runtime)?;
    runtime.block_on(produce(options, inputs))
}

async fn produce(options: &ProduceOptions, inputs: Vec<readers::Input>) -> Result<ProduceSummary, ProduceError> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &options.brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "lz4")
        .set("linger.ms", "20")
        .create()
        .map_err(|source| ProduceError::Producer {
            brokers: options.brokers.clone(),
            source,
        })?;
    let settings = SrSettings::new(options.registry.clone());
    check_compatible(&settings, options).await?;
    let encoder = AvroEncoder::new(settings);
    let strategy = SubjectNameStrategy::TopicNameStrategyWithSchema(options.topic.clone(), false, contract_schema());
    let mut summary = ProduceSummary {
        topic: options.topic.clone(),
        ..ProduceSummary::default()
    };
    let mut deliveries = FuturesUnordered::new();
    for mut input in inputs {
        for record in input.records.by_ref() {
            let record = record?;
            summary.read += 1;
            let listing = match record.listing() {
                Ok(listing) => listing.into_owned(),
                Err(reject) => {
                    summary.unreadable += 1;
                    let c = &record.coordinates;
                    tracing::warn!(file = %c.file, line = c.line, record = c.record, reason = %reject, "record not produced");
                    continue;
                }
            };
            let payload = encode_with_retry(&encoder, &listing, &strategy)
                .await
                .map_err(|message| ProduceError::Registry {
                    url: options.registry.clone(),
                    topic: options.topic.clone(),
                    message,
                })?;
            deliveries.push(deliver(
                &producer,
                &options.topic,
                listing,
                payload,
                record.coordinates.file.clone(),
                record.coordinates.record,
            ));
            if deliveries.len() >= IN_FLIGHT
                && let Some(delivered) = deliveries.next().await
            {
                tally(&mut summary, delivered);
            }
        }
    }
    while let Some(delivered) = deliveries.next().await {
        tally(&mut summary, delivered);
    }
    Ok(summary)
}

/// Encodes a listing; the first call registers the contract, and a registry that cannot be
/// reached is retried within [`registry::RETRY_BUDGET`]. The encoder caches errors too, so
/// they are cleared before each retry.
async fn encode_with_retry(
    encoder: &AvroEncoder,
    listing: &contract::JobListing,
    strategy: &SubjectNameStrategy,
) -> Result<Vec<u8>, String> {
    registry::with_retries(
        "register and encode",
        || encoder.encode_struct(listing, strategy),
        |e| e.retriable || e.cached,
        || encoder.remove_errors_from_cache(),
    )
    .await
    .map_err(|gave_up| described(&gave_up))
}

/// A registry error with its cause, and how the retries ended.
fn described(gave_up: &registry::GaveUp<SRCError>) -> String {
    match gave_up {
        registry::GaveUp::Failed { error, attempts } => {
            let cause = error.cause.as_ref().map(|c| format!(" ({c})")).unwrap_or_default();
            format!("{}{cause} after {attempts} attempt(s)", error.error)
        }
        registry::GaveUp::NoAnswer { .. } => gave_up.describe(),
    }
}

/// The contract as the registry receives it.
fn contract_schema() -> SuppliedSchema {
    SuppliedSchema::new(
        Some("com.rats.jobs.JobListing".to_string()),
        SchemaType::Avro,
        contract::SCHEMA_JSON.to_string(),
    )
}

/// Asks the registry whether the contract may join the topic's subject before anything is
/// sent, so an incompatible contract fails up front with that reason. A subject with no
/// versions yet accepts any first schema. An unreachable registry is retried as for encoding.
async fn check_compatible(settings: &SrSettings, options: &ProduceOptions) -> Result<(), ProduceError> {
    let subject = format!("{}-value", options.topic);
    let url = crate::settings::redact_userinfo(&options.registry);
    let answer = registry::with_retries(
        "compatibility check",
        || is_compatible_schema(settings, subject.clone(), contract_schema()),
        |e| e.retriable,
        || {},
    )
    .await;
    match answer {
        Ok(true) => Ok(()),
        Ok(false) => Err(ProduceError::Incompatible { url, subject }),
        // 40401: the subject has no versions yet, so any first schema is accepted.
        Err(registry::GaveUp::Failed { error, .. }) if !error.retriable && error.cause.as_deref().is_some_and(|c| c.contains("40401")) => {
            Ok(())
        }
        Err(gave_up) => Err(ProduceError::Registry {
            url,
            topic: options.topic.clone(),
            message: format!("compatibility check: {}", described(&gave_up)),
        }),
    }
}

async fn deliver(
    producer: &FutureProducer,
    topic: &str,
    listing: contract::JobListing,
    payload: Vec<u8>,
    file: String,
    record: u64,
) -> bool {
    let mut headers = OwnedHeaders::new();
    if let Some(site) = &listing.site {
        headers = headers.insert(Header {
            key: "source",
            value: Some(site.as_str()),
        });
    }
    if let Some(scraped) = &listing.scraped_at {
        headers = headers.insert(Header {
            key: "scraped_at",
            value: Some(scraped.as_str()),
        });
    }
    let mut message: FutureRecord<'_, str, [u8]> = FutureRecord::to(topic).payload(payload.as_slice()).headers(headers);
    if let Some(key) = &listing.job_id {
        message = message.key(key.as_str());
    }
    match producer.send(message, Duration::from_mins(1)).await {
        Ok(_) => true,
        Err((error, _)) => {
            tracing::warn!(file, record, %error, "delivery failed");
            false
        }
    }
}

fn tally(summary: &mut ProduceSummary, delivered: bool) {
    if delivered {
        summary.sent += 1;
    } else {
        summary.failed += 1;
    }
}
