//! Replicas sharing through a real Redis (Debian's `redis-server`, which scripts/test-prepare
//! installs, started here on a free port): two `rats serve` processes spend from one rate-limit
//! budget and find each other's cached answers; when Redis goes away both keep answering on
//! their own limits and caches and say so in `/ready` and `/metrics`, and they share again once
//! it is back.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::serve::{Answer, Server, private_copy, problem, promtool_accepts};

/// A `redis-server` of its own, killed when dropped.
struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    fn start(port: u16) -> RedisServer {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server runs (scripts/test-prepare installs Debian's redis-server)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "redis-server did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        RedisServer { child, port }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port")
        .local_addr()
        .expect("its address")
        .port()
}

/// A replica: its own folder and accounts database, the anonymous budget 4 requests at once
/// and one a minute, limits shared through `redis`.
fn replica(dir: &Path, redis: &str) -> Server {
    std::fs::create_dir_all(dir).expect("a folder");
    std::fs::write(
        dir.join("rats.yaml"),
        "serve:\n  rate_limits:\n    anonymous: {per_minute: 1, burst: 4}\n",
    )
    .expect("writes rats.yaml");
    let db = format!("sqlite://{}", dir.join("accounts.sqlite").display());
    let server = Server::start_on(dir, &dir.join("lake"), &dir.join("models"), &["--redis", redis], Some(&db));
    server.wait_until("listening", |s| s.get("/health").status == 200);
    server
}

/// An anonymous request: it spends the client address' budget, then gets 401.
fn anonymous(server: &Server) -> Answer {
    Server::answer(reqwest::blocking::Client::new().request(Method::GET, format!("{}/v1/me", server.base)))
}

fn redis_in_ready(server: &Server) -> Value {
    server.get("/ready").body["redis"].clone()
}

#[test]
fn replicas_share_one_budget_through_redis_and_fall_back_when_it_goes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let redis = RedisServer::start(port);
    let (a, b) = (
        replica(&dir.path().join("a"), &redis.url()),
        replica(&dir.path().join("b"), &redis.url()),
    );

    // Four requests at once in all, whichever replica answers them.
    let statuses: Vec<u16> = [&a, &b, &a, &b, &a, &b].iter().map(|s| anonymous(s).status).collect();
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
    problem(&anonymous(&b), 429, "rate_limited");
    assert_eq!(redis_in_ready(&a)["up"], true);
    assert_eq!(a.metric("rats_redis_up") as u64, 1);
    assert_eq!(a.metric("rats_redis_fallbacks_total") as u64, 0);

    // Redis goes: each replica answers on a budget of its own, and says so.
    drop(redis);
    let alone: Vec<u16> = (0..5).map(|_| anonymous(&a).status).collect();
    assert_eq!(alone, [401, 401, 401, 401, 429], "the process' own budget, fresh");
    assert_eq!(anonymous(&b).status, 401, "b's own budget is untouched by a's");
    let state = redis_in_ready(&a);
    assert_eq!(state["up"], false, "{state}");
    assert!(state["fallbacks"].as_u64().is_some_and(|n| n >= 5), "{state}");
    let text = a.metrics_text();
    assert!(text.contains("rats_redis_up 0\n"), "{text}");
    promtool_accepts(&text);
    assert!(a.log().contains("Redis failed"), "{}", a.log());

    // Back again: after the circuit's pause the replicas share the (new, empty) Redis again.
    let redis = RedisServer::start(port);
    let started = Instant::now();
    while redis_in_ready(&a)["up"] != true {
        assert!(started.elapsed() < Duration::from_secs(30), "a never went back to Redis");
        std::thread::sleep(Duration::from_millis(250));
    }
    while redis_in_ready(&b)["up"] != true {
        assert!(started.elapsed() < Duration::from_secs(30), "b never went back to Redis");
        std::thread::sleep(Duration::from_millis(250));
    }
    let statuses: Vec<u16> = [&b, &a, &b, &a, &b].iter().map(|s| anonymous(s).status).collect();
    assert_eq!(statuses, [401, 401, 401, 401, 429]);
    assert_eq!(a.metric("rats_redis_up") as u64, 1);
    drop(redis);
}

/// A replica on its own copy of the fixture's lake (same tables, same versions) with the
/// fixture's models, sharing through `redis`.
fn ready_replica(dir: &Path, redis: &str) -> Server {
    std::fs::create_dir_all(dir).expect("a folder");
    let (lake, models) = private_copy(dir, false);
    Server::start(dir, &lake, &models, &["--redis", redis])
}

fn shared_hits(server: &Server, cache: &str) -> u64 {
    server.metric(&format!("rats_cache_shared_hits_total{{cache=\"{cache}\"}}")) as u64
}

#[test]
fn replicas_find_each_others_answers_in_redis_and_compute_alone_without_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let redis = RedisServer::start(free_port());
    let (a, b) = (
        ready_replica(&dir.path().join("a"), &redis.url()),
        ready_replica(&dir.path().join("b"), &redis.url()),
    );

    // An answer from the lake: computed by a, found by b (same body, same ETag).
    let first = a.get("/v1/stats/overview");
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(shared_hits(&a, "stats"), 0);
    let second = b.get("/v1/stats/overview");
    assert_eq!(second.body, first.body);
    assert_eq!(second.headers["etag"], first.headers["etag"]);
    assert_eq!(shared_hits(&b, "stats"), 1, "b found a's answer in Redis");
    // b keeps it: the next lookup is b's own.
    b.get("/v1/stats/overview");
    assert_eq!(shared_hits(&b, "stats"), 1);

    // A prediction: made by b, found by a.
    let posting = json!({"title": "Senior Data Engineer", "location": "San Francisco, CA", "skills": ["python"]});
    let made = b.post("/v1/predict/salary", &posting);
    assert_eq!(made.status, 200, "{}", made.body);
    let found = a.post("/v1/predict/salary", &posting);
    assert_eq!(found.body, made.body);
    assert_eq!(shared_hits(&a, "predictions"), 1, "a found b's prediction in Redis");
    assert_eq!(shared_hits(&b, "predictions"), 0);

    // Without Redis each computes its own answers; nothing fails.
    drop(redis);
    let alone = b.get("/v1/stats/salary?by=source_site&min_postings=1");
    assert_eq!(alone.status, 200, "{}", alone.body);
    assert_eq!(a.get("/v1/stats/salary?by=source_site&min_postings=1").body, alone.body);
    assert_eq!(shared_hits(&a, "stats"), 0);
    assert_eq!(a.get("/ready").body["redis"]["up"], false);
    assert!(a.metric("rats_redis_fallbacks_total") >= 1.0);
}
