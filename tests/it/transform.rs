//! `rats transform` on the lake consume builds from every shared dataset, and on small
//! projects written here for the errors a user meets first.

use std::path::Path;
use std::process::Command;

use crate::support::{posting_csvs, rats, repo, run, stderr, summary};

/// A lake holding every shared dataset's postings, built once per call.
fn dataset_lake(dir: &Path) {
    let output = run(rats(dir).args(["consume", "-q", "--lake", "lake", "--from"]).args(posting_csvs()));
    assert!(output.status.success(), "{}", stderr(&output));
}

fn transform(dir: &Path, args: &[&str]) -> std::process::Output {
    let project = repo().join("sql-models");
    run(rats(dir)
        .args(["transform"])
        .args(args)
        .args(["--lake", "lake", "--project"])
        .arg(project)
        .args(["--format", "json"]))
}

/// The commit files of a gold table.
fn commits(dir: &Path, model: &str) -> usize {
    std::fs::read_dir(dir.join("lake/gold").join(model).join("_delta_log")).map_or(0, |d| {
        d.filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .count()
    })
}

#[test]
fn the_warehouse_builds_on_every_dataset_and_its_tests_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    dataset_lake(dir.path());
    let output = transform(dir.path(), &["build"]);
    assert!(
        output.status.success(),
        "{}\n{}",
        stderr(&output),
        String::from_utf8_lossy(&output.stdout)
    );
    let s = summary(&output);
    let models = s["models"].as_array().expect("models");
    assert!(models.len() >= 9, "{s}");
    assert!(models.iter().all(|m| m["status"] == "ok"), "{s}");
    let tests = s["tests"].as_array().expect("tests");
    assert!(tests.len() >= 30, "{}", tests.len());
    let failing: Vec<_> = tests.iter().filter(|t| t["status"] != "pass").collect();
    assert!(failing.is_empty(), "failing tests: {failing:?}");
    let rows = |name: &str| {
        models
            .iter()
            .find(|m| m["model"] == name)
            .and_then(|m| m["rows"].as_u64())
            .expect("rows")
    };
    assert_eq!(rows("fct_postings"), rows("posting_history"), "every posting has a history row");

    // The same folder under dbt-core with dbt-duckdb, on the same silver: every mart has the
    // same rows and the same key aggregates.
    let work = tempfile::tempdir().expect("tempdir");
    let parity = run(Command::new("python3")
        .arg(repo().join("tests/it/dbt_parity.py"))
        .arg(dir.path().join("lake"))
        .arg(repo().join("sql-models"))
        .arg(work.path()));
    assert!(
        parity.status.success(),
        "dbt parity: {}\n{}",
        String::from_utf8_lossy(&parity.stdout),
        stderr(&parity)
    );

    // A second run of the snapshot opens no version: nothing changed.
    let snapshot = transform(dir.path(), &["run", "--select", "dim_company"]);
    assert!(snapshot.status.success(), "{}", stderr(&snapshot));
    assert_eq!(summary(&snapshot)[0]["rows"], 0, "{}", String::from_utf8_lossy(&snapshot.stdout));

    // A second run merges nothing into the incremental model and commits nothing to it.
    let before = commits(dir.path(), "posting_history");
    let again = transform(dir.path(), &["run", "--select", "posting_history"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(summary(&again)[0]["rows"], 0, "{}", String::from_utf8_lossy(&again.stdout));
    assert_eq!(commits(dir.path(), "posting_history"), before);

    // --full-refresh rebuilds it whole.
    let rebuilt = transform(dir.path(), &["run", "--select", "posting_history", "--full-refresh"]);
    assert!(rebuilt.status.success(), "{}", stderr(&rebuilt));
    assert_eq!(summary(&rebuilt)[0]["rows"].as_u64(), Some(rows("posting_history")));
    assert_eq!(commits(dir.path(), "posting_history"), before + 1);
}

/// A project of `models` (name, SQL) in `dir/project`.
fn project(dir: &Path, models: &[(&str, &str)]) -> std::path::PathBuf {
    let root = dir.join("project");
    std::fs::create_dir_all(root.join("models")).expect("mkdir");
    std::fs::write(
        root.join("dbt_project.yml"),
        "name: p\nversion: '1'\nconfig-version: 2\nmodels:\n  p:\n    +materialized: view\n",
    )
    .expect("write");
    for (name, sql) in models {
        std::fs::write(root.join("models").join(format!("{name}.sql")), sql).expect("write");
    }
    root
}

fn ls(dir: &Path, root: &Path) -> std::process::Output {
    run(rats(dir).args(["transform", "ls", "--project"]).arg(root))
}

#[test]
fn an_undefined_variable_is_an_error_not_an_empty_string() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = project(dir.path(), &[("a", "select 1 as x\nwhere x > {{ threshold }}\n")]);
    let output = ls(dir.path(), &root);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("models/a.sql:2: "), "{}", stderr(&output));
    let root = project(dir.path(), &[("a", "select {{ var('missing') }} as x\n")]);
    let output = ls(dir.path(), &root);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("var('missing') is not defined"), "{}", stderr(&output));
}

/// One contract line: a posting by `company` in `industry`.
fn posting_line(id: &str, company: &str, industry: &str) -> String {
    serde_json::json!({
        "job_id": id,
        "site": "testboard",
        "job": {"title": format!("Engineer {id}"), "company": company, "location": "Austin, TX", "date_posted": "2026-10-02",
                "description": format!("Posting {id}: build and run data pipelines.")},
        "company_details": {"company_industry": industry}
    })
    .to_string()
}

#[test]
fn the_company_snapshot_keeps_every_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let consume = |file: &str, lines: &[String]| {
        std::fs::write(dir.path().join(file), lines.join("\n")).expect("write");
        let output = run(rats(dir.path()).args(["consume", "-q", "--lake", "lake", "--from", file]));
        assert!(output.status.success(), "{}", stderr(&output));
    };
    consume(
        "first.jsonl",
        &[posting_line("1", "Acme", "Manufacturing"), posting_line("2", "Globex", "Energy")],
    );
    let first = transform(dir.path(), &["run", "--select", "+dim_company"]);
    assert!(first.status.success(), "{}", stderr(&first));
    // Acme now posts as a software company (the later industry sorts last, so it wins).
    consume("second.jsonl", &[posting_line("3", "Acme", "Software")]);
    let second = transform(dir.path(), &["run", "--select", "+dim_company"]);
    assert!(second.status.success(), "{}", stderr(&second));
    let snapshot = summary(&second)
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["model"] == "dim_company")
        .cloned()
        .expect("dim_company ran");
    assert_eq!(snapshot["rows"], 1, "one new version: {snapshot}");
    let rows = crate::support::table_rows(
        &dir.path().join("lake"),
        "gold/dim_company",
        &["company_key", "company_industry", "dbt_valid_to"],
    );
    let acme: Vec<_> = rows.iter().filter(|r| r[0] == "acme").collect();
    assert_eq!(acme.len(), 2, "{rows:?}");
    assert!(
        acme.iter().any(|r| r[1] == "Manufacturing" && !r[2].is_empty()),
        "the old version is closed: {acme:?}"
    );
    assert!(
        acme.iter().any(|r| r[1] == "Software" && r[2].is_empty()),
        "the new one is current: {acme:?}"
    );
}

/// The compiled SQL of every model, as snapshots: a change to a model, a macro or the renderer
/// shows up as a reviewed diff (`cargo insta review`).
#[test]
fn compiled_sql_of_every_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("sql-models");
    copy_dir(&repo().join("sql-models"), &copy);
    let output = run(rats(dir.path())
        .args(["transform", "compile", "--format", "json", "--project"])
        .arg(&copy));
    assert!(output.status.success(), "{}", stderr(&output));
    let compiled = summary(&output);
    let models = compiled.as_array().expect("models");
    assert!(models.len() >= 10);
    for model in models {
        let name = model["model"].as_str().expect("name");
        insta::assert_snapshot!(format!("compiled_{name}"), model["sql"].as_str().expect("sql"));
    }
}

/// The errors users meet first, as snapshots (paths made relative): an unknown ref names its
/// file and line, a cycle is shown as a path, an undefined name is an error.
#[test]
fn error_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, &[(&str, &str)]); 3] = [
        (
            "unknown_ref",
            &[
                ("a", "select 1 as x\n"),
                ("b", "select x\nfrom {{ ref('a') }}\njoin {{ ref('nope') }} using (x)\n"),
            ],
        ),
        (
            "cycle",
            &[
                ("a", "select * from {{ ref('c') }}"),
                ("b", "select * from {{ ref('a') }}"),
                ("c", "select * from {{ ref('b') }}"),
            ],
        ),
        ("undefined_variable", &[("a", "select 1 as x\nwhere x > {{ threshold }}\n")]),
    ];
    for (case, models) in cases {
        let root = project(&dir.path().join(case), models);
        let output = ls(dir.path(), &root);
        assert_eq!(output.status.code(), Some(2));
        let message = stderr(&output).replace(&root.display().to_string(), "PROJECT");
        insta::assert_snapshot!(format!("error_{case}"), message);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read").filter_map(Result::ok) {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy");
        }
    }
}

#[test]
fn the_docs_site_is_one_offline_page_with_every_model_and_its_lineage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("sql-models");
    copy_dir(&repo().join("sql-models"), &copy);
    let output = run(rats(dir.path())
        .args(["transform", "docs", "--format", "json", "--project"])
        .arg(&copy));
    assert!(output.status.success(), "{}", stderr(&output));
    let page = std::fs::read_to_string(copy.join("target/docs/index.html")).expect("the page is written");
    for model in [
        "stg_postings",
        "fct_postings",
        "dim_company",
        "posting_history",
        "agg_company_hiring",
    ] {
        assert!(page.contains(&format!("<section id=\"model-{model}\">")), "{model} has a section");
        assert!(
            page.contains(&format!("<a href=\"#model-{model}\"><text")),
            "{model} is in the lineage graph"
        );
    }
    assert!(page.contains("Midpoint of the yearly USD range"), "column descriptions are shown");
    assert!(page.contains("<svg") && page.contains("<line "), "the lineage has edges");
    let external = ["src=\"http", "href=\"http", "<script", "<link"];
    assert!(external.iter().all(|e| !page.contains(e)), "nothing is loaded from elsewhere");
}

#[test]
fn a_failing_data_test_exits_1_with_its_failing_row_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = project(
        dir.path(),
        &[("numbers", "select 1 as n union all select 2 as n union all select 2 as n\n")],
    );
    std::fs::write(
        root.join("models/numbers.yml"),
        "version: 2\nmodels:\n  - name: numbers\n    columns:\n      - name: n\n        tests: [unique, not_null]\n",
    )
    .expect("write");
    let output = run(rats(dir.path())
        .args(["transform", "test", "--format", "json", "--lake", "lake", "--project"])
        .arg(&root));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let results = summary(&output);
    let by_name = |name: &str| {
        results
            .as_array()
            .expect("results")
            .iter()
            .find(|r| r["test"] == name)
            .cloned()
            .expect(name)
    };
    assert_eq!(by_name("unique_numbers_n")["status"], "fail");
    assert_eq!(by_name("unique_numbers_n")["failures"], 1, "one duplicated value");
    assert_eq!(by_name("not_null_numbers_n")["status"], "pass");
}

#[test]
fn singular_data_tests_see_the_vars_given_on_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = project(dir.path(), &[("numbers", "select 1 as n union all select 2 as n\n")]);
    std::fs::create_dir_all(root.join("tests")).expect("mkdir");
    std::fs::write(
        root.join("tests/numbers_within_limit.sql"),
        "select n from {{ ref('numbers') }} where n > {{ var('limit', 5) }}\n",
    )
    .expect("write");
    let test = |vars: &[&str]| {
        let output = run(rats(dir.path())
            .args(["transform", "test", "--format", "json", "--lake", "lake"])
            .args(vars)
            .arg("--project")
            .arg(&root));
        let results = summary(&output);
        (output.status.code(), results[0]["failures"].clone())
    };
    assert_eq!(test(&[]), (Some(0), serde_json::json!(0)), "the default limit passes");
    assert_eq!(
        test(&["--vars", "{limit: 1}"]),
        (Some(1), serde_json::json!(1)),
        "--vars lowers the limit below 2"
    );
}

/// An installed rats runs the warehouse built into it from any folder, `init` writes that
/// project out, and a `./sql-models` there (an edited copy) is what runs from then on.
#[test]
fn outside_the_repository_the_built_in_project_runs_and_init_writes_it_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let consumed = run(rats(dir.path())
        .args(["consume", "-q", "--lake", "lake", "--max-quarantine", "30", "--from"])
        .arg(repo().join("fixtures/demo/postings.jsonl")));
    assert!(consumed.status.success(), "{}", stderr(&consumed));
    let transform_build = |extra: &[&str]| {
        run(rats(dir.path())
            .args(["transform", "build", "--lake", "lake", "--format", "json"])
            .args(extra))
    };
    let built = transform_build(&[]);
    assert!(built.status.success(), "{}", stderr(&built));
    let models = summary(&built)["models"].as_array().expect("models").len();
    assert!(models >= 9, "{}", String::from_utf8_lossy(&built.stdout));
    let docs = run(rats(dir.path()).args(["transform", "docs", "--lake", "lake", "--format", "json"]));
    assert!(docs.status.success(), "{}", stderr(&docs));
    assert!(
        dir.path().join("lake/_transform/docs/index.html").is_file(),
        "the built-in project's docs go into the lake"
    );

    let init = run(rats(dir.path()).args(["transform", "init", "--format", "json"]));
    assert!(init.status.success(), "{}", stderr(&init));
    let project = dir.path().join("sql-models");
    for file in std::fs::read_dir(repo().join("sql-models/models/marts")).expect("marts").flatten() {
        let written = project.join("models/marts").join(file.file_name());
        assert_eq!(
            std::fs::read(&written).expect("written"),
            std::fs::read(file.path()).expect("the repository's"),
            "{}",
            written.display()
        );
    }
    let again = run(rats(dir.path()).args(["transform", "init"]));
    assert_eq!(again.status.code(), Some(2), "init never overwrites without --force");
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));

    std::fs::write(
        project.join("models/marts/remote_share.sql"),
        "select count(*) as postings from {{ ref('fct_postings') }}\n",
    )
    .expect("a user's model");
    let edited = transform_build(&["--select", "remote_share"]);
    assert!(edited.status.success(), "{}", stderr(&edited));
    assert_eq!(
        summary(&edited)["models"][0]["model"],
        "remote_share",
        "./sql-models is the project now"
    );
    assert!(dir.path().join("lake/gold/remote_share/_delta_log").is_dir());
}
