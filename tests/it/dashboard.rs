//! The dashboard in a real browser (Debian chromium through playwright-core, `tests/node/`)
//! against `rats serve`. On the serve tests' lake: a person without a session is sent to sign
//! in and brought back, a wrong password is refused on the form, the overview shows the same
//! figures as the API, draws its chart with the table behind it, switches and keeps the theme,
//! fits a phone's width, and signs out. On the salary tests' lake of real postings: the jobs
//! search, its pages and a posting, the pay box plots and the salary predictor, each against
//! the API's answer for the same question. No script error, no failed request and nothing
//! fetched from elsewhere.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::serve::{Server, fixture, private_copy};
use crate::support::{copy_dir, rats, repo, run, stderr};

const PASSWORD: &str = "a passphrase long enough";

/// Adds `name` with `role` and the test's password to the lake's accounts.
fn add_user(dir: &Path, lake: &Path, name: &str, role: &str) {
    let password = dir.join("password.txt");
    std::fs::write(&password, format!("{PASSWORD}\n")).expect("write the password");
    let added = run(rats(dir)
        .args(["users", "add", name, "--role", role, "--password-stdin", "--lake"])
        .arg(lake)
        .stdin(std::fs::File::open(&password).expect("the password file")));
    assert!(added.status.success(), "users add: {}", stderr(&added));
}

/// Runs a browser script of `tests/node` with `args` and returns what it saw.
fn browse(script: &str, args: &[&str]) -> Value {
    let output = run(Command::new("node").arg(repo().join("tests/node").join(script)).args(args));
    assert!(output.status.success(), "the browser: {}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("the page's report")
}

/// `$95k` as the pages write US dollars (see `chart::draw::format_value`), for figures of
/// $10,000 to $1M.
fn usd(value: f64) -> String {
    format!("${:.0}k", value / 1_000.0)
}

/// `12,345`.
fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

#[test]
fn the_overview_works_in_a_real_browser_from_sign_in_to_sign_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &[]);
    add_user(dir.path(), &lake, "ana", "analyst");
    let seen = browse("dashboard-page.mjs", &[server.base.as_str(), "ana", PASSWORD]);
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

#[test]
fn jobs_and_salary_pages_answer_as_the_api_does_in_a_real_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The salary tests' lake (real Glassdoor and NYC postings, most with pay, and the skill
    // premiums of the model trained on it), copied: the server writes its vector cache there.
    let lake = dir.path().join("lake");
    copy_dir(&crate::salary_model::trained().lake, &lake);
    let server = Server::start(dir.path(), &lake, &fixture().models, &[]);
    add_user(dir.path(), &lake, "ana", "analyst");
    let seen = browse(
        "dashboard-search.mjs",
        &[server.base.as_str(), "ana", PASSWORD, "title=analyst&limit=5"],
    );
    // The one refused filter is the browser's only complaint (a 422 page logs as a failed load).
    assert_eq!(
        seen["problems"],
        json!(["console: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"]),
        "{seen}"
    );
    assert_eq!(seen["origins"], json!([server.base]), "only this server is reached");
    assert_eq!(seen["signInAddress"], "/login?next=%2Fjobs%3Ftitle%3Danalyst%26limit%3D5");
    assert_eq!(seen["titleKept"], "analyst", "the address fills the form in");

    // The search: the tidy address (no empty fields), the API's total and first page.
    let search = &seen["search"];
    assert_eq!(search["address"], "/jobs?title=analyst&sort=salary&limit=5");
    let api = server.get("/v1/jobs?title=analyst&sort=salary&limit=5").body;
    let total = api["total"].as_u64().expect("a total");
    assert!(total > 10, "enough analysts to page through: {api}");
    assert!(
        search["found"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&format!("{} postings match", count(total))),
        "{search}"
    );
    let keys = |jobs: &Value| -> Vec<String> {
        jobs.as_array()
            .expect("jobs")
            .iter()
            .map(|j| format!("/jobs/{}", j["posting_key"].as_str().unwrap_or_default()))
            .collect()
    };
    assert_eq!(search["keys"], json!(keys(&api["jobs"])), "the API's first page, in its order");
    for title in search["titles"].as_array().expect("titles") {
        assert!(title.as_str().unwrap_or_default().to_lowercase().contains("analyst"), "{title}");
    }
    assert!(
        search["pay"][0].as_str().unwrap_or_default().starts_with('$'),
        "best paid first: {search}"
    );
    assert_eq!(search["phoneOverflow"], 0);

    // The next page is the API's, by its cursor, and the address carries it.
    let cursor = api["next_cursor"].as_str().expect("a second page");
    let second = server
        .get(&format!("/v1/jobs?title=analyst&sort=salary&limit=5&cursor={cursor}"))
        .body;
    assert_eq!(
        seen["nextPage"]["address"],
        format!("/jobs?title=analyst&sort=salary&limit=5&cursor={cursor}")
    );
    assert_eq!(seen["nextPage"]["keys"], json!(keys(&second["jobs"])));

    // The first result's page.
    let posting = &seen["posting"];
    assert_eq!(posting["address"], search["keys"][0]);
    assert_eq!(posting["title"], api["jobs"][0]["title"]);
    let skill_ids = api["jobs"][0]["skill_ids"].as_array().expect("skill ids");
    assert_eq!(posting["skills"].as_array().map(Vec::len), Some(skill_ids.len()), "{posting}");
    assert!(posting["description"].as_u64() > Some(100), "the description is shown: {posting}");

    // A filter the API refuses is refused on the form, naming the field and keeping the value.
    assert_eq!(seen["refusal"]["status"], 422);
    assert!(
        seen["refusal"]["error"].as_str().unwrap_or_default().starts_with("salary_min:"),
        "{seen}"
    );
    assert_eq!(seen["refusal"]["kept"], "lots");

    // Pay by seniority: the API's groups, postings and medians.
    let by_seniority = server.get("/v1/stats/salary?by=seniority").body;
    let rows = seen["salary"]["seniority"].as_array().expect("rows");
    let groups = by_seniority["groups"].as_array().expect("groups");
    assert!(groups.len() >= 3, "{by_seniority}");
    assert_eq!(rows.len(), groups.len(), "{rows:?} {groups:?}");
    for group in groups {
        let row = rows
            .iter()
            .find(|r| r[0] == group["group"])
            .unwrap_or_else(|| panic!("{group} on the page"));
        assert_eq!(
            row[1],
            json!(count(group["postings_with_pay"].as_u64().unwrap_or_default())),
            "{row:?} {group}"
        );
        assert_eq!(row[4], json!(usd(group["median"].as_f64().unwrap_or_default())), "{row:?} {group}");
    }
    let boxes = seen["salary"]["boxes"].as_array().expect("boxes");
    assert_eq!(boxes.len(), groups.len());
    assert!(boxes.iter().all(|w| w.as_f64() > Some(0.0)), "every box is drawn: {boxes:?}");
    assert!(seen["salary"]["premiums"].as_u64() > Some(0), "the model's skill premiums: {seen}");
    assert_eq!(seen["salary"]["phoneOverflow"], 0);
    let overview = server.get("/v1/stats/overview").body;
    assert!(
        seen["salary"]["summary"].as_str().unwrap_or_default().contains(&format!(
            "{} of {} postings",
            count(overview["salary_usd"]["postings_with_pay"].as_u64().unwrap_or_default()),
            count(overview["postings"].as_u64().unwrap_or_default())
        )),
        "{seen}"
    );

    // Filtered to remote work by the form: the address and the count follow.
    assert_eq!(seen["remoteSalary"]["address"], "/salary?remote=remote");
    let remote = server.get("/v1/jobs?remote=remote&limit=1").body;
    assert!(
        seen["remoteSalary"]["summary"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("of {} postings", count(remote["total"].as_u64().unwrap_or_default()))),
        "{seen} {remote}"
    );

    // The predictor: the API's estimate, interval and drivers for the same posting.
    let estimate = &seen["estimate"];
    assert_eq!(
        estimate["address"],
        "/salary/estimate?title=Senior+Data+Engineer&location=Seattle%2C+WA&skills=Python%2C+SQL"
    );
    let predicted = server.post(
        "/v1/predict/salary?top=8",
        &json!({"title": "Senior Data Engineer", "location": "Seattle, WA", "skills": ["Python", "SQL"]}),
    );
    assert_eq!(predicted.status, 200, "{}", predicted.body);
    let value = |name: &str| predicted.body[name].as_f64().expect("a number");
    assert_eq!(estimate["value"], usd(value("estimate")));
    assert_eq!(estimate["low"], usd(value("low")));
    assert_eq!(estimate["high"], usd(value("high")));
    let drivers = estimate["drivers"].as_array().expect("drivers");
    let contributions = predicted.body["contributions"].as_array().expect("contributions");
    assert_eq!(drivers.len(), contributions.len());
    for (shown, given) in drivers.iter().zip(contributions) {
        assert!(
            shown
                .as_str()
                .unwrap_or_default()
                .ends_with(given["label"].as_str().unwrap_or_default()),
            "{shown} {given}"
        );
    }
    assert_eq!(estimate["phoneOverflow"], 0);
}
