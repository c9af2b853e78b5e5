//! `rats serve` as a client sees it: the real binary listening on a loopback port, a lake
//! consumed from the demo fixtures, the salary model the salary tests train on real postings
//! and the match model the matching tests train with the real sentence encoder. Every route,
//! the problem documents of bad requests, `promtool check metrics` on `/metrics`, models and
//! lake versions swapped in while serving, overload refused with 503, and SIGTERM draining.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{copy_dir, rats, repo, run, stderr};

/// The demo fixtures consumed into a lake, and the models of the salary and matching tests.
pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    lake: PathBuf,
    pub(crate) models: PathBuf,
}

pub(crate) fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let lake = dir.path().join("lake");
        consume(
            dir.path(),
            &lake,
            &[repo().join("fixtures/demo/postings.jsonl"), repo().join("fixtures/demo/jobspy.csv")],
        );
        let models = dir.path().join("models");
        copy_dir(&crate::salary_model::trained().models.join("salary"), &models.join("salary"));
        copy_dir(&crate::matching::shared_models().path().join("models/match"), &models.join("match"));
        Fixture { _dir: dir, lake, models }
    })
}

/// Three of the demo's thirteen records are broken on purpose: the threshold is raised.
fn consume(dir: &Path, lake: &Path, inputs: &[PathBuf]) {
    let output = run(rats(dir)
        .args(["consume", "--quiet", "--max-quarantine", "30", "--lake"])
        .arg(lake)
        .arg("--from")
        .args(inputs));
    assert!(output.status.success(), "consume: {}", stderr(&output));
}

/// A copy of the fixture's lake (servers write the postings' vector cache into it), and of its
/// models when a test changes them.
pub(crate) fn private_copy(dir: &Path, with_models: bool) -> (PathBuf, PathBuf) {
    let lake = dir.join("lake");
    copy_dir(&fixture().lake, &lake);
    let models = if with_models {
        let models = dir.join("models");
        copy_dir(&fixture().models, &models);
        models
    } else {
        fixture().models.clone()
    };
    (lake, models)
}

/// Adds a user with `role` to the accounts database (`db`, else the one beside `lake`) and
/// returns a new API key of theirs.
pub(crate) fn user_with_key(dir: &Path, lake: &Path, db: Option<&str>, name: &str, role: &str) -> String {
    let with_db = |command: &mut Command| {
        command.arg("--lake").arg(lake);
        if let Some(db) = db {
            command.args(["--db", db]);
        }
    };
    let mut add = rats(dir);
    add.args(["users", "add", name, "--role", role]);
    with_db(&mut add);
    let added = run(&mut add);
    assert!(added.status.success(), "users add: {}", stderr(&added));
    let mut key = rats(dir);
    key.args(["--format", "json", "users", "key", name, "--label", "tests"]);
    with_db(&mut key);
    let made = run(&mut key);
    assert!(made.status.success(), "users key: {}", stderr(&made));
    let json: Value = serde_json::from_slice(&made.stdout).expect("json");
    json["key"].as_str().expect("a key").to_string()
}

/// A running `rats serve`, killed when dropped. Its client sends an admin's API key.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    /// The admin API key the client sends.
    pub(crate) key: String,
    pub(crate) client: reqwest::blocking::Client,
    log: PathBuf,
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
}

impl Server {
    /// Starts the server on a free port, with the accounts database beside the lake, and
    /// waits until `/ready` says 200.
    pub(crate) fn start(dir: &Path, lake: &Path, models: &Path, extra: &[&str]) -> Server {
        let server = Server::start_on(dir, lake, models, extra, None);
        server.wait_until("ready", |s| s.get("/ready").status == 200);
        server
    }

    /// Starts the server with the accounts database `db` (a `sqlite://` or `postgres://`
    /// URL; else the one beside the lake) and returns once it listens, before models and lake
    /// are loaded.
    pub(crate) fn start_on(dir: &Path, lake: &Path, models: &Path, extra: &[&str], db: Option<&str>) -> Server {
        let key = user_with_key(dir, lake, db, "tester", "admin");
        Self::spawn(dir, lake, models, extra, db, &key, &[])
    }

    /// [`Server::start`] with environment variables set for the server (a test authority in
    /// `SSL_CERT_FILE`, say).
    pub(crate) fn start_with_env(dir: &Path, lake: &Path, models: &Path, extra: &[&str], env: &[(&str, &Path)]) -> Server {
        let key = user_with_key(dir, lake, None, "tester", "admin");
        let server = Self::spawn(dir, lake, models, extra, None, &key, env);
        server.wait_until("ready", |s| s.get("/ready").status == 200);
        server
    }

    /// Stops the server as an operator does (SIGTERM) and waits for it to exit.
    pub(crate) fn stop(&mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("waits") {
                return status;
            }
            assert!(started.elapsed() < Duration::from_mins(1), "still running 60 s after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the server again after [`Server::stop`], on the same address with the same key,
    /// and waits until it is ready.
    pub(crate) fn start_again(&mut self, dir: &Path, lake: &Path, models: &Path) {
        let address = self.base.split("://").nth(1).expect("an address").to_string();
        *self = Self::spawn(dir, lake, models, &["--addr", &address], None, &self.key.clone(), &[]);
        self.wait_until("ready again", |s| s.get("/ready").status == 200);
    }

    fn spawn(dir: &Path, lake: &Path, models: &Path, extra: &[&str], db: Option<&str>, key: &str, env: &[(&str, &Path)]) -> Server {
        let log = dir.join("serve.log");
        let address = if extra.contains(&"--addr") {
            &[][..]
        } else {
            &["--addr", "127.0.0.1:0"][..]
        };
        let mut child = rats(dir)
            .arg("serve")
            .args(address)
            .args(["--log-format", "json", "--lake"])
            .arg(lake)
            .arg("--models")
            .arg(models)
            .args(db.map(|db| ["--db", db]).iter().flatten())
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("rats serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("reads the address line");
        let base = line
            .split_whitespace()
            .find(|word| word.starts_with("http://") || word.starts_with("https://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Server {
            child,
            base,
            key: key.to_string(),
            client: reqwest::blocking::Client::builder()
                .default_headers(
                    [(
                        reqwest::header::AUTHORIZATION,
                        format!("Bearer {key}").parse().expect("a header value"),
                    )]
                    .into_iter()
                    .collect(),
                )
                .timeout(Duration::from_mins(2))
                .build()
                .expect("client"),
            log,
        }
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls `condition` for up to three minutes (models and lake load in the background).
    pub(crate) fn wait_until(&self, what: &str, condition: impl Fn(&Server) -> bool) {
        self.wait_up_to(what, Duration::from_mins(3), condition);
    }

    /// Polls `condition` for up to `limit`.
    pub(crate) fn wait_up_to(&self, what: &str, limit: Duration, condition: impl Fn(&Server) -> bool) {
        let started = Instant::now();
        while !condition(self) {
            assert!(
                started.elapsed() < limit,
                "not {what} after {} s; log:\n{}",
                limit.as_secs(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn answer(request: reqwest::blocking::RequestBuilder) -> Answer {
        let response = request.send().expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer { status, headers, body }
    }

    pub(crate) fn get(&self, path: &str) -> Answer {
        Self::answer(self.client.get(format!("{}{path}", self.base)))
    }

    pub(crate) fn post(&self, path: &str, body: &Value) -> Answer {
        Self::answer(self.client.post(format!("{}{path}", self.base)).json(body))
    }

    pub fn post_bytes(&self, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
        Self::answer(
            self.client
                .post(format!("{}{path}", self.base))
                .header("content-type", content_type)
                .body(body),
        )
    }

    /// The names of the server's threads, from /proc.
    fn thread_names(&self) -> Vec<String> {
        let tasks = PathBuf::from(format!("/proc/{}/task", self.child.id()));
        std::fs::read_dir(&tasks)
            .expect("the server's threads")
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .map(|name| name.trim().to_string())
            .collect()
    }

    /// The server process' environment, as `NAME=value` strings.
    fn environment(&self) -> Vec<String> {
        std::fs::read(format!("/proc/{}/environ", self.child.id()))
            .expect("the server's environment")
            .split(|&b| b == 0)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    fn signal(&self, name: &str) {
        assert!(self.send_signal(name), "kill -s {name}");
    }

    /// Sends the signal `name` with `kill`; whether it was delivered (no panic: `drop` uses it).
    fn send_signal(&self, name: &str) -> bool {
        Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .is_ok_and(|status| status.success())
    }

    /// The `/metrics` exposition as text.
    pub(crate) fn metrics_text(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.base))
            .send()
            .expect("metrics")
            .text()
            .expect("text")
    }

    /// A metric's value in the `/metrics` text (0 when the series is absent).
    pub(crate) fn metric(&self, series: &str) -> f64 {
        self.metrics_text()
            .lines()
            .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
            .map_or(0.0, |v| v.parse().expect("a number"))
    }
}

/// Stops the server as an operator would (TERM), so it exits through its shutdown path and an
/// instrumented build writes its coverage profile (`cargo llvm-cov` counted none of the
/// server's code while servers were killed); killed after [`STOP_GRACE`] if it has not exited.
impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) && self.send_signal("TERM") {
            let started = Instant::now();
            while matches!(self.child.try_wait(), Ok(None)) && started.elapsed() < STOP_GRACE {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long a server stopped at the end of a test may take to finish its requests and exit.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A `multipart/form-data` body: `(name, file name, bytes)` parts.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "rats-test-boundary-7c1f";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(file) => body.extend_from_slice(
                format!(
                    "content-disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\ncontent-type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(format!("content-disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Fails unless Prometheus' own linter accepts `text` as metrics.
pub(crate) fn promtool_accepts(text: &str) {
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (scripts/test installs Debian's prometheus)");
    std::io::Write::write_all(&mut promtool.stdin.take().expect("stdin"), text.as_bytes()).expect("writes");
    let checked = promtool.wait_with_output().expect("promtool finishes");
    assert!(
        checked.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

pub(crate) fn problem(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.body["code"], code, "{}", answer.body);
    assert_eq!(answer.body["status"], status);
    assert_eq!(
        answer.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
}

#[test]
fn every_route_answers_from_the_lake_and_the_models() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &[]);

    let ready = server.get("/ready").body;
    assert_eq!(ready["ready"], true);
    assert_eq!(ready["lake"]["postings"], 8, "{ready}");
    assert_eq!(server.get("/health").body["status"], "ok");

    // One posting: estimate inside its interval, contributions, the model version.
    let one = server.post(
        "/v1/predict/salary?top=3",
        &json!({"title": "Senior Data Engineer", "location": "San Francisco, CA", "skills": ["python", "Apache Spark"], "years_experience": 6}),
    );
    assert_eq!(one.status, 200, "{}", one.body);
    let (low, estimate, high) = (
        one.body["low"].as_f64().expect("low"),
        one.body["estimate"].as_f64().expect("estimate"),
        one.body["high"].as_f64().expect("high"),
    );
    assert!(low < estimate && estimate < high && estimate > 30_000.0, "{}", one.body);
    assert_eq!(one.body["contributions"].as_array().map(Vec::len), Some(3), "{}", one.body);
    assert_eq!(one.body["model"]["version"], "v1");
    assert_eq!(one.body["skill_ids"], json!(["python", "apache-spark"]));
    // The same question again (keys in another order) comes from the prediction cache.
    let again = server.post(
        "/v1/predict/salary?top=3",
        &json!({"years_experience": 6, "skills": ["python", "Apache Spark"], "location": "San Francisco, CA", "title": "Senior Data Engineer"}),
    );
    assert_eq!(again.body, one.body);
    assert!(server.metric("rats_cache_requests_total{cache=\"predictions\",result=\"hit\"}") >= 1.0);
    // No contribution asked for: the same estimate and interval, unexplained.
    let unexplained = server.post(
        "/v1/predict/salary?top=0",
        &json!({"title": "Senior Data Engineer", "location": "San Francisco, CA", "skills": ["python", "Apache Spark"], "years_experience": 6}),
    );
    assert_eq!(unexplained.body["contributions"], json!([]), "{}", unexplained.body);
    for field in ["estimate", "low", "high"] {
        assert_eq!(unexplained.body[field], one.body[field], "{field}");
    }
    // A batch answers in order, and the same posting gets the same estimate.
    let batch = server.post(
        "/v1/predict/salary",
        &json!({"postings": [{"title": "Registered Nurse", "location": "New York, NY"}, {"title": "Senior Data Engineer", "location": "San Francisco, CA", "skills": ["python", "Apache Spark"], "years_experience": 6}]}),
    );
    assert_eq!(batch.status, 200, "{}", batch.body);
    assert_eq!(batch.body["predictions"][1]["estimate"], one.body["estimate"]);
    assert_eq!(batch.body["predictions"][0]["title"], "Registered Nurse");

    // Matching: JSON text, then the PDF résumé uploaded, with a filter.
    let resume = std::fs::read_to_string(repo().join("fixtures/resumes/data-engineer.md")).expect("résumé");
    let matched = server.post("/v1/match/jobs", &json!({"resume": resume, "top": 3}));
    assert_eq!(matched.status, 200, "{}", matched.body);
    assert_eq!(matched.body["considered"], 8);
    assert_eq!(matched.body["jobs"].as_array().map(Vec::len), Some(3));
    assert_eq!(matched.body["jobs"][0]["title"], "Senior Data Engineer", "{}", matched.body);
    assert_eq!(matched.body["scoring"], json!({"mode": "full"}));
    // The encoder's element-wise operations ran on the request's thread (commands/serve.rs,
    // ENCODER_THREADS), not on candle's pool of spinning workers (`candle-bp-N`).
    let names = server.thread_names();
    assert!(!names.iter().any(|n| n.starts_with("candle-bp")), "{names:?}");
    // And with jemalloc's huge pages, as the other encoder commands (commands/main.rs): without
    // them every embedded batch faulted its activations in again.
    let environment = server.environment();
    assert!(environment.iter().any(|v| v == "MALLOC_CONF=thp:always"), "{environment:?}");
    assert!(
        matched.body["jobs"][0]["explanation"]
            .as_str()
            .is_some_and(|e| e.contains("skills"))
    );
    let pdf = std::fs::read(repo().join("fixtures/resumes/data-engineer.pdf")).expect("pdf");
    // An empty field (as a form sends the ones left blank) asks for nothing.
    let (content_type, body) = multipart(&[
        ("resume", Some("cv.pdf"), &pdf),
        ("top", None, b"2"),
        ("remote", None, b"remote"),
        ("salary_min", None, b""),
    ]);
    let uploaded = server.post_bytes("/v1/match/jobs", &content_type, body);
    assert_eq!(uploaded.status, 200, "{}", uploaded.body);
    assert_eq!(uploaded.body["resume"]["format"], "PDF");
    let considered = uploaded.body["considered"].as_u64().expect("considered");
    assert!((1..8).contains(&considered), "the remote filter keeps some: {}", uploaded.body);
    assert!(
        uploaded.body["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .all(|j| j["remote_type"] == "remote")
    );

    // Jobs: every posting once across pages, in the order asked; one posting in detail.
    let mut seen = Vec::new();
    let mut path = "/v1/jobs?limit=3&sort=salary".to_string();
    for pages in 1.. {
        assert!(pages <= 3, "8 postings take 3 pages of 3: {seen:?}");
        let page = server.get(&path);
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(page.body["total"], 8);
        for job in page.body["jobs"].as_array().expect("jobs") {
            seen.push((
                job["posting_key"].as_str().expect("key").to_string(),
                job["salary_max_usd"].as_f64(),
            ));
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/jobs?limit=3&sort=salary&cursor={cursor}"),
            None => break,
        }
    }
    let mut keys: Vec<&String> = seen.iter().map(|(k, _)| k).collect();
    keys.sort();
    keys.dedup();
    assert_eq!((seen.len(), keys.len()), (8, 8), "{seen:?}");
    let filtered = server.get("/v1/jobs?title=engineer&skills=python");
    assert!(filtered.body["jobs"].as_array().expect("jobs").iter().all(|j| {
        j["title"].as_str().is_some_and(|t| t.to_lowercase().contains("engineer"))
            && j["skill_ids"].as_array().is_some_and(|s| s.contains(&json!("python")))
    }));
    // A saved search answers what the same /v1/jobs query answers, and pages the same way.
    let saved = server.post(
        "/v1/searches",
        &json!({"name": "paid engineers", "filter": {"title": "engineer", "salary_min": 1}, "sort": "salary"}),
    );
    assert_eq!(saved.status, 201, "{}", saved.body);
    let run = server.get(&format!("/v1/searches/{}/jobs", saved.body["id"]));
    let same = server.get("/v1/jobs?title=engineer&salary_min=1&sort=salary");
    assert!(run.body["total"].as_u64().is_some_and(|n| n >= 2), "{}", run.body);
    assert_eq!((&run.body["total"], &run.body["jobs"]), (&same.body["total"], &same.body["jobs"]));
    let first = server.get(&format!("/v1/searches/{}/jobs?limit=1", saved.body["id"]));
    assert_eq!(first.body["jobs"].as_array().map(Vec::len), Some(1));
    assert_eq!(first.body["jobs"][0], same.body["jobs"][0]);
    assert!(first.body["next_cursor"].is_string());
    let key = &seen[0].0;
    let detail = server.get(&format!("/v1/jobs/{key}"));
    assert_eq!(detail.status, 200, "{}", detail.body);
    assert!(detail.body["job"]["description"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(detail.body["duplicates"].is_array());

    // Stats, cached by lake version with an ETag.
    let overview = server.get("/v1/stats/overview");
    assert_eq!(overview.body["postings"], 8, "{}", overview.body);
    assert!(overview.body["salary_usd"]["median"].as_f64().is_some());
    let etag = overview
        .headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_string();
    let again = Server::answer(
        server
            .client
            .get(format!("{}/v1/stats/overview", server.base))
            .header("if-none-match", &etag),
    );
    assert_eq!(again.status, 304);
    let salary = server.get("/v1/stats/salary?by=source_site&min_postings=1");
    assert!(!salary.body["groups"].as_array().expect("groups").is_empty(), "{}", salary.body);
    let postings = server.get("/v1/stats/postings?by=month");
    let counted: u64 = postings.body["series"]
        .as_array()
        .expect("series")
        .iter()
        .map(|p| p["postings"].as_u64().expect("n"))
        .sum();
    assert_eq!(counted + postings.body["undated"].as_u64().expect("undated"), 8);
    let skills = server.get("/v1/stats/skills?limit=5");
    assert!(
        skills.body["skills"][0]["postings"].as_u64().is_some_and(|n| n >= 1),
        "{}",
        skills.body
    );

    // The catalog: skills by demand, one skill's neighbours, companies by postings.
    let python = server.get("/v1/skills?q=python&limit=3");
    assert_eq!(python.body["skills"][0]["skill_id"], "python", "{}", python.body);
    let naming_python = python.body["skills"][0]["postings"].as_u64().expect("postings");
    assert!(naming_python >= 1);
    let one = server.get("/v1/skills/python");
    assert_eq!(one.body["postings"].as_u64(), Some(naming_python), "{}", one.body);
    assert!(!one.body["named_with"].as_array().expect("neighbours").is_empty(), "{}", one.body);
    problem(&server.get("/v1/skills/no-such-skill"), 404, "not_found");
    let companies = server.get("/v1/companies");
    let counts: Vec<u64> = companies.body["companies"]
        .as_array()
        .expect("companies")
        .iter()
        .map(|c| c["postings"].as_u64().expect("n"))
        .collect();
    assert_eq!(
        counts.iter().sum::<u64>(),
        8,
        "every demo posting names its company: {}",
        companies.body
    );
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "most postings first: {counts:?}");
    // Over the postings a filter keeps, in the order asked.
    let engineers = server.get("/v1/stats/overview?title=engineer").body["postings"].as_u64();
    let hiring = server.get("/v1/companies?title=engineer&sort=pay");
    let listed = hiring.body["companies"].as_array().expect("companies");
    assert_eq!(
        listed.iter().map(|c| c["postings"].as_u64().expect("n")).sum::<u64>(),
        engineers.expect("postings")
    );
    assert!(engineers < Some(8), "the filter keeps fewer than every posting: {engineers:?}");
    let medians: Vec<f64> = listed.iter().map_while(|c| c["salary_usd"]["median"].as_f64()).collect();
    assert!(medians.windows(2).all(|w| w[0] >= w[1]), "highest pay first: {medians:?}");
    let second = server.get("/v1/companies?title=engineer&sort=pay&offset=1&limit=1");
    assert_eq!(second.body["companies"][0], listed[1], "offset skips the first");

    let listed = server.get("/v1/models");
    let kinds: Vec<&str> = listed.body["models"]
        .as_array()
        .expect("models")
        .iter()
        .map(|m| m["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["salary", "match"]);
    assert!(
        listed.body["models"]
            .as_array()
            .expect("models")
            .iter()
            .all(|m| m["in_use"] == true)
    );

    // The metrics pass Prometheus' own linter and count what happened above.
    let text = server.metrics_text();
    promtool_accepts(&text);
    // One posting, the same unexplained, a batch of two (the cached answer is not counted).
    assert!(text.contains("rats_predictions_total 4\n"), "{text}");
    assert!(text.contains("rats_matches_total{scoring=\"full\"} 2\n"), "{text}");
    assert!(text.contains("rats_matches_total{scoring=\"skills_only\"} 0\n"), "{text}");
    assert!(
        text.contains("rats_cache_requests_total{cache=\"stats\",result=\"hit\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("rats_model_info{kind=\"salary\",version=\"v1\"} 1\n"), "{text}");
    assert!(text.contains("route=\"/v1/jobs/{posting_key}\""), "{text}");

    // One JSON log line per request, with its id.
    let lines: Vec<Value> = server.log().lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let requests: Vec<&Value> = lines.iter().filter(|l| l["fields"]["message"] == "request").collect();
    assert!(requests.len() >= 20, "{} request lines", requests.len());
    assert!(
        requests
            .iter()
            .all(|l| l["fields"]["request_id"].is_string() && l["fields"]["status"].is_u64())
    );
}

#[test]
fn bad_requests_are_problem_documents_that_name_the_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &["--max-body-kib", "64"]);
    problem(&server.post("/v1/predict/salary", &json!({"title": ""})), 422, "invalid_field");
    let unknown = server.post(
        "/v1/predict/salary",
        &json!({"postings": [{"title": "Nurse"}, {"title": "Chef", "skills": ["not-a-skill"]}]}),
    );
    problem(&unknown, 422, "invalid_field");
    assert_eq!(unknown.body["field"], "postings[1].skills");
    let typed = server.post("/v1/predict/salary", &json!({"title": "Nurse", "years_experience": "five"}));
    problem(&typed, 422, "invalid_field");
    assert_eq!(typed.body["field"], "years_experience");
    let extra = server.post("/v1/predict/salary", &json!({"title": "Nurse", "salary": 100_000}));
    problem(&extra, 422, "invalid_field");
    let seniority = server.post("/v1/predict/salary", &json!({"title": "Nurse", "seniority": "guru"}));
    assert_eq!(seniority.body["field"], "seniority");
    let too_many: Vec<Value> = (0..1001).map(|_| json!({"title": "Nurse"})).collect();
    let batch = server.post("/v1/predict/salary", &json!({"postings": too_many}));
    problem(&batch, 422, "invalid_field");
    assert_eq!(batch.body["field"], "postings");
    problem(
        &server.post_bytes("/v1/predict/salary", "application/json", b"{\"title\": ".to_vec()),
        400,
        "malformed_request",
    );
    problem(
        &server.post_bytes("/v1/predict/salary", "text/plain", b"{}".to_vec()),
        415,
        "unsupported_media_type",
    );
    let big = format!("{{\"title\": \"{}\"}}", "x".repeat(100 * 1024));
    problem(
        &server.post_bytes("/v1/predict/salary", "application/json", big.into_bytes()),
        413,
        "body_too_large",
    );
    problem(&server.get("/v1/jobs?limit=0"), 422, "invalid_field");
    let cursor = server.get("/v1/jobs?cursor=00ff");
    problem(&cursor, 422, "invalid_field");
    assert_eq!(cursor.body["field"], "cursor");
    let filter = server.get("/v1/jobs?salary_min=lots");
    assert_eq!(filter.body["field"], "salary_min", "{}", filter.body);
    let sql = server.get("/v1/jobs?title=x%27%20OR%201%3D1%20--");
    assert_eq!((sql.status, &sql.body["total"]), (200, &json!(0)), "filters are values, never SQL");
    problem(&server.get("/v1/jobs?skills=no-such-skill"), 422, "invalid_field");
    problem(&server.get("/v1/jobs/no-such-posting"), 404, "not_found");
    for (filter, field) in [
        (json!({"colour": "red"}), "filter.colour"),
        (json!({"skills": "no-such-skill"}), "filter.skills"),
        (json!({"salary_min": "lots"}), "filter.salary_min"),
    ] {
        let refused = server.post("/v1/searches", &json!({"name": "bad", "filter": filter}));
        problem(&refused, 422, "invalid_field");
        assert_eq!(refused.body["field"], field, "{}", refused.body);
    }
    let named = json!({"name": "twice", "filter": {}});
    assert_eq!(server.post("/v1/searches", &named).status, 201);
    assert_eq!(server.post("/v1/searches", &named).body["field"], "name");
    problem(&server.get("/v1/searches/not-a-number"), 404, "not_found");
    problem(&server.get("/v2/anything"), 404, "not_found");
    problem(
        &Server::answer(server.client.delete(format!("{}/v1/jobs", server.base))),
        405,
        "method_not_allowed",
    );
    problem(&server.get("/v1/stats/salary?by=shoe_size"), 422, "invalid_field");
    // Uploads: the format comes from the bytes; the client's path is never echoed beyond its name.
    let (content_type, body) = multipart(&[("resume", Some("../../etc/cv.docx"), b"plain text, not a zip")]);
    let misnamed = server.post_bytes("/v1/match/jobs", &content_type, body);
    problem(&misnamed, 422, "invalid_field");
    let detail = misnamed.body["detail"].as_str().expect("detail");
    assert!(detail.starts_with("cv.docx: ") && !detail.contains(".."), "{detail}");
    // A DOCX whose document part inflates past 50 MB (60 MB of spaces in 60 KB) is refused.
    let bomb = dir.path().join("bomb.docx");
    let zipped = run(Command::new("python3").arg("-c").arg(format!(
        "import zipfile; z = zipfile.ZipFile({:?}, 'w', zipfile.ZIP_DEFLATED, compresslevel=9); \
         z.writestr('[Content_Types].xml', '<Types/>'); z.writestr('word/document.xml', '<w:document>' + ' ' * (60 << 20)); z.close()",
        bomb.display().to_string()
    )));
    assert!(zipped.status.success(), "{}", stderr(&zipped));
    let bomb = std::fs::read(&bomb).expect("bomb");
    assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
    let (content_type, body) = multipart(&[("resume", Some("cv.docx"), &bomb)]);
    let exploded = server.post_bytes("/v1/match/jobs", &content_type, body);
    problem(&exploded, 422, "invalid_field");
    assert!(
        exploded.body["detail"].as_str().is_some_and(|d| d.contains("over 50 MB")),
        "{}",
        exploded.body
    );
    let (content_type, body) = multipart(&[("top", None, b"3")]);
    assert_eq!(server.post_bytes("/v1/match/jobs", &content_type, body).body["field"], "resume");
    problem(&server.post("/v1/match/jobs", &json!({"resume": "  "})), 422, "invalid_field");
    problem(
        &server.post("/v1/match/jobs", &json!({"resume": "Python developer", "top": 0})),
        422,
        "invalid_field",
    );
    // Every refusal was still logged and counted; none took the server down.
    assert_eq!(server.get("/health").status, 200);
    assert!(server.metric("rats_http_requests_total{route=\"/v1/predict/salary\",method=\"POST\",status=\"422\"}") >= 5.0);
}

#[test]
fn new_model_and_lake_versions_are_swapped_in_while_serving() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), true);
    // The registry and lake are checked every second; SIGHUP is tested on its own below.
    let server = Server::start(dir.path(), &lake, &models, &["--refresh-secs", "1"]);
    let ask = || server.post("/v1/predict/salary", &json!({"title": "Data Analyst"}));
    assert_eq!(ask().body["model"]["version"], "v1");
    // A second version appears (newest wins while none is promoted), then v1 is promoted.
    copy_dir(&models.join("salary/v1"), &models.join("salary/v2"));
    server.wait_until("serving salary v2", |_| ask().body["model"]["version"] == "v2");
    let promoted = run(rats(dir.path())
        .args(["models", "promote", "salary", "v1", "--models"])
        .arg(&models));
    assert!(promoted.status.success(), "{}", stderr(&promoted));
    server.wait_until("serving the promoted v1", |_| ask().body["model"]["version"] == "v1");
    // New postings reach silver: answers move to the new lake version.
    let before = server.get("/v1/jobs").body["lake_version"].as_i64().expect("version");
    consume(dir.path(), &lake, &[repo().join("fixtures/matching/postings.jsonl")]);
    server.wait_until("reading the new lake version", |s| {
        s.get("/v1/jobs").body["lake_version"].as_i64() > Some(before)
    });
    assert_eq!(server.get("/v1/stats/overview").body["postings"], 14);
    assert!(server.metric("rats_lake_version") > before as f64);
}

#[test]
fn sighup_reloads_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), true);
    let server = Server::start(dir.path(), &lake, &models, &["--refresh-secs", "3600"]);
    copy_dir(&models.join("salary/v1"), &models.join("salary/v2"));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(server.get("/ready").body["models"][0]["version"], "v1", "no poll within the hour");
    server.signal("HUP");
    server.wait_until("serving v2 after SIGHUP", |s| s.get("/ready").body["models"][0]["version"] == "v2");
}

/// The gold tables a snapshot reads besides silver: the salary model's skill premiums and the
/// title families of `rats occupation assign`.
#[test]
fn new_skill_premiums_and_title_families_are_read_though_silver_did_not_move() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &["--refresh-secs", "3600"]);
    let premiums = |s: &Server| -> Vec<Value> {
        let skills = s.get("/v1/skills?limit=1000").body;
        skills["skills"]
            .as_array()
            .expect("skills")
            .iter()
            .map(|k| k["premium_usd_median"].clone())
            .collect()
    };
    assert!(premiums(&server).iter().all(Value::is_null), "the fixture lake has no premiums yet");
    let silver_before = server.get("/ready").body["lake"]["version"].clone();
    // What `rats train salary` writes into the lake it trained on, as it would land here.
    let table = rats::ml::salary::premiums::TABLE;
    copy_dir(&crate::salary_model::trained().lake.join(table), &lake.join(table));
    server.signal("HUP");
    server.wait_until("premiums read", |s| premiums(s).iter().any(Value::is_f64));
    assert_eq!(server.get("/ready").body["lake"]["version"], silver_before, "silver did not move");

    let by_family = "/v1/stats/salary?by=title_family&min_postings=1";
    problem(&server.get(by_family), 503, "no_title_families");
    assert!(
        server.get("/v1/jobs?limit=200").body["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .all(|j| j["title_family"].is_null())
    );
    crate::support::assign_title_families(&lake);
    let families = crate::support::table_rows(&lake, rats::ml::occupation::ASSIGNMENTS_TABLE, &["posting_key", "occupation"]);
    assert!(!families.is_empty(), "no fixture posting got a title family");
    server.signal("HUP");
    server.wait_until("title families read", |s| s.get(by_family).status == 200);
    let jobs = server.get("/v1/jobs?limit=200").body;
    for [key, family] in families.iter().map(|r| [&r[0], &r[1]]) {
        let job = jobs["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .find(|j| j["posting_key"] == json!(key))
            .expect("a job per family");
        assert_eq!(job["title_family"], json!(family), "{job}");
    }
    let groups = server.get(by_family).body;
    assert_eq!(groups["by"], "title_family");
    let named: Vec<&str> = groups["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["group"].as_str())
        .collect();
    assert!(
        !named.is_empty() && named.iter().all(|g| families.iter().any(|r| r[1] == *g)),
        "{groups}"
    );
    assert_eq!(server.get("/ready").body["lake"]["version"], silver_before, "silver did not move");
}

/// With one encoder slot and a millisecond's wait, résumés sent together find the encoder busy:
/// those are scored by the model's skills-only fallback, which the answer and the metrics say,
/// and which still ranks the data engineer résumé's posting first.
#[test]
fn a_busy_encoder_falls_back_to_skills_only_scoring_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &["--encoder-slots", "1", "--encoder-wait", "0.001"]);
    let resume = std::fs::read_to_string(repo().join("fixtures/resumes/data-engineer.md")).expect("résumé");
    let body = json!({"resume": resume, "top": 3});
    let mut answers = Vec::new();
    for _ in 0..20 {
        answers.extend(std::thread::scope(|scope| {
            let sent: Vec<_> = (0..4).map(|_| scope.spawn(|| server.post("/v1/match/jobs", &body))).collect();
            sent.into_iter().map(|s| s.join().expect("a request")).collect::<Vec<_>>()
        }));
        if answers.iter().any(|a| a.body["scoring"]["mode"] == "skills_only") {
            break;
        }
    }
    assert!(answers.iter().all(|a| a.status == 200), "an answer was not 200");
    let (fallen_back, full): (Vec<&Answer>, Vec<&Answer>) = answers.iter().partition(|a| a.body["scoring"]["mode"] == "skills_only");
    assert!(
        !fallen_back.is_empty(),
        "no request of {} found the one encoder slot busy",
        answers.len()
    );
    assert!(!full.is_empty(), "no request got the encoder");
    let skills_only = &fallen_back[0].body;
    assert!(
        skills_only["scoring"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("encoder was busy")),
        "{skills_only}"
    );
    assert_eq!(skills_only["jobs"][0]["title"], "Senior Data Engineer", "{skills_only}");
    assert_eq!(skills_only["jobs"][0]["signals"]["semantic"], 0.0, "the résumé was not embedded");
    assert!(full[0].body["jobs"][0]["signals"]["semantic"].as_f64().is_some_and(|s| s > 0.0));
    let text = server.metrics_text();
    let counted = |scoring: &str| -> usize {
        let prefix = format!("rats_matches_total{{scoring=\"{scoring}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {prefix} in {text}"))
    };
    assert_eq!((counted("full"), counted("skills_only")), (full.len(), fallen_back.len()));
}

/// A batch as large as the API takes: more work than a 50 ms time limit allows, and work the
/// server must still finish after a TERM.
fn heavy_batch() -> Value {
    let postings: Vec<Value> = (0..1000)
        .map(|i| json!({"title": format!("Senior Data Engineer {i}"), "location": "Austin, TX", "skills": ["python", "sql"]}))
        .collect();
    json!({"postings": postings})
}

/// Waits until `n` requests besides the `/metrics` scrape itself are in flight.
fn wait_in_flight(server: &Server, n: f64) {
    server.wait_until("requests in flight", |s| s.metric("rats_http_requests_in_flight") >= n + 1.0);
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_and_exits_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let mut server = Server::start(dir.path(), &lake, &models, &[]);
    let (release, held) = post_held_back(&server, "/v1/predict/salary", &heavy_batch());
    wait_in_flight(&server, 1.0);
    server.signal("TERM");
    server.wait_until("the shutdown begins", |s| s.log().contains("finishing the requests in flight"));
    release.send(()).expect("the body's sender waits");
    let (status, body) = held.join().expect("joins");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["predictions"].as_array().map(Vec::len), Some(1000));
    let exit = server.child.wait().expect("exits");
    assert_eq!(exit.code(), Some(0), "log:\n{}", server.log());
}

#[test]
fn a_request_over_its_time_limit_gets_503_and_is_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &["--request-timeout", "0.05"]);
    let answer = server.post("/v1/predict/salary", &heavy_batch());
    problem(&answer, 503, "timeout");
    assert_eq!(answer.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    assert!((server.metric("rats_http_timeouts_total") - 1.0).abs() < f64::EPSILON);
    assert_eq!(
        server.post("/v1/predict/salary", &json!({"title": "Nurse"})).status,
        200,
        "a small request is in time"
    );
}

#[test]
fn overload_is_refused_at_once_with_503_and_retry_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &["--max-in-flight", "1", "--max-queued", "0"]);
    let (release, held) = post_held_back(&server, "/v1/predict/salary", &json!({"title": "Nurse"}));
    wait_in_flight(&server, 1.0);
    // The outermost layer counts the held request in flight; it takes its turn at the gate a
    // moment later, after authorisation, and on a loaded machine the next request once got
    // there first (200). So ask until refused: a gate that let both in would never refuse.
    let started = Instant::now();
    let mut refused = server.get("/v1/stats/overview");
    while refused.status == 200 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
        refused = server.get("/v1/stats/overview");
    }
    problem(&refused, 503, "overloaded");
    assert_eq!(refused.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    // Operations routes stay outside the gate.
    assert_eq!(server.get("/health").status, 200);
    release.send(()).expect("the body's sender waits");
    assert_eq!(held.join().expect("joins").0, 200);
    assert!((server.metric("rats_http_overload_rejections_total") - 1.0).abs() < f64::EPSILON);
    assert_eq!(server.get("/v1/stats/overview").status, 200, "a turn is free again");
}

/// Posts `body` from a thread of its own with its last byte held back until the returned
/// sender fires; the thread answers the status and the JSON body.
fn post_held_back(server: &Server, path: &str, body: &Value) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<(u16, Value)>) {
    let (release, held) = std::sync::mpsc::channel();
    let bytes = serde_json::to_vec(body).expect("json");
    let length = bytes.len() as u64;
    let request = server
        .client
        .post(format!("{}{path}", server.base))
        .header("content-type", "application/json")
        .body(reqwest::blocking::Body::sized(HeldBack::new(bytes, held), length));
    let answer = std::thread::spawn(move || {
        let response = request.send().expect("answered");
        (response.status().as_u16(), response.json::<Value>().expect("json"))
    });
    (release, answer)
}

/// A request body whose last byte waits for a signal: the server has the request's head (a
/// place in the in-flight gauge, then a turn at the gate) and waits for the rest, so the
/// request is in flight until the test says so, however fast the machine answers (a large
/// batch raced the next request, and under coverage instrumentation it was once answered first).
struct HeldBack {
    bytes: Vec<u8>,
    sent: usize,
    release: Option<std::sync::mpsc::Receiver<()>>,
}

impl HeldBack {
    fn new(bytes: Vec<u8>, release: std::sync::mpsc::Receiver<()>) -> Self {
        HeldBack {
            bytes,
            sent: 0,
            release: Some(release),
        }
    }
}

impl std::io::Read for HeldBack {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let last = self.bytes.len().saturating_sub(1);
        if self.sent == last
            && let Some(release) = self.release.take()
        {
            // A dropped sender releases too: the test failed before it let go.
            let _ = release.recv();
        }
        let end = if self.release.is_some() { last } else { self.bytes.len() };
        let n = (end - self.sent).min(buf.len());
        buf[..n].copy_from_slice(&self.bytes[self.sent..self.sent + n]);
        self.sent += n;
        Ok(n)
    }
}

/// `--tls-cert/--tls-key`: the same API over HTTPS with a certificate the client trusts, and
/// nothing for a client speaking plain HTTP to that port.
#[test]
fn https_serves_the_api_with_the_given_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
        ])
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        // A server's own certificate, not an authority's (rustls refuses a CA as the server).
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    assert!(made.status.success(), "openssl: {}", stderr(&made));
    let (cert_arg, key_arg) = (cert.to_string_lossy().into_owned(), key.to_string_lossy().into_owned());
    let server = Server::start_on(
        dir.path(),
        &dir.path().join("lake"),
        &dir.path().join("models"),
        &["--tls-cert", &cert_arg, "--tls-key", &key_arg],
        None,
    );
    assert!(server.base.starts_with("https://127.0.0.1:"), "{}", server.base);
    let trusting = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&cert).expect("cert")).expect("pem"))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let health = Server::answer(trusting.get(format!("{}/health", server.base)));
    assert_eq!((health.status, &health.body["status"]), (200, &json!("ok")));
    let me = Server::answer(trusting.get(format!("{}/v1/me", server.base)));
    problem(&me, 401, "unauthenticated");
    let plain = server.base.replacen("https://", "http://", 1);
    assert!(
        reqwest::blocking::get(format!("{plain}/health")).is_err(),
        "plain HTTP gets no answer from the TLS port"
    );
    let untrusting = reqwest::blocking::Client::new().get(format!("{}/health", server.base)).send();
    assert!(untrusting.is_err(), "a client that does not trust the certificate refuses it");
}

#[test]
fn answers_are_gzipped_for_clients_that_accept_it_but_the_live_stream_is_not() {
    use std::io::Read;
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &[]);
    let fetch = |path: &str, gzip: bool| {
        let mut request = server.client.get(format!("{}{path}", server.base));
        if gzip {
            request = request.header("accept-encoding", "gzip");
        }
        let response = request.send().expect("the server answers");
        assert_eq!(response.status(), 200, "{path}");
        let encoding = response
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().expect("text").to_string());
        (encoding, response.bytes().expect("a body").to_vec())
    };
    for path in ["/v1/jobs?limit=20", "/openapi.json", "/v1/jobs?format=csv"] {
        let (plain_encoding, plain) = fetch(path, false);
        assert_eq!(plain_encoding, None, "{path}: nothing compressed for a client that did not ask");
        let (encoding, zipped) = fetch(path, true);
        assert_eq!(encoding.as_deref(), Some("gzip"), "{path}");
        assert!(
            zipped.len() < plain.len(),
            "{path}: {} bytes gzipped of {}",
            zipped.len(),
            plain.len()
        );
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(zipped.as_slice())
            .read_to_end(&mut unzipped)
            .expect("gzip");
        assert_eq!(unzipped, plain, "{path}: the same answer");
    }
    // Its events would wait in the compressor until it filled.
    let (encoding, events) = fetch("/v1/stream?backlog=2&follow=false", true);
    assert_eq!(encoding, None, "the live stream is sent as it is written");
    assert!(String::from_utf8_lossy(&events).contains("event: posting"));
}
