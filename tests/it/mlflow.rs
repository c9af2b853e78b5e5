//! `rats train salary --mlflow URL` and `rats train match --mlflow URL` against a real MLflow
//! tracking server (`mlflow` from PyPI, started by `scripts/mlflow up`, as `scripts/test` does):
//! the run's parameters, per-fold metrics and files, and the registered model version, read
//! back through MLflow's REST API.

use crate::matching::{encoder, rjdb_sample};
use crate::support::{consume_into, datasets, rats, run, stderr, success_json};

pub(crate) fn server() -> String {
    format!(
        "http://127.0.0.1:{}",
        std::env::var(rats::env_vars::MLFLOW_PORT).unwrap_or_else(|_| "15000".into())
    )
}

fn get(path: &str, query: &[(&str, &str)]) -> serde_json::Value {
    let response = reqwest::blocking::Client::new()
        .get(format!("{}/api/2.0/mlflow/{path}", server()))
        .query(query)
        .send()
        .unwrap_or_else(|e| panic!("MLflow at {} does not answer ({e}); start it with scripts/mlflow up", server()));
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.json().expect("JSON")
}

fn param(run: &serde_json::Value, key: &str) -> Option<serde_json::Value> {
    run["data"]["params"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["key"] == key))
        .map(|p| p["value"].clone())
}

fn metric(run: &serde_json::Value, key: &str) -> Option<f64> {
    run["data"]["metrics"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["key"] == key))
        .and_then(|m| m["value"].as_f64())
}

/// The paths of the files logged under `model/`.
fn model_files(run_id: &str) -> Vec<String> {
    get("artifacts/list", &[("run_id", run_id), ("path", "model")])["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["path"].as_str().map(String::from))
        .collect()
}

/// The registered version `logged` names belongs to its run and points at its files.
fn assert_registered(name: &str, logged: &serde_json::Value) {
    let version = get(
        "model-versions/get",
        &[("name", name), ("version", logged["registered_version"].as_str().expect("version"))],
    );
    assert_eq!(version["model_version"]["run_id"], logged["run_id"]);
    assert!(
        version["model_version"]["source"].as_str().is_some_and(|s| s.ends_with("/model")),
        "{version}"
    );
}

#[test]
fn a_salary_training_run_is_logged_and_its_version_registered_in_mlflow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = dir.path().join("lake");
    let input = datasets().join("postings/nyc-jobs/NYC_Jobs.csv");
    consume_into(dir.path(), &lake, &[input]);
    let report = success_json(&run(rats(dir.path())
        .env(rats::env_vars::DATASETS, datasets())
        .args([
            "train",
            "salary",
            "--format",
            "json",
            "--folds",
            "2",
            "--mlflow",
            &server(),
            "--lake",
        ])
        .arg(&lake)
        .arg("--out")
        .arg(dir.path().join("models"))));
    let logged = &report["mlflow"];
    let run_id = logged["run_id"].as_str().expect("run id");

    let logged_run = &get("runs/get", &[("run_id", run_id)])["run"];
    assert_eq!(logged_run["info"]["status"], "FINISHED");
    assert_eq!(param(logged_run, "folds"), Some(serde_json::json!("2")));
    assert!(param(logged_run, "booster.max_depth").is_some(), "{}", logged_run["data"]["params"]);
    let r2 = report["cross_validation"]["overall"]["r2_log"].as_f64().expect("r2");
    assert!(metric(logged_run, "cv.r2_log").is_some_and(|logged| (logged - r2).abs() < 1e-9));
    let history = get("metrics/get-history", &[("run_id", run_id), ("metric_key", "fold.r2_log")]);
    assert_eq!(history["metrics"].as_array().map(Vec::len), Some(2), "{history}");

    let names = model_files(run_id);
    for expected in ["model/model.json", "model/mean.json", "model/quantiles.json", "model/features.json"] {
        assert!(names.iter().any(|n| n == expected), "{expected} not in {names:?}");
    }
    assert_registered("rats-salary", logged);

    let unreachable = run(rats(dir.path())
        .env(rats::env_vars::DATASETS, datasets())
        .args([
            "train",
            "salary",
            "--force",
            "--folds",
            "2",
            "--mlflow",
            "http://127.0.0.1:9",
            "--lake",
        ])
        .arg(&lake)
        .arg("--out")
        .arg(dir.path().join("models")));
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(stderr(&unreachable).contains("nothing was trained"), "{}", stderr(&unreachable));
    assert!(
        !dir.path().join("models/salary/v2").exists(),
        "a version was added although MLflow was unreachable"
    );
}

#[test]
fn a_match_training_run_is_logged_with_per_fold_metrics_and_its_version_registered_in_mlflow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = rjdb_sample(dir.path(), 40);
    let report = success_json(&run(rats(dir.path())
        .args([
            "train",
            "match",
            "--format",
            "json",
            "--folds",
            "2",
            "--out",
            "models",
            "--mlflow",
            &server(),
            "--encoder",
        ])
        .arg(encoder())
        .arg("--data")
        .arg(&data)));
    let logged = &report["mlflow"];
    let run_id = logged["run_id"].as_str().expect("run id");

    let logged_run = &get("runs/get", &[("run_id", run_id)])["run"];
    assert_eq!(logged_run["info"]["status"], "FINISHED");
    assert_eq!(param(logged_run, "folds"), Some(serde_json::json!("2")));
    assert_eq!(param(logged_run, "pairs"), Some(serde_json::json!("40")));
    let accuracy = report["cross_validated"]["pairwise_accuracy"].as_f64().expect("accuracy");
    assert!(metric(logged_run, "cv.pairwise_accuracy").is_some_and(|logged| (logged - accuracy).abs() < 1e-9));
    assert!(metric(logged_run, "baseline.bm25.job_to_resume.top1").is_some());
    let history = get(
        "metrics/get-history",
        &[("run_id", run_id), ("metric_key", "fold.job_to_resume.top1")],
    );
    let folds: Vec<f64> = history["metrics"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|m| m["value"].as_f64())
        .collect();
    let reported: Vec<f64> = report["per_fold"]
        .as_array()
        .expect("per-fold figures")
        .iter()
        .filter_map(|f| f["job_to_resume"]["top1"].as_f64())
        .collect();
    assert_eq!(folds.len(), 2, "{history}");
    assert_eq!(folds, reported);

    let names = model_files(run_id);
    for expected in ["model/model.json", "model/scorer.json", "model/card.md"] {
        assert!(names.iter().any(|n| n == expected), "{expected} not in {names:?}");
    }
    assert_registered("rats-match", logged);
}
