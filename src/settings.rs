//! Settings, resolved once per run with one precedence rule: flag > `RATS_*` environment
//! variable > `rats.yaml` > built-in default. Commands receive [`Settings`], never clap structs,
//! and every value remembers where it came from so `rats config show` can say so.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

use crate::accounts::tiers::RateLimits;
use crate::check::spec::Severity;
use crate::env_vars;
use crate::ml::due::RetrainPolicy;
use crate::report::schedule::ScheduleSpec;
use crate::serve::oidc::config::OidcSettings;

/// The settings file read when `--config` is not given and it exists.
pub const DEFAULT_CONFIG_FILE: &str = "rats.yaml";

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read settings file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("settings file {path} is not valid: {source}")]
    Parse { path: PathBuf, source: serde_norway::Error },
    #[error("environment variable {name}={value:?} is not valid: expected {expected}")]
    InvalidEnv {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("setting reports: {0}")]
    Schedule(String),
    #[error("setting {0}")]
    Retrain(String),
    #[error("setting {name} = {value} is out of range: {expected}")]
    OutOfRange {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// Where a resolved value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env(&'static str),
    File,
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("flag"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::File => f.write_str("file"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// A resolved value and its origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting<T> {
    pub value: T,
    pub source: Source,
}

/// How results are printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Csv,
}

/// How logs are written on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

macro_rules! from_str_via_value_enum {
    ($ty:ty) => {
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$ty as clap::ValueEnum>::from_str(s, true)
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let value = clap::ValueEnum::to_possible_value(self).expect("no variant is skipped");
                f.write_str(value.get_name())
            }
        }
    };
}
from_str_via_value_enum!(OutputFormat);
from_str_via_value_enum!(LogFormat);

/// Values given on the command line; `None` means "not given".
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub lake: Option<PathBuf>,
    pub batch_size: Option<usize>,
    pub max_quarantine: Option<f64>,
    pub fx_fed_csv: Option<PathBuf>,
    pub skills_taxonomy: Option<PathBuf>,
    pub skills_model: Option<PathBuf>,
    pub models_dir: Option<PathBuf>,
    pub mlflow_tracking_uri: Option<String>,
    pub kafka_brokers: Option<String>,
    pub kafka_topic: Option<String>,
    pub kafka_group: Option<String>,
    pub registry_url: Option<String>,
    pub accounts_db: Option<String>,
    pub cors_origins: Option<Vec<String>>,
    pub redis_url: Option<String>,
    pub check_webhook: Option<String>,
    pub check_alert_email: Option<Vec<String>>,
    pub run_consume_from: Option<Vec<String>>,
    pub run_consume_kafka: Option<bool>,
    pub run_transform: Option<bool>,
    pub run_check: Option<bool>,
    pub run_reports: Option<bool>,
    /// `rats run --no-retrain`: leave out the salary model's retraining.
    pub run_retrain: Option<bool>,
    pub format: Option<OutputFormat>,
    pub log_format: Option<LogFormat>,
}

/// The layout of `rats.yaml` (see `rats.example.yaml`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    lake: Option<PathBuf>,
    datasets: Option<PathBuf>,
    format: Option<OutputFormat>,
    log_format: Option<LogFormat>,
    #[serde(default)]
    consume: ConsumeFileSettings,
    #[serde(default)]
    fx: FxFileSettings,
    #[serde(default)]
    skills: SkillsFileSettings,
    #[serde(default)]
    models: ModelsFileSettings,
    #[serde(default)]
    mlflow: MlflowFileSettings,
    #[serde(default)]
    kafka: KafkaFileSettings,
    #[serde(default)]
    registry: RegistryFileSettings,
    #[serde(default)]
    accounts: AccountsFileSettings,
    #[serde(default)]
    serve: ServeFileSettings,
    #[serde(default)]
    check: CheckFileSettings,
    #[serde(default)]
    run: RunFileSettings,
    #[serde(default)]
    smtp: SmtpFileSettings,
    #[serde(default)]
    report: ReportFileSettings,
    reports: Option<Vec<ScheduleSpec>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportFileSettings {
    chromium: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmtpFileSettings {
    url: Option<String>,
    from: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunFileSettings {
    consume_from: Option<Vec<String>>,
    consume_kafka: Option<bool>,
    transform: Option<bool>,
    check: Option<bool>,
    reports: Option<bool>,
    retrain_salary: Option<RetrainPolicy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckFileSettings {
    #[serde(default)]
    alerts: CheckAlertsFileSettings,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckAlertsFileSettings {
    webhook: Option<String>,
    email: Option<Vec<String>>,
    min_severity: Option<Severity>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KafkaFileSettings {
    brokers: Option<String>,
    topic: Option<String>,
    group: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFileSettings {
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeFileSettings {
    rate_limits: Option<RateLimits>,
    oidc: Option<OidcSettings>,
    cors_origins: Option<Vec<String>>,
    redis: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountsFileSettings {
    db: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsumeFileSettings {
    batch_size: Option<usize>,
    max_quarantine: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SkillsFileSettings {
    taxonomy: Option<PathBuf>,
    model: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MlflowFileSettings {
    tracking_uri: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelsFileSettings {
    dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FxFileSettings {
    fed_csv: Option<PathBuf>,
}

impl<'de> Deserialize<'de> for OutputFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for LogFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// Every setting of a run, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The settings file that was read, if any.
    pub config_file: Option<PathBuf>,
    pub lake: Setting<PathBuf>,
    pub datasets: Setting<PathBuf>,
    pub batch_size: Setting<usize>,
    pub max_quarantine: Setting<f64>,
    pub fx_fed_csv: Setting<Option<PathBuf>>,
    /// A skill taxonomy YAML instead of the built-in one.
    pub skills_taxonomy: Setting<Option<PathBuf>>,
    /// A span model from `rats train skills`; without it skills come from the taxonomy only.
    pub skills_model: Setting<Option<PathBuf>>,
    /// The model registry: `rats train` writes versions there, `predict` reads them.
    pub models_dir: Setting<PathBuf>,
    /// An MLflow tracking server training runs are logged to; none: local only.
    pub mlflow_tracking_uri: Setting<Option<String>>,
    pub kafka_brokers: Setting<String>,
    pub kafka_topic: Setting<String>,
    /// The consumer group `consume` reads Kafka as.
    pub kafka_group: Setting<String>,
    pub registry_url: Setting<String>,
    /// The accounts database of `rats serve` and `rats users` (a `sqlite://` or
    /// `postgres://` URL); by default a SQLite file beside the lake.
    pub accounts_db: Setting<String>,
    /// Request budgets of `rats serve` per tier (`serve.rate_limits` in the file only).
    pub rate_limits: Setting<RateLimits>,
    /// OpenID Connect providers of `rats serve` (`serve.oidc` in the file only).
    pub oidc: Setting<OidcSettings>,
    /// Origins whose pages may call `rats serve` from a browser (flag or file, no variable).
    pub cors_origins: Setting<Vec<String>>,
    /// The Redis `rats serve` shares rate limits and cached answers through; none: each process
    /// keeps its own.
    pub redis_url: Setting<Option<String>>,
    /// Where `rats check` posts an alert (Slack-compatible JSON) when an expectation starts
    /// failing or recovers; none: no alerts.
    pub check_webhook: Setting<Option<String>>,
    /// Who `rats check` mails its alerts to (through `smtp.url`); none: no mail.
    pub check_alert_email: Setting<Vec<String>>,
    /// The mail server: `smtp://host:port` (plain, or STARTTLS with `?tls=required`) or
    /// `smtps://user:password@host:465`; none: no mail.
    pub smtp_url: Setting<Option<String>>,
    /// The sender of rats' mail.
    pub smtp_from: Setting<String>,
    /// The Chromium `rats report` prints PDFs with; none: the first Chromium on PATH.
    pub report_chromium: Setting<Option<PathBuf>>,
    /// The reports `rats report due` sends and when (`reports:` in the file only).
    pub report_schedules: Setting<Vec<ScheduleSpec>>,
    /// The least severe failure that alerts (`check.alerts.min_severity` in the file only).
    pub check_alert_severity: Setting<Severity>,
    /// Files `rats run` consumes: glob patterns, relative to the settings file's folder.
    pub run_consume_from: Setting<Vec<String>>,
    /// Whether `rats run` also consumes Kafka up to where it ends at the start.
    pub run_consume_kafka: Setting<bool>,
    /// Whether `rats run` builds the warehouse.
    pub run_transform: Setting<bool>,
    /// Whether `rats run` checks the expectations.
    pub run_check: Setting<bool>,
    /// Whether `rats run` sends the scheduled reports that are due (when `reports:` has any).
    pub run_reports: Setting<bool>,
    /// When `rats run` retrains the salary model (`run.retrain_salary` in the file); none: it
    /// does not.
    pub run_retrain_salary: Setting<Option<RetrainPolicy>>,
    pub format: Setting<OutputFormat>,
    pub log_format: Setting<LogFormat>,
}

impl Settings {
    /// Resolves settings from the process environment.
    pub fn resolve(overrides: &Overrides) -> Result<Self, SettingsError> {
        let env: HashMap<String, String> = std::env::vars().filter(|(k, _)| k.starts_with("RATS_")).collect();
        Self::resolve_with_env(overrides, &env)
    }

    /// Resolves settings from the given environment (a seam for tests).
    pub fn resolve_with_env(overrides: &Overrides, env: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let config_file = overrides
            .config
            .clone()
            .or_else(|| env.get(env_vars::CONFIG).map(PathBuf::from))
            .or_else(|| {
                let default = PathBuf::from(DEFAULT_CONFIG_FILE);
                default.exists().then_some(default)
            });
        let file = match &config_file {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let base = config_file
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let relative = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };

        let lake = pick(
            overrides.lake.clone(),
            env,
            env_vars::LAKE,
            file.lake.map(relative),
            PathBuf::from("lake"),
        )?;
        let settings = Settings {
            accounts_db: pick(
                overrides.accounts_db.clone(),
                env,
                env_vars::ACCOUNTS_DB,
                file.accounts.db,
                crate::accounts::default_url(&lake.value),
            )?,
            rate_limits: pick_without_env(None, file.serve.rate_limits, RateLimits::default()),
            oidc: pick_without_env(None, file.serve.oidc, OidcSettings::default()),
            cors_origins: pick_without_env(overrides.cors_origins.clone(), file.serve.cors_origins, Vec::new()),
            redis_url: pick(
                overrides.redis_url.clone().map(Some),
                env,
                env_vars::REDIS_URL,
                file.serve.redis.map(Some),
                None,
            )?,
            lake,
            datasets: pick(
                None,
                env,
                env_vars::DATASETS,
                file.datasets.map(relative),
                PathBuf::from("../shared/datasets"),
            )?,
            batch_size: pick(overrides.batch_size, env, env_vars::BATCH_SIZE, file.consume.batch_size, 10_000)?,
            max_quarantine: pick(
                overrides.max_quarantine,
                env,
                env_vars::MAX_QUARANTINE,
                file.consume.max_quarantine,
                5.0,
            )?,
            fx_fed_csv: pick(
                overrides.fx_fed_csv.clone().map(Some),
                env,
                env_vars::FX_FED_CSV,
                file.fx.fed_csv.map(relative).map(Some),
                None,
            )?,
            skills_taxonomy: pick(
                overrides.skills_taxonomy.clone().map(Some),
                env,
                env_vars::SKILLS_TAXONOMY,
                file.skills.taxonomy.map(relative).map(Some),
                None,
            )?,
            skills_model: pick(
                overrides.skills_model.clone().map(Some),
                env,
                env_vars::SKILLS_MODEL,
                file.skills.model.map(relative).map(Some),
                None,
            )?,
            models_dir: pick(
                overrides.models_dir.clone(),
                env,
                env_vars::MODELS_DIR,
                file.models.dir.map(relative),
                PathBuf::from("models"),
            )?,
            mlflow_tracking_uri: pick(
                overrides.mlflow_tracking_uri.clone().map(Some),
                env,
                env_vars::MLFLOW_TRACKING_URI,
                file.mlflow.tracking_uri.map(Some),
                None,
            )?,
            kafka_brokers: pick(
                overrides.kafka_brokers.clone(),
                env,
                env_vars::KAFKA_BROKERS,
                file.kafka.brokers,
                "127.0.0.1:19092".to_string(),
            )?,
            kafka_topic: pick(
                overrides.kafka_topic.clone(),
                env,
                env_vars::KAFKA_TOPIC,
                file.kafka.topic,
                crate::contract::SUBJECT.to_string(),
            )?,
            kafka_group: pick(
                overrides.kafka_group.clone(),
                env,
                env_vars::KAFKA_GROUP,
                file.kafka.group,
                "rats".to_string(),
            )?,
            registry_url: pick(
                overrides.registry_url.clone(),
                env,
                env_vars::REGISTRY_URL,
                file.registry.url,
                "http://127.0.0.1:8081".to_string(),
            )?,
            check_webhook: pick(
                overrides.check_webhook.clone().map(Some),
                env,
                env_vars::CHECK_WEBHOOK,
                file.check.alerts.webhook.map(Some),
                None,
            )?,
            check_alert_severity: pick_without_env(None, file.check.alerts.min_severity, Severity::Warn),
            check_alert_email: pick_without_env(overrides.check_alert_email.clone(), file.check.alerts.email, Vec::new()),
            smtp_url: pick(None, env, env_vars::SMTP_URL, file.smtp.url.map(Some), None)?,
            smtp_from: pick_without_env(None, file.smtp.from, "rats <rats@localhost>".to_string()),
            report_schedules: pick_without_env(None, file.reports, Vec::new()),
            report_chromium: pick(None, env, env_vars::CHROMIUM, file.report.chromium.map(|p| Some(relative(p))), None)?,
            run_consume_from: pick_without_env(
                overrides.run_consume_from.clone(),
                file.run.consume_from.map(|globs| {
                    globs
                        .into_iter()
                        .map(|g| relative(PathBuf::from(g)).display().to_string())
                        .collect()
                }),
                Vec::new(),
            ),
            run_consume_kafka: pick_without_env(overrides.run_consume_kafka, file.run.consume_kafka, false),
            run_transform: pick_without_env(overrides.run_transform, file.run.transform, true),
            run_check: pick_without_env(overrides.run_check, file.run.check, true),
            run_reports: pick_without_env(overrides.run_reports, file.run.reports, true),
            run_retrain_salary: pick_without_env(
                (overrides.run_retrain == Some(false)).then_some(None),
                file.run.retrain_salary.map(Some),
                None,
            ),
            format: pick(overrides.format, env, env_vars::FORMAT, file.format, OutputFormat::Table)?,
            log_format: pick(overrides.log_format, env, env_vars::LOG_FORMAT, file.log_format, LogFormat::Text)?,
            config_file,
        };
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        crate::report::schedule::validate(&self.report_schedules.value).map_err(SettingsError::Schedule)?;
        if let Some(policy) = &self.run_retrain_salary.value {
            policy.validate().map_err(SettingsError::Retrain)?;
        }
        if self.batch_size.value == 0 {
            return Err(SettingsError::OutOfRange {
                name: "batch_size",
                value: "0".into(),
                expected: "at least 1",
            });
        }
        if let Err(message) = self.rate_limits.value.check() {
            return Err(SettingsError::OutOfRange {
                name: "serve.rate_limits",
                value: message,
                expected: "per_minute and burst of at least 1",
            });
        }
        if let Err(message) = self.oidc.value.check() {
            return Err(SettingsError::OutOfRange {
                name: "serve.oidc",
                value: message,
                expected: "providers as rats.example.yaml shows them",
            });
        }
        let q = self.max_quarantine.value;
        if !(0.0..=100.0).contains(&q) {
            return Err(SettingsError::OutOfRange {
                name: "max_quarantine",
                value: q.to_string(),
                expected: "a percentage from 0 to 100",
            });
        }
        Ok(())
    }

    /// Every setting as (name, value, source) rows, for `rats config show`. Credentials inside
    /// URLs (MLflow, the registry, the accounts database) are printed as `***`.
    pub fn rows(&self) -> Vec<(&'static str, String, String)> {
        let path = |p: &Path| p.display().to_string();
        let mut rows = vec![
            (
                "config",
                self.config_file.as_deref().map_or_else(|| "(none)".to_string(), path),
                "-".to_string(),
            ),
            ("lake", path(&self.lake.value), self.lake.source.to_string()),
            ("datasets", path(&self.datasets.value), self.datasets.source.to_string()),
            (
                "consume.batch_size",
                self.batch_size.value.to_string(),
                self.batch_size.source.to_string(),
            ),
            (
                "consume.max_quarantine",
                self.max_quarantine.value.to_string(),
                self.max_quarantine.source.to_string(),
            ),
            (
                "fx.fed_csv",
                self.fx_fed_csv
                    .value
                    .as_deref()
                    .map_or_else(|| "(built-in table)".to_string(), path),
                self.fx_fed_csv.source.to_string(),
            ),
            (
                "skills.taxonomy",
                self.skills_taxonomy
                    .value
                    .as_deref()
                    .map_or_else(|| "(built-in taxonomy)".to_string(), path),
                self.skills_taxonomy.source.to_string(),
            ),
            (
                "skills.model",
                self.skills_model
                    .value
                    .as_deref()
                    .map_or_else(|| "(none: taxonomy only)".to_string(), path),
                self.skills_model.source.to_string(),
            ),
            ("models.dir", path(&self.models_dir.value), self.models_dir.source.to_string()),
            (
                "mlflow.tracking_uri",
                self.mlflow_tracking_uri
                    .value
                    .as_deref()
                    .map_or_else(|| "(none: local registry only)".to_string(), redact_userinfo),
                self.mlflow_tracking_uri.source.to_string(),
            ),
            (
                "kafka.brokers",
                self.kafka_brokers.value.clone(),
                self.kafka_brokers.source.to_string(),
            ),
            ("kafka.topic", self.kafka_topic.value.clone(), self.kafka_topic.source.to_string()),
            ("kafka.group", self.kafka_group.value.clone(), self.kafka_group.source.to_string()),
            (
                "registry.url",
                redact_userinfo(&self.registry_url.value),
                self.registry_url.source.to_string(),
            ),
            (
                "accounts.db",
                redact_userinfo(&self.accounts_db.value),
                self.accounts_db.source.to_string(),
            ),
            ("format", self.format.value.to_string(), self.format.source.to_string()),
            ("log_format", self.log_format.value.to_string(), self.log_format.source.to_string()),
        ];
        rows.push((
            "serve.redis",
            self.redis_url
                .value
                .as_deref()
                .map_or_else(|| "(none: limits and caches per process)".to_string(), redact_userinfo),
            self.redis_url.source.to_string(),
        ));
        rows.push((
            "check.alerts.webhook",
            self.check_webhook
                .value
                .as_deref()
                .map_or_else(|| "(none: no alerts)".to_string(), redact_webhook),
            self.check_webhook.source.to_string(),
        ));
        rows.push((
            "check.alerts.email",
            if self.check_alert_email.value.is_empty() {
                "(none: no mail)".to_string()
            } else {
                self.check_alert_email.value.join(", ")
            },
            self.check_alert_email.source.to_string(),
        ));
        rows.push((
            "smtp.url",
            self.smtp_url
                .value
                .as_deref()
                .map_or_else(|| "(none: no mail)".to_string(), redact_userinfo),
            self.smtp_url.source.to_string(),
        ));
        rows.push(("smtp.from", self.smtp_from.value.clone(), self.smtp_from.source.to_string()));
        rows.push((
            "reports",
            if self.report_schedules.value.is_empty() {
                "(none: rats report due sends nothing)".to_string()
            } else {
                self.report_schedules
                    .value
                    .iter()
                    .map(|s| format!("{} at {:?} to {}", s.id(), s.cron, s.to.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; ")
            },
            self.report_schedules.source.to_string(),
        ));
        rows.push((
            "report.chromium",
            self.report_chromium
                .value
                .as_deref()
                .map_or_else(|| "(the first chromium on PATH)".to_string(), path),
            self.report_chromium.source.to_string(),
        ));
        rows.push((
            "check.alerts.min_severity",
            self.check_alert_severity.value.as_str().to_string(),
            self.check_alert_severity.source.to_string(),
        ));
        rows.push((
            "run.consume_from",
            if self.run_consume_from.value.is_empty() {
                "(none)".to_string()
            } else {
                self.run_consume_from.value.join(", ")
            },
            self.run_consume_from.source.to_string(),
        ));
        for (name, setting) in [
            ("run.consume_kafka", &self.run_consume_kafka),
            ("run.transform", &self.run_transform),
            ("run.check", &self.run_check),
            ("run.reports", &self.run_reports),
        ] {
            rows.push((name, setting.value.to_string(), setting.source.to_string()));
        }
        rows.push((
            "run.retrain_salary",
            self.run_retrain_salary.value.as_ref().map_or_else(
                || "(none: rats run does not train)".to_string(),
                |p| {
                    format!(
                        "every {}, at least {} new postings, {} folds, promote to {}",
                        p.every, p.min_new_postings, p.folds, p.promote
                    )
                },
            ),
            self.run_retrain_salary.source.to_string(),
        ));
        rows.push((
            "serve.cors_origins",
            if self.cors_origins.value.is_empty() {
                "(none: no cross-origin pages)".to_string()
            } else {
                self.cors_origins.value.join(", ")
            },
            self.cors_origins.source.to_string(),
        ));
        rows.push((
            "serve.oidc.providers",
            if self.oidc.value.providers.is_empty() {
                "(none: passwords and keys only)".to_string()
            } else {
                self.oidc
                    .value
                    .providers
                    .iter()
                    .map(|p| format!("{} ({})", p.name, p.issuer))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            self.oidc.source.to_string(),
        ));
        let source = self.rate_limits.source.to_string();
        rows.extend(
            self.rate_limits
                .value
                .named()
                .into_iter()
                .map(|(name, quota)| (name, quota.to_string(), source.clone())),
        );
        rows
    }
}

/// Hides the credentials of a URL (`https://user:secret@host` → `https://***@host`).
/// A webhook URL with its path hidden: services such as Slack put the secret in the path.
pub fn redact_webhook(url: &str) -> String {
    let without_user = redact_userinfo(url);
    match without_user.find("://").map(|at| at + 3) {
        Some(host_start) => match without_user[host_start..].find('/') {
            Some(path_start) => format!("{}/***", &without_user[..host_start + path_start]),
            None => without_user,
        },
        None => "***".to_string(),
    }
}

pub fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => format!("{}***{}", &url[..scheme_end + 3], &url[at..]),
        _ => url.to_string(),
    }
}

fn read_file(path: &Path) -> Result<FileSettings, SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if text.trim().is_empty() {
        return Ok(FileSettings::default());
    }
    serde_norway::from_str(&text).map_err(|source| SettingsError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Applies the precedence rule to one setting.
fn pick<T: EnvValue>(
    flag: Option<T>,
    env: &HashMap<String, String>,
    name: &'static str,
    file: Option<T>,
    default: T,
) -> Result<Setting<T>, SettingsError> {
    if let Some(value) = flag {
        return Ok(Setting {
            value,
            source: Source::Flag,
        });
    }
    if let Some(raw) = env.get(name) {
        let value = T::from_env(raw).ok_or_else(|| SettingsError::InvalidEnv {
            name,
            value: raw.clone(),
            expected: T::EXPECTED,
        })?;
        return Ok(Setting {
            value,
            source: Source::Env(name),
        });
    }
    if let Some(value) = file {
        return Ok(Setting {
            value,
            source: Source::File,
        });
    }
    Ok(Setting {
        value: default,
        source: Source::Default,
    })
}

/// The precedence rule for a setting no environment variable sets (structured values).
fn pick_without_env<T>(flag: Option<T>, file: Option<T>, default: T) -> Setting<T> {
    match (flag, file) {
        (Some(value), _) => Setting {
            value,
            source: Source::Flag,
        },
        (None, Some(value)) => Setting {
            value,
            source: Source::File,
        },
        (None, None) => Setting {
            value: default,
            source: Source::Default,
        },
    }
}

/// Parsing of a setting's value from an environment variable.
trait EnvValue: Sized {
    const EXPECTED: &'static str;
    fn from_env(raw: &str) -> Option<Self>;
}

impl EnvValue for PathBuf {
    const EXPECTED: &'static str = "a path";
    fn from_env(raw: &str) -> Option<Self> {
        (!raw.is_empty()).then(|| PathBuf::from(raw))
    }
}

impl EnvValue for Option<PathBuf> {
    const EXPECTED: &'static str = "a path";
    fn from_env(raw: &str) -> Option<Self> {
        Some((!raw.is_empty()).then(|| PathBuf::from(raw)))
    }
}

/// An optional text setting: an empty value means "none" (as for optional paths).
impl EnvValue for Option<String> {
    const EXPECTED: &'static str = "a value";
    fn from_env(raw: &str) -> Option<Self> {
        Some((!raw.trim().is_empty()).then(|| raw.trim().to_string()))
    }
}

impl EnvValue for String {
    const EXPECTED: &'static str = "a value";
    fn from_env(raw: &str) -> Option<Self> {
        (!raw.trim().is_empty()).then(|| raw.trim().to_string())
    }
}

impl EnvValue for usize {
    const EXPECTED: &'static str = "a whole number";
    fn from_env(raw: &str) -> Option<Self> {
        raw.trim().parse().ok()
    }
}

impl EnvValue for f64 {
    const EXPECTED: &'static str = "a number";
    fn from_env(raw: &str) -> Option<Self> {
        raw.trim().parse().ok().filter(|v: &f64| v.is_finite())
    }
}

impl EnvValue for OutputFormat {
    const EXPECTED: &'static str = "table, json or csv";
    fn from_env(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }
}

impl EnvValue for LogFormat {
    const EXPECTED: &'static str = "text or json";
    fn from_env(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("rats.yaml");
        std::fs::write(
            &file,
            "lake: from-file\nconsume:\n  batch_size: 7\n  max_quarantine: 9\nformat: csv\n",
        )
        .expect("write");
        let overrides = Overrides {
            config: Some(file),
            lake: Some("from-flag".into()),
            ..Overrides::default()
        };
        let s =
            Settings::resolve_with_env(&overrides, &env(&[(env_vars::BATCH_SIZE, "11"), (env_vars::LAKE, "from-env")])).expect("resolves");
        assert_eq!(
            s.lake,
            Setting {
                value: PathBuf::from("from-flag"),
                source: Source::Flag
            }
        );
        assert_eq!(
            s.batch_size,
            Setting {
                value: 11,
                source: Source::Env(env_vars::BATCH_SIZE)
            }
        );
        assert_eq!(
            s.max_quarantine,
            Setting {
                value: 9.0,
                source: Source::File
            }
        );
        assert_eq!(s.format.value, OutputFormat::Csv);
        assert_eq!(
            s.log_format,
            Setting {
                value: LogFormat::Text,
                source: Source::Default
            }
        );
    }

    #[test]
    fn relative_paths_in_the_file_are_relative_to_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("rats.yaml");
        std::fs::write(&file, "lake: lake-here\n").expect("write");
        let overrides = Overrides {
            config: Some(file),
            ..Overrides::default()
        };
        let s = Settings::resolve_with_env(&overrides, &HashMap::new()).expect("resolves");
        assert_eq!(s.lake.value, dir.path().join("lake-here"));
    }

    #[test]
    fn bad_env_and_unknown_keys_are_named() {
        let err = Settings::resolve_with_env(&Overrides::default(), &env(&[(env_vars::BATCH_SIZE, "lots")])).expect_err("invalid");
        assert!(err.to_string().contains("RATS_BATCH_SIZE"), "{err}");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("rats.yaml");
        std::fs::write(&file, "lakes: typo\n").expect("write");
        let err = Settings::resolve_with_env(
            &Overrides {
                config: Some(file),
                ..Overrides::default()
            },
            &HashMap::new(),
        )
        .expect_err("unknown key");
        assert!(err.to_string().contains("lakes"), "{err}");
    }

    #[test]
    fn credentials_in_urls_are_redacted() {
        assert_eq!(
            redact_userinfo("https://svc:s3cret@registry.example:8081"),
            "https://***@registry.example:8081"
        );
        assert_eq!(redact_userinfo("http://127.0.0.1:8081"), "http://127.0.0.1:8081");
        assert_eq!(
            redact_webhook("https://hooks.slack.com/services/T0/B0/s3cret"),
            "https://hooks.slack.com/***"
        );
        assert_eq!(redact_webhook("http://u:p@127.0.0.1:9/hook"), "http://***@127.0.0.1:9/***");
        assert_eq!(redact_webhook("http://127.0.0.1:9"), "http://127.0.0.1:9");
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let overrides = Overrides {
            max_quarantine: Some(150.0),
            ..Overrides::default()
        };
        assert!(matches!(
            Settings::resolve_with_env(&overrides, &HashMap::new()),
            Err(SettingsError::OutOfRange { .. })
        ));
    }
}
