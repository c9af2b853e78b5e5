//! `rats check`: the expectations from the flags, evaluated on the lake from the settings,
//! printed as a table or JSON, recorded in `LAKE/quality/results`, and one exit code.

use std::io::Write as _;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use rats::bundled;
use rats::check::spec::Severity;
use rats::check::{self, CheckOptions, CheckResult, CheckSource, alerts, results};
use rats::exit::Outcome;
use rats::mail::{Mail, Mailer};
use rats::output::{self, Report};
use rats::report::Catalog;
use rats::settings::{OutputFormat, Settings};
use rats::transform::delta::DeltaIo;
use rats::transform::project::ProjectSource;

use crate::cli::{CheckArgs, CheckCommand, CheckLineageArgs, LineageGraph};

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
        Some(CheckCommand::Lineage(lineage)) => return show_lineage(lineage, settings, &print),
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
    // Mail is set up before anything runs, so a missing server is an error, not a lost alert.
    let mailer = if settings.check_alert_email.value.is_empty() {
        None
    } else {
        let url = settings
            .smtp_url
            .value
            .as_deref()
            .context("check.alerts.email (or --email) names recipients, but no smtp.url (env RATS_SMTP_URL) says how to reach them")?;
        Some(Mailer::new(url, &settings.smtp_from.value)?)
    };
    let results = check::run(&files, &options)?;
    if !args.no_record && !results.is_empty() {
        let checked_at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let run_id = format!("{checked_at}-{}", std::process::id());
        results::record(&DeltaIo::new()?, &lake, &run_id, &checked_at, &results)?;
    }
    let min_severity = settings.check_alert_severity.value;
    let mut alerted: Vec<Alerted> = Vec::new();
    if let Some(url) = settings.check_webhook.value.as_deref() {
        alerted.push(alert("webhook", &lake, &results, min_severity, |changes| {
            alerts::post(url, &alerts::payload(&lake, changes)).map_err(|e| e.to_string())
        }));
    }
    if let Some(mailer) = &mailer {
        alerted.push(alert("email", &lake, &results, min_severity, |changes| {
            let mail = Mail {
                to: &settings.check_alert_email.value,
                subject: &alerts::subject(&lake, changes),
                text: &alerts::text(&lake, changes),
                html: None,
                inline: &[],
                attached: &[],
            };
            mailer.send(&mail).map_err(|e| e.to_string())
        }));
    }
    // An alert that could not be delivered makes the run an error, like a check that could not run.
    let outcome = if alerted.iter().any(|a| a.error.is_some()) {
        Outcome::Error
    } else {
        check::outcome(&results)
    };
    crate::unless_reader_stopped(print(&report(&results, as_of, outcome, &alerted)))?;
    if !quiet {
        note!("rats check: {}", summary(&results));
    }
    for error in alerted.iter().filter_map(|a| a.error.as_deref()) {
        note!("error: {error}");
    }
    Ok(outcome)
}

/// What one channel was told, and why it could not be, if it could not.
#[derive(serde::Serialize)]
struct Alerted {
    channel: &'static str,
    sent: Vec<alerts::Change>,
    error: Option<String>,
}

/// Announces on `channel` the changes since its last announcement; its state moves on only
/// when `deliver` succeeded.
fn alert(
    channel: &'static str,
    lake: &std::path::Path,
    results: &[CheckResult],
    min_severity: Severity,
    deliver: impl Fn(&[alerts::Change]) -> Result<(), String>,
) -> Alerted {
    let attempt = || -> Result<Vec<alerts::Change>, String> {
        let state = alerts::load_state(lake, channel).map_err(|e| e.to_string())?;
        let changes = alerts::changes(results, &state, min_severity);
        if !changes.is_empty() {
            deliver(&changes)?;
        }
        alerts::save_state(lake, channel, &alerts::next_state(results, &state, min_severity)).map_err(|e| e.to_string())?;
        Ok(changes)
    };
    match attempt() {
        Ok(sent) => Alerted {
            channel,
            sent,
            error: None,
        },
        Err(error) => Alerted {
            channel,
            sent: Vec::new(),
            error: Some(error),
        },
    }
}

/// `rats check lineage`: the graph as rows or JSON, or as dot or Mermaid text.
fn show_lineage(args: &CheckLineageArgs, settings: &Settings, print: &dyn Fn(&Report) -> anyhow::Result<()>) -> anyhow::Result<Outcome> {
    let graph = check::lineage::build(
        &settings.lake.value,
        &ProjectSource::resolve(args.project.as_deref()),
        &Catalog::resolve(args.reports.as_deref()),
    )?;
    match args.graph {
        Some(LineageGraph::Dot) => write!(std::io::stdout(), "{}", check::lineage::to_dot(&graph))?,
        Some(LineageGraph::Mermaid) => write!(std::io::stdout(), "{}", check::lineage::to_mermaid(&graph))?,
        None => {
            let version_of = |id: &str| {
                graph
                    .nodes
                    .iter()
                    .find(|n| n.id == id)
                    .and_then(|n| n.version)
                    .map_or_else(String::new, |v| v.to_string())
            };
            print(&Report {
                header: ["from", "to", "version"].map(String::from).to_vec(),
                rows: graph
                    .edges
                    .iter()
                    .map(|(from, to)| vec![from.clone(), to.clone(), version_of(to)])
                    .collect(),
                json: serde_json::to_value(&graph)?,
            })?;
        }
    }
    Ok(Outcome::Success)
}

/// An RFC 3339 time, or a date meaning its midnight UTC.
fn parse_moment(text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")?;
    Ok(date.and_hms_opt(0, 0, 0).context("midnight exists")?.and_utc())
}

fn report(results: &[CheckResult], as_of: DateTime<Utc>, outcome: Outcome, alerted: &[Alerted]) -> Report {
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
            "alerts": alerted,
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
