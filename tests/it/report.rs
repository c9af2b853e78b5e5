//! `rats report` and `rats export chart` on a lake built from shared data (the Richmond
//! postings of `LinkedIn`, which are dated, and the Washington file of Glassdoor, which states pay): every
//! built-in report renders to Markdown and HTML with the lake's own figures, prints to PDF
//! through a real headless Chromium, and is mailed through a real SMTP server with its charts
//! inline and the PDF attached; charts come out as outlined SVG and PNG and follow `--where`;
//! a user's template adds a report, keeps data from becoming markup and names its mistakes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::mail_server::MailServer;
use crate::support::{assign_title_families, consume_into, copy_dir, posting_csvs, run, stderr, stdout, success_json};

fn rats(dir: &Path) -> std::process::Command {
    crate::support::rats(dir)
}

/// The lake every test here reads (reports never write to it), built once per test run:
/// consumed, the warehouse built, title families assigned, the checks run once.
fn lake() -> &'static Path {
    static LAKE: OnceLock<PathBuf> = OnceLock::new();
    LAKE.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("report-lake-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("the lake's folder");
        let lake = root.join("lake");
        let inputs: Vec<PathBuf> = posting_csvs()
            .into_iter()
            .filter(|p| p.ends_with("linkedin_jobs.csv") || p.ends_with("Data_Job_WA.csv"))
            .collect();
        assert_eq!(inputs.len(), 2, "{inputs:?}");
        consume_into(&root, &lake, &inputs);
        let built = run(rats(&root).args(["transform", "build", "--quiet", "--lake"]).arg(&lake));
        assert!(built.status.success(), "transform build: {}", stderr(&built));
        assign_title_families(&lake);
        let checked = run(rats(&root).args(["check", "--quiet", "--lake"]).arg(&lake));
        assert!(checked.status.code().is_some_and(|c| c < 2), "check: {}", stderr(&checked));
        lake
    })
}

/// One number the lake answers, through `rats export --sql`.
fn lake_number(sql: &str) -> Value {
    let output = run(rats(lake())
        .args(["export", "--lake"])
        .arg(lake())
        .args(["--to", "json", "-q", "--sql", sql]));
    let rows = success_json(&output);
    rows[0]
        .as_object()
        .and_then(|row| row.values().next())
        .cloned()
        .unwrap_or(Value::Null)
}

/// The newest posting date: the day the reports are made for, so their periods hold postings.
fn newest_day() -> String {
    lake_number("select CAST(MAX(date_posted) AS VARCHAR) as newest from fct_postings")
        .as_str()
        .expect("a newest date")
        .to_string()
}

fn render(dir: &Path, name: &str, out: &str, extra: &[&str]) -> std::process::Output {
    run(rats(dir)
        .args(["report", "render", name, "--lake"])
        .arg(lake())
        .args(["--as-of", &newest_day(), "--out", out])
        .args(extra))
}

#[test]
fn every_built_in_report_renders_to_markdown_and_html_with_the_lakes_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listed = success_json(&run(rats(dir.path()).args(["report", "list", "--format", "json"])));
    let names: Vec<&str> = listed
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|r| r["report"].as_str())
        .collect();
    assert_eq!(
        names,
        ["company-watch", "data-quality", "salary", "skill-demand", "weekly-market"],
        "{listed}"
    );
    assert!(listed.as_array().expect("a list").iter().all(|r| r["from"] == "built-in"));

    for name in &names {
        let (md, html) = (format!("{name}.md"), format!("{name}.html"));
        let output = render(dir.path(), name, &md, &[]);
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let markdown = std::fs::read_to_string(dir.path().join(&md)).expect("the Markdown");
        let title = listed
            .as_array()
            .expect("a list")
            .iter()
            .find(|r| r["report"] == *name)
            .expect("listed")["title"]
            .as_str()
            .expect("a title")
            .to_string();
        assert!(markdown.starts_with(&format!("# {title}\n")), "{name}: {markdown}");
        assert!(!markdown.contains("@@rats-chart") && !markdown.contains("{{"), "{name}: {markdown}");
        // Every chart the Markdown links is a file beside it, its text drawn as outlines.
        let links: Vec<&str> = markdown
            .match_indices(&format!("]({name}.charts/"))
            .map(|(at, _)| &markdown[at + 2..])
            .collect();
        for link in &links {
            let file = &link[..link.find(')').expect("a closed link")];
            let svg = std::fs::read_to_string(dir.path().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(svg.starts_with("<svg") && !svg.contains("<text") && svg.contains("<path"), "{file}");
        }
        let output = render(dir.path(), name, &html, &[]);
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let page = std::fs::read_to_string(dir.path().join(&html)).expect("the page");
        assert_eq!(page.matches("<figure").count(), links.len(), "{name}: one figure per chart");
        assert!(
            page.contains(&format!("<h1>{}</h1>", title.replace('&', "&amp;"))) && page.contains("<table>"),
            "{name}"
        );
        assert!(!page.contains("<text"), "{name}: chart text is outlined");
    }

    // The weekly summary's figure is the lake's: postings dated in the seven days to --as-of.
    let newest = newest_day();
    let expected = lake_number(&format!(
        "select COUNT(*) as n from fct_postings where date_posted between DATE('{newest}') - INTERVAL '6 days' and DATE('{newest}')"
    ));
    let weekly = std::fs::read_to_string(dir.path().join("weekly-market.md")).expect("rendered above");
    let row = weekly.lines().find(|l| l.starts_with("| Postings |")).expect("the postings row");
    let shown: String = row.split('|').nth(2).expect("this week's column").trim().replace(',', "");
    assert_eq!(shown, expected.to_string(), "{row}");
    assert!(expected.as_u64().is_some_and(|n| n > 0), "the newest week holds postings");
    // --days widens the period: the year to --as-of holds at least the week's postings.
    let year = render(dir.path(), "weekly-market", "year.md", &["--days", "365"]);
    assert!(year.status.success(), "{}", stderr(&year));
    let year = std::fs::read_to_string(dir.path().join("year.md")).expect("rendered");
    let in_year: u64 = year
        .lines()
        .find(|l| l.starts_with("| Postings |"))
        .expect("the row")
        .split('|')
        .nth(2)
        .expect("a cell")
        .trim()
        .replace(',', "")
        .parse()
        .expect("a count");
    assert!(in_year > expected.as_u64().unwrap_or_default(), "{in_year}");
    // Rendering again to the same file needs --force; with it, the file is replaced.
    let again = render(dir.path(), "weekly-market", "weekly-market.md", &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("exists; give --force"), "{}", stderr(&again));
    assert!(
        render(dir.path(), "weekly-market", "weekly-market.md", &["--force"])
            .status
            .success()
    );
}

#[test]
fn a_report_prints_to_pdf_through_headless_chromium() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = render(dir.path(), "weekly-market", "weekly.pdf", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let pdf = std::fs::read(dir.path().join("weekly.pdf")).expect("the PDF");
    assert!(pdf.starts_with(b"%PDF"), "not a PDF");
    // The text a reader sees (poppler's pdftotext): the title and the week's dates.
    let text = run(std::process::Command::new("pdftotext").arg(dir.path().join("weekly.pdf")).arg("-"));
    assert!(text.status.success(), "pdftotext (poppler-utils): {}", stderr(&text));
    let text = stdout(&text);
    assert!(text.contains("Weekly market summary") && text.contains(&newest_day()), "{text}");
    // A browser that is not there is named, and nothing is written.
    let missing = run(rats(dir.path())
        .args(["report", "render", "weekly-market", "--lake"])
        .arg(lake())
        .args(["--out", "none.pdf"])
        .env("RATS_CHROMIUM", "/nonexistent/chromium"));
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/chromium"), "{}", stderr(&missing));
    assert!(!dir.path().join("none.pdf").exists());
}

/// The height an outlined bar chart's SVG declares: 24 units a bar over a fixed frame.
fn svg_height(svg: &str) -> i64 {
    let at = svg.find("height=\"").expect("a height") + 8;
    svg[at..at + svg[at..].find('"').expect("closed")].parse().expect("a whole number")
}

#[test]
fn charts_export_as_outlined_svg_and_png_and_follow_where() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chart = |extra: &[&str]| run(rats(dir.path()).args(["export", "chart", "--lake"]).arg(lake()).args(extra));
    let listed = success_json(&chart(&["--list", "--format", "json"]));
    let names: Vec<&str> = listed
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|c| c["chart"].as_str())
        .collect();
    for expected in ["postings_over_time", "salary_by_title_family", "skill_demand", "quarantine_reasons"] {
        assert!(names.contains(&expected), "{names:?}");
    }

    let all = chart(&["skill_demand", "--out", "skills.svg"]);
    assert!(all.status.success(), "{}", stderr(&all));
    let svg = std::fs::read_to_string(dir.path().join("skills.svg")).expect("the SVG");
    assert!(!svg.contains("<text") && svg.matches("<path").count() > 50, "text as outlines");
    // Twenty bars; one when --where keeps one skill.
    let skill = lake_number(
        "select skill_id from (select skill_id, COUNT(*) as n from fct_posting_skills group by skill_id) as c order by n desc, skill_id limit 1",
    );
    let skill = skill.as_str().expect("a skill id");
    let one = chart(&["skill_demand", "--where", &format!("skill_id = '{skill}'"), "--out", "one.svg"]);
    assert!(one.status.success(), "{}", stderr(&one));
    let one_svg = std::fs::read_to_string(dir.path().join("one.svg")).expect("the SVG");
    assert_eq!(svg_height(&svg) - svg_height(&one_svg), 19 * 24, "19 fewer bars");

    let png = chart(&["postings_over_time", "--out", "over-time.png", "--scale", "1.5"]);
    assert!(png.status.success(), "{}", stderr(&png));
    let bytes = std::fs::read(dir.path().join("over-time.png")).expect("the PNG");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let width = u32::from_be_bytes(bytes[16..20].try_into().expect("IHDR width"));
    assert_eq!(width, 1140, "760 units at 1.5 pixels each");

    let unknown = chart(&["salary_by_planet"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no chart \"salary_by_planet\"") && stderr(&unknown).contains("skill_demand"));
    let exists = chart(&["skill_demand", "--out", "skills.svg"]);
    assert_eq!(exists.status.code(), Some(2), "no silent overwrite");
    let bad_where = chart(&["skill_demand", "--where", "no_such_column = 1"]);
    assert_eq!(bad_where.status.code(), Some(2));
    assert!(stderr(&bad_where).contains("chart skill_demand: --where"), "{}", stderr(&bad_where));
}

#[test]
fn a_users_template_adds_a_report_keeps_data_from_becoming_markup_and_names_its_mistakes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let init = run(rats(dir.path()).args(["report", "init", "-q"]));
    assert!(init.status.success(), "{}", stderr(&init));
    assert!(dir.path().join("reports/charts.yml").is_file() && dir.path().join("reports/weekly-market.md").is_file());
    std::fs::write(
        dir.path().join("reports/boards.html"),
        "---\ntitle: Boards\nqueries:\n  boards: select source_site, COUNT(*) as n from fct_postings group by source_site order by n desc\n  \
         hostile: select '<script>alert(1)</script>' as t\n---\n<h1>{{ report.title }}</h1>\n<p>{{ hostile[0].t }}</p>\n\
         <ul>{% for b in boards %}<li>{{ b.source_site }}: {{ b.n | count }}</li>{% endfor %}</ul>\n{{ chart(\"skill_demand\") }}\n",
    )
    .expect("write the template");
    let listed = success_json(&run(rats(dir.path()).args(["report", "list", "--format", "json"])));
    let boards = listed
        .as_array()
        .expect("a list")
        .iter()
        .find(|r| r["report"] == "boards")
        .expect("listed");
    assert_eq!((boards["from"].as_str(), boards["format"].as_str()), (Some("user"), Some("html")));

    let output = render(dir.path(), "boards", "boards.html", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let page = std::fs::read_to_string(dir.path().join("boards.html")).expect("the page");
    assert!(
        page.contains("&lt;script&gt;alert(1)") && !page.contains("<script>"),
        "escaped: {page}"
    );
    let linkedin = lake_number("select COUNT(*) as n from fct_postings where source_site = 'linkedin'");
    assert!(
        page.contains(&format!(
            "linkedin: {}",
            rats::chart::draw::format_value(linkedin.as_f64().expect("a count"), rats::chart::Unit::Count)
        )),
        "{page}"
    );
    assert_eq!(page.matches("<figure").count(), 1);
    let markdown = render(dir.path(), "boards", "boards.md", &[]);
    assert_eq!(markdown.status.code(), Some(2), "an HTML template has no Markdown");

    // A query that does not run names the file and the query; so does a misspelt variable.
    std::fs::write(
        dir.path().join("reports/broken.md"),
        "---\ntitle: Broken\nqueries:\n  totals: select nope from fct_postings\n---\n# x\n",
    )
    .expect("write");
    let broken = render(dir.path(), "broken", "broken.md", &[]);
    assert_eq!(broken.status.code(), Some(2));
    assert!(stderr(&broken).contains("reports/broken.md: query totals:"), "{}", stderr(&broken));
    std::fs::write(
        dir.path().join("reports/broken.md"),
        "---\ntitle: Broken\n---\n# x\n\n{{ totalz }}\n",
    )
    .expect("write");
    let broken = render(dir.path(), "broken", "broken.md", &[]);
    assert!(stderr(&broken).contains("reports/broken.md:6:"), "{}", stderr(&broken));
}

/// The MIME tree of each message received, as Python's `email` parses it: content types in
/// order, with each part's content id, file name and size, the HTML's `cid:` references and
/// the text part.
fn mime_trees(server: &MailServer) -> Vec<Value> {
    let script = r#"
import email, email.policy, json, os, re, sys
box = os.path.join(sys.argv[1], 'new')
out = []
for name in sorted(os.listdir(box)):
    m = email.message_from_binary_file(open(os.path.join(box, name), 'rb'), policy=email.policy.default)
    parts, html, text = [], '', ''
    for p in m.walk():
        body = p.get_payload(decode=True) or b''
        parts.append({'type': p.get_content_type(), 'cid': str(p['Content-ID'] or '').strip('<>'),
                      'file': p.get_filename(), 'size': len(body), 'png': body[:8] == b'\x89PNG\r\n\x1a\n',
                      'pdf': body[:4] == b'%PDF'})
        if p.get_content_type() == 'text/html': html = body.decode()
        if p.get_content_type() == 'text/plain': text = body.decode()
    out.append({'subject': str(m['subject']), 'to': str(m['to']), 'parts': parts, 'text': text,
                'cids': re.findall(r'src="cid:([^"]+)"', html)})
print(json.dumps(out))
"#;
    let output = run(std::process::Command::new("python3").args(["-c", script]).arg(&server.maildir));
    assert!(output.status.success(), "python: {}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn a_report_is_mailed_with_its_charts_inline_and_the_pdf_attached() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MailServer::start(dir.path());
    std::fs::write(
        dir.path().join("rats.yaml"),
        format!(
            "smtp:\n  url: \"smtp://localhost:{}?tls=required\"\n  from: \"rats <rats@example.org>\"\n",
            server.port
        ),
    )
    .expect("settings");
    let newest = newest_day();
    let answer = success_json(&run(rats(dir.path())
        .args(["report", "send", "weekly-market", "--lake"])
        .arg(lake())
        // As typed: a space after a comma and one comma too many.
        .args(["--as-of", &newest, "--to", "ana@example.org, ben@example.org,", "--format", "json"])
        .env("SSL_CERT_FILE", &server.authority)));
    assert_eq!(answer["pdf"], true, "{answer}");
    let messages = mime_trees(&server);
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert!(
        message["subject"]
            .as_str()
            .is_some_and(|s| s.starts_with("Weekly market summary — ") && s.ends_with(&newest)),
        "{message}"
    );
    assert_eq!(message["to"], "ana@example.org, ben@example.org");
    let types: Vec<&str> = message["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .filter_map(|p| p["type"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "multipart/related",
            "text/html",
            "image/png",
            "application/pdf"
        ],
        "{message}"
    );
    let parts = message["parts"].as_array().expect("parts");
    let image = parts.iter().find(|p| p["type"] == "image/png").expect("the chart");
    assert_eq!(image["png"], true);
    assert_eq!(
        message["cids"],
        serde_json::json!([image["cid"]]),
        "the HTML shows the inline chart by its content id"
    );
    let pdf = parts.iter().find(|p| p["type"] == "application/pdf").expect("the PDF");
    assert_eq!(
        (pdf["pdf"].as_bool(), pdf["file"].as_str()),
        (Some(true), Some(format!("weekly-market-{newest}.pdf").as_str()))
    );
    let text = message["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("# Weekly market summary") && text.contains("[chart: Postings per month]"),
        "{text}"
    );

    // Without the server's certificate trusted, the send fails after its retries: exit 2.
    let refused = run(rats(dir.path())
        .args(["report", "send", "weekly-market", "--no-pdf", "--lake"])
        .arg(lake())
        .args(["--to", "ana@example.org"]));
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("did not take the message after 3 attempts"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(mime_trees(&server).len(), 1);
    let nobody = run(rats(dir.path())
        .args(["report", "send", "weekly-market", "--no-pdf", "--lake"])
        .arg(lake())
        .args(["--to", ","]));
    assert_eq!(nobody.status.code(), Some(2), "{}", stderr(&nobody));
    assert!(stderr(&nobody).contains("names no address"), "{}", stderr(&nobody));
}

/// The statuses `rats report due --format json` gives, by schedule.
fn due_statuses(answer: &Value) -> Vec<(String, String)> {
    answer["schedules"]
        .as_array()
        .expect("schedules")
        .iter()
        .map(|s| {
            (
                s["schedule"].as_str().unwrap_or_default().to_string(),
                s["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn scheduled_reports_are_sent_once_per_period_and_recorded_in_the_lake() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(lake(), &dir.path().join("lake"));
    let server = MailServer::start(dir.path());
    let settings = |port: u16| {
        format!(
            "lake: lake\nsmtp:\n  url: \"smtp://localhost:{port}?tls=required\"\n  from: \"rats <rats@example.org>\"\n\
             reports:\n  - name: weekly-market\n    cron: \"0 8 * * MON\"\n    to: [ana@example.org]\n    pdf: false\n\
             \x20 - name: data-quality\n    id: monthly-quality\n    cron: \"@monthly\"\n    to: [ops@example.org]\n    pdf: false\n"
        )
    };
    std::fs::write(dir.path().join("rats.yaml"), settings(server.port)).expect("settings");
    let due = |at: &str, extra: &[&str]| {
        run(rats(dir.path())
            .args(["report", "due", "--format", "json", "--at", at])
            .args(extra)
            .env("SSL_CERT_FILE", &server.authority))
    };
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());

    // Monday 2025-04-21, 09:00: this week's summary and April's quality report are due.
    let first = success_json(&due("2025-04-21T09:00:00Z", &[]));
    assert_eq!(
        due_statuses(&first),
        [pair("weekly-market", "sent"), pair("monthly-quality", "sent")],
        "{first}"
    );
    assert_eq!(first["schedules"][0]["period_starts_at"], "2025-04-21T08:00:00Z");
    let subjects: Vec<String> = server
        .messages()
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(
        subjects.iter().any(|s| s.ends_with("2025-04-14 to 2025-04-20")),
        "the week before the Monday: {subjects:?}"
    );
    // The cron job fires again, and late in the week: nothing more.
    for at in ["2025-04-21T09:00:00Z", "2025-04-27T23:59:00Z"] {
        let again = success_json(&due(at, &[]));
        assert_eq!(
            due_statuses(&again),
            [pair("weekly-market", "sent before"), pair("monthly-quality", "sent before")]
        );
    }
    assert_eq!(server.messages().len(), 2);
    // The next Monday at 08:00 the weekly one is due again; a dry run says so and sends nothing.
    let dry = success_json(&due("2025-04-28T08:00:00Z", &["--dry-run"]));
    assert_eq!(due_statuses(&dry)[0], pair("weekly-market", "due"));
    assert_eq!(server.messages().len(), 2);
    let next = success_json(&due("2025-04-28T08:00:00Z", &[]));
    assert_eq!(
        due_statuses(&next),
        [pair("weekly-market", "sent"), pair("monthly-quality", "sent before")]
    );
    assert_eq!(server.messages().len(), 3);

    // Every delivery is a row of the lake's reports/deliveries table.
    let recorded = success_json(&run(rats(dir.path()).args(["export", "reports/deliveries", "--to", "json", "-q"])));
    let mut periods: Vec<(String, String)> = recorded
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["schedule"].as_str().unwrap_or_default().to_string(),
                r["period_starts_at"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    periods.sort();
    assert_eq!(
        periods,
        [
            pair("monthly-quality", "2025-04-01T00:00:00Z"),
            pair("weekly-market", "2025-04-21T08:00:00Z"),
            pair("weekly-market", "2025-04-28T08:00:00Z")
        ]
    );

    // A server that never answers: exit 2, nothing recorded, so the next run sends it.
    std::fs::write(dir.path().join("rats.yaml"), settings(crate::support::free_port())).expect("settings");
    let failed = due("2025-05-05T08:00:00Z", &[]);
    assert_eq!(failed.status.code(), Some(2), "{}", stderr(&failed));
    let failed: Value = serde_json::from_slice(&failed.stdout).expect("JSON");
    assert!(
        failed["schedules"][0]["status"].as_str().is_some_and(|s| s.starts_with("failed")),
        "{failed}"
    );
    std::fs::write(dir.path().join("rats.yaml"), settings(server.port)).expect("settings");
    let retried = success_json(&due("2025-05-05T08:00:00Z", &[]));
    assert_eq!(due_statuses(&retried)[0], pair("weekly-market", "sent"));
    assert_eq!(server.messages().len(), 5, "May's quality report too");

    // The lineage runs from the warehouse's tables through the reports to their deliveries.
    let lineage = success_json(&run(rats(dir.path()).args(["check", "lineage", "--format", "json"])));
    let edges: Vec<(String, String)> = serde_json::from_value(lineage["edges"].clone()).expect("edges");
    for edge in [
        pair("gold/fct_postings", "report:weekly-market"),
        pair("gold/fct_posting_skills", "report:weekly-market"),
        pair("quality/results", "report:data-quality"),
        pair("quarantine/postings", "report:data-quality"),
        pair("report:weekly-market", "reports/deliveries"),
        pair("report:data-quality", "reports/deliveries"),
    ] {
        assert!(edges.contains(&edge), "{edge:?} missing from {edges:?}");
    }
    assert!(!edges.contains(&pair("report:salary", "reports/deliveries")), "never sent");

    // `rats run` sends what is due now as its last step.
    let ran = run(rats(dir.path())
        .args(["run", "--no-transform", "--no-check", "--format", "json"])
        .env("SSL_CERT_FILE", &server.authority));
    let ran = success_json(&ran);
    let step = &ran["steps"][0];
    assert_eq!(
        (step["step"].as_str(), step["status"].as_str()),
        (Some("reports due"), Some("ok")),
        "{ran}"
    );
    assert_eq!(server.messages().len(), 7, "this week's and this month's, as of today");
}

#[test]
fn rats_serve_sends_the_reports_that_are_due_while_it_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(lake(), &dir.path().join("lake"));
    std::fs::create_dir(dir.path().join("models")).expect("an empty registry");
    let server = MailServer::start(dir.path());
    std::fs::write(
        dir.path().join("rats.yaml"),
        format!(
            "lake: lake\nsmtp:\n  url: \"smtp://localhost:{}?tls=required\"\n\
             reports:\n  - name: data-quality\n    cron: \"@daily\"\n    to: [ops@example.org]\n    pdf: false\n",
            server.port
        ),
    )
    .expect("settings");
    let mut serve = rats(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0", "--models", "models"])
        .env("SSL_CERT_FILE", &server.authority)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("serve.log")).expect("log"))
        .spawn()
        .expect("rats serve starts");
    // Today's period has no delivery: the server sends it at start, once.
    let started = std::time::Instant::now();
    while server.messages().is_empty() && started.elapsed() < std::time::Duration::from_mins(2) {
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    // The delivery is recorded in the lake after the message is sent: stopping the server the
    // moment the message arrives could stop it in between.
    let recorded_deliveries = || {
        let output = run(rats(dir.path()).args(["export", "reports/deliveries", "--to", "json", "-q"]));
        output
            .status
            .success()
            .then(|| serde_json::from_slice::<serde_json::Value>(&output.stdout).ok())
            .flatten()
            .and_then(|v| v.as_array().map(Vec::len))
            .unwrap_or(0)
    };
    let sent = std::time::Instant::now();
    while recorded_deliveries() == 0 && sent.elapsed() < std::time::Duration::from_secs(30) {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let _ = serve.kill();
    let _ = serve.wait();
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
    let messages = server.messages();
    assert_eq!(messages.len(), 1, "{log}");
    assert!(
        messages[0]["subject"].as_str().is_some_and(|s| s.starts_with("Data quality — ")),
        "{messages:?}"
    );
    let recorded = success_json(&run(rats(dir.path()).args(["export", "reports/deliveries", "--to", "json", "-q"])));
    assert_eq!(recorded.as_array().map(Vec::len), Some(1), "{recorded}");
    assert_eq!(recorded[0]["schedule"], "data-quality");
    // A cron job after it finds the period sent.
    let due = success_json(&run(rats(dir.path()).args(["report", "due", "--format", "json"])));
    assert_eq!(due["schedules"][0]["status"], "sent before", "{due}");
}
