//! One match training as `rats train match` runs it: the labelled pairs read and embedded, the
//! scorer cross-validated by posting and compared with the baselines on the same data, then
//! fitted on every pair and added to the registry with its card and report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::MatchError;
use super::embed::SentenceEncoder;
use super::eval::{CrossValidated, Evaluation, Prepared};
use super::features::{self, NAMES};
use super::model::{self, KIND};
use super::rjdb;
use super::scorer::Scorer;
use crate::ml::card::{self, ModelCard, TrainingData};
use crate::ml::registry::Registry;
use crate::ml::salary::model::pretty_json;
use crate::skills::Extractor;

pub struct Request {
    /// Labelled pairs in the rjdb layout.
    pub data: PathBuf,
    /// The sentence encoder folder (config.json, tokenizer.json, model.safetensors).
    pub encoder: PathBuf,
    pub models_dir: PathBuf,
    pub folds: usize,
    /// The year "present" means in résumés.
    pub this_year: i32,
    pub force: bool,
}

pub enum Outcome {
    AlreadyTrained { version: String, path: PathBuf },
    Trained(Box<Version>),
}

pub struct Version {
    pub version: String,
    pub path: PathBuf,
    pub card: ModelCard,
    pub cross_validated: Evaluation,
    /// Each fold's held-out postings on their own.
    pub per_fold: Vec<Evaluation>,
    pub baselines: BTreeMap<&'static str, Evaluation>,
    pub scorer: Scorer,
    /// The skills-only fallback, cross-validated the same way.
    pub fallback: Evaluation,
    pub fallback_scorer: Scorer,
    pub markdown: String,
}

/// Trains and registers; `progress` hears one line per step.
pub fn train_version(request: &Request, extractor: &Extractor, progress: &dyn Fn(&str)) -> Result<Outcome, MatchError> {
    let pairs = rjdb::read(&request.data)?;
    let encoder = SentenceEncoder::load(&request.encoder)?;
    let registry = Registry::new(&request.models_dir, KIND);
    let inputs_sha256 = inputs_hash(request, &encoder)?;
    if !request.force
        && let Some(version) = registry.newest_trained_on(&inputs_sha256)?
    {
        return Ok(Outcome::AlreadyTrained {
            path: registry.path_of(&version),
            version,
        });
    }
    progress(&format!(
        "reading and embedding {} postings and {} résumés",
        pairs.len(),
        2 * pairs.len()
    ));
    let prepared = Prepared::new(&pairs, extractor, &encoder, request.this_year)?;
    progress("cross-validating the scorer, and its skills-only fallback");
    let CrossValidated {
        evaluation: cross_validated,
        per_fold,
        scorer,
        examples,
    } = prepared.cross_validate(request.folds, |f| *f);
    let CrossValidated {
        evaluation: fallback,
        scorer: fallback_scorer,
        ..
    } = prepared.cross_validate(request.folds, features::without_semantic);
    progress("scoring the baselines");
    let baselines = prepared.baselines();
    let mut card = ModelCard {
        kind: KIND.into(),
        version: String::new(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        code_version: card::code_version(),
        seed: 0,
        inputs_sha256,
        training_data: TrainingData {
            lake: shown(&request.data),
            silver_version: -1,
            silver_rows: 0,
            examples,
            by_dataset: BTreeMap::from([(file_name(&request.data), pairs.len())]),
            excluded: BTreeMap::new(),
        },
        features: serde_json::json!({
            "names": NAMES,
            "encoder": shown(&request.encoder),
            "encoder_sha256": encoder.id(),
            "encoder_dimensions": encoder.dimensions(),
        }),
        parameters: serde_json::json!({"folds": request.folds, "model": "logistic regression on the features"}),
        metrics: serde_json::json!({"cross_validated": cross_validated, "skills_only_fallback": fallback, "baselines": baselines}),
        artifacts: vec![
            model::SCORER_FILE.into(),
            model::FALLBACK_FILE.into(),
            model::ENCODER_DIR.into(),
            "card.md".into(),
        ],
    };
    let mut markdown = String::new();
    let version = registry.add(|dir, version| {
        card.version = version.to_string();
        model::save(dir, &scorer, &fallback_scorer, &request.encoder).map_err(|e| crate::ml::MlError::Invalid(e.to_string()))?;
        markdown = report(&card, &cross_validated, &fallback, &baselines, &scorer);
        std::fs::write(dir.join("card.md"), &markdown).map_err(|e| crate::ml::MlError::file(dir.join("card.md"), e))?;
        std::fs::write(dir.join("model.json"), pretty_json(&card)?).map_err(|e| crate::ml::MlError::file(dir.join("model.json"), e))
    })?;
    Ok(Outcome::Trained(Box::new(Version {
        path: registry.path_of(&version),
        version,
        card,
        cross_validated,
        per_fold,
        baselines,
        scorer,
        fallback,
        fallback_scorer,
        markdown,
    })))
}

fn shown(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// What the version is a function of: the labelled file, the encoder's weights, the folds and
/// the rats build.
fn inputs_hash(request: &Request, encoder: &SentenceEncoder) -> Result<String, MatchError> {
    let mut hash = Sha256::new();
    hash.update(std::fs::read(&request.data).map_err(|e| MatchError::file(&request.data, e))?);
    hash.update(format!(
        "{}|{}|{}|{}",
        encoder.id(),
        request.folds,
        request.this_year,
        card::code_version()
    ));
    Ok(crate::normalize::hex(&hash.finalize()))
}

/// The run's parameters and metrics for experiment tracking: the cross-validated figures, each
/// fold's as steps 1..k, the baselines' under their names, and the fitted weights.
pub fn tracking_record(version: &Version) -> card::TrackingRecord {
    let card = &version.card;
    let params = vec![
        ("folds".into(), card.parameters["folds"].to_string()),
        ("pairs".into(), version.cross_validated.pairs.to_string()),
        ("examples".into(), card.training_data.examples.to_string()),
        ("data".into(), card.training_data.lake.clone()),
        (
            "encoder_sha256".into(),
            card.features["encoder_sha256"].as_str().unwrap_or_default().to_string(),
        ),
        ("encoder_dimensions".into(), card.features["encoder_dimensions"].to_string()),
    ];
    let mut metrics = Vec::new();
    let mut figures = |prefix: &str, evaluation: &Evaluation, step: i64| {
        for (name, value) in Evaluation::FIGURES.iter().zip(evaluation.figures()) {
            metrics.push((format!("{prefix}{name}"), value, step));
        }
    };
    figures("cv.", &version.cross_validated, 0);
    figures("fallback.", &version.fallback, 0);
    for (i, fold) in version.per_fold.iter().enumerate() {
        figures("fold.", fold, i as i64 + 1);
    }
    for (name, evaluation) in &version.baselines {
        figures(&format!("baseline.{name}."), evaluation, 0);
    }
    for (name, weight) in &version.scorer.weights {
        metrics.push((format!("weight.{name}"), *weight, 0));
    }
    metrics.push(("weight.bias".into(), version.scorer.bias, 0));
    (params, metrics)
}

/// How reports name the skills-only fallback's row.
pub const FALLBACK_ROW: &str = "skills-only fallback (the same, without the encoder's signal)";

/// A table row of an evaluation.
fn row(name: &str, e: &Evaluation) -> String {
    let cells: Vec<String> = e.figures().iter().map(|x| format!("{x:.3}")).collect();
    format!("| {name} | {} |\n", cells.join(" | "))
}

/// The version's report (`card.md`): cross-validated metrics of the scorer and its skills-only
/// fallback beside the baselines, and the weights.
pub fn report(
    card: &ModelCard,
    cv: &Evaluation,
    fallback: &Evaluation,
    baselines: &BTreeMap<&'static str, Evaluation>,
    scorer: &Scorer,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Match model {}\n", card.version);
    let _ = writeln!(
        out,
        "Trained {} by {} on {} labelled postings ({} training pairs) from `{}`; sentence encoder sha256 `{}`.\n",
        card.created_at,
        card.code_version,
        cv.pairs,
        card.training_data.examples,
        card.training_data.lake,
        card.features["encoder_sha256"].as_str().unwrap_or_default()
    );
    out.push_str("| matcher | pairwise accuracy | job→résumé top-1 | top-5 | MRR | résumé→job top-1 | top-5 | MRR |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    out.push_str(&row(
        &format!("learned score ({}-fold CV by posting)", card.parameters["folds"]),
        cv,
    ));
    out.push_str(&row(FALLBACK_ROW, fallback));
    for (name, evaluation) in baselines {
        out.push_str(&row(name, evaluation));
    }
    out.push_str("\nWeights fitted on every pair (logistic regression; the score is 100 × the probability):\n\n");
    out.push_str("| feature | weight |\n|---|---|\n");
    for (name, weight) in &scorer.weights {
        let _ = writeln!(out, "| {name} | {weight:.3} |");
    }
    let _ = writeln!(out, "| (bias) | {:.3} |", scorer.bias);
    out
}
