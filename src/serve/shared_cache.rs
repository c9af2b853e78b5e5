//! The answer caches' second level, shared by replicas through Redis (`rats serve --redis`):
//! an answer one replica computed is found by the others, under a key that names everything
//! the answer depends on (the lake and model versions, the request). Each process keeps its
//! own first level in memory; this one is asked on a local miss and filled on a computed
//! answer. Without Redis, or while it fails (see [`RedisLink`]), lookups miss and stores are
//! skipped: the process computes as if alone.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::redis::{MAX_BULK, RedisError, Reply};
use super::redis_link::RedisLink;

/// Answers larger than this are kept in the process only (Redis' replies are read up to
/// [`MAX_BULK`]).
pub const MAX_SHARED_BYTES: usize = MAX_BULK;

/// How long Redis keeps an answer from the lake. Its key names the lake version, so an entry is
/// never wrong, only unused once the lake moves: the time bounds Redis' memory.
pub const SHARED_LAKE_ANSWER_TTL: Duration = Duration::from_hours(1);

pub struct SharedCache {
    link: Option<Arc<RedisLink>>,
}

impl SharedCache {
    pub fn new(link: Option<Arc<RedisLink>>) -> Self {
        SharedCache { link }
    }

    /// The answer stored under `key` by any replica, if Redis has it and answers.
    pub async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let link = self.link.as_ref()?;
        let name = redis_key(key);
        let lookup = async {
            match link.redis().command(&[b"GET".as_slice(), name.as_bytes()]).await? {
                Reply::Bulk(value) => Ok(value),
                other => Err(RedisError::Protocol(format!("GET answered {other:?}"))),
            }
        };
        link.attempt(lookup).await.flatten()
    }

    /// Stores `value` under `key` for `ttl`, for the other replicas (skipped without Redis,
    /// while it fails, and for answers over [`MAX_SHARED_BYTES`]).
    pub async fn put(&self, key: &str, value: &[u8], ttl: Duration) {
        let Some(link) = &self.link else { return };
        if value.len() > MAX_SHARED_BYTES {
            return;
        }
        let (name, millis) = (redis_key(key), ttl.as_millis().max(1).to_string());
        let args: [&[u8]; 5] = [b"SET".as_slice(), name.as_bytes(), value, b"PX", millis.as_bytes()];
        let store = async {
            match link.redis().command(&args).await? {
                Reply::Status(_) => Ok(()),
                other => Err(RedisError::Protocol(format!("SET answered {other:?}"))),
            }
        };
        link.attempt(store).await;
    }
}

/// Keys of a fixed length whatever the request: `rats:answer:` and the SHA-256 of `key`.
fn redis_key(key: &str) -> String {
    format!("rats:answer:{}", crate::normalize::hex(&Sha256::digest(key.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_fixed_length_and_differ_by_request() {
        let (a, b) = (redis_key("jobs|7|?q=rust"), redis_key("jobs|7|?q=go"));
        assert_ne!(a, b);
        assert_eq!(a.len(), b.len());
        assert_eq!(redis_key(&"x".repeat(10_000)).len(), a.len());
    }
}
