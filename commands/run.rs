//! `rats run`: the pipeline for cron and CI. Each step is this same binary run as a child
//! (`consume`, `transform build`, `check`, `train salary` when due, `report due`) with the run's settings, so a step behaves exactly
//! as it does alone, its memory is returned when it ends, and a crash in one is reported as
//! that step's failure. A step that fails (exit 2) stops the steps after it; one that finds
//! problems (exit 1) does not. The run's exit code is the worst step's.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context;
use rats::exit::Outcome;
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};
use serde_json::{Value, json};

/// The retraining step's name: it is left out when the check found problems, so a model is
/// never trained on data that failed an error-level expectation.
const RETRAIN: &str = "retrain salary";

/// One step of the run.
struct Step {
    name: &'static str,
    /// The subcommand and its own flags (the lake, format and quiet flags are added).
    args: Vec<OsString>,
    /// Why there is nothing for the step to do (no file matches today), if so.
    idle: Option<String>,
}

/// How a step ended.
#[derive(serde::Serialize)]
struct StepResult {
    step: &'static str,
    /// `ok`, `problems` (exit 1), `failed` (exit 2 or killed) or `skipped`.
    status: &'static str,
    exit_code: Option<i32>,
    seconds: f64,
    /// One line on what the step did.
    detail: String,
    /// The step's own JSON summary.
    output: Value,
}

pub fn run(settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let lake = settings.lake.value.clone();
    std::fs::create_dir_all(&lake).with_context(|| format!("cannot create the lake {}", lake.display()))?;
    let _lock = match lock(&lake)? {
        Ok(lock) => lock,
        Err(holder) => {
            anyhow::bail!(
                "another rats run is working on {} ({holder}); this one does nothing",
                lake.display()
            );
        }
    };
    let steps = plan(settings)?;
    let mut results: Vec<StepResult> = Vec::new();
    let mut stopped_by: Option<&'static str> = None;
    for step in steps {
        if let Some(failed) = stopped_by {
            results.push(StepResult {
                step: step.name,
                status: "skipped",
                exit_code: None,
                seconds: 0.0,
                detail: format!("{failed} failed"),
                output: Value::Null,
            });
            continue;
        }
        if step.name == RETRAIN
            && let Some(check) = results.iter().find(|r| r.step == "check" && r.status == "problems")
        {
            results.push(StepResult {
                step: step.name,
                status: "skipped",
                exit_code: None,
                seconds: 0.0,
                detail: format!("{} found problems: no training on this data", check.step),
                output: Value::Null,
            });
            continue;
        }
        let result = execute(&step, settings)?;
        // Nothing after the retraining depends on it: the reports read the lake.
        if result.status == "failed" && step.name != RETRAIN {
            stopped_by = Some(step.name);
        }
        results.push(result);
    }
    let outcome = if results.iter().any(|r| r.status == "failed") {
        Outcome::Error
    } else if results.iter().any(|r| r.status == "problems") {
        Outcome::Problems
    } else {
        Outcome::Success
    };
    if !(quiet && settings.format.value == OutputFormat::Table) {
        crate::unless_reader_stopped(output::write(
            &mut std::io::stdout().lock(),
            settings.format.value,
            &report(&lake, &results, outcome),
        ))?;
    }
    Ok(outcome)
}

/// Takes `LAKE/.rats-run.lock`; `Err` names the run holding it.
fn lock(lake: &Path) -> anyhow::Result<Result<File, String>> {
    let path = lake.join(".rats-run.lock");
    rats::lock::try_lock(&path).with_context(|| format!("cannot lock {}", path.display()))
}

/// The steps the settings ask for, in order.
fn plan(settings: &Settings) -> anyhow::Result<Vec<Step>> {
    let mut steps = Vec::new();
    let patterns = &settings.run_consume_from.value;
    if !patterns.is_empty() {
        let files = expand(patterns)?;
        let idle = files.is_empty().then(|| format!("no file matches {}", patterns.join(", ")));
        let mut args: Vec<OsString> = vec!["consume".into(), "--from".into()];
        args.extend(files.into_iter().map(OsString::from));
        steps.push(Step {
            name: "consume files",
            args,
            idle,
        });
    }
    let step = |name, args: &[&str]| Step {
        name,
        args: args.iter().map(OsString::from).collect(),
        idle: None,
    };
    if settings.run_consume_kafka.value {
        steps.push(step("consume kafka", &["consume", "--once"]));
    }
    if settings.run_transform.value {
        steps.push(step("transform", &["transform", "build"]));
    }
    if settings.run_check.value {
        steps.push(step("check", &["check"]));
    }
    if let Some(policy) = &settings.run_retrain_salary.value {
        let folds = policy.folds.to_string();
        let minimum = policy.min_new_postings.to_string();
        let mut args = vec![
            "train",
            "salary",
            "--every",
            &policy.every,
            "--min-new-postings",
            &minimum,
            "--folds",
            &folds,
        ];
        if policy.promote != "none" {
            args.extend(["--promote", &policy.promote]);
        }
        steps.push(step(RETRAIN, &args));
    }
    if settings.run_reports.value && !settings.report_schedules.value.is_empty() {
        steps.push(step("reports due", &["report", "due"]));
    }
    if steps.is_empty() {
        anyhow::bail!(
            "nothing to run: set run.consume_from, run.consume_kafka, run.transform, run.check, run.retrain_salary or reports: in rats.yaml"
        );
    }
    Ok(steps)
}

/// The files the patterns match, sorted and without repeats; a pattern matching nothing is
/// fine (no new file today), a malformed one is an error.
fn expand(patterns: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for pattern in patterns {
        let matches = glob::glob(pattern).with_context(|| format!("run.consume_from {pattern:?} is not a valid pattern"))?;
        for path in matches {
            let path = path.with_context(|| format!("cannot read a match of {pattern:?}"))?;
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// Runs one step as a child of this binary and reads its JSON summary.
fn execute(step: &Step, settings: &Settings) -> anyhow::Result<StepResult> {
    if let Some(idle) = &step.idle {
        return Ok(StepResult {
            step: step.name,
            status: "ok",
            exit_code: None,
            seconds: 0.0,
            detail: idle.clone(),
            output: Value::Null,
        });
    }
    let exe = std::env::current_exe().context("cannot find the rats binary to run the steps with")?;
    let mut command = Command::new(exe);
    if let Some(config) = &settings.config_file {
        command.arg("--config").arg(config);
    }
    command
        .arg("--log-format")
        .arg(settings.log_format.value.to_string())
        .args(&step.args)
        .arg("--lake")
        .arg(&settings.lake.value)
        .args(["--format", "json", "--quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    tracing::info!(step = step.name, "step started");
    let started = Instant::now();
    let child = command.output().with_context(|| format!("cannot start the {} step", step.name))?;
    let seconds = started.elapsed().as_secs_f64();
    let output: Value = serde_json::from_slice(&child.stdout).unwrap_or(Value::Null);
    let code = child.status.code();
    let status = match code {
        Some(0) => "ok",
        Some(1) => "problems",
        _ => "failed",
    };
    tracing::info!(step = step.name, status, seconds = format!("{seconds:.1}"), "step finished");
    Ok(StepResult {
        step: step.name,
        status,
        exit_code: code,
        seconds,
        detail: detail(step.name, &output, code),
        output,
    })
}

/// One line on what a step did, from its JSON summary.
fn detail(step: &str, output: &Value, code: Option<i32>) -> String {
    let number = |v: &Value| v.as_u64().unwrap_or(0);
    let count = |items: &Value, key: &str, value: &str| items.as_array().map_or(0, |a| a.iter().filter(|i| i[key] == value).count());
    match step {
        _ if output.is_null() => match code {
            Some(code) => format!("exit {code}; see its messages above"),
            None => "killed by a signal".to_string(),
        },
        "consume files" | "consume kafka" => format!(
            "{} read, {} written, {} duplicates, {} quarantined, {} consumed before",
            number(&output["read"]),
            number(&output["written"]),
            number(&output["duplicates"]),
            number(&output["quarantined"]),
            number(&output["skipped"])
        ),
        "transform" => format!(
            "{} of {} models built, {} of {} tests passed",
            count(&output["models"], "status", "ok"),
            output["models"].as_array().map_or(0, Vec::len),
            count(&output["tests"], "status", "pass"),
            output["tests"].as_array().map_or(0, Vec::len)
        ),
        "check" => format!(
            "{} passed, {} failed, {} skipped, {} could not run",
            count(&output["results"], "status", "pass"),
            count(&output["results"], "status", "fail"),
            count(&output["results"], "status", "skip"),
            count(&output["results"], "status", "error")
        ),
        RETRAIN => match output["status"].as_str() {
            Some("trained") => format!(
                "{} trained (out-of-fold R² {:.3}, MAE ${:.0}){}",
                output["version"].as_str().unwrap_or("?"),
                output["cross_validation"]["overall"]["r2_log"].as_f64().unwrap_or(f64::NAN),
                output["cross_validation"]["overall"]["mae_usd"].as_f64().unwrap_or(f64::NAN),
                output["promoted"]
                    .as_str()
                    .map(|s| format!(", promoted to {s}"))
                    .unwrap_or_default()
            ),
            Some(status) => format!("{status}: {}", output["reason"].as_str().unwrap_or_default()),
            None => String::new(),
        },
        "reports due" => {
            let schedules = &output["schedules"];
            let failed = schedules.as_array().map_or(0, |a| {
                a.iter()
                    .filter(|s| s["status"].as_str().is_some_and(|t| t.starts_with("failed")))
                    .count()
            });
            format!(
                "{} sent, {} sent before, {} not due, {failed} failed",
                count(schedules, "status", "sent"),
                count(schedules, "status", "sent before"),
                count(schedules, "status", "not due"),
            )
        }
        _ => String::new(),
    }
}

fn report(lake: &Path, results: &[StepResult], outcome: Outcome) -> Report {
    Report {
        header: ["step", "status", "seconds", "detail"].map(String::from).to_vec(),
        rows: results
            .iter()
            .map(|r| {
                vec![
                    r.step.to_string(),
                    r.status.to_string(),
                    format!("{:.1}", r.seconds),
                    r.detail.clone(),
                ]
            })
            .collect(),
        json: json!({"lake": lake, "outcome": outcome.code(), "steps": results}),
    }
}
