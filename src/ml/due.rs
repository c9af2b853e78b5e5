//! When the salary model is due for retraining: the newest registry version is old enough and
//! the lake has grown enough since it was trained. This is what lets `rats run` (and
//! `rats train salary --every … --min-new-postings …` from cron) train on a schedule without
//! training every night on a lake that barely moved. A training on unchanged inputs is a
//! no-op anyway (the registry compares input hashes); this decides before the examples are
//! even read.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::MlError;
use super::card::ModelCard;
use super::registry::Registry;

/// `run.retrain_salary` in the settings file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrainPolicy {
    /// At least this long after the newest version was trained: a number and m, h, d or w.
    #[serde(default = "default_every")]
    pub every: String,
    /// And at least this many more silver postings than the newest version was trained on.
    #[serde(default)]
    pub min_new_postings: u64,
    /// Folds of the grouped cross-validation.
    #[serde(default = "default_folds")]
    pub folds: u16,
    /// The stage the new version goes to: `production`, `staging` (a person promotes it after
    /// reading its card) or `none`.
    #[serde(default = "default_promote")]
    pub promote: String,
}

fn default_every() -> String {
    "7d".into()
}

fn default_folds() -> u16 {
    5
}

fn default_promote() -> String {
    "staging".into()
}

impl RetrainPolicy {
    /// Refuses an unreadable `every`, folds outside 2–20, or an unknown stage.
    pub fn validate(&self) -> Result<(), String> {
        crate::duration::parse_age(&self.every)
            .ok_or_else(|| format!("run.retrain_salary.every {:?}: give a number and m, h, d or w", self.every))?;
        if !(2..=20).contains(&self.folds) {
            return Err(format!("run.retrain_salary.folds {}: give 2 to 20", self.folds));
        }
        if !["production", "staging", "none"].contains(&self.promote.as_str()) {
            return Err(format!(
                "run.retrain_salary.promote {:?}: give production, staging or none",
                self.promote
            ));
        }
        Ok(())
    }
}

/// Whether to train now, and why (a sentence for the run's summary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub due: bool,
    pub reason: String,
}

/// The decision for the registry's newest salary version against the lake's silver postings
/// now (`silver_rows`), at `now`.
pub fn decide(
    registry: &Registry,
    every: chrono::Duration,
    min_new_postings: u64,
    silver_rows: usize,
    now: DateTime<Utc>,
) -> Result<Decision, MlError> {
    let Some(newest) = registry.versions()?.pop() else {
        return Ok(Decision {
            due: true,
            reason: "no salary model yet".into(),
        });
    };
    let card_path = registry.path_of(&newest).join("model.json");
    let card: ModelCard = std::fs::read(&card_path)
        .map_err(|e| MlError::file(&card_path, e))
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| MlError::file(&card_path, e)))?;
    let trained_at = DateTime::parse_from_rfc3339(&card.created_at)
        .map_err(|e| MlError::file(&card_path, format!("created_at {:?}: {e}", card.created_at)))?
        .with_timezone(&Utc);
    let age = now - trained_at;
    let new_postings = silver_rows.saturating_sub(card.training_data.silver_rows) as u64;
    let aged = age >= every;
    let grown = new_postings >= min_new_postings;
    let reason = format!(
        "{newest} is {} old (retrain every {}) and the lake has {new_postings} postings more than it was trained on (at least {min_new_postings})",
        human(age),
        human(every)
    );
    Ok(Decision {
        due: aged && grown,
        reason,
    })
}

/// The rows of the lake's silver postings now.
pub fn silver_rows(lake: &Path) -> Result<usize, MlError> {
    let batches = crate::lake::scan_table(&lake.join("silver/postings"), &["posting_key"])?;
    Ok(batches.iter().map(deltalake::arrow::array::RecordBatch::num_rows).sum())
}

/// `3d 4h`, `5h 12m`, `40m`: an age as a person reads it.
fn human(duration: chrono::Duration) -> String {
    let minutes = duration.num_minutes().max(0);
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes}m"),
        (0, _) => format!("{hours}h {minutes}m"),
        _ => format!("{days}d {hours}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::card::TrainingData;

    fn registry_with_version(dir: &Path, created_at: &str, silver_rows: usize) -> Registry {
        let registry = Registry::new(dir, "salary");
        registry
            .add(|folder, version| {
                let card = ModelCard {
                    kind: "salary".into(),
                    version: version.into(),
                    created_at: created_at.into(),
                    code_version: "test".into(),
                    seed: 1,
                    inputs_sha256: String::new(),
                    training_data: TrainingData {
                        lake: "lake".into(),
                        silver_version: 3,
                        silver_rows,
                        examples: 0,
                        by_dataset: std::collections::BTreeMap::default(),
                        excluded: std::collections::BTreeMap::default(),
                    },
                    features: serde_json::Value::Null,
                    parameters: serde_json::Value::Null,
                    metrics: serde_json::Value::Null,
                    artifacts: Vec::new(),
                };
                std::fs::write(folder.join("model.json"), serde_json::to_vec(&card).expect("card")).map_err(|e| MlError::file(folder, e))
            })
            .expect("add");
        registry
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("time").with_timezone(&Utc)
    }

    #[test]
    fn no_model_is_due_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let decision = decide(&Registry::new(dir.path(), "salary"), chrono::Duration::days(7), 1000, 0, Utc::now()).expect("decides");
        assert!(decision.due, "{decision:?}");
    }

    #[test]
    fn a_model_is_due_when_both_old_enough_and_the_lake_grew_enough() {
        let dir = tempfile::tempdir().expect("tempdir");
        let registry = registry_with_version(dir.path(), "2026-11-01T08:00:00Z", 10_000);
        let week = chrono::Duration::days(7);
        let decide_at = |now: &str, rows: usize| decide(&registry, week, 500, rows, at(now)).expect("decides");
        let young = decide_at("2026-11-05T08:00:00Z", 20_000);
        assert!(!young.due, "{young:?}");
        assert!(young.reason.contains("v1 is 4d 0h old"), "{}", young.reason);
        let unchanged = decide_at("2026-11-20T08:00:00Z", 10_499);
        assert!(!unchanged.due, "{unchanged:?}");
        assert!(unchanged.reason.contains("499 postings more"), "{}", unchanged.reason);
        assert!(decide_at("2026-11-08T08:00:00Z", 10_500).due);
    }

    #[test]
    fn policies_with_unreadable_values_are_refused() {
        let policy = |every: &str, folds: u16, promote: &str| RetrainPolicy {
            every: every.into(),
            min_new_postings: 0,
            folds,
            promote: promote.into(),
        };
        assert!(policy("7d", 5, "staging").validate().is_ok());
        assert!(policy("weekly", 5, "staging").validate().is_err());
        assert!(policy("7d", 1, "staging").validate().is_err());
        assert!(policy("7d", 5, "prod").validate().is_err());
    }
}
