//! The one registry of environment variable names `rats` reads. Nothing else in the code base
//! spells a `RATS_*` name.

/// Path of the settings file (same as `--config`).
pub const CONFIG: &str = "RATS_CONFIG";
/// The lake directory.
pub const LAKE: &str = "RATS_LAKE";
/// The shared real-data folder (tests, evaluations, benchmarks).
pub const DATASETS: &str = "RATS_DATASETS";
/// Records per lake commit during consume.
pub const BATCH_SIZE: &str = "RATS_BATCH_SIZE";
/// Quarantine share (percent) above which consume exits 1.
pub const MAX_QUARANTINE: &str = "RATS_MAX_QUARANTINE";
/// A Federal Reserve exchange-rate CSV overriding the built-in currency table.
pub const FX_FED_CSV: &str = "RATS_FX_FED_CSV";
/// A skill taxonomy YAML replacing the built-in one.
pub const SKILLS_TAXONOMY: &str = "RATS_SKILLS_TAXONOMY";
/// A span model file written by `rats train skills`.
pub const SKILLS_MODEL: &str = "RATS_SKILLS_MODEL";
/// Kafka bootstrap servers (`host:port,...`).
pub const KAFKA_BROKERS: &str = "RATS_KAFKA_BROKERS";
/// The postings topic.
pub const KAFKA_TOPIC: &str = "RATS_KAFKA_TOPIC";
pub const KAFKA_GROUP: &str = "RATS_KAFKA_GROUP";
/// The Confluent Schema Registry base URL.
pub const REGISTRY_URL: &str = "RATS_REGISTRY_URL";
/// Output format: table, json or csv.
pub const FORMAT: &str = "RATS_FORMAT";
/// Log format: text or json.
pub const LOG_FORMAT: &str = "RATS_LOG_FORMAT";

/// Every variable above, for `rats config show` and the docs.
pub const ALL: &[&str] = &[
    CONFIG,
    LAKE,
    DATASETS,
    BATCH_SIZE,
    MAX_QUARANTINE,
    FX_FED_CSV,
    SKILLS_TAXONOMY,
    SKILLS_MODEL,
    KAFKA_BROKERS,
    KAFKA_TOPIC,
    KAFKA_GROUP,
    REGISTRY_URL,
    FORMAT,
    LOG_FORMAT,
];
