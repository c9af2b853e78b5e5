//! `rats check`: the expectations from the flags, evaluated on the lake from the settings,
//! printed as a table or JSON, recorded in `LAKE/quality/results`, and one exit code.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use rats::bundled;
use rats::check::{self, CheckOptions, CheckResult, CheckSource, results};
use rats::exit::Outcome;
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};
use rats::transform::delta::DeltaIo;

use crate::cli::{CheckArgs, CheckCommand};

pub fn run(args: &CheckArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let print = |report: &Report| -> anyhow::Result<()> {
        if !(quiet && settings.format.value == OutputFormat::Table) {
            output::write(&mut std::io::stdout().lock(), settings.format.value, report)?;
        }
        Ok(())
    };
    if let Some(CheckCommand::Init(init)) = &args.command {
        let written = bundled::CHECKS.write_to(&init.dir, init.force)?;
        print(&Report {
            header: vec!["written".into()],
            rows: written.iter().map(|p| vec![p.display().to_string()]).collect(),
            json: serde_json::json!({"checks": init.dir, "written": written}),
        })?;
        return Ok(Outcome::Success);
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
    print(&report(&results, as_of))?;
    let outcome = check::outcome(&results);
    if !quiet {
        eprintln!("rats check: {}", summary(&results));
    }
    Ok(outcome)
}

/// An RFC 3339 time, or a date meaning its midnight UTC.
fn parse_moment(text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")?;
    Ok(date.and_hms_opt(0, 0, 0).context("midnight exists")?.and_utc())
}

fn report(results: &[CheckResult], as_of: DateTime<Utc>) -> Report {
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
            "outcome": check::outcome(results).code(),
            "results": results,
        }),
    }
}

/// "27 passed, 2 failed (1 error, 1 warn), 1 skipped, 0 could not run".
fn summary(results: &[CheckResult]) -> String {
    let count = |status: &str| results.iter().filter(|r| r.status == status).count();
    let errors = results
        .iter()
        .filter(|r| r.status == "fail" && r.severity == check::spec::Severity::Error)
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
