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
fn an_unknown_ref_names_the_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = project(
        dir.path(),
        &[
            ("a", "select 1 as x\n"),
            ("b", "select x\nfrom {{ ref('a') }}\njoin {{ ref('nope') }} using (x)\n"),
        ],
    );
    let output = ls(dir.path(), &root);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("models/b.sql:3: ref('nope') names no model"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_cycle_is_reported_as_a_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = project(
        dir.path(),
        &[
            ("a", "select * from {{ ref('c') }}"),
            ("b", "select * from {{ ref('a') }}"),
            ("c", "select * from {{ ref('b') }}"),
        ],
    );
    let output = ls(dir.path(), &root);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("the models form a cycle: a -> b -> c -> a"),
        "{}",
        stderr(&output)
    );
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
