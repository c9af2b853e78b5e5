//! The dashboard in a real browser (Debian chromium through playwright-core,
//! `tests/node/dashboard-page.mjs`) against `rats serve` on the serve tests' lake: a person
//! without a session is sent to sign in and brought back, a wrong password is refused on the
//! form, the overview shows the same figures as the API, draws its chart with the table behind
//! it, switches and keeps the theme, fits a phone's width, and signs out — with no script
//! error, no failed request and nothing fetched from elsewhere.

use std::process::Command;

use serde_json::{Value, json};

use crate::serve::{Server, private_copy};
use crate::support::{rats, repo, run, stderr};

const PASSWORD: &str = "a passphrase long enough";

#[test]
fn the_overview_works_in_a_real_browser_from_sign_in_to_sign_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &[]);
    let password = dir.path().join("password.txt");
    std::fs::write(&password, format!("{PASSWORD}\n")).expect("write the password");
    let added = run(rats(dir.path())
        .args(["users", "add", "ana", "--role", "analyst", "--password-stdin", "--lake"])
        .arg(&lake)
        .stdin(std::fs::File::open(&password).expect("the password file")));
    assert!(added.status.success(), "users add: {}", stderr(&added));

    let output = run(Command::new("node")
        .arg(repo().join("tests/node/dashboard-page.mjs"))
        .args([server.base.as_str(), "ana", PASSWORD]));
    assert!(output.status.success(), "the browser: {}", stderr(&output));
    let seen: Value = serde_json::from_slice(&output.stdout).expect("the page's report");
    assert_eq!(seen["problems"], json!([]), "{seen}");
    assert_eq!(seen["origins"], json!([server.base]), "only this server is reached");
    assert_eq!(seen["signInAddress"], "/login?next=%2F");
    assert_eq!(seen["refusal"], "The user name or the password is wrong.");
    assert_eq!(seen["afterSignIn"], "/");

    // The same figures as the API's overview, over the same lake version.
    let api = server.get("/v1/stats/overview").body;
    let figures = &seen["figures"];
    let number = |v: &Value| v.as_str().unwrap_or_default().replace(',', "").parse::<u64>().ok();
    assert_eq!(number(&figures["postings"]), api["postings"].as_u64(), "{figures} {api}");
    assert_eq!(
        number(&figures["new_this_week"]),
        api["postings_in_newest_week"].as_u64(),
        "{figures} {api}"
    );
    let newest = api["newest_posting"].as_str().expect("a dated lake");
    assert!(figures["freshness"].as_str().unwrap_or_default().contains(newest), "{figures}");

    // A year of weeks in the table behind the chart, each counted as the API counts it.
    let weekly = seen["weekly"].as_array().expect("rows");
    assert_eq!(weekly.len(), 52);
    let by_week = server.get("/v1/stats/postings?by=week").body;
    let api_count = |week: &Value| {
        by_week["series"]
            .as_array()
            .and_then(|s| s.iter().find(|p| p["period"] == *week))
            .and_then(|p| p["postings"].as_u64())
            .unwrap_or(0)
    };
    for row in weekly {
        assert_eq!(number(&row[2]), Some(api_count(&row[0])), "{row}");
    }
    assert!(weekly.iter().any(|row| number(&row[2]) > Some(0)), "{weekly:?}");
    assert!(
        seen["chartWidth"].as_f64() > Some(600.0),
        "the chart spans the page: {}",
        seen["chartWidth"]
    );
    assert!(!seen["skills"].as_array().expect("skills").is_empty());

    assert_eq!(seen["lightBackground"], "rgb(255, 255, 255)");
    assert_eq!(seen["theme"], "dark");
    assert_ne!(seen["darkBackground"], seen["lightBackground"]);
    assert_eq!(seen["themeKept"], "dark", "the choice survives a reload");
    assert_eq!(seen["phoneOverflow"], 0, "nothing wider than a phone's screen");
    assert_eq!(seen["afterSignOut"], "/login", "signed out, the overview sends to sign in again");
}
