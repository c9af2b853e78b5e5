//! `rats occupation`: titles to ESCO occupations, and the evaluation on labelled titles, with the
//! shared datasets' ESCO occupations and JobBERT's evaluation titles.

use crate::support::{consume_into, datasets, rats, run, stderr, success_json};

#[test]
fn a_title_maps_to_its_esco_occupation_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let with_datasets = |args: &[&str]| run(rats(dir.path()).env(rats::env_vars::DATASETS, datasets()).args(args));
    let answer = success_json(&with_datasets(&[
        "occupation",
        "--text",
        "Senior Data Engineer",
        "--format",
        "json",
    ]));
    let first = &answer["occupations"][0];
    assert_eq!(first["name"], "Data engineers", "{answer}");
    assert!(
        first["uri"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://data.europa.eu/esco/occupation/"))
    );
    assert_eq!(answer["occupations"].as_array().map(Vec::len), Some(5));
    assert_eq!(answer["notes"], serde_json::json!([]), "{answer}");
    // A German title ("waiter") matches English labels only by word parts: ranked, and said so.
    let german = success_json(&with_datasets(&["occupation", "--text", "Kellner", "--format", "json"]));
    assert!(
        german["notes"][0].as_str().is_some_and(|n| n.starts_with("low confidence")),
        "{german}"
    );
    let nothing = with_datasets(&["occupation", "--text", "!!!"]);
    assert_eq!(nothing.status.code(), Some(2));
    assert!(stderr(&nothing).contains("no ESCO occupation"), "{}", stderr(&nothing));
}

#[test]
fn evaluation_scores_accuracy_and_mrr_on_labelled_titles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let titles = std::fs::read_to_string(datasets().join("matching/jobbert-titles/titles.csv")).expect("titles");
    let sample = titles.lines().take(1 + 1000).collect::<Vec<_>>().join("\n");
    let data = dir.path().join("titles.csv");
    std::fs::write(&data, sample).expect("write");
    let scores = success_json(&run(rats(dir.path())
        .env(rats::env_vars::DATASETS, datasets())
        .args(["occupation", "eval", "--format", "json", "--data"])
        .arg(&data)));
    assert_eq!(scores["titles"], 1000);
    let (at1, at5, mrr) = (
        scores["accuracy_at_1"].as_f64(),
        scores["accuracy_at_5"].as_f64(),
        scores["mrr"].as_f64(),
    );
    assert!(at1 > Some(0.1) && at1 <= at5 && mrr >= at1 && mrr <= at5, "{scores}");
    let wrong = std::fs::write(dir.path().join("bad.csv"), "title,uri\nx,y\n");
    assert!(wrong.is_ok());
    let bad = run(rats(dir.path())
        .env(rats::env_vars::DATASETS, datasets())
        .args(["occupation", "eval", "--data", "bad.csv"]));
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("no vacancyTitle column"), "{}", stderr(&bad));
}

#[test]
fn assign_gives_every_silver_posting_its_title_family_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = dir.path().join("lake");
    let input = datasets().join("postings/glassdoor-2020-metros/Data_Job_TX.csv");
    consume_into(dir.path(), &lake, &[input]);
    let assign = || {
        success_json(&run(rats(dir.path())
            .env(rats::env_vars::DATASETS, datasets())
            .args(["occupation", "assign", "--format", "json", "--lake"])
            .arg(&lake)))
    };
    let first = assign();
    assert_eq!(first["written"], true);
    let rows = crate::support::table_rows(&lake, "gold/posting_occupations", &["posting_key", "occupation"]);
    let silver = crate::support::row_count(&lake, rats::lake::SILVER);
    assert_eq!(first["postings"].as_u64(), Some(rows.len() as u64));
    assert!(rows.len() * 10 >= silver * 8, "{} of {silver} postings got a family", rows.len());
    let keys: std::collections::BTreeSet<&String> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(keys.len(), rows.len(), "a posting has two families");
    assert!(
        rows.iter().any(|r| r[1] == "Data scientists"),
        "no data scientist among Texas data jobs"
    );
    assert_eq!(assign()["written"], false, "a second run rewrote an unchanged table");
}
