//! The dashboard in a real browser (Debian chromium through playwright-core, `tests/node/`)
//! against `rats serve`. On the serve tests' lake: a person without a session is sent to sign
//! in and brought back, a wrong password is refused on the form, the overview shows the same
//! figures as the API, draws its chart with the table behind it, switches and keeps the theme,
//! fits a phone's width, and signs out. On the salary tests' lake of real postings: the jobs
//! search, its pages and a posting, the pay box plots, the salary predictor, the skills
//! heatmaps and a skill's page, each against the API's answer for the same question. No script
//! error, no failed request and nothing fetched from elsewhere. Without script, a page renews
//! an expired session from the refresh cookie; the admin page and its API refuse analysts; the
//! data-health page shows the quarantine and the latest check run. The trends and companies
//! pages count as the API does, switch their view by links, and read the company snapshot; the
//! match page ranks an uploaded CV as `POST /v1/match/jobs` does. The live page shows a consumed
//! posting, alerts for a saved search, holds hundreds of postings in a
//! virtualised list, and after the server restarts reconnects and shows exactly what was
//! consumed while it was down; meanwhile the overview in another tab reads itself again at the
//! new lake version and shows the alert. The tables' download links give the API's answer as
//! CSV, JSON and Excel files that open (openpyxl) and hold the API's rows, within the caller's
//! rate budget; the sign-up form makes an account and signs it in only on a server that takes
//! sign-ups.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::serve::{Answer, Server, fixture, private_copy};
use crate::support::{copy_dir, rats, repo, run, stderr};

const PASSWORD: &str = "a passphrase long enough";

/// What a server showed on its first start on the salary tests' lake (real Glassdoor and NYC
/// postings, most with pay, and the premiums of the model trained on it): while it embedded
/// the postings for matching, once done, and started again.
struct FirstStart {
    home: tempfile::TempDir,
    ready_while_preparing: Answer,
    jobs_while_preparing: u16,
    match_while_preparing: Answer,
    match_page_while_preparing: String,
    ready_when_done: Value,
    match_page_when_done: String,
    ready_started_again: Value,
}

/// The first start (once for every test that needs it): the lake is read in seconds, its
/// 3,530 postings are embedded beside it for minutes.
fn first_start() -> &'static FirstStart {
    static FIRST: std::sync::OnceLock<FirstStart> = std::sync::OnceLock::new();
    FIRST.get_or_init(|| {
        let home = tempfile::tempdir().expect("tempdir");
        let lake = home.path().join("lake");
        copy_dir(&crate::salary_model::trained().lake, &lake);
        add_user(home.path(), &lake, "first", "analyst");
        let mut server = Server::start_on(home.path(), &lake, &fixture().models, &[], None);
        server.wait_until("reading the lake", |s| !s.get("/ready").body["lake"].is_null());
        let ready_while_preparing = server.get("/ready");
        let jobs_while_preparing = server.get("/v1/jobs?limit=1").status;
        let resume = std::fs::read_to_string(repo().join("fixtures/resumes/data-engineer.md")).expect("résumé");
        let match_while_preparing = server.post("/v1/match/jobs", &json!({"resume": resume}));
        let browser = no_redirects();
        let cookie = access_cookie(&server, &browser, "first");
        let match_page = || {
            let page = browser
                .get(format!("{}/match", server.base))
                .header("cookie", &cookie)
                .send()
                .expect("the match page");
            assert_eq!(page.status(), 200);
            page.text().expect("html")
        };
        let match_page_while_preparing = match_page();
        server.wait_up_to("ready", std::time::Duration::from_mins(10), |s| s.get("/ready").status == 200);
        let ready_when_done = server.get("/ready").body;
        let match_page_when_done = match_page();
        server.stop();
        server.start_again(home.path(), &lake, &fixture().models);
        let ready_started_again = server.get("/ready").body;
        FirstStart {
            home,
            ready_while_preparing,
            jobs_while_preparing,
            match_while_preparing,
            match_page_while_preparing,
            ready_when_done,
            match_page_when_done,
            ready_started_again,
        }
    })
}

/// A copy in `dir` of the salary tests' lake with the match model's vectors of its postings
/// already cached by [`first_start`]: a server on it is ready without embedding them all, which
/// several servers starting at once on two cores did not finish within the tests' 180 s. Servers
/// write that cache into the lake they read, hence a copy each.
fn market_lake(dir: &Path) -> std::path::PathBuf {
    let lake = dir.join("lake");
    copy_dir(&first_start().home.path().join("lake"), &lake);
    lake
}

#[test]
fn a_server_on_a_lake_never_embedded_answers_at_once_and_says_how_far_matching_got() {
    let first = first_start();
    let ready = &first.ready_while_preparing;
    assert_eq!(ready.status, 503, "not ready while matching is prepared: {}", ready.body);
    assert_eq!(ready.body["matching"]["state"], "preparing", "{}", ready.body);
    assert_eq!(first.jobs_while_preparing, 200, "the API answers while matching is prepared");
    let matched = &first.match_while_preparing;
    assert_eq!(
        (matched.status, &matched.body["code"]),
        (503, &json!("matching_not_ready")),
        "{}",
        matched.body
    );
    let detail = matched.body["detail"].as_str().expect("a detail");
    assert!(detail.starts_with("the postings are being"), "{detail}");
    assert!(
        first.match_page_while_preparing.contains("Not yet: the postings are being"),
        "the match page says matching is being prepared"
    );
    assert!(
        !first.match_page_when_done.contains("id=\"matching-state\""),
        "and stops saying so once it is"
    );

    let done = &first.ready_when_done["matching"];
    let postings = &first.ready_when_done["lake"]["postings"];
    assert_eq!(done["state"], "prepared", "{}", first.ready_when_done);
    assert_eq!(&done["postings"], postings);
    let to_embed = done["to_embed"].as_u64().expect("a count");
    assert!(to_embed > 3_000, "every posting's text is embedded the first time: {done}");
    assert_eq!(done["embedded"], to_embed);

    let again = &first.ready_started_again["matching"];
    assert_eq!(again["state"], "prepared", "{}", first.ready_started_again);
    assert_eq!(
        (&again["to_embed"], &again["embedded"]),
        (&json!(0), &json!(0)),
        "the vectors are read from the lake: {again}"
    );
}

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
    let lake = market_lake(dir.path());
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
    assert_eq!(search["phoneOverflow"], 0, "{}", seen["tooWide"]);

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
    assert_eq!(seen["salary"]["phoneOverflow"], 0, "{}", seen["tooWide"]);
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
    assert_eq!(estimate["phoneOverflow"], 0, "{}", seen["tooWide"]);

    // The skills page: the heatmaps' skills are the API's most demanded, in its order; shades
    // vary; a skill's page counts as `GET /v1/skills/{id}` does.
    let skills = &seen["skills"];
    let demand = server.get("/v1/stats/skills?limit=15").body;
    let most_demanded: Vec<&Value> = demand["skills"].as_array().expect("skills").iter().map(|s| &s["skill"]).collect();
    let heat: Vec<&Value> = skills["heatSkills"].as_array().expect("rows").iter().map(|row| &row[1]).collect();
    assert_eq!(heat, most_demanded);
    assert_eq!(skills["heatMonths"].as_array().map(Vec::len), Some(12));
    let shades: std::collections::BTreeSet<&str> = skills["heatShades"]
        .as_array()
        .expect("cells")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(shades.len() > 3, "the cells are shaded by share: {shades:?}");
    assert!(skills["pairs"].as_u64() > Some(0), "{skills}");
    assert_eq!(skills["phoneOverflow"], 0, "{}", seen["tooWide"]);
    let skill = &seen["skill"];
    let id = skill["address"]
        .as_str()
        .and_then(|a| a.strip_prefix("/skills/"))
        .expect("a skill's address");
    let api_skill = server.get(&format!("/v1/skills/{id}")).body;
    assert_eq!(skill["name"], api_skill["skill"]);
    assert_eq!(skill["postings"], json!(count(api_skill["postings"].as_u64().unwrap_or_default())));
    assert_eq!(
        skill["months"].as_u64(),
        api_skill["postings_by_month"].as_object().map(|m| m.len() as u64)
    );
    assert_eq!(
        skill["namedWith"].as_u64(),
        api_skill["named_with"].as_array().map(|m| m.len() as u64)
    );
    assert_eq!(skill["phoneOverflow"], 0, "{}", seen["tooWide"]);
}

/// The API's count of postings in `period` of `group`, from a `GET /v1/stats/postings` answer.
fn api_postings(answer: &Value, period: &str, group: &str) -> u64 {
    answer["series"]
        .as_array()
        .and_then(|series| series.iter().find(|p| p["period"] == period && p["group"] == group))
        .and_then(|p| p["postings"].as_u64())
        .unwrap_or(0)
}

/// `1,234` as a number.
fn number(shown: &Value) -> u64 {
    shown
        .as_str()
        .unwrap_or_default()
        .replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("a number: {shown}"))
}

#[test]
fn trends_and_companies_pages_answer_as_the_api_does_in_a_real_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The salary tests' lake, with the company snapshot taken as `rats transform` takes it.
    let lake = market_lake(dir.path());
    let snapshot = run(rats(dir.path())
        .args(["transform", "run", "--select", "+dim_company", "--lake"])
        .arg(&lake));
    assert!(snapshot.status.success(), "transform: {}", stderr(&snapshot));
    let server = Server::start(dir.path(), &lake, &fixture().models, &[]);
    add_user(dir.path(), &lake, "ana", "analyst");
    let seen = browse("dashboard-market.mjs", &[server.base.as_str(), "ana", PASSWORD]);
    assert_eq!(seen["problems"], json!([]), "{seen}");
    assert_eq!(seen["origins"], json!([server.base]), "only this server is reached");
    assert_eq!(seen["signInAddress"], "/login?next=%2Ftrends");
    assert_eq!(seen["tooWide"], json!([]), "nothing wider than a phone's screen");

    // Without title families in the lake, the trends split by place, per month.
    let trends = &seen["trends"];
    assert!(!lake.join("gold/posting_occupations").exists());
    assert_eq!(trends["current"], json!(["Place", "Month"]));
    let charted: u64 = trends["groups"]["rows"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|row| number(&row[1]))
        .sum();
    assert!(
        trends["summary"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&format!("{} postings in the 24 months", count(charted))),
        "{trends}"
    );
    assert_eq!(
        trends["legend"].as_u64(),
        trends["groups"]["rows"].as_array().map(|rows| rows.len() as u64 + 1),
        "a legend entry per group, and time"
    );

    // Switched by the page's links to seniority per week: each week's count per group is the
    // API's (named groups, and the postings that say none as "unknown").
    let weekly = &seen["weekly"];
    assert_eq!(weekly["address"], "/trends?split=seniority&by=week");
    let api = server.get("/v1/stats/postings?by=week&split=seniority").body;
    let groups: Vec<&str> = weekly["periods"]["head"]
        .as_array()
        .expect("head")
        .iter()
        .skip(1)
        .filter_map(Value::as_str)
        .collect();
    assert!(groups.len() >= 3 && groups.contains(&"unknown"), "{groups:?}");
    let weeks = weekly["periods"]["rows"].as_array().expect("weeks");
    assert_eq!(weeks.len(), 52);
    let mut compared = 0;
    for week in weeks {
        let period = week[0].as_str().expect("a week");
        for (group, shown) in groups.iter().zip(week.as_array().expect("cells").iter().skip(1)) {
            if *group != "other" {
                assert_eq!(number(shown), api_postings(&api, period, group), "{period} {group}");
                compared += number(shown);
            }
        }
    }
    assert!(compared > 0, "some postings in the weeks: {weekly}");

    // Jobs per hour: every silver posting was committed by a consume the Delta log keeps.
    let overview = server.get("/v1/stats/overview").body;
    let committed: u64 = weekly["ingestHours"]["rows"]
        .as_array()
        .expect("hours")
        .iter()
        .map(|row| number(&row[1]))
        .sum();
    assert_eq!(Some(committed), overview["postings"].as_u64(), "{weekly}");
    assert!(
        weekly["ingestSummary"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Newest consume commit"),
        "{weekly}"
    );

    // The filter form keeps the view and does not count it as a filter.
    let remote = &seen["remote"];
    assert_eq!(remote["address"], "/trends?by=week&split=seniority&remote=remote");
    assert_eq!(remote["filtersOpen"], false, "the view alone opens no filter box");

    // Companies: the API's first page, in its order, with its counts.
    let companies = &seen["companies"];
    let listed = server.get("/v1/companies?limit=50").body;
    let rows = listed["companies"].as_array().expect("companies");
    let href = |c: &Value| {
        let key = c["company_key"].as_str().unwrap_or_default();
        format!(
            "/companies/{}",
            form_urlencoded::byte_serialize(key.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        )
    };
    assert_eq!(companies["keys"], json!(rows.iter().map(href).collect::<Vec<_>>()));
    for (shown, given) in companies["rows"]["rows"].as_array().expect("rows").iter().zip(rows) {
        assert_eq!(
            shown[1],
            json!(count(given["postings"].as_u64().unwrap_or_default())),
            "{shown} {given}"
        );
        assert_eq!(
            shown[4],
            json!(count(given["reposts"].as_u64().unwrap_or_default())),
            "{shown} {given}"
        );
        assert_eq!(
            shown[5],
            json!(count(given["long_open"].as_u64().unwrap_or_default())),
            "{shown} {given}"
        );
    }
    assert!(
        rows.iter().any(|c| c["reposts"].as_u64() > Some(0)),
        "some postings were repeated: {listed}"
    );
    assert!(
        companies["summary"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&format!("{} companies", count(listed["total"].as_u64().unwrap_or_default()))),
        "{companies}"
    );
    assert!(
        !companies["longestOpen"]["rows"].as_array().expect("rows").is_empty(),
        "{companies}"
    );
    let by_reposts = server.get("/v1/companies?limit=50&sort=reposts").body;
    assert_eq!(seen["byReposts"]["address"], "/companies?sort=reposts");
    assert_eq!(seen["byReposts"]["sorted"], "Reposts");
    let reposts_order: Vec<String> = by_reposts["companies"].as_array().expect("companies").iter().map(href).collect();
    assert_eq!(seen["byReposts"]["keys"], json!(reposts_order));

    // The most reposted company's page: its figures, months and the snapshot's one version.
    let company = &seen["company"];
    let first = &by_reposts["companies"][0];
    assert_eq!(company["address"], json!(href(first)));
    assert_eq!(company["name"], first["company"]);
    assert_eq!(company["postings"], json!(count(first["postings"].as_u64().unwrap_or_default())));
    assert_eq!(company["reposts"], json!(count(first["reposts"].as_u64().unwrap_or_default())));
    let per_month: u64 = company["months"]["rows"]
        .as_array()
        .expect("months")
        .iter()
        .map(|row| number(&row[1]))
        .sum();
    assert!(
        per_month > 0 && per_month <= first["postings"].as_u64().unwrap_or_default(),
        "{company}"
    );
    let history = company["history"]["rows"].as_array().expect("the snapshot's versions");
    assert_eq!(history.len(), 1, "{company}");
    assert_eq!(history[0][4], "current");
}

#[test]
fn the_match_page_ranks_an_uploaded_cv_as_the_api_does_in_a_real_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &[]);
    add_user(dir.path(), &lake, "ana", "analyst");
    let cv = repo().join("fixtures/resumes/data-engineer.pdf");
    let scanned = repo().join("fixtures/resumes/scanned.pdf");
    let seen = browse(
        "dashboard-match.mjs",
        &[
            server.base.as_str(),
            "ana",
            PASSWORD,
            &cv.to_string_lossy(),
            &scanned.to_string_lossy(),
        ],
    );
    // The one refused upload is the browser's only complaint (a 422 page logs as a failed load).
    assert_eq!(
        seen["problems"],
        json!(["console: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"]),
        "{seen}"
    );
    assert_eq!(seen["origins"], json!([server.base]), "only this server is reached");
    assert_eq!(seen["signInAddress"], "/login?next=%2Fmatch");
    assert_eq!(seen["tooWide"], json!([]), "nothing wider than a phone's screen");

    // The API's answer for the same file: the same postings in the same order, scores, counts
    // and advice.
    let bytes = std::fs::read(&cv).expect("the CV");
    let (content_type, body) = crate::serve::multipart(&[("resume", Some("data-engineer.pdf"), &bytes)]);
    let api = server.post_bytes("/v1/match/jobs", &content_type, body).body;
    let answer = &seen["answer"];
    let jobs = api["jobs"].as_array().expect("jobs");
    assert!(!jobs.is_empty(), "{api}");
    let keys: Vec<String> = jobs
        .iter()
        .map(|j| format!("/jobs/{}", j["posting_key"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(answer["jobs"], json!(keys), "{answer}");
    let scores: Vec<String> = jobs
        .iter()
        .map(|j| format!("{:.0}", j["score"].as_f64().unwrap_or_default()))
        .collect();
    assert_eq!(answer["scores"], json!(scores));
    assert_eq!(answer["explained"].as_u64(), Some(jobs.len() as u64), "every posting says why");
    let summary = answer["summary"].as_str().unwrap_or_default();
    assert!(
        summary.starts_with(&format!("{} of the {} postings considered fit", api["fits"], api["considered"])),
        "{summary}"
    );
    let advice: Vec<String> = api["advice"]
        .as_array()
        .expect("advice")
        .iter()
        .map(|a| format!("/skills/{}", a["skill_id"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(answer["advice"], json!(advice));
    let skills = api["resume"]["skills"].as_array().map_or(0, Vec::len);
    assert!(
        answer["cv"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&format!("{skills} skills found")),
        "{answer}"
    );

    // A scanned PDF has no text to read: the form says so, with the API's status.
    assert_eq!(seen["refusal"]["status"], 422);
    assert!(
        seen["refusal"]["error"].as_str().unwrap_or_default().starts_with("resume:"),
        "{seen}"
    );
}

/// An HTTP client that shows redirects instead of following them, as the tests of the
/// sign-in flow need.
fn no_redirects() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

/// The `Set-Cookie` values of `response` by cookie name (value, and whether it is a removal).
fn set_cookies(response: &reqwest::blocking::Response) -> std::collections::HashMap<String, (String, bool)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let (pair, attributes) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=')?;
            Some((name.to_string(), (value.to_string(), attributes.contains("Max-Age=0"))))
        })
        .collect()
}

#[test]
fn a_page_renews_an_expired_session_from_the_refresh_cookie_without_script() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &[]);
    add_user(dir.path(), &lake, "ana", "analyst");
    let browser = no_redirects();
    let get = |path: &str, cookies: &str| {
        browser
            .get(format!("{}{path}", server.base))
            .header("cookie", cookies)
            .send()
            .expect("the server answers")
    };
    let location = |response: &reqwest::blocking::Response| {
        response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let first = set_cookies(&sign_in(&server, &browser, "ana"));
    let (refresh, csrf) = (first["rats_refresh"].0.clone(), first["rats_csrf"].0.clone());

    // Without any cookie: to sign in. With the session's CSRF cookie but no access cookie (it
    // lives 15 minutes): to renew, then back.
    assert_eq!(location(&get("/skills?q=data", "")), "/login?next=%2Fskills%3Fq%3Ddata");
    let expired = get("/skills?q=data", &format!("rats_csrf={csrf}"));
    assert_eq!(location(&expired), "/v1/auth/renew?next=%2Fskills%3Fq%3Ddata");

    // A CSRF cookie that is not the session's renews nothing (and spends nothing).
    let forged = get(
        "/v1/auth/renew?next=%2Fskills",
        &format!("rats_refresh={refresh}; rats_csrf=forged"),
    );
    assert_eq!(location(&forged), "/login?next=%2Fskills");

    let renewed = get(
        "/v1/auth/renew?next=%2Fskills%3Fq%3Ddata",
        &format!("rats_refresh={refresh}; rats_csrf={csrf}"),
    );
    assert_eq!(renewed.status(), 303);
    assert_eq!(location(&renewed), "/skills?q=data");
    let cookies = set_cookies(&renewed);
    let access = &cookies["rats_access"].0;
    assert!(
        !access.is_empty() && cookies["rats_refresh"].0 != refresh,
        "a new session: {cookies:?}"
    );
    assert_eq!(get("/skills?q=data", &format!("rats_access={access}")).status(), 200);

    // Only paths of this site are followed.
    let new_csrf = &cookies["rats_csrf"].0;
    let elsewhere = get(
        "/v1/auth/renew?next=%2F%2Fevil.example",
        &format!("rats_refresh={}; rats_csrf={new_csrf}", cookies["rats_refresh"].0),
    );
    assert_eq!(location(&elsewhere), "/");

    // The first refresh token again: reuse ends the session, the cookies go, sign in again.
    let reused = get("/v1/auth/renew?next=%2F", &format!("rats_refresh={refresh}; rats_csrf={csrf}"));
    assert_eq!(location(&reused), "/login?next=%2F");
    let removed = set_cookies(&reused);
    assert!(
        ["rats_access", "rats_refresh", "rats_csrf"].iter().all(|name| removed[*name].1),
        "{removed:?}"
    );
}

/// Signs `name` in with the form (303 with the session's cookies).
fn sign_in(server: &Server, browser: &reqwest::blocking::Client, name: &str) -> reqwest::blocking::Response {
    let signed_in = browser
        .post(format!("{}/login", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username={name}&password={}&next=%2F", PASSWORD.replace(' ', "+")))
        .send()
        .expect("the server answers");
    assert_eq!(signed_in.status(), 303, "{name} signs in");
    signed_in
}

/// Signs `name` in with the form and returns the session's access cookie.
fn access_cookie(server: &Server, browser: &reqwest::blocking::Client, name: &str) -> String {
    format!("rats_access={}", set_cookies(&sign_in(server, browser, name))["rats_access"].0)
}

#[test]
fn only_admins_reach_the_admin_page_and_its_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &[]);
    add_user(dir.path(), &lake, "ana", "analyst");
    add_user(dir.path(), &lake, "root", "admin");
    let browser = no_redirects();
    let get = |path: &str, cookie: &str| {
        let response = browser
            .get(format!("{}{path}", server.base))
            .header("cookie", cookie)
            .send()
            .expect("the server answers");
        let status = response.status().as_u16();
        (status, response.text().unwrap_or_default())
    };
    let analyst = access_cookie(&server, &browser, "ana");
    let (status, body) = get("/admin", &analyst);
    assert_eq!(status, 403);
    assert!(
        body.contains("Only admins see this page.") && !body.contains("id=\"users\""),
        "{body}"
    );
    assert!(!get("/", &analyst).1.contains("href=\"/admin\""), "no admin link for an analyst");
    for api in ["/v1/users", "/v1/audit", "/v1/keys?all=true"] {
        assert_eq!(get(api, &analyst).0, 403, "{api}");
    }

    let admin = access_cookie(&server, &browser, "root");
    assert!(get("/", &admin).1.contains("href=\"/admin\""), "the admin link for an admin");
    let (status, body) = get("/admin", &admin);
    assert_eq!(status, 200, "{body}");
    for shown in ["<td>ana</td><td>analyst</td>", "<td>root</td><td>admin</td>", "<td>login</td>"] {
        assert!(body.contains(shown), "{shown} on the admin page");
    }
}

/// The session's CSRF token and access cookie for `name`, as a page's form sends them.
fn form_session(server: &Server, browser: &reqwest::blocking::Client, name: &str) -> (String, String) {
    let cookies = set_cookies(&sign_in(server, browser, name));
    let csrf = cookies["rats_csrf"].0.clone();
    (csrf.clone(), format!("rats_access={}; rats_csrf={csrf}", cookies["rats_access"].0))
}

#[test]
fn admins_change_roles_and_tiers_disable_users_and_revoke_keys_from_the_admin_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &[]);
    add_user(dir.path(), &lake, "ana", "analyst");
    add_user(dir.path(), &lake, "bo", "analyst");
    add_user(dir.path(), &lake, "root", "admin");
    let made = run(rats(dir.path())
        .args(["--format", "json", "users", "key", "bo", "--label", "laptop", "--lake"])
        .arg(&lake));
    assert!(made.status.success(), "users key: {}", stderr(&made));
    let made: Value = serde_json::from_slice(&made.stdout).expect("json");
    let bo_key = made["key"].as_str().expect("a key").to_string();
    let browser = no_redirects();
    let post = |path: &str, cookie: &str, form: &str| {
        let response = browser
            .post(format!("{}{path}", server.base))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_string())
            .send()
            .expect("the server answers");
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|l| l.to_str().expect("text").to_string());
        (status, location, response.text().unwrap_or_default())
    };
    let role_of = |name: &str| {
        let users = server.get("/v1/users").body;
        let user = users["users"]
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["name"] == name)
            .cloned();
        user.expect("the user")
    };
    let page = |cookie: &str, path: &str| {
        browser
            .get(format!("{}{path}", server.base))
            .header("cookie", cookie)
            .send()
            .expect("the admin page")
            .text()
            .expect("html")
    };

    // An analyst's form is refused by the server, whatever the page showed them.
    let (ana_csrf, ana) = form_session(&server, &browser, "ana");
    let (status, _, _) = post(&format!("/admin/users/ana?csrf={ana_csrf}"), &ana, "role=admin&tier=premium");
    assert_eq!(status, 403);
    assert_eq!(role_of("ana")["role"], "analyst");

    let (csrf, root) = form_session(&server, &browser, "root");
    let shown = page(&root, "/admin");
    assert!(shown.contains("aria-label=\"Change ana\"") && shown.contains("aria-label=\"Disable ana\""));
    assert!(!shown.contains("aria-label=\"Disable root\""), "no button disabling oneself");

    // A form without the session's CSRF token (another site's) changes nothing.
    let (status, location, _) = post("/admin/users/ana", &root, "role=admin&tier=premium");
    assert_eq!(status, 303, "treated as signed out: {location:?}");
    assert_eq!(role_of("ana")["role"], "analyst");

    let (status, location, body) = post(&format!("/admin/users/ana?csrf={csrf}"), &root, "role=admin&tier=premium");
    assert_eq!((status, location.as_deref()), (303, Some("/admin?changed=ana")), "{body}");
    assert_eq!(
        (&role_of("ana")["role"], &role_of("ana")["tier"]),
        (&json!("admin"), &json!("premium"))
    );
    let shown = page(&root, "/admin?changed=ana");
    assert!(shown.contains("Saved the changes to ana.") && shown.contains("<td>ana</td><td>admin</td><td>premium</td>"));
    assert!(
        shown.contains("role analyst -&gt; admin (by root)"),
        "the audit log names the admin"
    );

    // Not one's own role or account.
    let (status, _, body) = post(&format!("/admin/users/root?csrf={csrf}"), &root, "role=analyst&tier=free");
    assert_eq!(status, 422);
    assert!(body.contains("cannot take away their own admin role"), "{body}");
    let (status, _, body) = post(&format!("/admin/users/root?csrf={csrf}"), &root, "disable=yes");
    assert_eq!(status, 422);
    assert!(body.contains("cannot disable themselves"), "{body}");
    assert_eq!(role_of("root")["disabled_at"], Value::Null);

    // Revoking bo's key stops it at once; disabling bo ends the session.
    let with_key = |key: &str| {
        reqwest::blocking::Client::new()
            .get(format!("{}/v1/me", server.base))
            .bearer_auth(key)
            .send()
            .expect("the server answers")
            .status()
            .as_u16()
    };
    assert_eq!(with_key(&bo_key), 200);
    let (status, location, body) = post(&format!("/admin/keys/{}/revoke?csrf={csrf}", made["id"]), &root, "");
    assert_eq!(status, 303, "{body}");
    let prefix = made["prefix"].as_str().expect("a prefix");
    assert_eq!(location, Some(format!("/admin?revoked={prefix}")));
    assert_eq!(with_key(&bo_key), 401);
    assert!(page(&root, "/admin").contains("key_revoked"));
    let (status, _, body) = post(&format!("/admin/keys/999999/revoke?csrf={csrf}"), &root, "");
    assert_eq!(status, 404);
    assert!(body.contains("no such key"), "the page says what was refused: {body}");

    let (_, bo) = form_session(&server, &browser, "bo");
    assert_eq!(
        browser
            .get(format!("{}/", server.base))
            .header("cookie", &bo)
            .send()
            .expect("page")
            .status(),
        200
    );
    let (status, location, _) = post(&format!("/admin/users/bo?csrf={csrf}"), &root, "disable=yes");
    assert_eq!((status, location.as_deref()), (303, Some("/admin?changed=bo")));
    assert!(role_of("bo")["disabled_at"].is_i64());
    let after = browser.get(format!("{}/", server.base)).header("cookie", &bo).send().expect("page");
    assert_eq!(after.status(), 303, "a disabled user's session ends");
}

#[test]
fn the_data_health_page_shows_the_quarantine_and_the_latest_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    // The demo fixtures quarantine three of their records; a check run records its results.
    let checked = run(rats(dir.path())
        .args(["check", "--format", "json", "--checks"])
        .arg(repo().join("checks"))
        .arg("--lake")
        .arg(&lake));
    let report: Value = serde_json::from_slice(&checked.stdout).expect("the check's report");
    let results = report["results"].as_array().expect("results");
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r["status"] == "fail")
        .filter_map(|r| r["check"].as_str())
        .collect();
    let server = Server::start(dir.path(), &lake, &models, &[]);
    add_user(dir.path(), &lake, "ana", "analyst");
    let browser = no_redirects();
    let cookie = access_cookie(&server, &browser, "ana");
    let page = browser
        .get(format!("{}/data-health", server.base))
        .header("cookie", cookie)
        .send()
        .expect("the server answers");
    assert_eq!(page.status(), 200);
    let body = page.text().expect("the page");
    let figure = |id: &str| {
        let at = body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("{id} on the page"));
        let strong = body[at..].find("<strong").map(|i| at + i).expect("a figure");
        let start = body[strong..].find('>').map(|i| strong + i + 1).expect("its text");
        body[start..].split('<').next().unwrap_or_default().to_string()
    };
    assert_eq!(figure("quarantine-count"), "3");
    let overview = server.get("/v1/stats/overview").body;
    assert_eq!(figure("silver-count"), overview["postings"].to_string());
    let state = figure("check-state");
    let at = body.find("id=\"check-state\"").expect("the check's state");
    let colour = body[at..]
        .split("<strong class=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default();
    let errors_failed = results.iter().filter(|r| r["status"] == "fail" && r["severity"] == "error").count();
    if failed.is_empty() {
        assert_eq!((state.as_str(), colour), ("all passed", "up"));
    } else {
        assert_eq!(state, format!("{} failed", failed.len()));
        // Failing errors in the bad colour, failing warnings alone in neither.
        assert_eq!(colour, if errors_failed > 0 { "down" } else { "" }, "{results:?}");
    }
    let checks_table = &body[body.find("id=\"checks\"").expect("the checks table")..];
    assert_eq!(
        checks_table.matches("<tr><td>").count(),
        results.len(),
        "every expectation of the run"
    );
    for check in &failed {
        let shown = check.replace('/', "&#x2f;");
        assert!(checks_table.contains(&shown), "{check} on the page");
    }
    let reasons = &body[body.find("id=\"reasons\"").expect("the quarantine table")..];
    assert!(reasons.contains("<code>"), "reasons are listed");
}

#[test]
fn the_live_page_shows_postings_as_they_are_consumed_and_recovers_after_a_restart_in_a_real_browser() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;

    use crate::live::{consume, postings_file};

    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let mut server = Server::start(dir.path(), &lake, &models, &[]);
    add_user(dir.path(), &lake, "ana", "analyst");
    let first = postings_file(dir.path(), "a", 600, &[(599, "Quantum Pipeline Engineer")]);
    let second = postings_file(dir.path(), "b", 3, &[(2, "Quantum Platform Lead")]);
    let browser_log = dir.path().join("browser.log");
    let mut browser = Command::new("node")
        .arg(repo().join("tests/node/dashboard-live.mjs"))
        .args([server.base.as_str(), "ana", PASSWORD])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&browser_log).expect("log file"))
        .spawn()
        .expect("node starts");
    let mut to_browser = browser.stdin.take().expect("stdin");
    let mut from_browser = BufReader::new(browser.stdout.take().expect("stdout")).lines();
    let mut step = |expected: &str| -> Value {
        let line = from_browser.next().and_then(Result::ok).unwrap_or_else(|| {
            panic!(
                "the browser stopped before {expected}: {}",
                std::fs::read_to_string(&browser_log).unwrap_or_default()
            )
        });
        let seen: Value = serde_json::from_str(&line).expect("a JSON line");
        assert_eq!(seen["step"], expected, "{seen}");
        seen
    };

    let watching = step("watching");
    assert!(
        watching["savedHelp"].as_str().unwrap_or_default().starts_with("Saved “Quantum”"),
        "{watching}"
    );
    assert_eq!(watching["saveFormHidden"], true, "no filter to save on the whole feed");
    assert_eq!(watching["phoneOverflow"], 0, "nothing wider than a phone's screen: {watching}");
    let held_before = watching["heldBefore"].as_u64().expect("postings held");
    assert!(held_before > 0, "the newest postings as the page was made: {watching}");

    consume(dir.path(), &lake, &first);
    writeln!(to_browser, "Quantum Pipeline Engineer").expect("tells the browser");
    // The batch's last posting is on the page (the browser waits up to 30 s; how soon is a
    // benchmark's figure, scripts/bench-live).
    let seen = step("seen");
    assert_eq!(
        seen["heldAfterBatch"].as_u64(),
        Some(held_before + 600),
        "every posting once: {seen}"
    );
    assert!(
        seen["alerts"][0]
            .as_str()
            .unwrap_or_default()
            .starts_with("Quantum: Quantum Pipeline Engineer"),
        "the saved search's alert: {seen}"
    );
    // The overview in another tab read itself again at the new lake version, with the alert.
    let (before, after) = (&seen["overviewBefore"], &seen["overviewAfter"]);
    assert!(after["version"].as_u64() > before["version"].as_u64(), "{seen}");
    assert_eq!(number(&after["postings"]), number(&before["postings"]) + 600, "{seen}");
    assert_eq!(after["chartRedrawn"], true, "{seen}");
    assert!(
        after["toasts"].as_array().is_some_and(|t| t
            .iter()
            .any(|t| t.as_str().unwrap_or_default().starts_with("Quantum: Quantum Pipeline Engineer"))),
        "{seen}"
    );
    for rows in ["rowsInDocument", "rowsWhenScrolled"] {
        assert!(
            seen[rows].as_u64().is_some_and(|n| n <= 40),
            "only the rows in view are elements: {seen}"
        );
    }

    assert!(server.stop().success(), "SIGTERM ends the page's stream too: {}", server.log());
    writeln!(to_browser, "stopped").expect("tells the browser");
    let disconnected = step("disconnected");
    assert!(
        disconnected["state"]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("reconnecting in"),
        "{disconnected}"
    );

    consume(dir.path(), &lake, &second);
    server.start_again(dir.path(), &lake, &models);
    writeln!(to_browser, "Quantum Platform Lead").expect("tells the browser");
    let report = step("report");
    drop(to_browser);
    assert!(browser.wait().expect("node ends").success());
    assert_eq!(report["problems"], json!([]), "{report}");
    assert_eq!(report["origins"], json!([server.base]), "only this server is reached");
    assert_eq!(report["stateAfterRestart"]["state"], "live", "{report}");
    assert_eq!(
        report["heldAfterRestart"].as_u64(),
        Some(held_before + 600 + 3),
        "what was consumed while the server was down, no gap and no repeat: {report}"
    );
    assert!(
        report["alertsAfterRestart"][0]
            .as_str()
            .unwrap_or_default()
            .starts_with("Quantum: Quantum Platform Lead"),
        "{report}"
    );
}

#[test]
fn the_register_form_signs_up_and_in_when_the_server_takes_sign_ups_and_says_no_otherwise() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &["--open-registration"]);
    let browser = no_redirects();
    let page = |path: &str| {
        let response = browser.get(format!("{}{path}", server.base)).send().expect("the server answers");
        (response.status().as_u16(), response.text().unwrap_or_default())
    };
    let sign_up = |fields: &str| {
        browser
            .post(format!("{}/register", server.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(fields.to_string())
            .send()
            .expect("the server answers")
    };
    assert!(
        page("/login?next=%2Fjobs").1.contains("href=\"/register?next=%2Fjobs\""),
        "a sign-up link"
    );
    let (status, form) = page("/register?next=%2Fjobs");
    assert_eq!(status, 200);
    // The way back, HTML-escaped as minijinja writes it.
    assert!(
        form.contains("name=\"repeated\"") && form.contains("value=\"&#x2f;jobs\""),
        "{form}"
    );

    let differ = sign_up("username=newcomer&password=a+long+passphrase&repeated=a+long+passphrasf&next=%2Fjobs");
    assert_eq!(differ.status(), 422);
    let body = differ.text().unwrap_or_default();
    assert!(
        body.contains("The two passwords differ.") && body.contains("value=\"newcomer\""),
        "{body}"
    );
    let short = sign_up("username=newcomer&password=short&repeated=short");
    assert_eq!(short.status(), 422);
    assert!(short.text().unwrap_or_default().contains("too short"));

    let made = sign_up("username=newcomer&password=a+long+passphrase&repeated=a+long+passphrase&next=%2Fjobs");
    assert_eq!(made.status(), 303);
    assert_eq!(made.headers().get("location").and_then(|v| v.to_str().ok()), Some("/jobs"));
    let access = format!("rats_access={}", set_cookies(&made)["rats_access"].0);
    let me = browser
        .get(format!("{}/v1/me", server.base))
        .header("cookie", &access)
        .send()
        .expect("the server answers");
    let me: Value = me.json().expect("JSON");
    assert_eq!(
        (me["user"]["name"].as_str(), me["user"]["role"].as_str()),
        (Some("newcomer"), Some("api_user")),
        "{me}"
    );
    let taken = sign_up("username=newcomer&password=another+long+one&repeated=another+long+one");
    assert_eq!(taken.status(), 409);
    assert!(taken.text().unwrap_or_default().contains("that user name is taken"));
    let audit = server.get("/v1/audit?limit=50").body;
    assert!(
        audit["events"].as_array().is_some_and(|e| e
            .iter()
            .any(|e| e["event"] == "registered" && e["detail"] == "signed up as api_user (dashboard)")),
        "{audit}"
    );

    // A server that takes no sign-ups says so, and the sign-in page offers none.
    let closed_dir = dir.path().join("closed");
    std::fs::create_dir_all(&closed_dir).expect("a directory");
    let (lake, models) = private_copy(&closed_dir, false);
    let closed = Server::start(&closed_dir, &lake, &models, &[]);
    let get = |path: &str| browser.get(format!("{}{path}", closed.base)).send().expect("the server answers");
    let refused = get("/register");
    assert_eq!(refused.status(), 403);
    assert!(refused.text().unwrap_or_default().contains("does not take sign-ups"));
    assert!(!get("/login").text().unwrap_or_default().contains("/register"));
    let posted = browser
        .post(format!("{}/register", closed.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=x&password=a+long+passphrase&repeated=a+long+passphrase")
        .send()
        .expect("the server answers");
    assert_eq!(posted.status(), 403);
}

/// Reads `xlsx` with openpyxl (as a person's spreadsheet would open it): the data sheet's
/// header and rows, and what the second sheet says was exported.
fn open_workbook(xlsx: &Path) -> Value {
    let script = r#"
import json, sys
import openpyxl
book = openpyxl.load_workbook(sys.argv[1])
rows = [list(row) for row in book["data"].iter_rows(values_only=True)]
about = {row[0]: row[1] for row in book["export"].iter_rows(values_only=True)}
print(json.dumps({"header": rows[0] if rows else [], "rows": rows[1:], "about": about}, default=str))
"#;
    let opened = run(Command::new("python3").args(["-c", script]).arg(xlsx));
    assert!(opened.status.success(), "openpyxl: {}", stderr(&opened));
    serde_json::from_slice(&opened.stdout).expect("JSON")
}

/// A chart saved as `rats-NAME.png` and `.svg` in `dir`, read with Python: the PNG's size, the
/// SVG's (it must parse as XML), and what it draws (boxes, group labels, heat cells, lines and
/// their legend).
fn chart_files(dir: &Path, name: &str) -> Value {
    let script = r#"
import json, struct, sys
import xml.etree.ElementTree as ET
png = open(sys.argv[1], "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
width, height = struct.unpack(">II", png[16:24])
root = ET.parse(sys.argv[2]).getroot()
of = lambda kind: [e for e in root.iter() if e.get("class") == kind]
print(json.dumps({
    "png": [width, height],
    "svg": [int(float(root.get("width"))), int(float(root.get("height")))],
    "boxes": len(of("box")),
    "groups": [e.text for e in of("group")],
    "cells": len(of("cell")),
    "lines": len(of("line")),
    "legend": [e.text for e in of("legend")],
}))
"#;
    let read = run(Command::new("python3")
        .args(["-c", script])
        .arg(dir.join(format!("rats-{name}.png")))
        .arg(dir.join(format!("rats-{name}.svg"))));
    assert!(read.status.success(), "{name}: {}", stderr(&read));
    serde_json::from_slice(&read.stdout).expect("JSON")
}

/// The values of `column` in a sheet read by [`open_workbook`].
fn sheet_column(sheet: &Value, column: &str) -> Vec<Value> {
    let header = sheet["header"].as_array().expect("a header");
    let at = header
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no {column} in {header:?}"));
    sheet["rows"].as_array().expect("rows").iter().map(|row| row[at].clone()).collect()
}

/// A server on a copy of the market lake whose budgets refill one request a minute (so the rate
/// headers count a download down by one), with the analyst "ana".
fn market_server_counting_downloads() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("rats.yaml"),
        "serve:\n  rate_limits:\n    free: {per_minute: 1, burst: 1000}\n    admin: {per_minute: 1, burst: 1000}\n",
    )
    .expect("writes rats.yaml");
    let lake = market_lake(dir.path());
    let server = Server::start(dir.path(), &lake, &fixture().models, &[]);
    add_user(dir.path(), &lake, "ana", "analyst");
    (dir, server)
}

#[test]
fn tables_download_as_csv_json_and_excel_from_the_api_in_a_real_browser_within_the_rate_budget() {
    let (dir, server) = market_server_counting_downloads();
    let out = dir.path().join("downloads");
    std::fs::create_dir_all(&out).expect("a directory");
    let query = "title=analyst&sort=salary&limit=5";
    let seen = browse(
        "dashboard-downloads.mjs",
        &[server.base.as_str(), "ana", PASSWORD, query, out.to_str().expect("UTF-8")],
    );
    assert_eq!(seen["problems"], json!([]), "{seen}");
    assert_eq!(seen["origins"], json!([server.base]), "only this server is reached");
    let api = server.get(&format!("/v1/jobs?{query}")).body;
    let version = api["lake_version"].as_i64().expect("a lake version");
    let files: Vec<String> = seen["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["file"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        files[..4],
        [
            format!("rats-jobs-v{version}.csv"),
            format!("rats-jobs-v{version}.json"),
            format!("rats-jobs-v{version}.xlsx"),
            format!("rats-stats-salary-v{version}.xlsx"),
        ],
        "{seen}"
    );
    assert_eq!(
        seen["files"][0]["href"],
        format!("/v1/jobs?{query}&format=csv"),
        "the view's API query"
    );
    let jobs = api["jobs"].as_array().expect("jobs");
    let keys: Vec<Value> = jobs.iter().map(|j| j["posting_key"].clone()).collect();
    assert_eq!(keys.len(), 5);

    // The CSV: a row per posting of the page, in its order, nested fields flattened.
    let mut csv = csv::Reader::from_path(out.join(&files[0])).expect("the CSV opens");
    let header = csv.headers().expect("a header").clone();
    let at = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} in {header:?}"))
    };
    let rows: Vec<csv::StringRecord> = csv.records().map(|r| r.expect("a row")).collect();
    let column = |name: &str| rows.iter().map(|r| json!(r[at(name)])).collect::<Vec<_>>();
    assert_eq!(column("posting_key"), keys);
    assert_eq!(column("title"), jobs.iter().map(|j| j["title"].clone()).collect::<Vec<_>>());
    let skills = jobs.iter().map(|j| {
        let ids: Vec<&str> = j["skill_ids"]
            .as_array()
            .expect("skill ids")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        json!(ids.join("; "))
    });
    assert_eq!(column("skill_ids"), skills.collect::<Vec<_>>(), "lists joined with '; '");

    // The JSON: the page's postings as the API gives them.
    let downloaded: Value = serde_json::from_slice(&std::fs::read(out.join(&files[1])).expect("the JSON file")).expect("JSON");
    assert_eq!(&downloaded, &api["jobs"]);

    // The workbook opens, its rows the page's, and says what was asked.
    let sheet = open_workbook(&out.join(&files[2]));
    assert_eq!(sheet_column(&sheet, "posting_key"), keys, "{sheet}");
    assert_eq!(sheet["about"]["exported"], format!("GET /v1/jobs?{query}"), "{sheet}");
    let pay = server.get("/v1/stats/salary?by=seniority").body;
    let sheet = open_workbook(&out.join(&files[3]));
    let groups: Vec<Value> = pay["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["group"].clone())
        .collect();
    assert!(!groups.is_empty(), "{pay}");
    assert_eq!(sheet_column(&sheet, "group"), groups, "{sheet}");
    // Numbers stay numbers (openpyxl reads a whole one as an integer).
    let medians: Vec<Option<f64>> = pay["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["median"].as_f64())
        .collect();
    let cells: Vec<Option<f64>> = sheet_column(&sheet, "median").iter().map(Value::as_f64).collect();
    assert_eq!(cells, medians, "{sheet}");

    // The charts as files: the PNG is the SVG at twice its size; the SVG draws what the page
    // shows — a box and a label per row of pay by seniority, a cell per cell of the heatmap, a
    // line per trend line shown, not the one hidden from the legend.
    let charts = &seen["charts"];
    let names = ["salary-by-seniority", "skills-heat-month", "trends-trends-chart"];
    let expected: Vec<String> = names
        .iter()
        .flat_map(|n| [format!("rats-{n}.png"), format!("rats-{n}.svg")])
        .collect();
    assert_eq!(files[4..], expected, "{seen}");
    let drawn: Vec<Value> = names.iter().map(|name| chart_files(&out, name)).collect();
    for chart in &drawn {
        let svg = &chart["svg"];
        assert_eq!(
            chart["png"],
            json!([svg[0].as_u64().map(|w| 2 * w), svg[1].as_u64().map(|h| 2 * h)]),
            "{chart}"
        );
    }
    assert_eq!(drawn[0]["groups"], charts["salary"]["rows"], "{}", drawn[0]);
    assert_eq!(
        drawn[0]["boxes"],
        json!(charts["salary"]["rows"].as_array().map(Vec::len)),
        "{}",
        drawn[0]
    );
    let cells = charts["skills"]["rows"]
        .as_u64()
        .zip(charts["skills"]["columns"].as_u64())
        .map(|(r, c)| r * c);
    assert!(cells.is_some_and(|n| n > 0), "{charts}");
    assert_eq!(drawn[1]["cells"], json!(cells), "{}", drawn[1]);
    let hidden = charts["trends"]["hidden"].as_array().expect("hidden lines");
    assert!(
        !hidden.is_empty() && charts["trends"]["shown"].as_array().is_some_and(|s| !s.is_empty()),
        "{charts}"
    );
    assert_eq!(drawn[2]["legend"], charts["trends"]["shown"], "{}", drawn[2]);
    assert_eq!(
        drawn[2]["lines"],
        json!(charts["trends"]["shown"].as_array().map(Vec::len)),
        "{}",
        drawn[2]
    );

    // A download spends the caller's budget as its JSON does; a format the API does not write
    // is refused naming the field; the role check holds.
    let remaining = |answer: &crate::serve::Answer| -> i64 {
        answer.headers["ratelimit-remaining"]
            .to_str()
            .expect("text")
            .parse()
            .expect("a number")
    };
    let first = server.get("/v1/audit?limit=3&format=csv");
    assert_eq!(first.status, 200);
    assert_eq!(first.headers["content-type"], "text/csv; charset=utf-8");
    let audit = first.body.as_str().expect("CSV text");
    assert!(audit.lines().next().is_some_and(|h| h.split(',').any(|c| c == "event")), "{audit}");
    assert_eq!(audit.lines().count(), 4, "a header and 3 events: {audit}");
    let second = server.get("/v1/audit?limit=3&format=xlsx");
    assert_eq!(remaining(&second), remaining(&first) - 1);
    let refused = server.get("/v1/jobs?format=pdf");
    assert_eq!(
        (refused.status, &refused.body["field"]),
        (422, &json!("format")),
        "{}",
        refused.body
    );
    let browser = no_redirects();
    let analyst = access_cookie(&server, &browser, "ana");
    let users = browser
        .get(format!("{}/v1/users?format=csv", server.base))
        .header("cookie", analyst)
        .send()
        .expect("the server answers");
    assert_eq!(users.status(), 403);
}

#[test]
fn a_search_saved_in_the_live_page_with_email_ticked_mails_its_new_postings_in_a_real_browser() {
    use crate::live::{consume, postings_file};
    use crate::mail_server::MailServer;

    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let mail = MailServer::start(dir.path());
    std::fs::write(
        dir.path().join("rats.yaml"),
        format!("smtp:\n  url: \"smtp://localhost:{}?tls=required\"\n", mail.port),
    )
    .expect("settings");
    add_user(dir.path(), &lake, "ana", "analyst");
    let server = Server::start_with_env(
        dir.path(),
        &lake,
        &models,
        &["--alert-every-secs", "1"],
        &[("SSL_CERT_FILE", &mail.authority)],
    );
    let seen = browse("dashboard-mail.mjs", &[server.base.as_str(), "ana", PASSWORD, "ana@example.org"]);
    assert_eq!(seen["problems"], json!([]), "{seen}");
    assert_eq!(seen["origins"], json!([server.base]), "only this server is reached");
    assert_eq!(
        (&seen["addressShownAtFirst"], &seen["addressShownWhenTicked"]),
        (&json!(false), &json!(true)),
        "the address is asked for once mail is ticked: {seen}"
    );
    assert_eq!(seen["saved"]["pressed"], "true", "{seen}");
    assert_eq!(
        seen["saved"]["help"],
        "Saved “Quantum by mail”: its new postings raise alerts here and are mailed to you."
    );
    assert_eq!(seen["off"], "“Quantum by mail” is no longer mailed.");
    assert_eq!(seen["on"], "“Quantum by mail” mails you its new postings.");
    let ana = server.get("/v1/users").body["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["name"] == "ana")
        .cloned()
        .expect("ana");
    assert_eq!(ana["email"], "ana@example.org", "the page set the address: {ana}");

    consume(
        dir.path(),
        &lake,
        &postings_file(dir.path(), "m", 3, &[(1, "Quantum Pipeline Engineer")]),
    );
    let started = std::time::Instant::now();
    let messages = loop {
        let messages = mail.messages();
        if !messages.is_empty() {
            break messages;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_mins(1),
            "no mail in 60 s:\n{}",
            server.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["to"], "ana@example.org");
    assert_eq!(messages[0]["subject"], "rats: 1 new posting for “Quantum by mail”");
}

#[test]
fn a_pages_own_tables_download_with_its_filters_unformatted_within_the_rate_budget() {
    let (dir, server) = market_server_counting_downloads();
    let browser = no_redirects();
    let cookie = access_cookie(&server, &browser, "ana");
    let get = |path: &str| {
        let response = browser
            .get(format!("{}{path}", server.base))
            .header("cookie", &cookie)
            .send()
            .expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().expect("a body").to_vec())
    };
    let json_of = |bytes: &[u8]| -> Value { serde_json::from_slice(bytes).expect("JSON") };
    let version = server.get("/v1/jobs?limit=1").body["lake_version"]
        .as_i64()
        .expect("a lake version");

    // The page links its tables; each link answers the table's rows as the page computed them.
    let (_, _, skills_page) = get("/skills");
    let skills_page = String::from_utf8(skills_page).expect("UTF-8");
    // (minijinja escapes the `/` of an address as `&#x2f;`, which browsers read back.)
    assert!(
        skills_page.contains("href=\"&#x2f;skills?table=pairs&amp;format=csv\""),
        "a link to the pairs"
    );
    let (status, headers, pairs) = get("/skills?table=pairs&format=json");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pairs));
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"rats-skills-pairs-v{version}.json\"").as_str()
    );
    let pairs = json_of(&pairs);
    let first = &pairs.as_array().expect("rows")[0];
    assert!(
        first["postings"].is_u64() && first["lift"].is_number(),
        "numbers stay numbers: {first}"
    );
    assert!(
        skills_page.contains(&format!(">×{}<", first["lift"])),
        "the page shows the same pair first: {first}"
    );

    // Filters apply as on the page; the workbook says which view it holds.
    let (status, _, open) = get("/companies?title=analyst&table=long-open&format=json");
    assert_eq!(status, 200);
    let open = json_of(&open);
    let titles: Vec<&str> = open.as_array().expect("rows").iter().filter_map(|p| p["title"].as_str()).collect();
    assert!(!titles.is_empty(), "{open}");
    assert!(titles.iter().all(|t| t.to_lowercase().contains("analyst")), "{titles:?}");
    let (status, headers, sheet) = get("/trends?remote=remote&table=groups&format=xlsx");
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"rats-trends-groups-v{version}.xlsx\"").as_str()
    );
    let file = dir.path().join("groups.xlsx");
    std::fs::write(&file, sheet).expect("writes the workbook");
    let sheet = open_workbook(&file);
    assert_eq!(sheet["about"]["exported"], "GET /trends?remote=remote&table=groups", "{sheet}");
    assert!(!sheet_column(&sheet, "group").is_empty(), "{sheet}");
    let (status, _, heat) = get("/skills?table=by-month&format=csv");
    let heat = String::from_utf8(heat).expect("UTF-8");
    assert_eq!(
        (status, heat.lines().next()),
        (200, Some("month,postings,postings_naming_skill,share_pct,skill,skill_id")),
        "a heatmap downloads long: {heat}"
    );
    let (status, headers, hours) = get("/live?table=hours&format=csv");
    assert_eq!(
        (status, &headers["content-type"]),
        (200, &"text/csv; charset=utf-8".parse().expect("a header value"))
    );
    let hours = String::from_utf8(hours).expect("UTF-8");
    assert_eq!(hours.lines().next(), Some("duplicates,postings,start"), "{hours}");
    let (status, _, pay) = get("/live?table=pay&format=json");
    let pay = json_of(&pay);
    assert_eq!((status, pay[2]["row"].as_str()), (200, Some("median")), "{pay}");
    assert!(
        pay[2]["market"].is_number() && pay.as_array().is_some_and(|rows| rows.len() == 6),
        "{pay}"
    );

    // The pages without a filter form: the overview's weeks (tuples, named), the data health's
    // tables, a company's; a posting's sightings and a skill's neighbours come from the API.
    let (status, _, weeks) = get("/?table=weekly&format=json");
    assert_eq!(status, 200);
    let weeks = json_of(&weeks);
    let week = &weeks.as_array().expect("rows")[0];
    assert!(
        week["week"].is_string() && week["starts"].is_string() && week["postings"].is_u64(),
        "{week}"
    );
    let (status, _, sources) = get("/data-health?table=sources&format=json");
    assert_eq!(status, 200);
    assert!(json_of(&sources).as_array().is_some_and(|rows| !rows.is_empty()));
    let company = server.get("/v1/companies?limit=1").body["companies"][0]["company_key"].clone();
    let company = company.as_str().expect("a company key");
    let (status, headers, titles) = get(&format!("/companies/{company}?table=titles&format=json"));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&titles));
    assert!(
        headers["content-disposition"]
            .to_str()
            .is_ok_and(|d| d.ends_with(&format!("-titles-v{version}.json\""))),
        "{headers:?}"
    );
    let titles = json_of(&titles);
    assert!(titles[0]["title"].is_string() && titles[0]["postings"].is_u64(), "{titles}");
    let (_, _, company_page) = get(&format!("/companies/{company}"));
    assert!(String::from_utf8_lossy(&company_page).contains("table=titles&amp;format=xlsx"));
    let posting = server.get("/v1/jobs?limit=1").body["jobs"][0]["posting_key"].clone();
    let sightings = server.get(&format!("/v1/jobs/{}?format=json", posting.as_str().expect("a key")));
    assert_eq!(sightings.status, 200);
    assert!(sightings.body.is_array(), "{}", sightings.body);
    let beside = server.get("/v1/skills/python?format=json");
    assert!(
        beside
            .body
            .as_array()
            .is_some_and(|rows| rows.iter().all(|r| r["skill_id"].is_string())),
        "{}",
        beside.body
    );

    // A download spends the budget as an API call does; the page itself does not.
    let remaining =
        |headers: &reqwest::header::HeaderMap| -> i64 { headers["ratelimit-remaining"].to_str().expect("text").parse().expect("a number") };
    let (_, before, _) = get("/salary?table=premiums-up&format=csv");
    let (_, after, _) = get("/salary?table=premiums-down&format=csv");
    assert_eq!(remaining(&after), remaining(&before) - 1);
    let (_, page, _) = get("/salary");
    assert!(!page.contains_key("ratelimit-remaining"), "a page read spends nothing");

    // What cannot be downloaded is refused naming the field, with the tables there are.
    let (status, _, refused) = get("/trends?table=nope&format=csv");
    let refused = json_of(&refused);
    assert_eq!((status, &refused["field"]), (422, &json!("table")), "{refused}");
    assert!(
        refused["detail"].as_str().is_some_and(|d| d.contains("groups, ingest")),
        "{refused}"
    );
    let (status, _, refused) = get("/skills?format=csv");
    assert_eq!((status, &json_of(&refused)["field"]), (422, &json!("table")));
    let (status, _, refused) = get("/skills?table=pairs&format=pdf");
    assert_eq!((status, &json_of(&refused)["field"]), (422, &json!("format")));
}
