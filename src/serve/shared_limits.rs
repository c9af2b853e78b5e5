//! The rate limiter requests spend from: in the process by default, in Redis with
//! `--redis URL` so every replica spends from the same budgets. Redis runs the same GCRA as
//! [`Limiter`] in one script (atomic, on Redis' clock, so replicas' clocks do not matter).
//! If Redis fails or is slow, the process' own limiter decides (see [`RedisLink`]).

use std::sync::{Arc, Mutex};

use crate::accounts::tiers::Quota;

use super::limits::{Decision, Limiter, allowed, refused, spacing};
use super::redis::{RedisError, Reply};
use super::redis_link::RedisLink;

/// GCRA on Redis' clock: KEYS[1] holds the caller's arrival time; ARGV are the interval and
/// the tolerance in seconds. Returns {allowed, ahead, over} as in `limits::allowed/refused`
/// (numbers as strings: Lua numbers would come back truncated to integers).
const SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local arrival = tonumber(redis.call('GET', KEYS[1]) or now)
if arrival < now then arrival = now end
local nxt = arrival + interval
if nxt - now > tolerance + 1e-9 then
  return {0, tostring(arrival - now), tostring(nxt - now - tolerance)}
end
redis.call('SET', KEYS[1], tostring(nxt), 'PX', math.ceil((nxt - now) * 1000) + 1000)
return {1, tostring(nxt - now), '0'}
";

pub struct RateLimiter {
    local: Limiter,
    shared: Option<Shared>,
}

struct Shared {
    link: Arc<RedisLink>,
    /// The script's SHA-1 once Redis has it.
    script: Mutex<Option<String>>,
}

impl RateLimiter {
    /// Limits in this process only.
    pub fn local() -> Self {
        RateLimiter {
            local: Limiter::default(),
            shared: None,
        }
    }

    /// Limits shared through `link`'s Redis.
    pub fn shared(link: Arc<RedisLink>) -> Self {
        RateLimiter {
            local: Limiter::default(),
            shared: Some(Shared {
                link,
                script: Mutex::new(None),
            }),
        }
    }

    /// Spends one request of `bucket`'s budget: in Redis when it is configured and answers,
    /// else in this process.
    pub async fn check(&self, bucket: &str, quota: Quota) -> Decision {
        if let Some(shared) = &self.shared
            && let Some(decision) = shared.link.attempt(shared.check(bucket, quota)).await
        {
            return decision;
        }
        self.local.check(bucket, quota)
    }
}

impl Shared {
    async fn check(&self, bucket: &str, quota: Quota) -> Result<Decision, RedisError> {
        let (interval, tolerance) = spacing(quota);
        let key = format!("rats:limit:{bucket}");
        let (interval, tolerance) = (interval.to_string(), tolerance.to_string());
        let mut reloaded = false;
        loop {
            let sha = self.script_sha().await?;
            let args: [&[u8]; 6] = [
                b"EVALSHA".as_slice(),
                sha.as_bytes(),
                b"1",
                key.as_bytes(),
                interval.as_bytes(),
                tolerance.as_bytes(),
            ];
            match self.link.redis().command(&args).await {
                Ok(reply) => return decision_of(&reply, quota),
                Err(RedisError::Server(message)) if message.starts_with("NOSCRIPT") && !reloaded => {
                    *self.script.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
                    reloaded = true;
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn script_sha(&self) -> Result<String, RedisError> {
        if let Some(sha) = self.script.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone() {
            return Ok(sha);
        }
        let reply = self
            .link
            .redis()
            .command(&[b"SCRIPT".as_slice(), b"LOAD", SCRIPT.as_bytes()])
            .await?;
        let sha = reply
            .text()
            .ok_or_else(|| RedisError::Protocol(format!("SCRIPT LOAD answered {reply:?}")))?;
        *self.script.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(sha.clone());
        Ok(sha)
    }
}

/// The script's `{allowed, ahead, over}` as a decision.
fn decision_of(reply: &Reply, quota: Quota) -> Result<Decision, RedisError> {
    let unexpected = || RedisError::Protocol(format!("the limit script answered {reply:?}"));
    let Reply::Array(items) = reply else { return Err(unexpected()) };
    let [Reply::Integer(verdict), ahead, over] = items.as_slice() else {
        return Err(unexpected());
    };
    let number = |item: &Reply| item.text().and_then(|t| t.parse::<f64>().ok()).ok_or_else(unexpected);
    let (ahead, over) = (number(ahead)?, number(over)?);
    Ok(if *verdict == 1 {
        allowed(quota, ahead)
    } else {
        refused(quota, ahead, over)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripts_answers_read_as_the_local_limiters_decisions() {
        let quota = Quota { per_minute: 10, burst: 3 };
        let bulk = |s: &str| Reply::Bulk(Some(s.as_bytes().to_vec()));
        let first = Reply::Array(vec![Reply::Integer(1), bulk("6"), bulk("0")]);
        assert_eq!(decision_of(&first, quota).expect("reads"), allowed(quota, 6.0));
        assert_eq!(decision_of(&first, quota).expect("reads").remaining, 2);
        let no = Reply::Array(vec![Reply::Integer(0), bulk("18"), bulk("6")]);
        let refused = decision_of(&no, quota).expect("reads");
        assert_eq!((refused.allowed, refused.retry_after, refused.reset_seconds), (false, Some(6), 18));
        for odd in [
            Reply::Integer(1),
            Reply::Array(vec![bulk("1"), bulk("2"), bulk("3")]),
            Reply::Array(vec![]),
        ] {
            assert!(decision_of(&odd, quota).is_err());
        }
    }
}
