//! Logs go to stderr through `tracing`: `-v` raises the level, `RUST_LOG` overrides it, and
//! `--log-format json` writes one JSON object per line for log shippers.

use std::io::IsTerminal;

use rats::settings::LogFormat;
use tracing_subscriber::EnvFilter;

pub fn init(verbose: u8, quiet: bool, format: LogFormat) {
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
        .unwrap_or_else(|_| EnvFilter::new(format!("warn,rats={level},deltalake_core=off,buoyant_kernel=off")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    // A second init (only possible in tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
}
