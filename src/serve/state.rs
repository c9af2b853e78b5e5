//! What every request reads: the options, the models and the lake snapshot in use (each
//! swapped whole, so a request keeps the pair it started with), the metrics and the gate that
//! bounds concurrent work. [`refresh`] keeps models and lake current.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, SemaphorePermit, watch};

use crate::accounts::Accounts;
use crate::accounts::tiers::RateLimits;
use crate::ml::salary::query::{SalaryQuery, facts_of_query};
use crate::normalize::Normaliser;
use crate::skills::Extractor;

use super::ServeError;
use super::blocking::in_current_span;
use super::live::feed::Feed;
use super::market::{Market, TableVersions};
use super::matching_side;
use super::metrics::{Gauges, Metrics};
use super::models::{self, Models};
use super::oidc::Oidc;
use super::problem::Problem;
use super::redis_link::RedisLink;
use super::routes::salary::{PREDICTION_CACHE_ENTRIES, PREDICTION_TTL};
use super::shared_cache::SharedCache;
use super::shared_limits::RateLimiter;
use super::ttl_cache::TtlCache;

/// How the server runs (from `rats serve`'s flags).
#[derive(Debug, Clone)]
pub struct Options {
    pub lake: PathBuf,
    pub models_dir: PathBuf,
    /// How often the registry and the lake are checked for a new version.
    pub refresh_every: Duration,
    /// Requests answered at once; more wait in line.
    pub max_in_flight: usize,
    /// Requests waiting for a turn; more are refused with 503.
    pub max_queued: usize,
    /// A request not answered in this time gets 503.
    pub request_timeout: Duration,
    /// JSON bodies larger than this are refused with 413.
    pub body_limit: usize,
    /// Résumé uploads larger than this are refused with 413.
    pub upload_limit: usize,
    /// Whether anyone may sign up (`POST /v1/auth/register`) as an `api_user`.
    pub open_registration: bool,
    /// Each tier's request budget.
    pub rate_limits: RateLimits,
    /// Origins (`https://app.example`) whose pages may call the API from a browser.
    pub cors_origins: Vec<String>,
    /// Résumés the sentence encoder embeds at once.
    pub encoder_slots: usize,
    /// How long a match request waits for the encoder before its résumé is scored on skills
    /// alone (by the match model's fallback).
    pub encoder_wait: Duration,
    /// The report schedules the server sends every minute, as `rats report due` would (none
    /// when `reports:` lists none).
    pub report_schedules: Option<crate::report::due::DueConfig>,
    /// How saved-search alerts are mailed (none without `smtp.url`: alerts stay in the page).
    pub alert_mail: Option<super::alerts::AlertMail>,
}

pub struct AppState {
    pub options: Options,
    pub normaliser: Arc<Normaliser>,
    pub extractor: Arc<Extractor>,
    pub metrics: Metrics,
    pub gate: Gate,
    pub accounts: Accounts,
    /// The OpenID Connect providers people may sign in with (none unless `serve.oidc` lists some).
    pub oidc: Oidc,
    /// The Redis replicas share limits and caches through (`--redis`), if any.
    pub redis: Option<Arc<RedisLink>>,
    pub limiter: RateLimiter,
    /// Salary answers by model version and request.
    pub predictions: TtlCache<serde_json::Value>,
    /// The second level of the prediction and lake answer caches, in Redis.
    pub shared_cache: SharedCache,
    /// Turns at the sentence encoder (`encoder_slots` of them).
    pub encoder: Arc<Semaphore>,
    /// The follower of silver's log the live streams read.
    pub feed: Feed,
    /// A place for each open live stream ([`super::live::MAX_STREAMS`]).
    pub streams: Arc<Semaphore>,
    /// Told when the follower sees a commit, so the snapshot is read again at once.
    pub lake_moved: Notify,
    /// True once the server is stopping: live streams end so connections can drain.
    pub stopping: watch::Sender<bool>,
    /// True while a snapshot's matching is prepared on a thread of its own (one at a time: two
    /// would embed the same postings).
    preparing_matching: Arc<AtomicBool>,
    models: RwLock<Option<Arc<Models>>>,
    market: RwLock<Option<Arc<Market>>>,
    /// Why the last refresh failed, for `/ready`; `None` after one that worked.
    trouble: Mutex<Option<String>>,
}

impl AppState {
    /// The server's state; with `redis`, rate limits and caches are shared through it.
    pub fn new(
        options: Options,
        normaliser: Arc<Normaliser>,
        extractor: Arc<Extractor>,
        accounts: Accounts,
        oidc: Oidc,
        redis: Option<Arc<RedisLink>>,
    ) -> Self {
        AppState {
            accounts,
            oidc,
            limiter: redis.clone().map_or_else(RateLimiter::local, RateLimiter::shared),
            shared_cache: SharedCache::new(redis.clone()),
            redis,
            predictions: TtlCache::new(PREDICTION_TTL, PREDICTION_CACHE_ENTRIES),
            gate: Gate::new(options.max_in_flight, options.max_queued),
            encoder: Arc::new(Semaphore::new(options.encoder_slots)),
            feed: Feed::new(&options.lake),
            streams: Arc::new(Semaphore::new(super::live::MAX_STREAMS)),
            lake_moved: Notify::new(),
            stopping: watch::Sender::new(false),
            preparing_matching: Arc::default(),
            options,
            normaliser,
            extractor,
            metrics: Metrics::default(),
            models: RwLock::default(),
            market: RwLock::default(),
            trouble: Mutex::default(),
        }
    }

    pub fn models(&self) -> Option<Arc<Models>> {
        self.models.read().ok()?.clone()
    }

    pub fn market(&self) -> Option<Arc<Market>> {
        self.market.read().ok()?.clone()
    }

    /// The lake snapshot, or 503 while it has not been read.
    pub fn market_or_503(&self) -> Result<Arc<Market>, Problem> {
        self.market()
            .ok_or_else(|| Problem::unavailable("lake_not_ready", "the lake has not been read yet; see /ready"))
    }

    pub fn trouble(&self) -> Option<String> {
        self.trouble.lock().ok()?.clone()
    }

    /// Ready: models loaded, the lake read, its log followed, and matching prepared for the
    /// match model in use (every other route answers before that).
    pub fn is_ready(&self) -> bool {
        if !self.feed.is_following() {
            return false;
        }
        let (Some(models), Some(market)) = (self.models(), self.market()) else {
            return false;
        };
        let matching_current = models
            .matching
            .as_ref()
            .is_none_or(|service| market.matching.side_for(&service.chosen.version).is_some());
        matching_current && self.trouble().is_none()
    }

    pub fn gauges(&self) -> Gauges {
        let market = self.market();
        Gauges {
            models: self.models().map(|m| m.in_use()).unwrap_or_default(),
            lake_version: market.as_ref().map(|m| m.lake_version),
            newest_posting_age_seconds: market.as_ref().and_then(|m| m.newest_posting()).and_then(|date| {
                let midnight = date.and_hms_opt(0, 0, 0)?.and_utc();
                Some((chrono::Utc::now() - midnight).num_seconds() as f64)
            }),
            ready: self.is_ready(),
            redis: self.redis.as_ref().map(|link| link.state()),
        }
    }
}

/// Brings the models and the lake snapshot up to date: models again when the registry's choice
/// changed, the lake again when silver's version moved or the match model changed. The work
/// runs on the blocking pool; requests keep using the old pair until the new one is complete.
pub async fn refresh(state: &Arc<AppState>) {
    let worker = state.clone();
    let outcome = in_current_span(move || refresh_blocking(&worker))
        .await
        .unwrap_or_else(|e| Err(ServeError::Model(format!("the refresh panicked: {e}"))));
    let trouble = outcome.err().map(|e| e.to_string());
    if let Some(message) = &trouble {
        tracing::warn!(target: "rats::serve", error = %message, "refresh failed; answering with what was loaded before");
    }
    if let Ok(mut slot) = state.trouble.lock() {
        *slot = trouble;
    }
}

fn refresh_blocking(state: &AppState) -> Result<(), ServeError> {
    let options = &state.options;
    let wanted = models::chosen_versions(&options.models_dir)?;
    let models = match state.models() {
        Some(models) if models.versions() == wanted => models,
        _ => {
            let loading = tracing::info_span!(target: "rats::serve", "models.load").entered();
            let models = Arc::new(Models::load(&options.models_dir)?);
            warm_up(state, &models)?;
            drop(loading);
            let (salary, matching) = models.versions();
            tracing::info!(target: "rats::serve", salary = ?salary, matching = ?matching, "models loaded");
            if let Ok(mut slot) = state.models.write() {
                *slot = Some(models.clone());
            }
            models
        }
    };
    let tables = TableVersions::of_lake(&options.lake)?;
    let service = models.matching.as_ref();
    let old = state.market();
    let current = old
        .as_ref()
        .is_some_and(|market| market.tables == tables && service.is_none_or(|s| market.matching.started_for(&s.chosen.version)));
    if !current {
        // Matching stays available while the lake moves: a snapshot replacing one whose matching
        // was prepared (so only its new postings are embedded) is prepared before it replaces it.
        let prepare_first = service.filter(|s| old.as_ref().is_some_and(|m| m.matching.side_for(&s.chosen.version).is_some()));
        let reading = tracing::info_span!(
            target: "rats::serve",
            "lake.read",
            lake.version = tracing::field::Empty,
            postings = tracing::field::Empty
        )
        .entered();
        let market = loop {
            let market = match Market::load(&options.lake) {
                Err(ServeError::LakeMoved) => continue,
                other => other?,
            };
            match prepare_first.map(|s| matching_side::prepare(&market, &options.lake, &state.extractor, s)) {
                Some(Err(ServeError::LakeMoved)) => {}
                // The snapshot says why (`/ready`, the match routes); everything else answers.
                Some(Err(e)) => {
                    tracing::warn!(target: "rats::serve", error = %e, lake_version = market.lake_version, "preparing matching failed");
                    break market;
                }
                Some(Ok(_)) | None => break market,
            }
        };
        reading.record("lake.version", market.lake_version);
        reading.record("postings", market.jobs.len());
        drop(reading);
        tracing::info!(target: "rats::serve", lake_version = market.lake_version, postings = market.jobs.len(), "lake read");
        if let Ok(mut slot) = state.market.write() {
            *slot = Some(Arc::new(market));
        }
    }
    prepare_matching_aside(state, &models);
    Ok(())
}

/// Starts preparing the snapshot in use for the match model on a thread of its own, unless it
/// was started or another preparation still runs (the next refresh tries again, and finds the
/// postings that one embedded in the lake's cache).
fn prepare_matching_aside(state: &AppState, models: &Arc<Models>) {
    let (Some(market), Some(service)) = (state.market(), models.matching.as_ref()) else {
        return;
    };
    if market.matching.started_for(&service.chosen.version) || state.preparing_matching.swap(true, Ordering::SeqCst) {
        return;
    }
    let (models, running) = (models.clone(), state.preparing_matching.clone());
    let (lake, extractor) = (state.options.lake.clone(), state.extractor.clone());
    let span = tracing::Span::current();
    let started = std::thread::Builder::new().name("rats-matching".into()).spawn(move || {
        let _entered = span.entered();
        if let Some(service) = &models.matching
            && let Err(e) = matching_side::prepare(&market, &lake, &extractor, service)
        {
            tracing::warn!(target: "rats::serve", error = %e, lake_version = market.lake_version, "preparing matching failed");
        }
        running.store(false, Ordering::SeqCst);
    });
    if let Err(e) = started {
        state.preparing_matching.store(false, Ordering::SeqCst);
        tracing::warn!(target: "rats::serve", error = %e, "could not start preparing matching");
    }
}

/// One prediction and one embedding before the models answer requests, so the first request
/// does not pay for lazy initialisation.
fn warm_up(state: &AppState, models: &Models) -> Result<(), ServeError> {
    if let Some(salary) = &models.salary {
        let query = SalaryQuery {
            title: "Data Engineer".into(),
            ..SalaryQuery::default()
        };
        let facts = facts_of_query(&state.normaliser, state.normaliser.skills().taxonomy(), &query)
            .map_err(|reject| ServeError::Model(format!("warm-up posting: {}", reject.message)))?;
        salary
            .model
            .predict(&[facts], &|id| id.to_string())
            .map_err(|e| ServeError::Model(format!("salary warm-up: {e}")))?;
    }
    if let Some(matching) = &models.matching {
        matching
            .model
            .encoder
            .embed(&["Data engineer: Python and SQL"])
            .map_err(|e| ServeError::Model(format!("match warm-up: {e}")))?;
    }
    Ok(())
}

/// At most `max_in_flight` requests are answered at once and `max_queued` wait for a turn;
/// beyond that a request is refused at once (503) rather than answered ever later.
pub struct Gate {
    permits: Semaphore,
    waiting: AtomicUsize,
    max_queued: usize,
}

impl Gate {
    pub fn new(max_in_flight: usize, max_queued: usize) -> Self {
        Gate {
            permits: Semaphore::new(max_in_flight.max(1)),
            waiting: AtomicUsize::new(0),
            max_queued,
        }
    }

    /// A turn, waiting in line when all are taken; `None` when the line is full.
    pub async fn enter(&self) -> Option<SemaphorePermit<'_>> {
        if let Ok(permit) = self.permits.try_acquire() {
            return Some(permit);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_queued {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let permit = self.permits.acquire().await.ok();
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        permit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_gate_queues_up_to_its_bound_then_refuses() {
        let gate = Arc::new(Gate::new(1, 1));
        let first = gate.enter().await.expect("a free turn");
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter().await.is_some() })
        };
        // Let the waiter take its place in line.
        while gate.waiting.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        assert!(gate.enter().await.is_none(), "the line is full");
        drop(first);
        assert!(waiter.await.expect("joins"), "the waiter gets the freed turn");
    }
}
