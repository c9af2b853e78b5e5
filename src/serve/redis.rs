//! A small Redis client for the rate limits and caches replicas share (`rats serve --redis
//! URL`): RESP2 over a few TCP connections, each command with a deadline. Only what those need
//! — `AUTH`, `SELECT`, `PING`, `SCRIPT LOAD`, `EVALSHA`, `GET`, `SET` — so no client crate is
//! built for it. A connection that fails is dropped and made again on its next use; the caller
//! decides what a failure means (see `redis_link`).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// Connections kept; commands take the next one round-robin.
const CONNECTIONS: usize = 4;
/// Replies larger than this are refused (the limits' replies are a few bytes, cached answers
/// larger than this are not shared).
pub const MAX_BULK: usize = 1 << 20;
const MAX_ARRAY: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    #[error("Redis URL {0:?}: expected redis://[[user]:password@]host[:port][/db]")]
    Url(String),
    #[error("Redis at {addr}: {message}")]
    Io { addr: String, message: String },
    #[error("Redis at {addr} did not answer within {millis} ms")]
    Timeout { addr: String, millis: u128 },
    #[error("Redis answered an error: {0}")]
    Server(String),
    #[error("Redis answered something this client does not read: {0}")]
    Protocol(String),
}

/// A reply, as RESP2 has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Status(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

impl Reply {
    /// The text of a status or bulk reply.
    pub fn text(&self) -> Option<String> {
        match self {
            Reply::Status(s) => Some(s.clone()),
            Reply::Bulk(Some(bytes)) => String::from_utf8(bytes.clone()).ok(),
            _ => None,
        }
    }
}

/// A connection and the epoch it was made in.
type Connection = (u64, BufStream<TcpStream>);

pub struct Redis {
    addr: String,
    username: Option<String>,
    password: Option<String>,
    db: u32,
    deadline: Duration,
    connections: Vec<Mutex<Option<Connection>>>,
    next: AtomicUsize,
    /// Moves on every failure: connections made before it are made again, since a Redis that
    /// failed one has most likely dropped them all (restarted, or the network went).
    epoch: AtomicU64,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("addr", &self.addr)
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// A client for `url` (`redis://[[user]:password@]host[:port][/db]`); connects on first use.
    /// Every command, connecting included, must finish within `deadline`.
    pub fn new(url: &str, deadline: Duration) -> Result<Self, RedisError> {
        let bad = || RedisError::Url(crate::settings::redact_userinfo(url));
        let parsed = url::Url::parse(url).map_err(|_| bad())?;
        if parsed.scheme() != "redis" {
            return Err(bad());
        }
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(bad)?;
        let db = match parsed.path().trim_start_matches('/') {
            "" => 0,
            n => n.parse().map_err(|_| bad())?,
        };
        let decode = |s: &str| {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        Ok(Redis {
            addr: format!("{host}:{}", parsed.port().unwrap_or(6379)),
            username: Some(parsed.username()).filter(|u| !u.is_empty()).and_then(decode),
            password: parsed.password().and_then(decode),
            db,
            deadline,
            connections: (0..CONNECTIONS).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            epoch: AtomicU64::new(0),
        })
    }

    /// Sends one command and reads its reply; an error reply is `RedisError::Server`.
    pub async fn command(&self, args: &[&[u8]]) -> Result<Reply, RedisError> {
        let slot = &self.connections[self.next.fetch_add(1, Ordering::Relaxed) % CONNECTIONS];
        let mut connection = slot.lock().await;
        let epoch = self.epoch.load(Ordering::Relaxed);
        let answered = tokio::time::timeout(self.deadline, async {
            if connection.as_ref().is_none_or(|(made, _)| *made != epoch) {
                *connection = Some((epoch, self.connect().await?));
            }
            let (_, stream) = connection.as_mut().ok_or_else(|| self.io("no connection"))?;
            exchange(stream, args).await.map_err(|e| self.io(&e.to_string()))
        })
        .await;
        let reply = match answered {
            Ok(Ok(reply)) => reply,
            Ok(Err(error)) => {
                *connection = None;
                self.epoch.fetch_add(1, Ordering::Relaxed);
                return Err(error);
            }
            Err(_) => {
                // A late reply would answer the next command: the connection goes.
                *connection = None;
                self.epoch.fetch_add(1, Ordering::Relaxed);
                return Err(RedisError::Timeout {
                    addr: self.addr.clone(),
                    millis: self.deadline.as_millis(),
                });
            }
        };
        drop(connection);
        match reply {
            Wire::Error(message) => Err(RedisError::Server(message)),
            Wire::Reply(reply) => Ok(reply),
        }
    }

    async fn connect(&self) -> Result<BufStream<TcpStream>, RedisError> {
        let tcp = TcpStream::connect(&self.addr).await.map_err(|e| self.io(&e.to_string()))?;
        tcp.set_nodelay(true).map_err(|e| self.io(&e.to_string()))?;
        let mut stream = BufStream::new(tcp);
        let db = self.db.to_string();
        let mut setup: Vec<Vec<&[u8]>> = Vec::new();
        match (&self.username, &self.password) {
            (Some(user), Some(password)) => setup.push(vec![b"AUTH".as_slice(), user.as_bytes(), password.as_bytes()]),
            (None, Some(password)) => setup.push(vec![b"AUTH".as_slice(), password.as_bytes()]),
            _ => {}
        }
        if self.db != 0 {
            setup.push(vec![b"SELECT".as_slice(), db.as_bytes()]);
        }
        for command in setup {
            match exchange(&mut stream, &command).await.map_err(|e| self.io(&e.to_string()))? {
                Wire::Error(message) => return Err(RedisError::Server(message)),
                Wire::Reply(_) => {}
            }
        }
        Ok(stream)
    }

    fn io(&self, message: &str) -> RedisError {
        RedisError::Io {
            addr: self.addr.clone(),
            message: message.to_string(),
        }
    }
}

/// What came back: a reply or an error reply (kept apart so a server error does not drop the
/// connection, which is still in step).
enum Wire {
    Reply(Reply),
    Error(String),
}

async fn exchange(stream: &mut BufStream<TcpStream>, args: &[&[u8]]) -> std::io::Result<Wire> {
    let mut request = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        request.extend_from_slice(arg);
        request.extend_from_slice(b"\r\n");
    }
    stream.write_all(&request).await?;
    stream.flush().await?;
    read_wire(stream, 0).await
}

fn malformed(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}

async fn read_line(stream: &mut BufStream<TcpStream>) -> std::io::Result<String> {
    let mut line = Vec::new();
    let read = (&mut *stream).take(MAX_BULK as u64).read_until(b'\n', &mut line).await?;
    if read == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the connection closed"));
    }
    if !line.ends_with(b"\r\n") {
        return Err(malformed("a reply line without CRLF"));
    }
    line.truncate(line.len() - 2);
    String::from_utf8(line).map_err(|_| malformed("a reply line that is not UTF-8"))
}

fn read_wire(stream: &mut BufStream<TcpStream>, depth: usize) -> futures::future::BoxFuture<'_, std::io::Result<Wire>> {
    Box::pin(async move {
        let line = read_line(stream).await?;
        let (kind, rest) = line.split_at_checked(1).ok_or_else(|| malformed("an empty reply line"))?;
        let number = || rest.parse::<i64>().map_err(|_| malformed("a length that is not a number"));
        Ok(match kind {
            "+" => Wire::Reply(Reply::Status(rest.to_string())),
            "-" => Wire::Error(rest.to_string()),
            ":" => Wire::Reply(Reply::Integer(number()?)),
            "$" => {
                let length = number()?;
                if length < 0 {
                    return Ok(Wire::Reply(Reply::Bulk(None)));
                }
                let length = usize::try_from(length).map_err(|_| malformed("a bulk length"))?;
                if length > MAX_BULK {
                    return Err(malformed("a bulk reply over 1 MiB"));
                }
                let mut bytes = vec![0; length + 2];
                stream.read_exact(&mut bytes).await?;
                bytes.truncate(length);
                Wire::Reply(Reply::Bulk(Some(bytes)))
            }
            "*" => {
                let length = number()?;
                if length < 0 {
                    return Ok(Wire::Reply(Reply::Bulk(None)));
                }
                let length = usize::try_from(length).map_err(|_| malformed("an array length"))?;
                if length > MAX_ARRAY || depth > 2 {
                    return Err(malformed("an array larger or deeper than a limit reply"));
                }
                let mut items = Vec::with_capacity(length);
                for _ in 0..length {
                    match read_wire(stream, depth + 1).await? {
                        Wire::Reply(item) => items.push(item),
                        Wire::Error(message) => return Ok(Wire::Error(message)),
                    }
                }
                Wire::Reply(Reply::Array(items))
            }
            _ => return Err(malformed("an unknown reply type")),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_the_address_credentials_and_database() {
        let deadline = Duration::from_millis(100);
        let plain = Redis::new("redis://127.0.0.1", deadline).expect("parses");
        assert_eq!(
            (plain.addr.as_str(), plain.db, plain.password.as_deref()),
            ("127.0.0.1:6379", 0, None)
        );
        let full = Redis::new("redis://ops:p%40ss@cache.internal:6380/2", deadline).expect("parses");
        assert_eq!(full.addr, "cache.internal:6380");
        assert_eq!(
            (full.username.as_deref(), full.password.as_deref(), full.db),
            (Some("ops"), Some("p@ss"), 2)
        );
        for bad in ["http://127.0.0.1", "redis://", "redis://host/db", "not a url"] {
            assert!(Redis::new(bad, deadline).is_err(), "{bad}");
        }
        let error = Redis::new("redis://:secret@/x", deadline).expect_err("refused").to_string();
        assert!(!error.contains("secret"), "{error}");
    }
}
