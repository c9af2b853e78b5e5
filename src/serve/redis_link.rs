//! The server's one Redis (`rats serve --redis URL`) behind a circuit breaker, for the rate
//! limits and the answer caches that replicas share.
//!
//! Redis is an optimisation here, never a dependency: when a command fails or is slow, the
//! caller does the work in the process instead and the circuit opens, so for [`OPEN_FOR`] no
//! request waits on Redis; then one tries again and closes the circuit if it answers. `/ready`
//! and `/metrics` say whether Redis is in use; the server keeps answering either way.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::redis::{Redis, RedisError};

/// How long requests skip Redis after it failed.
pub const OPEN_FOR: Duration = Duration::from_secs(5);
/// The most a request waits on Redis before doing the work itself.
const DEADLINE: Duration = Duration::from_millis(250);

pub struct RedisLink {
    redis: Redis,
    /// The URL without its password, for `/ready` and the log.
    shown: String,
    /// While set and in the future, requests do not try Redis.
    open_until: Mutex<Option<Instant>>,
    up: AtomicBool,
    fallbacks: AtomicU64,
}

/// Redis as `/ready` and `/metrics` show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RedisState {
    pub url: String,
    /// Whether the last attempt worked (limits and caches are shared while true).
    pub up: bool,
    /// Limit decisions and cache lookups done in the process because Redis failed or the
    /// circuit was open.
    pub fallbacks: u64,
}

impl RedisLink {
    /// The Redis at `url`, connected on first use.
    pub fn new(url: &str) -> Result<Self, RedisError> {
        Ok(RedisLink {
            redis: Redis::new(url, DEADLINE)?,
            shown: crate::settings::redact_userinfo(url),
            open_until: Mutex::new(None),
            up: AtomicBool::new(true),
            fallbacks: AtomicU64::new(0),
        })
    }

    /// Runs `work` (commands on [`Self::redis`]) unless the circuit is open; `None` when it was
    /// open or `work` failed, and the caller falls back to the process.
    pub async fn attempt<T>(&self, work: impl Future<Output = Result<T, RedisError>>) -> Option<T> {
        if self.is_open() {
            self.fallbacks.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        match work.await {
            Ok(answer) => {
                self.closed();
                Some(answer)
            }
            Err(error) => {
                self.opened(&error);
                self.fallbacks.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    pub fn redis(&self) -> &Redis {
        &self.redis
    }

    /// Asks Redis whether it answers (for `/ready`; skipped while the circuit is open).
    pub async fn probe(&self) -> RedisState {
        if !self.is_open() {
            match self.redis.command(&[b"PING".as_slice()]).await {
                Ok(_) => self.closed(),
                Err(error) => self.opened(&error),
            }
        }
        self.state()
    }

    pub fn state(&self) -> RedisState {
        RedisState {
            url: self.shown.clone(),
            up: self.up.load(Ordering::Relaxed),
            fallbacks: self.fallbacks.load(Ordering::Relaxed),
        }
    }

    fn is_open(&self) -> bool {
        let open_until = self.open_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open_until.is_some_and(|until| Instant::now() < until)
    }

    fn opened(&self, error: &RedisError) {
        *self.open_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now() + OPEN_FOR);
        if self.up.swap(false, Ordering::Relaxed) {
            tracing::warn!(redis = %self.shown, %error, "Redis failed: limits and caches are this process' own until it answers again");
        }
    }

    fn closed(&self) {
        *self.open_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        if !self.up.swap(true, Ordering::Relaxed) {
            tracing::info!(redis = %self.shown, "Redis answers again: limits and caches are shared");
        }
    }
}
