//! `rats check`: the expectations from the flags, evaluated on the lake from the settings,
//! printed as a table or JSON, recorded in `LAKE/quality/results`, and one exit code.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use rats::bundled;
use rats::check::spec::Severity;
use rats::check::{self, CheckOptions, CheckResult, CheckSource, alerts, results};
use rats::exit::Outcome;
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};
use rats::transform::delta::DeltaIo;
use rats::transform::project::ProjectSource;

use crate::cli::{CheckArgs, CheckCommand, LineageGraph};

pub fn run(args: &CheckArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let print = |report: &Report| -> anyhow::Result<()> {
        if !(quiet && settings.format.value == OutputFormat::Table) {
            output::write(&mut std::io::stdout().lock(), settings.format.value, report)?;
        }
        Ok(())
    };
    match &args.command {
        Some(CheckCommand::Init(init)) => {
            let written = bundled::CHECKS.write_to(&init.dir, init.force)?;
            print(&Report {
                header: vec!["written".into()],
                rows: written.iter().map(|p| vec![p.display().to_string()]).collect(),
                json: serde_json::json!({"checks": init.dir, "written": written}),
            })?;
            return Ok(Outcome::Success);
        }
        Some(CheckCommand::Lineage(lineage)) => {
            let graph = check::lineage::build(&settings.lake.value, &ProjectSource::resolve(lineage.project.as_deref()))?;
            match lineage.graph {
                Some(LineageGraph::Dot) => print!("{}", check::lineage::to_dot(&graph)),
                Some(LineageGraph::Mermaid) => print!("{}", check::lineage::to_mermaid(&graph)),
                None => print(&Report {
                    header: ["from", "to", "version"].map(String::from).to_vec(),
                    rows: graph
                        .edges
                        .iter()
                        .map(|(from, to)| {
                            let version = graph
                                .nodes
                                .iter()
                                .find(|n| n.id == *to)
                                .and_then(|n| n.version)
                                .map_or_else(String::new, |v| v.to_string());
                            vec![from.clone(), to.clone(), version]
                        })
                        .collect(),
                    json: serde_json::to_value(&graph)?,
                })?,
            }
            return Ok(Outcome::Success);
        }
        None => {}
    }
    let args = &args.run;
    let as_of = match args.as_of.as_deref() {
        Some(text) => parse_moment(text).with_context(|| format!("--as-of {text:?}: give an RFC 3339 time or a date (YYYY-MM-DD)"))?,
        None => Utc::now(),
    };
    let source = CheckSource::resolve(args.checks.as_deref());
    tracing::debug!(%source, "expectations");
    let files = source.load().with_context(|| format!("cannot load the expectations in {source}"))?;
    let lake = settings.lake.value.clone();
    let options = CheckOptions {
        lake: lake.clone(),
        select: args.select.clone(),
        as_of,
    };
    let results = check::run(&files, &options)?;
    if !args.no_record && !results.is_empty() {
        let checked_at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let run_id = format!("{checked_at}-{}", std::process::id());
        results::record(&DeltaIo::new()?, &lake, &run_id, &checked_at, &results)?;
    }
    let alerted = settings
        .check_webhook
        .value
        .as_deref()
        .map(|url| alert(url, &lake, &results, settings.check_alert_severity.value));
    // An alert that could not be delivered makes the run an error, like a check that could not run.
    let outcome = match &alerted {
        Some(Alerted { error: Some(_), .. }) => Outcome::Error,
        _ => check::outcome(&results),
    };
    print(&report(&results, as_of, outcome, alerted.as_ref()))?;
    if !quiet {
        eprintln!("rats check: {}", summary(&results));
    }
    if let Some(Alerted { error: Some(error), .. }) = &alerted {
        eprintln!("error: {error}");
    }
    Ok(outcome)
}

/// What the webhook was told, and why it could not be, if it could not.
struct Alerted {
    changes: Vec<alerts::Change>,
    error: Option<String>,
}

/// Announces the changes since the last announcement; the state moves on only when the
/// receiver took them.
fn alert(url: &str, lake: &std::path::Path, results: &[CheckResult], min_severity: Severity) -> Alerted {
    let attempt = || -> Result<Vec<alerts::Change>, alerts::AlertError> {
        let state = alerts::load_state(lake)?;
        let changes = alerts::changes(results, &state, min_severity);
        if !changes.is_empty() {
            alerts::post(url, &alerts::payload(lake, &changes))?;
        }
        alerts::save_state(lake, &alerts::next_state(results, &state, min_severity))?;
        Ok(changes)
    };
    match attempt() {
        Ok(changes) => Alerted { changes, error: None },
        Err(error) => Alerted {
            changes: Vec::new(),
            error: Some(error.to_string()),
        },
    }
}

/// An RFC 3339 time, or a date meaning its midnight UTC.
fn parse_moment(text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")?;
    Ok(date.and_hms_opt(0, 0, 0).context("midnight exists")?.and_utc())
}

fn report(results: &[CheckResult], as_of: DateTime<Utc>, outcome: Outcome, alerted: Option<&Alerted>) -> Report {
    let rows = results
        .iter()
        .map(|r| {
            vec![
                r.check.clone(),
                r.severity.as_str().to_string(),
                r.status.to_string(),
                r.observed.clone(),
                r.expected.clone(),
            ]
        })
        .collect();
    Report {
        header: ["check", "severity", "status", "observed", "expected"].map(String::from).to_vec(),
        rows,
        json: serde_json::json!({
            "as_of": as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "outcome": outcome.code(),
            "results": results,
            "alerts": alerted.map(|a| serde_json::json!({"sent": a.changes, "error": a.error})),
        }),
    }
}

/// "27 passed, 2 failed (1 error, 1 warn), 1 skipped, 0 could not run".
fn summary(results: &[CheckResult]) -> String {
    let count = |status: &str| results.iter().filter(|r| r.status == status).count();
    let errors = results
        .iter()
        .filter(|r| r.status == "fail" && r.severity == Severity::Error)
        .count();
    format!(
        "{} passed, {} failed ({errors} error, {} warn), {} skipped, {} could not run",
        count("pass"),
        count("fail"),
        count("fail") - errors,
        count("skip"),
        count("error")
    )
}
