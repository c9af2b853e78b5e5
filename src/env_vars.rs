//! The one registry of `RATS_*` environment variable names: those `rats` reads (`ALL`), and
//! those only the tests, scripts and the dbt profile read (`OUTSIDE_THE_BINARY`). Rust code
//! spells none of them anywhere else, and a test (`tests/it/cli.rs`) fails when a script,
//! test or model names one that is not listed here.

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
/// The model registry folder (`models.dir`).
pub const MODELS_DIR: &str = "RATS_MODELS_DIR";
/// An MLflow tracking server `rats train` logs runs to (`mlflow.tracking_uri`).
pub const MLFLOW_TRACKING_URI: &str = "RATS_MLFLOW_TRACKING_URI";
/// Kafka bootstrap servers (`host:port,...`).
pub const KAFKA_BROKERS: &str = "RATS_KAFKA_BROKERS";
/// The postings topic.
pub const KAFKA_TOPIC: &str = "RATS_KAFKA_TOPIC";
pub const KAFKA_GROUP: &str = "RATS_KAFKA_GROUP";
/// The Confluent Schema Registry base URL.
pub const REGISTRY_URL: &str = "RATS_REGISTRY_URL";
/// The accounts database URL (`accounts.db`).
pub const ACCOUNTS_DB: &str = "RATS_ACCOUNTS_DB";
/// The Redis `rats serve` shares its rate limits through (`serve.redis`, `--redis`).
pub const REDIS_URL: &str = "RATS_REDIS_URL";
/// Where `rats check` posts its alerts (`check.alerts.webhook`, `--webhook`).
pub const CHECK_WEBHOOK: &str = "RATS_CHECK_WEBHOOK";
/// The mail server rats sends through (`smtp.url`; it may hold a password).
pub const SMTP_URL: &str = "RATS_SMTP_URL";
/// The Chromium `rats report` prints PDFs with (`report.chromium`).
pub const CHROMIUM: &str = "RATS_CHROMIUM";
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
    MODELS_DIR,
    MLFLOW_TRACKING_URI,
    KAFKA_BROKERS,
    KAFKA_TOPIC,
    KAFKA_GROUP,
    REGISTRY_URL,
    ACCOUNTS_DB,
    REDIS_URL,
    CHECK_WEBHOOK,
    SMTP_URL,
    CHROMIUM,
    FORMAT,
    LOG_FORMAT,
];

/// The base encoder the fine-tuning test starts from (`scripts/fetch-encoder`'s folder).
pub const ENCODER_BASE: &str = "RATS_ENCODER_BASE";
/// The sentence encoder the matching tests train with (`scripts/fetch-sentence-encoder`'s
/// folder).
pub const SENTENCE_ENCODER: &str = "RATS_SENTENCE_ENCODER";
/// The port of the local Kafka broker `scripts/kafka` runs (default 19092).
pub const KAFKA_PORT: &str = "RATS_KAFKA_PORT";
/// The port of the second broker the broker-restart test starts and stops (default 19192).
pub const KAFKA_RESTART_PORT: &str = "RATS_KAFKA_RESTART_PORT";
/// The port of the MLflow tracking server `scripts/mlflow` runs (default 15000).
pub const MLFLOW_PORT: &str = "RATS_MLFLOW_PORT";
/// The port of the PostgreSQL server `scripts/postgres` runs (default 15432).
pub const POSTGRES_PORT: &str = "RATS_POSTGRES_PORT";
/// Replays the crash tests' kill points from the seed a failed run printed.
pub const KILL_SEED: &str = "RATS_KILL_SEED";

/// Names read outside the binary: by the tests (above), by scripts/ (the broker's home and
/// jars, the MLflow server's venv and data, the PostgreSQL cluster's data, the model cache, the skills report's model cache and retrain switch, the bench
/// registry stub's port, where `scripts/lighthouse` installs Lighthouse, the Python web peer's venv,
/// model, taxonomies and accounts file `scripts/bench-serve` hands it, the Spark peer's folder and
/// the runs' folder of `scripts/bench-kafka --peer spark`) and by
/// `sql-models/profiles.yml` (dbt-duckdb's database file).
pub const OUTSIDE_THE_BINARY: &[&str] = &[
    ENCODER_BASE,
    SENTENCE_ENCODER,
    KAFKA_PORT,
    KAFKA_RESTART_PORT,
    KILL_SEED,
    "RATS_KAFKA_HOME",
    MLFLOW_PORT,
    "RATS_MLFLOW_HOME",
    POSTGRES_PORT,
    "RATS_POSTGRES_HOME",
    "RATS_MODEL_CACHE",
    "RATS_SKILLS_REPORT_CACHE",
    "RATS_SKILLS_REPORT_RETRAIN",
    "RATS_BENCH_REGISTRY_PORT",
    "RATS_LIGHTHOUSE_HOME",
    "RATS_DBT_DUCKDB",
    "RATS_PEER_VENV",
    "RATS_PEER_MODEL",
    "RATS_PEER_TAXONOMIES",
    "RATS_PEER_DB",
    "RATS_PEER_SPARK",
    "RATS_BENCH_OUT",
];
