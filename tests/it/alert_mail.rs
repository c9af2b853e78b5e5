//! Saved-search alerts by mail: the real `rats serve` mails each person one digest of the new
//! postings their mailing searches keep, through a real SMTP server (aiosmtpd, STARTTLS), as
//! the real `rats consume` commits them into the lake it serves — once, with links to the
//! postings; a search turned off stops; a mail the server cannot take is mailed once it can.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::live::{consume, postings_file};
use crate::mail_server::MailServer;
use crate::serve::{Server, private_copy, problem, user_with_key};
use crate::support::{rats, run, stderr};

/// The messages once there are `count`, within a minute (rounds run every second).
fn messages_once(mail: &MailServer, count: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let messages = mail.messages();
        if messages.len() >= count {
            return messages;
        }
        assert!(
            started.elapsed() < Duration::from_mins(1),
            "{} of {count} messages in 60 s: {messages:?}",
            messages.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn the_one_to<'a>(messages: &'a [Value], address: &str) -> &'a Value {
    let to: Vec<&Value> = messages.iter().filter(|m| m["to"] == address).collect();
    assert_eq!(to.len(), 1, "one message to {address}: {messages:?}");
    to[0]
}

fn text(message: &Value) -> &str {
    message["text"].as_str().unwrap_or_default()
}

fn failed_mails(server: &Server) -> u64 {
    let metrics = server.get("/metrics").body;
    let metrics = metrics.as_str().unwrap_or_default();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("rats_alert_mails_total{outcome=\"failed\"} "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no failed-mail counter in {metrics}"))
}

fn set_email(dir: &Path, lake: &Path, name: &str, address: &str) {
    let set = run(rats(dir).args(["users", "set-email", name, address, "--lake"]).arg(lake));
    assert!(set.status.success(), "users set-email: {}", stderr(&set));
}

#[test]
fn saved_searches_mail_one_digest_per_person_once_and_what_the_mail_server_missed_later() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let mut mail = MailServer::start(dir.path());
    std::fs::write(
        dir.path().join("rats.yaml"),
        format!(
            "smtp:\n  url: \"smtp://localhost:{}?tls=required\"\n  from: \"rats <rats@example.org>\"\n",
            mail.port
        ),
    )
    .expect("settings");
    let bob_key = user_with_key(dir.path(), &lake, None, "bob", "analyst");
    set_email(dir.path(), &lake, "bob", "bob@example.org");
    // The test authority is trusted the way a system's would be (SSL_CERT_FILE).
    let server = Server::start_with_env(
        dir.path(),
        &lake,
        &models,
        &["--alert-every-secs", "1", "--public-url", "https://rats.example.org/"],
        &[("SSL_CERT_FILE", &mail.authority)],
    );
    let as_bob = |method: reqwest::Method, path: &str, body: &Value| {
        Server::answer(
            server
                .client
                .request(method, format!("{}{path}", server.base))
                .bearer_auth(&bob_key)
                .json(body),
        )
    };

    // Mail needs an address: the tester (an admin) has none yet.
    let quantum = json!({"name": "Quantum", "filter": {"title": "quantum"}, "email": true});
    let refused = server.post("/v1/searches", &quantum);
    problem(&refused, 422, "invalid_field");
    assert_eq!(refused.body["field"], "email");
    let me = |body: &Value| Server::answer(server.client.patch(format!("{}/v1/me", server.base)).json(body));
    problem(&me(&json!({"email": "tester at example"})), 422, "invalid_field");
    let changed = me(&json!({"email": "tester@example.org"}));
    assert_eq!(
        (changed.status, &changed.body["user"]["email"]),
        (200, &json!("tester@example.org")),
        "{}",
        changed.body
    );
    assert_eq!(me(&json!({})).body["user"]["email"], "tester@example.org", "an absent field stays");
    let saved = server.post("/v1/searches", &quantum);
    assert_eq!((saved.status, &saved.body["email"]), (201, &json!(true)), "{}", saved.body);
    let lead = server.post(
        "/v1/searches",
        &json!({"name": "Leads", "filter": {"title": "lead"}, "email": true}),
    );
    assert_eq!(lead.status, 201, "{}", lead.body);
    let quiet = server.post("/v1/searches", &json!({"name": "Engineers", "filter": {"title": "engineer"}}));
    assert_eq!((quiet.status, &quiet.body["email"]), (201, &json!(false)), "{}", quiet.body);
    let bobs = as_bob(
        reqwest::Method::POST,
        "/v1/searches",
        &json!({"name": "Quantum too", "filter": {"title": "quantum"}, "email": true}),
    );
    assert_eq!(bobs.status, 201, "{}", bobs.body);

    let first = postings_file(
        dir.path(),
        "a",
        12,
        &[
            (3, "Quantum Pipeline Engineer"),
            (7, "Platform Lead <Data>"),
            (11, "Quantum Data Scientist"),
        ],
    );
    consume(dir.path(), &lake, &first);
    let messages = messages_once(&mail, 2);
    let tester = the_one_to(&messages, "tester@example.org");
    assert_eq!(tester["subject"], "rats: 3 new postings for 2 saved searches", "{tester}");
    assert_eq!(tester["from"], "rats <rats@example.org>");
    let body = text(tester);
    for expected in [
        "“Quantum”: 2 new postings",
        "- Quantum Pipeline Engineer",
        "- Quantum Data Scientist",
        "“Leads”: 1 new posting",
        "- Platform Lead <Data>",
        "Live Test Company a-3 · WA, US",
        "https://rats.example.org/jobs/",
        "Every posting of this search: https://rats.example.org/jobs?title=quantum",
    ] {
        assert!(body.contains(expected), "{expected:?} in:\n{body}");
    }
    assert!(!body.contains("Data Engineer a-0"), "only what the searches keep:\n{body}");
    let html = tester["html"].as_str().unwrap_or_default();
    // Escaped as HTML (minijinja escapes `/` in attributes too, which every reader decodes).
    assert!(
        html.contains("Platform Lead &lt;Data&gt;") && html.contains("<a href=\"https:&#x2f;&#x2f;rats.example.org&#x2f;jobs&#x2f;"),
        "{html}"
    );
    let bob = the_one_to(&messages, "bob@example.org");
    assert_eq!(bob["subject"], "rats: 2 new postings for “Quantum too”", "{bob}");

    // Rounds go on every second; nothing is mailed twice.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(mail.messages().len(), 2, "{:?}", mail.messages());

    // A search turned off stops mailing; the others go on.
    let off = Server::answer(
        server
            .client
            .patch(format!("{}/v1/searches/{}", server.base, lead.body["id"]))
            .json(&json!({"email": false})),
    );
    assert_eq!((off.status, &off.body["email"]), (200, &json!(false)), "{}", off.body);
    let second = postings_file(dir.path(), "b", 4, &[(0, "Quantum Lead"), (1, "Team Lead")]);
    consume(dir.path(), &lake, &second);
    let messages = messages_once(&mail, 4);
    let to_tester: Vec<&Value> = messages.iter().filter(|m| m["to"] == "tester@example.org").collect();
    assert_eq!(to_tester.len(), 2, "{messages:?}");
    let later = to_tester
        .iter()
        .find(|m| text(m).contains("Quantum Lead"))
        .expect("the second digest");
    assert_eq!(later["subject"], "rats: 1 new posting for “Quantum”", "{later}");
    assert!(!text(later).contains("Team Lead"), "Leads no longer mails:\n{}", text(later));

    // The mail server goes away: the round fails, and its postings go out once it is back.
    let port = mail.port;
    drop(mail);
    let third = postings_file(dir.path(), "c", 2, &[(1, "Quantum Platform Engineer")]);
    consume(dir.path(), &lake, &third);
    server.wait_until("a mail refused", |s| failed_mails(s) >= 1);
    mail = MailServer::start_on(dir.path(), port);
    let messages = messages_once(&mail, 6);
    let mailed_late: Vec<&Value> = messages.iter().filter(|m| text(m).contains("Quantum Platform Engineer")).collect();
    assert_eq!(mailed_late.len(), 2, "to the tester and to bob, once each: {messages:?}");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(mail.messages().len(), 6, "{:?}", mail.messages());
}
