//! Logs go to stderr through `tracing`: `-v` raises the level, `RUST_LOG` overrides it, and
//! `--log-format json` writes one JSON object per line for log shippers. With an OTLP exporter
//! (`rats serve --otlp-endpoint`), rats' spans also go to the collector, whatever the log
//! level.

use std::io::IsTerminal;

use rats::otlp::{ExportGuard, OtlpConfig};
use rats::settings::LogFormat;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{EnvFilter, FilterExt, Targets, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Whether an event is rdkafka's error on dropping a consumer that `rats consume` closed
/// itself: rdkafka closes a consumer again when it is dropped and logs the refusal ("Failed to
/// close consumer queue on drop: … Broker handle destroyed for termination") as its module's one
/// error. Consume closes the consumer first since rdkafka's own close waited 100 ms after the
/// broker's answer (`ingest::kafka::close`), so the error says nothing and is never shown.
fn is_closed_consumer_drop(event: &tracing::Metadata<'_>) -> bool {
    event.target() == "rdkafka::consumer::base_consumer" && *event.level() == tracing::Level::ERROR
}

/// Installs the logger (and the span exporter, when configured); keep the returned guard until
/// the command ends, so the last spans are sent.
pub fn init(verbose: u8, quiet: bool, format: LogFormat, traces: Option<OtlpConfig>) -> anyhow::Result<Option<ExportGuard>> {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    // delta-rs logs an ERROR while probing a table location that is not a table yet, and a
    // WARN per binary column it keeps no statistics for: both expected, so its noise stays
    // below the default level unless RUST_LOG asks for it.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("warn,rats={level},deltalake_core=off,buoyant_kernel=off")))
        .and(filter_fn(|event| !is_closed_consumer_drop(event)));
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let logs = match format {
        LogFormat::Json => logs.json().with_filter(filter).boxed(),
        LogFormat::Text => logs.with_target(false).with_filter(filter).boxed(),
    };
    let (spans, guard) = match traces {
        Some(config) => {
            let (layer, guard) = rats::otlp::start(config)?;
            // rats' own spans at info and above; the exporter's HTTP client traces none.
            let ours = Targets::new().with_target("rats", tracing::Level::INFO);
            (Some(layer.with_filter(ours)), Some(guard))
        }
        None => (None, None),
    };
    // A second init (only possible in tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(logs).with(spans).try_init();
    Ok(guard)
}
