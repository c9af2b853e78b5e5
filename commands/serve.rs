//! `rats serve`: builds the server's state from the settings and runs it until a stop signal.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rats::accounts::Accounts;
use rats::exit::Outcome;
use rats::mail::Mailer;
use rats::report::due::DueConfig;
use rats::serve::Listening;
use rats::serve::alerts::AlertMail;
use rats::serve::oidc::Oidc;
use rats::serve::redis_link::RedisLink;
use rats::serve::state::{AppState, Options};
use rats::serve::tls::TlsListener;
use rats::settings::Settings;

use crate::cli::ServeArgs;
use crate::normaliser;
use crate::restart::Setting;
use crate::train_match::taxonomy_extractor;

/// candle's tensor threads, for the server (it restarts with them, [`crate::restart`]): one,
/// so that the encoder's element-wise operations run on the request's own thread. Its matrix
/// products keep every core (they run on rayon's pool, which candle sizes apart from this).
/// Why: with more, candle runs element-wise operations on a process-wide pool whose worker,
/// after each operation, spins for a while before it sleeps — through the matrix products that
/// follow, taking a core's share from them (13 % of the server's samples under `perf` while it
/// matched one résumé at a time), and concurrent requests queue for the pool's lock. One
/// résumé at a time on the demo lake, `p99` went from 154–180 ms to 107–116 ms (BENCHMARKS.md).
pub const ENCODER_THREADS: Setting = ("CANDLE_NUM_THREADS", "1");

/// Résumé uploads: the document reader's own limit plus room for the form around it.
const UPLOAD_LIMIT: usize = rats::matching::document::MAX_BYTES as usize + 64 * 1024;

pub fn run(args: &ServeArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let mut options = Options {
        lake: settings.lake.value.clone(),
        models_dir: settings.models_dir.value.clone(),
        refresh_every: Duration::from_secs(args.refresh_secs),
        max_in_flight: args.max_in_flight as usize,
        max_queued: args.max_queued as usize,
        request_timeout: Duration::from_secs_f64(args.request_timeout),
        body_limit: args.max_body_kib as usize * 1024,
        upload_limit: UPLOAD_LIMIT,
        open_registration: args.open_registration,
        rate_limits: settings.rate_limits.value,
        cors_origins: settings.cors_origins.value.clone(),
        encoder_slots: args
            .encoder_slots
            .map_or_else(|| std::thread::available_parallelism().map_or(1, usize::from), |n| n as usize),
        encoder_wait: Duration::from_secs_f64(args.encoder_wait),
        report_schedules: (!settings.report_schedules.value.is_empty()).then(|| DueConfig::from_settings(settings, None)),
        alert_mail: None,
    };
    let mailer = settings
        .smtp_url
        .value
        .as_deref()
        .map(|url| Mailer::new(url, &settings.smtp_from.value))
        .transpose()?
        .map(Arc::new);
    let normaliser = Arc::new(normaliser::from_settings(settings)?);
    let extractor = Arc::new(taxonomy_extractor(settings)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the server's runtime")?;
    runtime.block_on(async {
        let accounts = Accounts::open(&settings.accounts_db.value).await?;
        let redis = settings.redis_url.value.as_deref().map(RedisLink::new).transpose()?.map(Arc::new);
        let (listener, local) = rats::serve::bind(args.addr).await?;
        let (listening, scheme) = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => {
                let config = rats::serve::tls::server_config(cert, key)?;
                (Listening::Tls(TlsListener::new(listener, config)?), "https")
            }
            _ => (Listening::Plain(listener), "http"),
        };
        let oidc = Oidc::new(&settings.oidc.value, &format!("{scheme}://{local}"))?;
        options.alert_mail = mailer.map(|mailer| AlertMail {
            mailer,
            every: Duration::from_secs(args.alert_every_secs),
            public_url: (args.public_url.clone())
                .or_else(|| settings.oidc.value.public_url.clone())
                .unwrap_or_else(|| format!("{scheme}://{local}")),
        });
        let state = Arc::new(AppState::new(options, normaliser, extractor, accounts, oidc, redis));
        if !quiet {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "rats serve: listening on {scheme}://{local} (lake {}, models {}); pages answer once the lake is read, /ready turns 200 once matching is prepared too",
                settings.lake.value.display(),
                settings.models_dir.value.display()
            )?;
            out.flush()?;
        }
        rats::serve::serve(listening, state).await?;
        anyhow::Ok(())
    })?;
    Ok(Outcome::Success)
}
