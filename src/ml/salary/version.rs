//! One salary training as `rats train salary` runs it: reference data, examples with their
//! title families, the no-op check against the newest version's inputs, cross-validation (and
//! the evaluation), the new registry version with its card and report, and the lake's skill
//! premiums.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::evaluate::{self, Evaluation};
use super::model::{self, pretty_json};
use super::train::{CvReport, TrainOptions};
use super::{QUANTILES, premiums, report};
use crate::ml::MlError;
use crate::ml::card::{self, ModelCard, TrainingData};
use crate::ml::dataset::{self, SalaryData};
use crate::ml::features::{self, FeatureOptions, Reference};
use crate::ml::occupation::OccupationIndex;
use crate::ml::registry::Registry;

/// What to train on and how.
pub struct Request {
    pub lake: PathBuf,
    pub models_dir: PathBuf,
    pub folds: usize,
    pub seed: u64,
    /// Also run the baselines, ablations and leave-one-dataset-out.
    pub evaluate: bool,
    /// The metro cost-of-living CSV, and ESCO's occupations; without them, no such features.
    pub cost_of_living: Option<PathBuf>,
    pub esco: Option<PathBuf>,
    /// Train even when the newest version has the same inputs.
    pub force: bool,
}

pub enum Outcome {
    /// The newest version was trained on the same inputs; nothing was done.
    AlreadyTrained {
        version: String,
        path: PathBuf,
    },
    Trained(Box<Version>),
}

/// A new registry version.
pub struct Version {
    pub version: String,
    pub path: PathBuf,
    pub card: ModelCard,
    pub cv: CvReport,
    pub evaluation: Option<Evaluation>,
    /// The report (`card.md`).
    pub markdown: String,
}

/// Trains, registers and writes the premiums; `progress` hears one line per step.
pub fn train_version(request: &Request, progress: &dyn Fn(&str)) -> Result<Outcome, MlError> {
    let cost_of_living = match &request.cost_of_living {
        Some(path) => features::read_cost_of_living(path)?,
        None => Vec::new(),
    };
    let families = request.esco.as_deref().map(OccupationIndex::from_esco_csv).transpose()?;
    let mut data = dataset::load(&request.lake)?;
    if let Some(index) = &families {
        progress("mapping titles to their families");
        for example in &mut data.examples {
            example.facts.occupation = index.family(&example.facts.title);
        }
    }
    let registry = Registry::new(&request.models_dir, "salary");
    let inputs_sha256 = inputs_hash(&data, request)?;
    if !request.force
        && let Some(version) = registry.newest_trained_on(&inputs_sha256)?
    {
        return Ok(Outcome::AlreadyTrained {
            path: registry.path_of(&version),
            version,
        });
    }
    let options = TrainOptions {
        folds: request.folds,
        seed: request.seed,
        features: FeatureOptions::default(),
        reference: Reference {
            cost_of_living,
            occupations: families.map(|index| index.occupations().to_vec()).unwrap_or_default(),
        },
    };
    let mut trained = super::train(&data, &options, progress)?;
    let evaluation = if request.evaluate {
        Some(evaluate::evaluate(&data, &options, &trained, progress)?)
    } else {
        None
    };
    let mut card = card_of(request, &data, &trained, inputs_sha256);
    progress("skill premiums: explaining the postings that ask for a modelled skill");
    trained.model.answer_ahead();
    let skill_premiums = premiums::skill_premiums(&trained.model, data.examples.iter().map(|e| &e.facts))?;
    let mut markdown = String::new();
    let version = registry.add(|dir, version| {
        card.version = version.to_string();
        trained.model.save(dir)?;
        markdown = report::markdown(&card, &trained.cv, evaluation.as_ref(), &skill_premiums);
        std::fs::write(dir.join("card.md"), &markdown).map_err(|e| MlError::file(dir.join("card.md"), e))?;
        std::fs::write(dir.join("model.json"), pretty_json(&card)?).map_err(|e| MlError::file(dir.join("model.json"), e))
    })?;
    let mut metadata = serde_json::Map::new();
    metadata.insert("rats.model".into(), format!("salary {version}").into());
    crate::lake::replace_table(
        &request.lake.join(premiums::TABLE),
        "skill_premiums",
        premiums::batch(&skill_premiums, &version),
        metadata,
    )?;
    Ok(Outcome::Trained(Box::new(Version {
        path: registry.path_of(&version),
        version,
        card,
        cv: trained.cv,
        evaluation,
        markdown,
    })))
}

fn card_of(request: &Request, data: &SalaryData, trained: &super::Trained, inputs_sha256: String) -> ModelCard {
    let spec = &trained.model.spec;
    let mut by_dataset = BTreeMap::new();
    for example in &data.examples {
        *by_dataset.entry(example.dataset.clone()).or_insert(0usize) += 1;
    }
    let shown = |path: &Option<PathBuf>| path.as_ref().map(|p| p.display().to_string());
    ModelCard {
        kind: "salary".into(),
        version: String::new(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        code_version: card::code_version(),
        seed: request.seed,
        inputs_sha256,
        training_data: TrainingData {
            lake: std::fs::canonicalize(&request.lake)
                .unwrap_or_else(|_| request.lake.clone())
                .display()
                .to_string(),
            silver_version: data.silver_version,
            silver_rows: data.silver_rows,
            examples: data.examples.len(),
            by_dataset,
            excluded: data.excluded.clone(),
        },
        features: serde_json::json!({
            "columns": spec.width(),
            "title_words": spec.title_words.len(),
            "skills": spec.skills.len(),
            "text_buckets": spec.options.text_buckets,
            "cost_of_living_metros": spec.cost_of_living.len(),
            "cost_of_living_file": shown(&request.cost_of_living),
            "title_families": spec.occupations.len(),
            "esco_file": shown(&request.esco),
            "target": "ln of the midpoint of the yearly pay range in US dollars",
        }),
        parameters: serde_json::json!({
            "booster": trained.cv.chosen,
            "interval_booster": super::train::INTERVAL_PARAMS,
            "quantiles": QUANTILES,
            "folds": request.folds,
        }),
        metrics: serde_json::to_value(&trained.cv).unwrap_or_default(),
        artifacts: [
            model::MEAN_FILE,
            model::QUANTILE_FILE,
            model::FEATURES_FILE,
            model::CALIBRATION_FILE,
            "card.md",
        ]
        .map(String::from)
        .to_vec(),
    }
}

/// What the version is a function of: the examples (with their families), the reference files,
/// the options and the rats build.
fn inputs_hash(data: &SalaryData, request: &Request) -> Result<String, MlError> {
    let mut hash = Sha256::new();
    hash.update(data.fingerprint());
    for path in [&request.cost_of_living, &request.esco].into_iter().flatten() {
        hash.update(std::fs::read(path).map_err(|e| MlError::file(path, e))?);
    }
    hash.update(format!(
        "{}|{}|{}|{}|{:?}",
        card::code_version(),
        request.seed,
        request.folds,
        request.evaluate,
        FeatureOptions::default()
    ));
    Ok(crate::normalize::hex(&hash.finalize()))
}

/// The run's parameters and metrics for experiment tracking: per-fold metrics as steps 1..k,
/// per-dataset metrics under their dataset's name.
pub fn tracking_record(card: &ModelCard, cv: &CvReport) -> card::TrackingRecord {
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
    let mut scores = |prefix: &str, s: &super::train::Scores, step: i64| {
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
