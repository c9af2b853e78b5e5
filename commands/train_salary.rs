//! `rats train salary`: cross-validate, calibrate and fit the salary model on the lake, add it
//! to the model registry as a new version, print the cross-validation report.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rats::exit::Outcome;
use rats::ml::card::{self, ModelCard, TrainingData};
use rats::ml::dataset;
use rats::ml::features::{self, FeatureOptions, Reference};
use rats::ml::occupation::OccupationIndex;
use rats::ml::registry::Registry;
use rats::ml::salary::model::{self as salary_model, pretty_json};
use rats::ml::salary::{self, QUANTILES, TrainOptions, evaluate, premiums, report};
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};

use crate::cli::TrainSalaryArgs;
use crate::mlflow_log;

const COST_OF_LIVING: &str = "reference/cost-of-living/advisorsmith_cost_of_living_index.csv";
const ESCO: &str = "taxonomies/esco/occupations.csv";

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
    let esco_file = args.esco.clone().or_else(|| {
        let default = settings.datasets.value.join(ESCO);
        default.is_file().then_some(default)
    });
    let families = if let Some(path) = &esco_file {
        Some(OccupationIndex::from_esco_csv(path)?)
    } else {
        tracing::warn!("no ESCO occupations (--esco, or {ESCO} in the datasets): training without title families");
        None
    };
    if let Some(uri) = &settings.mlflow_tracking_uri.value {
        mlflow_log::check_reachable(uri).with_context(|| format!("MLflow at {uri} (--mlflow) is not usable; nothing was trained"))?;
    }
    let mut data = dataset::load(lake).with_context(|| format!("reading the salary examples from the lake {}", lake.display()))?;
    if let Some(index) = &families {
        for example in &mut data.examples {
            example.facts.occupation = index.family(&example.facts.title);
        }
    }
    let registry = Registry::new(&settings.models_dir.value, "salary");
    let inputs_sha256 = inputs_hash(&data, args, cost_of_living_file.as_deref(), esco_file.as_deref())?;
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
        reference: Reference {
            cost_of_living,
            occupations: families.map(|index| index.occupations().to_vec()).unwrap_or_default(),
        },
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
            "title_families": trained.model.spec.occupations.len(),
            "esco_file": esco_file.as_ref().map(|p| p.display().to_string()),
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
    let stored: Vec<_> = data.examples.iter().map(|e| e.facts.clone()).collect();
    let skill_premiums = premiums::skill_premiums(&trained.model, &stored)?;
    let mut markdown = String::new();
    let version = registry.add(|dir, version| {
        card.version = version.to_string();
        trained.model.save(dir)?;
        markdown = report::markdown(&card, &trained.cv, evaluation.as_ref(), &skill_premiums);
        std::fs::write(dir.join("card.md"), &markdown).map_err(|e| rats::ml::MlError::file(dir.join("card.md"), e))?;
        std::fs::write(dir.join("model.json"), pretty_json(&card)?).map_err(|e| rats::ml::MlError::file(dir.join("model.json"), e))
    })?;
    let mut metadata = serde_json::Map::new();
    metadata.insert("rats.model".into(), format!("salary {version}").into());
    rats::lake::replace_table(
        &lake.join(premiums::TABLE),
        "skill_premiums",
        premiums::batch(&skill_premiums, &version),
        metadata,
    )
    .with_context(|| format!("writing the skill premiums to {}", lake.join(premiums::TABLE).display()))?;
    if let Some(path) = &args.report {
        std::fs::write(path, &markdown).with_context(|| format!("writing the report to {}", path.display()))?;
    }
    let path: PathBuf = registry.path_of(&version);
    let logged = match &settings.mlflow_tracking_uri.value {
        Some(uri) => {
            card.version.clone_from(&version);
            let (params, metrics) = mlflow_record(&card, &trained.cv);
            Some(mlflow_log::log_version(uri, &card, &path, &params, &metrics).with_context(|| {
                format!(
                    "salary {version} is saved in {}, but logging it to MLflow at {uri} failed",
                    path.display()
                )
            })?)
        }
        None => None,
    };
    print(settings, quiet, &trained.cv, evaluation.as_ref(), &version, &path, logged.as_ref())?;
    Ok(Outcome::Success)
}

/// What the version is a function of: the examples, the cost-of-living table, the options and
/// the rats build.
fn inputs_hash(
    data: &dataset::SalaryData,
    args: &TrainSalaryArgs,
    cost_of_living: Option<&std::path::Path>,
    esco: Option<&std::path::Path>,
) -> anyhow::Result<String> {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(data.fingerprint());
    for path in [cost_of_living, esco].into_iter().flatten() {
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

/// The run's parameters and metrics for MLflow: per-fold metrics as steps 1..k, per-dataset
/// metrics under their dataset's name.
fn mlflow_record(card: &ModelCard, cv: &salary::train::CvReport) -> mlflow_log::Record {
    let mut params: Vec<(String, String)> = vec![
        ("seed".into(), card.seed.to_string()),
        ("folds".into(), cv.folds.to_string()),
        ("examples".into(), card.training_data.examples.to_string()),
        ("silver_version".into(), card.training_data.silver_version.to_string()),
        ("lake".into(), card.training_data.lake.clone()),
    ];
    if let Some(booster) = card.parameters["booster"].as_object() {
        params.extend(booster.iter().map(|(k, v)| (format!("booster.{k}"), v.to_string())));
    }
    if let Some(features) = card.features.as_object() {
        params.extend(
            features
                .iter()
                .filter(|(_, v)| v.is_number())
                .map(|(k, v)| (format!("features.{k}"), v.to_string())),
        );
    }
    let mut metrics = Vec::new();
    let mut scores = |prefix: &str, s: &salary::train::Scores, step: i64| {
        metrics.push((format!("{prefix}r2_log"), s.r2_log, step));
        metrics.push((format!("{prefix}mae_usd"), s.mae_usd, step));
        if let Some(c) = s.coverage {
            metrics.push((format!("{prefix}coverage"), c, step));
        }
    };
    scores("cv.", &cv.overall, 0);
    for (i, fold) in cv.per_fold.iter().enumerate() {
        scores("fold.", fold, i as i64 + 1);
    }
    for (name, s) in &cv.per_dataset {
        scores(
            &format!("dataset.{}.", name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")),
            s,
            0,
        );
    }
    metrics.push(("calibration.offset".into(), cv.calibration.offset, 0));
    metrics.push(("calibration.raw_coverage".into(), cv.calibration.raw_coverage, 0));
    (params, metrics)
}

#[allow(clippy::too_many_arguments, reason = "one printer for the report's parts")]
fn print(
    settings: &Settings,
    quiet: bool,
    cv: &salary::train::CvReport,
    evaluation: Option<&evaluate::Evaluation>,
    version: &str,
    path: &std::path::Path,
    logged: Option<&mlflow_log::Logged>,
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
                "mlflow": logged,
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
        if let Some(logged) = logged {
            writeln!(
                out,
                "MLflow {}: run {} in experiment {}, registered as {} version {}",
                logged.tracking_uri, logged.run_id, logged.experiment_id, logged.registered_model, logged.registered_version
            )?;
        }
    }
    Ok(())
}
