//! `rats train match`: cross-validate and fit the match scorer on labelled pairs, add it to the
//! model registry with its sentence encoder, print the evaluation beside the baselines.

use std::io::Write as _;

use anyhow::Context;
use chrono::Datelike;
use rats::exit::Outcome;
use rats::matching::eval::Evaluation;
use rats::matching::train::{self, Request};
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};
use rats::skills::{Extractor, Taxonomy};

use crate::cli::TrainMatchArgs;
use crate::progress::StepSpinner;
use crate::tracking;

const RJDB: &str = "matching/rjdb/pairs.jsonl";

/// The gazetteer alone finds a résumé's and a posting's skills: matching compares taxonomy
/// ids, which the span model adds nothing to.
pub fn taxonomy_extractor(settings: &Settings) -> anyhow::Result<Extractor> {
    let taxonomy = Taxonomy::load(settings.skills_taxonomy.value.as_deref())?;
    Extractor::new(taxonomy, None).context("building the skill gazetteer")
}

pub fn run(args: &TrainMatchArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let request = Request {
        data: args.data.clone().unwrap_or_else(|| settings.datasets.value.join(RJDB)),
        encoder: args.encoder.clone(),
        models_dir: settings.models_dir.value.clone(),
        folds: usize::from(args.folds),
        this_year: chrono::Utc::now().year(),
        force: args.force,
    };
    let extractor = taxonomy_extractor(settings)?;
    tracking::check_before_training(settings)?;
    let spinner = StepSpinner::new(quiet);
    let outcome = train::train_version(&request, &extractor, &|message| spinner.step(message))
        .with_context(|| format!("training the match model on {}", request.data.display()));
    spinner.finish();
    let trained = match outcome? {
        train::Outcome::AlreadyTrained { version, path } => {
            if !quiet {
                note!(
                    "match {version} ({}) was trained on these inputs already (same file, encoder, folds and rats build): nothing to do; --force trains again",
                    path.display()
                );
            }
            return Ok(Outcome::Success);
        }
        train::Outcome::Trained(trained) => trained,
    };
    if let Some(path) = &args.report {
        std::fs::write(path, &trained.markdown).with_context(|| format!("writing the report to {}", path.display()))?;
    }
    let logged = tracking::log_trained(settings, &trained.card, &trained.path, || train::tracking_record(&trained))?;
    if quiet && settings.format.value == OutputFormat::Table {
        return Ok(Outcome::Success);
    }
    let mut rows = vec![
        evaluation_row("learned score (cross-validated)", &trained.cross_validated),
        evaluation_row(train::FALLBACK_ROW, &trained.fallback),
    ];
    rows.extend(trained.baselines.iter().map(|(name, e)| evaluation_row(name, e)));
    let report = Report {
        header: EVALUATION_HEADER.map(String::from).to_vec(),
        rows,
        json: serde_json::json!({
            "version": trained.version,
            "path": trained.path,
            "cross_validated": trained.cross_validated,
            "per_fold": trained.per_fold,
            "skills_only_fallback": trained.fallback,
            "baselines": trained.baselines,
            "scorer": trained.scorer,
            "fallback_scorer": trained.fallback_scorer,
            "mlflow": logged,
        }),
    };
    output::write(&mut std::io::stdout().lock(), settings.format.value, &report)?;
    if settings.format.value == OutputFormat::Table {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "match {} saved in {}", trained.version, trained.path.display())?;
        if let Some(logged) = &logged {
            writeln!(stdout, "{logged}")?;
        }
    }
    Ok(Outcome::Success)
}

pub const EVALUATION_HEADER: [&str; 8] = [
    "matcher",
    "pairwise_accuracy",
    "job_to_resume_top1",
    "top5",
    "mrr",
    "resume_to_job_top1",
    "top5",
    "mrr",
];

pub fn evaluation_row(name: &str, e: &Evaluation) -> Vec<String> {
    let mut row = vec![name.to_string()];
    row.extend(e.figures().map(|x| format!("{x:.3}")));
    row
}
