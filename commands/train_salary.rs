//! `rats train salary`: cross-validate, calibrate and fit the salary model on the lake, add it
//! to the model registry as a new version, print the cross-validation report.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rats::exit::Outcome;
use rats::ml::due::{self, Decision};
use rats::ml::registry::Registry;
use rats::ml::salary::evaluate::Evaluation;
use rats::ml::salary::train::{CvReport, Scores};
use rats::ml::salary::version::{self, Request};
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};
use rats::tracking::log_version::Logged;

use crate::cli::{PromoteStage, TrainSalaryArgs};
use crate::progress::StepSpinner;
use crate::tracking;

const COST_OF_LIVING: &str = "reference/cost-of-living/advisorsmith_cost_of_living_index.csv";
const ESCO: &str = "taxonomies/esco/occupations.csv";

pub fn run(args: &TrainSalaryArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let from_datasets = |given: &Option<PathBuf>, default: &str, what: &str| {
        given.clone().or_else(|| {
            let path = settings.datasets.value.join(default);
            if path.is_file() {
                Some(path)
            } else {
                tracing::warn!("no {what} (its flag, or {default} in the datasets): training without it");
                None
            }
        })
    };
    let request = Request {
        lake: settings.lake.value.clone(),
        models_dir: settings.models_dir.value.clone(),
        folds: usize::from(args.folds),
        seed: args.seed,
        evaluate: args.evaluate,
        cost_of_living: from_datasets(&args.cost_of_living, COST_OF_LIVING, "cost-of-living table"),
        esco: from_datasets(&args.esco, ESCO, "ESCO occupations"),
        force: args.force,
    };
    if let Some(decision) = due(args, settings)?
        && !decision.due
    {
        return skipped(settings, quiet, "not due", &decision.reason);
    }
    tracking::check_before_training(settings)?;
    let spinner = StepSpinner::new(quiet);
    let outcome = version::train_version(&request, &|message| spinner.step(message))
        .with_context(|| format!("training the salary model on the lake {}", request.lake.display()));
    spinner.finish();
    let trained = match outcome? {
        version::Outcome::AlreadyTrained { version, path } => {
            let reason = format!(
                "salary {version} ({}) was trained on these inputs already (same examples, options, seed and rats build): nothing to do; --force trains again",
                path.display()
            );
            return skipped(settings, quiet, "already trained", &reason);
        }
        version::Outcome::Trained(trained) => trained,
    };
    if let Some(path) = &args.report {
        std::fs::write(path, &trained.markdown).with_context(|| format!("writing the report to {}", path.display()))?;
    }
    let logged = tracking::log_trained(settings, &trained.card, &trained.path, || {
        version::tracking_record(&trained.card, &trained.cv)
    })?;
    if let Some(stage) = args.promote {
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Registry::new(&settings.models_dir.value, "salary").promote(&trained.version, stage.as_str(), &at)?;
    }
    if !(quiet && settings.format.value == OutputFormat::Table) {
        print(
            settings,
            &trained.cv,
            trained.evaluation.as_ref(),
            &trained.version,
            &trained.path,
            args.promote.map(PromoteStage::as_str),
            logged.as_ref(),
        )?;
    }
    Ok(Outcome::Success)
}

/// Whether `--every` / `--min-new-postings` let this run train; `None` when neither is given.
fn due(args: &TrainSalaryArgs, settings: &Settings) -> anyhow::Result<Option<Decision>> {
    if args.every.is_none() && args.min_new_postings.is_none() {
        return Ok(None);
    }
    let lake = &settings.lake.value;
    let silver_rows = due::silver_rows(lake).with_context(|| format!("counting the postings of the lake {}", lake.display()))?;
    let registry = Registry::new(&settings.models_dir.value, "salary");
    let decision = due::decide(
        &registry,
        args.every.unwrap_or_else(chrono::Duration::zero),
        args.min_new_postings.unwrap_or(0),
        silver_rows,
        chrono::Utc::now(),
    )?;
    Ok(Some(decision))
}

/// A run that trained nothing, and why (`status`, `reason`), in the output format.
fn skipped(settings: &Settings, quiet: bool, status: &str, reason: &str) -> anyhow::Result<Outcome> {
    if !(quiet && settings.format.value == OutputFormat::Table) {
        let report = Report {
            header: vec!["status".into(), "reason".into()],
            rows: vec![vec![status.into(), reason.into()]],
            json: serde_json::json!({"kind": "salary", "status": status, "reason": reason}),
        };
        output::write(&mut std::io::stdout().lock(), settings.format.value, &report)?;
    }
    Ok(Outcome::Success)
}

fn print(
    settings: &Settings,
    cv: &CvReport,
    evaluation: Option<&Evaluation>,
    version: &str,
    path: &Path,
    promoted: Option<&str>,
    logged: Option<&Logged>,
) -> anyhow::Result<()> {
    let cell = |s: &Scores, name: &str| {
        vec![
            name.to_string(),
            s.postings.to_string(),
            format!("{:.3}", s.r2_log),
            format!("{:.0}", s.mae_usd),
            s.coverage.map_or_else(String::new, |c| format!("{:.1}%", c * 100.0)),
        ]
    };
    let mut rows = vec![cell(&cv.overall, "all (out of fold)")];
    rows.extend(cv.per_dataset.iter().map(|(name, s)| cell(s, name)));
    rows.extend(cv.as_query.iter().map(|(name, s)| cell(s, &format!("as a query: {name}"))));
    if let Some(evaluation) = evaluation {
        rows.extend(
            evaluation
                .leave_one_dataset_out
                .iter()
                .map(|h| cell(&h.model, &format!("held out: {}", h.slice))),
        );
    }
    let mut out = std::io::stdout().lock();
    output::write(
        &mut out,
        settings.format.value,
        &Report {
            header: ["slice", "postings", "r2_log", "mae_usd", "in_80pct_interval"]
                .map(String::from)
                .to_vec(),
            rows,
            json: serde_json::json!({
                "kind": "salary",
                "status": "trained",
                "version": version,
                "promoted": promoted,
                "path": path.display().to_string(),
                "cross_validation": cv,
                "evaluation": evaluation,
                "mlflow": logged,
            }),
        },
    )?;
    if settings.format.value == OutputFormat::Table {
        writeln!(
            out,
            "salary {version} written to {} (chosen: depth {}, {} rounds; interval widened by ×{:.2} for {:.1}% coverage)",
            path.display(),
            cv.chosen.max_depth,
            cv.chosen.rounds,
            cv.calibration.offset.exp(),
            cv.calibration.calibrated_coverage * 100.0
        )?;
        if let Some(stage) = promoted {
            writeln!(out, "salary {version} promoted to {stage}")?;
        }
        if let Some(logged) = logged {
            writeln!(out, "{logged}")?;
        }
    }
    Ok(())
}
