//! Rate limits with the generic cell rate algorithm (GCRA, as in ATM networks and `governor`):
//! each caller has a theoretical arrival time that every request pushes forward by the quota's
//! interval; a request that would push it more than `burst` intervals past now is refused.
//! One number per caller, no timers. Buckets live in the process (a restart forgets them) and
//! those fully refilled are dropped when the table grows.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::accounts::tiers::Quota;

/// Callers remembered before refilled buckets are swept out.
const SWEEP_ABOVE: usize = 50_000;

pub struct Limiter {
    started: Instant,
    /// Caller → theoretical arrival time, in seconds since `started`.
    buckets: Mutex<HashMap<String, f64>>,
}

/// What a check decided, and what the `RateLimit-*` headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The burst: requests that may be made at once with a full bucket.
    pub limit: u32,
    /// Requests that may still be made at once.
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_seconds: u64,
    /// When refused: seconds until one request is allowed.
    pub retry_after: Option<u64>,
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter {
            started: Instant::now(),
            buckets: Mutex::default(),
        }
    }
}

impl Limiter {
    /// Spends one request of `caller`'s budget, if it has one left.
    pub fn check(&self, caller: &str, quota: Quota) -> Decision {
        self.check_at(caller, quota, self.started.elapsed().as_secs_f64())
    }

    fn check_at(&self, caller: &str, quota: Quota, now: f64) -> Decision {
        let (interval, tolerance) = spacing(quota);
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let arrival = buckets.get(caller).copied().unwrap_or(now).max(now);
        let next = arrival + interval;
        if next - now > tolerance + SLACK {
            return refused(quota, arrival - now, next - now - tolerance);
        }
        if buckets.len() >= SWEEP_ABOVE {
            buckets.retain(|_, arrival| *arrival > now);
        }
        buckets.insert(caller.to_string(), next);
        allowed(quota, next - now)
    }
}

/// Rounding room in comparisons of sums of intervals.
pub const SLACK: f64 = 1e-9;

/// A quota's interval between requests and its tolerance (the burst's worth of intervals), in
/// seconds. The shared limits' Redis script computes the same.
pub fn spacing(quota: Quota) -> (f64, f64) {
    let interval = 60.0 / f64::from(quota.per_minute.max(1));
    (interval, interval * f64::from(quota.burst.max(1)))
}

/// An allowed request's decision, the caller's arrival time now `ahead` seconds past now.
pub fn allowed(quota: Quota, ahead: f64) -> Decision {
    let (interval, tolerance) = spacing(quota);
    Decision {
        allowed: true,
        limit: quota.burst,
        remaining: ((tolerance - ahead + SLACK) / interval).floor().max(0.0) as u32,
        reset_seconds: ahead.ceil() as u64,
        retry_after: None,
    }
}

/// A refused request's decision: the arrival time is `ahead` seconds past now, and one more
/// request would overshoot the tolerance by `over` seconds.
pub fn refused(quota: Quota, ahead: f64, over: f64) -> Decision {
    Decision {
        allowed: false,
        limit: quota.burst,
        remaining: 0,
        reset_seconds: ahead.ceil() as u64,
        retry_after: Some((over.ceil() as u64).max(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_request_per_interval() {
        let limiter = Limiter::default();
        let quota = Quota { per_minute: 10, burst: 3 };
        let remaining: Vec<u32> = (0..3).map(|_| limiter.check_at("ip:1", quota, 0.0).remaining).collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limiter.check_at("ip:1", quota, 0.0);
        assert_eq!((refused.allowed, refused.retry_after, refused.reset_seconds), (false, Some(6), 18));
        // Another caller has a budget of its own.
        assert!(limiter.check_at("ip:2", quota, 0.0).allowed);
        // Six seconds later one request is allowed again, not two.
        assert!(limiter.check_at("ip:1", quota, 6.0).allowed);
        assert!(!limiter.check_at("ip:1", quota, 6.0).allowed);
        // After a quiet spell the bucket is full, never fuller.
        assert_eq!(limiter.check_at("ip:1", quota, 600.0).remaining, 2);
    }

    #[test]
    fn refilled_buckets_are_swept_when_the_table_grows() {
        let limiter = Limiter::default();
        let quota = Quota { per_minute: 60, burst: 1 };
        for i in 0..SWEEP_ABOVE {
            limiter.check_at(&format!("ip:{i}"), quota, 0.0);
        }
        limiter.check_at("ip:late", quota, 100.0);
        assert_eq!(limiter.buckets.lock().expect("lock").len(), 1);
    }
}
