//! `rats train salary`: cross-validate, calibrate and fit the salary model on the lake, add it
//! to the model registry as a new version, print the cross-validation report.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rats::exit::Outcome;
use rats::ml::card::{self, ModelCard, TrainingData};
use rats::ml::dataset;
use rats::ml::features::{self, FeatureOptions};
use rats::ml::registry::Registry;
use rats::ml::salary::model::{self as salary_model, pretty_json};
use rats::ml::salary::{self, QUANTILES, TrainOptions, evaluate, report};
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};

use crate::cli::TrainSalaryArgs;

const COST_OF_LIVING: &str = "reference/cost-of-living/advisorsmith_cost_of_living_index.csv";

pub fn run(args: &TrainSalaryArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let lake = &settings.lake.value;
    let cost_of_living_file = args.cost_of_living.clone().or_else(|| {
        let default = settings.datasets.value.join(COST_OF_LIVING);
        default.is_file().then_some(default)
    });
    let cost_of_living = if let Some(path) = &cost_of_living_file {
        features::read_cost_of_living(path)?
    } else {
        tracing::warn!("no cost-of-living table (--cost-of-living, or {COST_OF_LIVING} in the datasets): training without it");
        Vec::new()
    };
    let data = dataset::load(lake).with_context(|| format!("reading the salary examples from the lake {}", lake.display()))?;
    let registry = Registry::new(&settings.models_dir.value, "salary");
    let inputs_sha256 = inputs_hash(&data, args, cost_of_living_file.as_deref())?;
    if !args.force
        && let Some(newest) = registry.versions()?.last()
        && read_card(&registry.path_of(newest)).is_some_and(|card| card.inputs_sha256 == inputs_sha256)
    {
        if !quiet {
            eprintln!(
                "salary {newest} ({}) was trained on these inputs already (same examples, options, seed and rats build): nothing to do; --force trains again",
                registry.path_of(newest).display()
            );
        }
        return Ok(Outcome::Success);
    }
    let options = TrainOptions {
        folds: usize::from(args.folds),
        seed: args.seed,
        features: FeatureOptions::default(),
        cost_of_living,
    };
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("valid template"));
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar
    });
    let progress = |message: &str| {
        tracing::info!("{message}");
        if let Some(bar) = &bar {
            bar.set_message(message.to_string());
        }
    };
    let trained = salary::train(&data, &options, &progress)?;
    let evaluation = if args.evaluate {
        Some(evaluate::evaluate(&data, &options, &trained, &progress)?)
    } else {
        None
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }

    let mut by_dataset = std::collections::BTreeMap::new();
    for example in &data.examples {
        *by_dataset.entry(example.dataset.clone()).or_insert(0usize) += 1;
    }
    let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut card = ModelCard {
        kind: "salary".into(),
        version: String::new(),
        created_at,
        code_version: card::code_version(),
        seed: args.seed,
        inputs_sha256,
        training_data: TrainingData {
            lake: std::fs::canonicalize(lake).unwrap_or_else(|_| lake.clone()).display().to_string(),
            silver_version: data.silver_version,
            silver_rows: data.silver_rows,
            examples: data.examples.len(),
            by_dataset,
            excluded: data.excluded.clone(),
        },
        features: serde_json::json!({
            "columns": trained.model.spec.width(),
            "title_words": trained.model.spec.title_words.len(),
            "skills": trained.model.spec.skills.len(),
            "text_buckets": trained.model.spec.options.text_buckets,
            "cost_of_living_metros": trained.model.spec.cost_of_living.len(),
            "cost_of_living_file": cost_of_living_file.as_ref().map(|p| p.display().to_string()),
            "target": "ln of the midpoint of the yearly pay range in US dollars",
        }),
        parameters: serde_json::json!({
            "booster": trained.cv.chosen,
            "quantiles": QUANTILES,
            "folds": options.folds,
        }),
        metrics: serde_json::to_value(&trained.cv)?,
        artifacts: [
            salary_model::MEAN_FILE,
            salary_model::QUANTILE_FILE,
            salary_model::FEATURES_FILE,
            salary_model::CALIBRATION_FILE,
            "card.md",
        ]
        .map(String::from)
        .to_vec(),
    };
    let mut markdown = String::new();
    let version = registry.add(|dir, version| {
        card.version = version.to_string();
        trained.model.save(dir)?;
        markdown = report::markdown(&card, &trained.cv, evaluation.as_ref());
        std::fs::write(dir.join("card.md"), &markdown).map_err(|e| rats::ml::MlError::file(dir.join("card.md"), e))?;
        std::fs::write(dir.join("model.json"), pretty_json(&card)?).map_err(|e| rats::ml::MlError::file(dir.join("model.json"), e))
    })?;
    if let Some(path) = &args.report {
        std::fs::write(path, &markdown).with_context(|| format!("writing the report to {}", path.display()))?;
    }
    let path: PathBuf = registry.path_of(&version);
    print(settings, quiet, &trained.cv, evaluation.as_ref(), &version, &path)?;
    Ok(Outcome::Success)
}

/// What the version is a function of: the examples, the cost-of-living table, the options and
/// the rats build.
fn inputs_hash(data: &dataset::SalaryData, args: &TrainSalaryArgs, cost_of_living: Option<&std::path::Path>) -> anyhow::Result<String> {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(data.fingerprint());
    if let Some(path) = cost_of_living {
        hash.update(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?);
    }
    hash.update(format!(
        "{}|{}|{}|{}|{:?}",
        card::code_version(),
        args.seed,
        args.folds,
        args.evaluate,
        FeatureOptions::default()
    ));
    Ok(rats::normalize::hex(&hash.finalize()))
}

fn read_card(dir: &std::path::Path) -> Option<ModelCard> {
    serde_json::from_slice(&std::fs::read(dir.join("model.json")).ok()?).ok()
}

fn print(
    settings: &Settings,
    quiet: bool,
    cv: &salary::train::CvReport,
    evaluation: Option<&evaluate::Evaluation>,
    version: &str,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    if quiet && settings.format.value == OutputFormat::Table {
        return Ok(());
    }
    let cell = |s: &salary::train::Scores, name: &str| {
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
                "version": version,
                "path": path.display().to_string(),
                "cross_validation": cv,
                "evaluation": evaluation,
            }),
        },
    )?;
    if settings.format.value == OutputFormat::Table {
        use std::io::Write;
        writeln!(
            out,
            "salary {version} written to {} (chosen: depth {}, {} rounds; interval widened by ×{:.2} for {:.1}% coverage)",
            path.display(),
            cv.chosen.max_depth,
            cv.chosen.rounds,
            cv.calibration.offset.exp(),
            cv.calibration.calibrated_coverage * 100.0
        )?;
    }
    Ok(())
}
