//! Model cards: `model.json` in every registry version (what `rats models list|show` read and
//! `serve` will publish) — what the model was trained on, how, with which code, and how well it
//! did.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub kind: String,
    pub version: String,
    pub created_at: String,
    /// The rats version and commit that trained it.
    pub code_version: String,
    pub seed: u64,
    /// SHA-256 of everything the model is a function of (examples, options, code version): a
    /// second training on the same inputs is skipped.
    pub inputs_sha256: String,
    pub training_data: TrainingData,
    /// Kind-specific description of the inputs (feature counts, vocabularies' sizes).
    pub features: serde_json::Value,
    pub parameters: serde_json::Value,
    /// Kind-specific headline metrics (cross-validation).
    pub metrics: serde_json::Value,
    /// Files of the version, besides the card.
    pub artifacts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingData {
    pub lake: String,
    pub silver_version: i64,
    pub silver_rows: usize,
    pub examples: usize,
    pub by_dataset: BTreeMap<String, usize>,
    pub excluded: BTreeMap<String, usize>,
}

/// A training run's parameters `(key, value)` and metrics `(key, value, step)`, as experiment
/// tracking records them.
pub type TrackingRecord = (Vec<(String, String)>, Vec<(String, f64, i64)>);

/// The code version recorded in cards: the crate version and the commit it was built from.
pub fn code_version() -> String {
    format!("rats {} ({})", env!("CARGO_PKG_VERSION"), env!("BUILD_COMMIT"))
}
