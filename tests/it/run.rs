//! `rats run`: consume → transform build → check from the settings file, one summary and the
//! worst step's exit code, a failed step stopping the ones after it, and a lock that keeps a
//! second run off the lake.

use std::path::Path;

use serde_json::Value;

use crate::support::{posting_csvs, rats, run, stderr, summary};

fn settings(dir: &Path) {
    let washington = posting_csvs()
        .into_iter()
        .find(|p| p.ends_with("Data_Job_WA.csv"))
        .expect("the shared Glassdoor Washington file");
    std::fs::write(
        dir.join("rats.yaml"),
        format!(
            "lake: lake\nrun:\n  consume_from: [{:?}, \"incoming/*.jsonl\"]\n  transform: true\n  check: true\n",
            washington.display().to_string()
        ),
    )
    .expect("write the settings");
}

fn rats_run(dir: &Path) -> (Option<i32>, Value, String) {
    let output = run(rats(dir).args(["run", "--format", "json"]));
    let json = if output.stdout.is_empty() { Value::Null } else { summary(&output) };
    (output.status.code(), json, stderr(&output))
}

fn steps(json: &Value) -> Vec<(String, String)> {
    json["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap_or_default().to_string(),
                s["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_string(), (*b).to_string())).collect()
}

#[test]
fn the_pipeline_runs_from_the_settings_and_again_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    settings(dir.path());
    let (code, json, err) = rats_run(dir.path());
    assert_eq!(code, Some(0), "{err}\n{json}");
    assert_eq!(
        steps(&json),
        pairs(&[("consume files", "ok"), ("transform", "ok"), ("check", "ok")])
    );
    let consumed = &json["steps"][0];
    assert!(consumed["output"]["written"].as_u64().unwrap_or(0) > 800, "{consumed}");
    assert!(
        json["steps"][1]["detail"].as_str().unwrap_or_default().contains("models built"),
        "{json}"
    );
    assert!(dir.path().join("lake/gold/fct_postings/_delta_log").is_dir());
    assert!(dir.path().join("lake/quality/results/_delta_log").is_dir());

    let (code, json, err) = rats_run(dir.path());
    assert_eq!(code, Some(0), "{err}\n{json}");
    assert_eq!(
        json["steps"][0]["output"]["written"], 0,
        "the same files again write nothing: {json}"
    );
}

#[test]
fn a_failed_step_stops_the_ones_after_it_and_a_second_run_waits_for_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    settings(dir.path());
    // A warehouse project in the working folder whose model names a model that does not exist.
    let models = dir.path().join("sql-models/models");
    std::fs::create_dir_all(&models).expect("mkdir");
    std::fs::write(
        dir.path().join("sql-models/dbt_project.yml"),
        "name: broken\nmodels:\n  broken: {}\n",
    )
    .expect("write");
    std::fs::write(models.join("a.sql"), "select * from {{ ref('nope') }}\n").expect("write");
    let (code, json, err) = rats_run(dir.path());
    assert_eq!(code, Some(2), "{err}\n{json}");
    assert_eq!(
        steps(&json),
        pairs(&[("consume files", "ok"), ("transform", "failed"), ("check", "skipped")])
    );
    assert_eq!(json["steps"][2]["detail"], "transform failed");
    assert!(err.contains("nope"), "the step's own message reaches stderr: {err}");

    // While another run holds the lake's lock, a run does nothing and says who holds it.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.path().join("lake/.rats-run.lock"))
        .expect("open the lock");
    lock.try_lock().expect("the test takes the lock");
    std::fs::write(dir.path().join("lake/.rats-run.lock"), "pid 4242 since the test\n").expect("name the holder");
    let (code, json, err) = rats_run(dir.path());
    assert_eq!(code, Some(2), "{json}");
    assert!(err.contains("another rats run is working on") && err.contains("pid 4242"), "{err}");
    drop(lock);
}

#[test]
fn the_salary_model_is_retrained_when_due_and_only_after_a_clean_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    settings(dir.path());
    let settings_file = dir.path().join("rats.yaml");
    let base = std::fs::read_to_string(&settings_file).expect("read the settings");
    let with_retraining = |every: &str| {
        format!(
            "{base}  retrain_salary: {{ every: {every}, min_new_postings: 100, folds: 2, promote: production }}\nmodels:\n  dir: models\ndatasets: {:?}\n",
            crate::support::datasets().display().to_string()
        )
    };
    std::fs::write(&settings_file, with_retraining("7d")).expect("write the settings");
    let (code, json, err) = rats_run(dir.path());
    assert_eq!(code, Some(0), "{err}\n{json}");
    assert_eq!(
        steps(&json),
        pairs(&[
            ("consume files", "ok"),
            ("transform", "ok"),
            ("check", "ok"),
            ("retrain salary", "ok")
        ])
    );
    let detail = json["steps"][3]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("v1 trained (out-of-fold R²") && detail.ends_with("promoted to production"),
        "{detail}"
    );
    let stages: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("models/salary/stages.json")).expect("stages")).expect("json");
    assert_eq!(stages["stages"]["v1"], "production");

    // The next night: v1 is minutes old.
    let (code, json, err) = rats_run(dir.path());
    assert_eq!(code, Some(0), "{err}\n{json}");
    let detail = json["steps"][3]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("not due: v1 is") && detail.contains("retrain every 7d 0h"),
        "{detail}"
    );

    // Old enough, but the lake did not grow by 100 postings.
    std::fs::write(&settings_file, with_retraining("0m")).expect("write the settings");
    let (_, json, _) = rats_run(dir.path());
    let detail = json["steps"][3]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("0 postings more than it was trained on (at least 100)"), "{detail}");
    assert!(!dir.path().join("models/salary/v2").exists());

    // An error-level expectation failing: no training on that data, whatever is due.
    std::fs::create_dir_all(dir.path().join("checks")).expect("mkdir");
    std::fs::write(
        dir.path().join("checks/strict.yml"),
        "tables:\n  - table: silver/postings\n    expectations:\n      - row_count: { max: 10 }\n",
    )
    .expect("write the expectation");
    let (code, json, err) = rats_run(dir.path());
    assert_eq!(code, Some(1), "{err}\n{json}");
    assert_eq!(json["steps"][2]["status"], "problems", "{json}");
    assert_eq!(json["steps"][3]["status"], "skipped", "{json}");
    assert_eq!(json["steps"][3]["detail"], "check found problems: no training on this data");
}
