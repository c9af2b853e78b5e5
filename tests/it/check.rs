//! `rats check` on a lake consumed from a shared dataset: the built-in expectations pass on it,
//! fire on a crafted bad batch (exit 1 for the error-level ones), cannot run on a broken
//! expectation (exit 2), and every run lands in `LAKE/quality/results`.

use std::path::Path;

use serde_json::Value;

use crate::mail_server::MailServer;
use crate::support::{posting_csvs, repo, run, stderr, summary};

/// `as_of` fixed so freshness and future dates do not depend on the day the test runs.
const AS_OF: &str = "2026-10-20";

fn rats(dir: &Path) -> std::process::Command {
    crate::support::rats(dir)
}

fn consume(dir: &Path, file: &Path) {
    let output = run(rats(dir)
        .args(["consume", "-q", "--lake", "lake", "--max-quarantine", "30", "--from"])
        .arg(file));
    assert!(output.status.success(), "{}", stderr(&output));
}

fn check(dir: &Path, extra: &[&str]) -> (Option<i32>, Value, String) {
    let mut command = rats(dir);
    command.args(["check", "--lake", "lake", "--format", "json"]);
    if !extra.contains(&"--as-of") {
        command.args(["--as-of", AS_OF]);
    }
    let output = run(command.args(extra));
    let json = if output.stdout.is_empty() { Value::Null } else { summary(&output) };
    (output.status.code(), json, stderr(&output))
}

fn result<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["results"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["check"] == name))
        .unwrap_or_else(|| panic!("no result {name} in {json}"))
}

/// The recorded results, through `rats export` (so the table is a lake table like any other).
fn recorded(dir: &Path) -> Vec<Value> {
    let output = run(rats(dir).args(["export", "quality/results", "--lake", "lake", "--to", "json", "-q"]));
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice::<Vec<Value>>(&output.stdout).expect("a JSON array")
}

#[test]
fn the_built_in_expectations_pass_on_real_data_and_fire_on_a_bad_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let washington = posting_csvs()
        .into_iter()
        .find(|p| p.ends_with("Data_Job_WA.csv"))
        .expect("the shared Glassdoor Washington file");
    consume(dir.path(), &washington);

    let (code, json, err) = check(dir.path(), &[]);
    assert_eq!(code, Some(0), "{err}\n{json}");
    let results = json["results"].as_array().expect("results");
    assert!(results.len() >= 25, "{}", results.len());
    let failing: Vec<&Value> = results
        .iter()
        .filter(|r| r["severity"] == "error" && r["status"] != "pass")
        .collect();
    assert!(failing.is_empty(), "the contract holds on real data: {failing:?}");
    assert_eq!(result(&json, "silver/postings.not_future.date_posted")["status"], "pass");
    assert!(err.contains("passed"), "a one-line summary on stderr: {err}");
    let first_run = recorded(dir.path());
    assert_eq!(first_run.len(), results.len(), "one recorded row per expectation");

    // A batch a broken scraper could send: dated next year, paid $12 a year.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        r#"{"job_id": "bad-1", "site": "indeed", "job": {"job_url": "https://example.org/bad-1", "title": "Data Engineer", "company": "Fabrikam", "location": "Denver, CO", "date_posted": "2027-03-01", "description": "Python and SQL."}, "compensation": {"interval": "yearly", "min_amount": 12.0, "max_amount": 15.0, "currency": "USD"}, "scraped_at": "2026-10-19T08:00:00Z"}
"#,
    )
    .expect("write the batch");
    consume(dir.path(), &bad);
    let (code, json, err) = check(dir.path(), &[]);
    assert_eq!(code, Some(1), "an error-level expectation failed: {err}\n{json}");
    let future = result(&json, "silver/postings.not_future.date_posted");
    assert_eq!(future["status"], "fail", "{future}");
    assert_eq!(future["failing_rows"], 1, "{future}");
    assert!(future["observed"].as_str().unwrap_or_default().contains("2027-03-01"), "{future}");
    let pay = result(&json, "silver/postings.salary_usd_sane");
    assert_eq!(
        (pay["status"].as_str(), pay["severity"].as_str()),
        (Some("fail"), Some("warn")),
        "{pay}"
    );
    assert_eq!(pay["failing_rows"], 1, "{pay}");

    // Judged as of a day after the posting's date, it is no longer in the future.
    let (code, json, _) = check(
        dir.path(),
        &["--as-of", "2027-03-02T00:00:00Z", "--select", "silver/postings.not_future*"],
    );
    assert_eq!(code, Some(0), "{json}");
    assert_eq!(json["results"].as_array().map(Vec::len), Some(1), "--select keeps one: {json}");
    assert_eq!(recorded(dir.path()).len(), first_run.len() * 2 + 1, "every run appends its results");
}

#[test]
fn a_folder_that_is_not_a_lake_is_named_and_nothing_is_written_into_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = check(dir.path(), &[]);
    assert_eq!(missing.0, Some(2));
    assert!(missing.2.contains("no lake at lake"), "{}", missing.2);
    std::fs::create_dir(dir.path().join("lake")).expect("mkdir");
    let (code, _, err) = check(dir.path(), &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("holds no tables"), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("lake")).expect("readable").count(),
        0,
        "no results recorded"
    );
}

#[test]
fn a_users_expectations_replace_the_built_in_ones_and_a_broken_one_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    consume(dir.path(), &repo().join("fixtures/demo/postings.jsonl"));
    let checks = dir.path().join("mine");
    std::fs::create_dir(&checks).expect("mkdir");
    std::fs::write(
        checks.join("mine.yml"),
        "tables:\n  - table: silver/postings\n    expectations:\n      - row_count: { min: 100 }\n        severity: warn\n      - not_null: { column: seniority, max_share: 0.2 }\n",
    )
    .expect("write");
    let (code, json, err) = check(dir.path(), &["--checks", checks.to_str().expect("utf-8"), "--no-record"]);
    assert_eq!(code, Some(1), "{err}\n{json}");
    assert_eq!(json["results"].as_array().map(Vec::len), Some(2), "only the user's: {json}");
    assert_eq!(result(&json, "silver/postings.row_count")["status"], "fail");
    let nulls = result(&json, "silver/postings.not_null.seniority");
    assert_eq!(
        (nulls["status"].as_str(), nulls["failing_rows"].as_u64()),
        (Some("fail"), Some(2)),
        "{nulls}"
    );
    assert!(!dir.path().join("lake/quality").exists(), "--no-record writes nothing");

    std::fs::write(
        checks.join("typo.yml"),
        "tables:\n  - table: silver/postings\n    expectations:\n      - not_null: { column: titel }\n",
    )
    .expect("write");
    let (code, json, _) = check(dir.path(), &["--checks", checks.to_str().expect("utf-8"), "--no-record"]);
    assert_eq!(code, Some(2), "{json}");
    let typo = result(&json, "silver/postings.not_null.titel");
    assert_eq!(typo["status"], "error");
    assert!(
        typo["observed"].as_str().unwrap_or_default().contains("no column \"titel\""),
        "{typo}"
    );

    std::fs::write(
        checks.join("typo.yml"),
        "tables:\n  - table: t\n    expectations:\n      - not_nul: { column: a }\n",
    )
    .expect("write");
    let (code, _, err) = check(dir.path(), &["--checks", checks.to_str().expect("utf-8")]);
    assert_eq!(code, Some(2));
    assert!(err.contains("typo.yml"), "the file is named: {err}");

    // `init` writes the built-in set; from then on ./checks is what runs.
    let init = run(rats(dir.path()).args(["check", "init"]));
    assert!(init.status.success(), "{}", stderr(&init));
    std::fs::write(
        dir.path().join("checks/silver.yml"),
        "tables:\n  - table: silver/postings\n    expectations:\n      - row_count: { max: 1 }\n        name: tiny\n",
    )
    .expect("edit");
    let (code, json, _) = check(dir.path(), &["--no-record"]);
    assert_eq!(code, Some(1), "{json}");
    assert_eq!(json["results"][0]["check"], "tiny");
}

/// A webhook receiver on a local port: answers each request with the next status of
/// `statuses` (200 once they run out) and hands over each body it took.
struct Receiver {
    url: String,
    bodies: std::sync::mpsc::Receiver<Value>,
}

impl Receiver {
    fn start(statuses: Vec<u16>) -> Self {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        let url = format!("http://{}/hooks/s3cret", listener.local_addr().expect("an address"));
        let (send, bodies) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut statuses = statuses.into_iter();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let status = statuses.next().unwrap_or(200);
                let _ = stream.write_all(format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes());
                if status == 200 {
                    let _ = send.send(serde_json::from_slice(&body).unwrap_or(Value::Null));
                }
            }
        });
        Receiver { url, bodies }
    }

    fn taken(&self) -> Vec<Value> {
        self.bodies.try_iter().collect()
    }
}

fn changes(body: &Value) -> Vec<(String, String)> {
    body["rats_check"]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["check"].as_str().unwrap_or_default().to_string(),
                c["change"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_webhook_hears_when_an_expectation_starts_failing_and_when_it_recovers_once_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    consume(dir.path(), &repo().join("fixtures/demo/postings.jsonl"));
    let checks = dir.path().join("checks");
    std::fs::create_dir(&checks).expect("mkdir");
    std::fs::write(
        checks.join("dates.yml"),
        "tables:\n  - table: silver/postings\n    expectations:\n      - not_future: { column: date_posted }\n        name: dates\n      - row_count: { min: 1 }\n        name: rows\n",
    )
    .expect("write");
    // Judged as of a day before the fixtures' postings, they are in the future.
    let early = ["--as-of", "2026-09-01"];
    let late = ["--as-of", "2026-12-01"];

    // A receiver that fails three times: the run says so (exit 2), and nothing is marked sent.
    let down = Receiver::start(vec![500, 500, 500]);
    let (code, json, err) = check(dir.path(), &[&early[..], &["--webhook", &down.url]].concat());
    assert_eq!(code, Some(2), "{err}\n{json}");
    assert!(err.contains("after 3 attempts") && err.contains("HTTP 500"), "{err}");
    assert!(!err.contains("s3cret"), "the webhook's secret path is not printed: {err}");
    assert!(down.taken().is_empty());

    let up = Receiver::start(Vec::new());
    let hook = ["--webhook", up.url.as_str()];
    let (code, _, err) = check(dir.path(), &[&early[..], &hook[..]].concat());
    assert_eq!(code, Some(1), "{err}");
    let sent = up.taken();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(changes(&sent[0]), [("dates".to_string(), "failing".to_string())]);
    assert!(
        sent[0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("1 expectation started failing"),
        "{}",
        sent[0]
    );

    let (code, _, _) = check(dir.path(), &[&early[..], &hook[..]].concat());
    assert_eq!(code, Some(1));
    assert!(up.taken().is_empty(), "still failing: no second alert");

    let (code, _, _) = check(dir.path(), &[&late[..], &hook[..]].concat());
    assert_eq!(code, Some(0));
    let sent = up.taken();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(changes(&sent[0]), [("dates".to_string(), "recovered".to_string())]);

    let (_, _, _) = check(dir.path(), &[&late[..], &hook[..]].concat());
    assert!(up.taken().is_empty(), "still passing: nothing to say");
}

#[test]
fn lineage_runs_from_the_input_files_through_the_warehouse_to_the_quality_results_and_exports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = repo().join("fixtures/demo/postings.jsonl");
    consume(dir.path(), &input);
    let built = run(rats(dir.path()).args(["transform", "run", "-q", "--lake", "lake"]));
    assert!(built.status.success(), "{}", stderr(&built));
    let (code, _, err) = check(dir.path(), &["--select", "silver/postings.not_null.title"]);
    assert_eq!(code, Some(0), "{err}");
    // A query's answer exported to a file (logged), and one to stdout (not logged).
    let exported = run(rats(dir.path()).args([
        "export",
        "--lake",
        "lake",
        "--sql",
        "SELECT f.title, s.source_site FROM fct_postings f JOIN silver__postings s USING (posting_key)",
        "--out",
        "titles.csv",
    ]));
    assert!(exported.status.success(), "{}", stderr(&exported));
    let piped = run(rats(dir.path()).args(["export", "--lake", "lake", "silver/duplicates"]));
    assert!(piped.status.success(), "{}", stderr(&piped));

    let output = run(rats(dir.path()).args(["check", "lineage", "--lake", "lake", "--format", "json"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let lineage = summary(&output);
    let edges: Vec<(String, String)> = lineage["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap_or_default().to_string(),
                e[1].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let has = |from: &str, to: &str| edges.iter().any(|(a, b)| a == from && b == to);
    let input_id = format!("input:{}", input.display());
    assert!(has(&input_id, "bronze/postings"), "{edges:?}");
    for consumed in ["silver/postings", "silver/duplicates", "quarantine/postings"] {
        assert!(has("bronze/postings", consumed), "{consumed}: {edges:?}");
    }
    assert!(has("silver/postings", "view:stg_postings"), "{edges:?}");
    assert!(has("view:stg_postings", "gold/fct_postings"), "{edges:?}");
    assert!(
        has("silver/postings", "quality/results"),
        "the checked table feeds the results: {edges:?}"
    );
    let export_id = format!("export:{}", dir.path().join("titles.csv").display());
    assert!(
        has("gold/fct_postings", &export_id) && has("silver/postings", &export_id),
        "{edges:?}"
    );
    assert_eq!(
        edges.iter().filter(|(_, to)| to.starts_with("export:")).count(),
        2,
        "only the file's export, from the two tables its query names: {edges:?}"
    );
    let node = |id: &str| {
        lineage["nodes"]
            .as_array()
            .and_then(|n| n.iter().find(|n| n["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("no node {id}"))
    };
    assert_eq!(node(&input_id)["records"], 8, "every record of the file reached bronze");
    assert!(
        node("gold/fct_postings")["version"].as_i64().is_some(),
        "tables carry their Delta version"
    );

    let dot = run(rats(dir.path()).args(["check", "lineage", "--lake", "lake", "--graph", "dot"]));
    assert!(dot.status.success(), "{}", stderr(&dot));
    let dot = String::from_utf8_lossy(&dot.stdout).into_owned();
    assert!(
        dot.starts_with("digraph lineage {") && dot.contains("\"bronze/postings\" -> \"silver/postings\";"),
        "{dot}"
    );
    let mermaid = run(rats(dir.path()).args(["check", "lineage", "--lake", "lake", "--graph", "mermaid"]));
    assert!(String::from_utf8_lossy(&mermaid.stdout).starts_with("flowchart LR\n"));
}

#[test]
fn alerts_are_mailed_over_starttls_once_when_failing_and_once_when_recovered() {
    let dir = tempfile::tempdir().expect("tempdir");
    consume(dir.path(), &repo().join("fixtures/demo/postings.jsonl"));
    std::fs::create_dir(dir.path().join("checks")).expect("mkdir");
    std::fs::write(
        dir.path().join("checks/dates.yml"),
        "tables:\n  - table: silver/postings\n    expectations:\n      - not_future: { column: date_posted }\n        name: dates\n",
    )
    .expect("write");
    let server = MailServer::start(dir.path());
    std::fs::write(
        dir.path().join("rats.yaml"),
        format!(
            "smtp:\n  url: \"smtp://localhost:{}?tls=required\"\n  from: \"rats <rats@example.org>\"\ncheck:\n  alerts:\n    email: [ops@example.org, lead@example.org]\n",
            server.port
        ),
    )
    .expect("settings");
    // The test authority is trusted the way a system's would be (rustls-native-certs reads
    // SSL_CERT_FILE); without it the TLS handshake fails.
    let mailed = |as_of: &str| {
        let output = run(rats(dir.path())
            .args(["check", "--lake", "lake", "--format", "json", "--as-of", as_of])
            .env("SSL_CERT_FILE", &server.authority));
        (output.status.code(), stderr(&output))
    };
    let (code, err) = mailed("2026-09-01");
    assert_eq!(code, Some(1), "{err}");
    let messages = server.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let first = &messages[0];
    assert_eq!(first["subject"], "rats check on lake: 1 failing", "{first}");
    assert_eq!(first["from"], "rats <rats@example.org>");
    assert_eq!(first["to"], "ops@example.org, lead@example.org");
    let text = first["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("1 expectation started failing") && text.contains("• dates (error):"),
        "{text}"
    );

    let (code, _) = mailed("2026-09-01");
    assert_eq!(code, Some(1));
    assert_eq!(server.messages().len(), 1, "still failing: no second mail");

    let (code, err) = mailed("2026-12-01");
    assert_eq!(code, Some(0), "{err}");
    let messages = server.messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages.iter().any(|m| m["subject"] == "rats check on lake: 1 recovered"),
        "{messages:?}"
    );

    // Without the certificate trusted, STARTTLS is refused and the run says so.
    std::fs::write(
        dir.path().join("checks/dates.yml"),
        "tables:\n  - table: silver/postings\n    expectations:\n      - row_count: { max: 1 }\n        name: dates\n",
    )
    .expect("make it fail again");
    let output = run(rats(dir.path()).args(["check", "--lake", "lake", "--as-of", "2026-12-01"]));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("did not take the message after 3 attempts"),
        "{}",
        stderr(&output)
    );
    assert_eq!(server.messages().len(), 2);
}
