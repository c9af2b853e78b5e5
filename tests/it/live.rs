//! `GET /v1/stream`, the live feed, as a client reads it from the real server while the real
//! `rats consume` commits postings into the lake it serves: each posting once, in log order,
//! filtered as `/v1/jobs` filters, alerts for the caller's saved searches, the figures after
//! each commit, and a client that reconnects with `Last-Event-ID` — after a server restart and
//! postings consumed while it was down, or from the middle of a commit — gets exactly what it
//! missed. SIGTERM ends open streams so the server exits.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::serve::{Server, private_copy, problem};
use crate::support::{rats, run, stderr};

/// One Server-Sent Event.
#[derive(Debug, Clone)]
pub(crate) struct SseEvent {
    pub(crate) name: String,
    pub(crate) id: Option<String>,
    pub(crate) data: Value,
}

/// An open stream, read event by event.
pub(crate) struct Stream {
    lines: BufReader<reqwest::blocking::Response>,
}

impl Stream {
    pub(crate) fn open(server: &Server, query: &str, last_event_id: Option<&str>) -> Stream {
        let mut request = server.client.get(format!("{}/v1/stream{query}", server.base));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().expect("the stream opens");
        assert_eq!(response.status(), 200, "{:?}", response.text());
        assert_eq!(
            response.headers().get("content-type").and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
        Stream {
            lines: BufReader::new(response),
        }
    }

    /// The next event; `None` when the server ended the stream.
    pub(crate) fn next(&mut self) -> Option<SseEvent> {
        let (mut name, mut id, mut data) = (String::from("message"), None, String::new());
        loop {
            let mut line = String::new();
            if self.lines.read_line(&mut line).expect("reads the stream") == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if data.is_empty() {
                    continue; // a keep-alive comment's end
                }
                return Some(SseEvent {
                    name,
                    id,
                    data: serde_json::from_str(&data).expect("JSON data"),
                });
            }
            match line.split_once(':') {
                Some(("", _)) => {} // a comment
                Some(("event", value)) => name = value.trim_start().to_string(),
                Some(("id", value)) => id = Some(value.trim_start().to_string()),
                Some(("data", value)) => data.push_str(value.trim_start()),
                _ => panic!("not an event line: {line:?}"),
            }
        }
    }

    /// The events up to and including the first `ingest` whose id is not `place` (the
    /// figures after a commit the stream had not passed yet), within a minute.
    pub(crate) fn through_commit_after(&mut self, place: &str) -> Vec<SseEvent> {
        let started = Instant::now();
        let mut events = Vec::new();
        loop {
            assert!(started.elapsed() < Duration::from_mins(1), "no new commit in 60 s: {events:?}");
            let event = self.next().unwrap_or_else(|| panic!("the stream ended: {events:?}"));
            let done = event.name == "ingest" && event.id.as_deref() != Some(place);
            events.push(event);
            if done {
                return events;
            }
        }
    }

    /// The events up to and including the first `ingest` (the end of a stream's start).
    pub(crate) fn through_start(&mut self) -> Vec<SseEvent> {
        self.through_commit_after("")
    }
}

/// The titles of the `posting` events among `events`.
pub(crate) fn titles(events: &[SseEvent]) -> Vec<String> {
    of_kind(events, "posting")
        .map(|e| e.data["title"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn of_kind<'a>(events: &'a [SseEvent], name: &'a str) -> impl Iterator<Item = &'a SseEvent> + 'a {
    events.iter().filter(move |e| e.name == name)
}

/// Where `events` leave the client: the last id among them.
pub(crate) fn place(events: &[SseEvent]) -> String {
    events.iter().rev().find_map(|e| e.id.clone()).expect("an event with an id")
}

/// A JSON Lines file of `count` new postings (distinct companies, so none is a duplicate of
/// another), titled `Role BATCH-I` except at the indexes `special` gives another title.
pub(crate) fn postings_file(dir: &Path, batch: &str, count: usize, special: &[(usize, &str)]) -> PathBuf {
    const ROLES: [&str; 5] = [
        "Data Engineer",
        "Analytics Engineer",
        "Platform Engineer",
        "Data Scientist",
        "Backend Developer",
    ];
    let lines: Vec<String> = (0..count)
        .map(|i| {
            let title = special
                .iter()
                .find(|(at, _)| *at == i)
                .map_or_else(|| format!("{} {batch}-{i}", ROLES[i % ROLES.len()]), |(_, title)| (*title).to_string());
            json!({
                "job_id": format!("live-{batch}-{i}"),
                "site": "indeed",
                "job": {
                    "job_url": format!("https://example.org/jobs/live-{batch}-{i}"),
                    "title": title,
                    "company": format!("Live Test Company {batch}-{i}"),
                    "location": "Seattle, WA",
                    "job_type": "fulltime",
                    "date_posted": "2026-11-20",
                    "description": format!("Team {batch}-{i} builds pipelines in Python and SQL on Kubernetes; {} years of experience.", 2 + i % 5),
                },
                "compensation": {"interval": "yearly", "min_amount": 90_000 + 1_000 * i, "max_amount": 120_000 + 1_000 * i, "currency": "USD"},
            })
            .to_string()
        })
        .collect();
    let path = dir.join(format!("live-{batch}.jsonl"));
    std::fs::write(&path, lines.join("\n") + "\n").expect("writes the postings");
    path
}

/// `rats consume` of `file` into `lake`, as cron or an operator runs it.
pub(crate) fn consume(dir: &Path, lake: &Path, file: &Path) {
    let output = run(rats(dir).args(["consume", "--quiet", "--lake"]).arg(lake).arg("--from").arg(file));
    assert!(output.status.success(), "consume: {}", stderr(&output));
}

#[test]
fn the_stream_sends_each_new_posting_once_and_resumes_after_a_restart_from_the_last_event_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let mut server = Server::start(dir.path(), &lake, &models, &[]);
    let saved = server.post("/v1/searches", &json!({"name": "Quantum", "filter": {"title": "quantum"}}));
    assert_eq!(saved.status, 201, "{}", saved.body);

    // A first connection: the two newest postings, then the figures with the place.
    let mut everything = Stream::open(&server, "?backlog=2", None);
    let start = everything.through_start();
    assert_eq!(titles(&start).len(), 2, "{start:?}");
    assert_eq!(
        start.iter().map(|e| e.name.as_str()).skip(2).collect::<Vec<_>>(),
        ["ingest"],
        "{start:?}"
    );
    let before = place(&start);
    let mut quantum_only = Stream::open(&server, "?title=quantum", Some(&before));

    let first = postings_file(dir.path(), "a", 20, &[(19, "Quantum Pipeline Engineer")]);
    consume(dir.path(), &lake, &first);
    let events = everything.through_commit_after(&before);
    let titles_a = titles(&events);
    assert_eq!(titles_a.len(), 20, "each new posting once: {titles_a:?}");
    assert_eq!(
        titles_a.last().map(String::as_str),
        Some("Quantum Pipeline Engineer"),
        "in log order"
    );
    let ids: Vec<String> = of_kind(&events, "posting").filter_map(|e| e.id.clone()).collect();
    let version = ids[0].split(':').next().expect("V:R").to_string();
    assert_eq!(
        ids,
        (0..20).map(|row| format!("{version}:{row}")).collect::<Vec<_>>(),
        "one commit's rows"
    );
    let alerts: Vec<&SseEvent> = of_kind(&events, "alert").collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].data["search"], "Quantum");
    assert_eq!(alerts[0].data["title"], "Quantum Pipeline Engineer");
    assert_eq!(alerts[0].data["id"], ids[19].as_str());
    for figures in ["skills", "salary"] {
        assert!(events.iter().any(|e| e.name == figures), "{figures} after the commit");
    }
    let hours = events.iter().rfind(|e| e.name == "ingest").expect("ingest").data["hours"].clone();
    let counted: u64 = hours
        .as_array()
        .expect("hours")
        .iter()
        .map(|h| h["postings"].as_u64().unwrap_or(0))
        .sum();
    assert!(counted >= 20, "jobs per hour count the commit: {hours}");
    let after_a = place(&events);
    assert_eq!(after_a, version, "the place after the commit");

    let filtered = quantum_only.through_commit_after(&before);
    assert_eq!(titles(&filtered), ["Quantum Pipeline Engineer"], "the filters as /v1/jobs's");
    assert_eq!(place(&filtered), after_a, "a filtered stream passes the commit too");

    // SIGTERM ends the open streams, so the server exits.
    assert!(server.stop().success(), "{}", server.log());
    while everything.next().is_some() {} // what was sent before the end, then the end

    let second = postings_file(dir.path(), "b", 5, &[(2, "Quantum Platform Lead")]);
    consume(dir.path(), &lake, &second);
    server.start_again(dir.path(), &lake, &models);

    // From the last posting the client had: exactly what was consumed while it was away.
    let mut resumed = Stream::open(&server, "", Some(&ids[19]));
    let events = resumed.through_start();
    let titles_b = titles(&events);
    assert_eq!(titles_b.len(), 5, "no gap: {titles_b:?}");
    assert_eq!(titles_b[2], "Quantum Platform Lead", "in log order: {titles_b:?}");
    assert!(titles_b.iter().all(|t| !titles_a.contains(t)), "no repeat: {titles_b:?}");
    assert_eq!(
        of_kind(&events, "alert").map(|e| e.data["title"].clone()).collect::<Vec<_>>(),
        [json!("Quantum Platform Lead")],
        "missed postings raise their alerts"
    );
    // From the middle of a commit (the header, or the query for a new EventSource).
    let mut middle = Stream::open(&server, &format!("?last_event_id={version}:9"), None);
    let events = middle.through_start();
    assert_eq!(titles(&events).len(), 10 + 5, "rows 10–19 of the first commit and the second's");
    assert_eq!(titles(&events)[..10], titles_a[10..]);

    // A script polling from its last id: what came after it, then the end.
    let mut poll = Stream::open(&server, &format!("?last_event_id={version}:18&follow=false"), None);
    assert_eq!(titles(&poll.through_start()).len(), 1 + 5);
    let rest: Vec<String> = std::iter::from_fn(|| poll.next()).map(|e| e.name).collect();
    assert_eq!(rest, ["skills", "salary"], "follow=false ends the stream after the figures");

    let refused = Server::answer(
        server
            .client
            .get(format!("{}/v1/stream", server.base))
            .header("Last-Event-ID", "yesterday"),
    );
    problem(&refused, 422, "invalid_field");
    assert_eq!(refused.body["field"], "Last-Event-ID");
    problem(&server.get("/v1/stream?backlog=5000"), 422, "invalid_field");
    problem(&server.get("/v1/stream?remote=moon"), 422, "invalid_field");
    assert_eq!(
        Server::answer(reqwest::blocking::Client::new().get(format!("{}/v1/stream", server.base))).status,
        401
    );
}
