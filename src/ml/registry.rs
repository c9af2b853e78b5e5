//! The model registry: every trained model is a versioned folder under the models directory
//! (`models/<kind>/v<N>/`: artifacts, `model.json` card, `card.md`, evaluation report), and
//! `models/<kind>/stages.json` records which version is in `production` or `staging` and which
//! are `archived`, with the history of every change (what `rollback` undoes).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::MlError;
use super::card::ModelCard;

/// The stages a version can be in.
pub const STAGES: &[&str] = &["production", "staging", "archived"];

/// A kind's stage assignments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stages {
    /// Version name (`v3`) → stage.
    pub stages: BTreeMap<String, String>,
    /// Every change, oldest first.
    pub history: Vec<StageChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageChange {
    pub at: String,
    pub version: String,
    pub stage: String,
    /// The version that held this stage before (for `production`, what rollback restores).
    pub replaced: Option<String>,
}

/// Which version a command uses, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chosen {
    pub version: String,
    pub path: PathBuf,
    /// `requested`, `production` or `newest (none promoted)`.
    pub because: String,
}

/// One kind of model (`salary`, `match`) in a models directory.
pub struct Registry {
    root: PathBuf,
}

impl Registry {
    pub fn new(models_dir: &Path, kind: &str) -> Self {
        Registry {
            root: models_dir.join(kind),
        }
    }

    /// The versions present, oldest first.
    pub fn versions(&self) -> Result<Vec<String>, MlError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(MlError::file(&self.root, e)),
        };
        let mut numbers: Vec<u32> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("model.json").is_file())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_prefix('v'))
                    .and_then(|n| n.parse().ok())
            })
            .collect();
        numbers.sort_unstable();
        Ok(numbers.into_iter().map(|n| format!("v{n}")).collect())
    }

    pub fn path_of(&self, version: &str) -> PathBuf {
        self.root.join(version)
    }

    /// The newest version, when its card says it was trained on exactly these inputs: what makes
    /// training again on the same data a no-op.
    pub fn newest_trained_on(&self, inputs_sha256: &str) -> Result<Option<String>, MlError> {
        let Some(newest) = self.versions()?.pop() else {
            return Ok(None);
        };
        let card: Option<ModelCard> = fs::read(self.path_of(&newest).join("model.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        Ok(card.filter(|card| card.inputs_sha256 == inputs_sha256).map(|_| newest))
    }

    /// Writes a new version: `write` fills a fresh folder, which then becomes `v<N+1>` in one
    /// rename, so a reader never sees half a model.
    pub fn add(&self, write: impl FnOnce(&Path, &str) -> Result<(), MlError>) -> Result<String, MlError> {
        fs::create_dir_all(&self.root).map_err(|e| MlError::file(&self.root, e))?;
        let next = self
            .versions()?
            .iter()
            .filter_map(|v| v[1..].parse::<u32>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        let version = format!("v{next}");
        let staging = self.root.join(format!(".{version}.partial"));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| MlError::file(&staging, e))?;
        }
        fs::create_dir_all(&staging).map_err(|e| MlError::file(&staging, e))?;
        write(&staging, &version)?;
        let target = self.path_of(&version);
        fs::rename(&staging, &target).map_err(|e| MlError::file(&target, e))?;
        Ok(version)
    }

    pub fn stages(&self) -> Result<Stages, MlError> {
        let path = self.root.join("stages.json");
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| MlError::file(&path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Stages::default()),
            Err(e) => Err(MlError::file(&path, e)),
        }
    }

    fn save_stages(&self, stages: &Stages) -> Result<(), MlError> {
        let path = self.root.join("stages.json");
        let partial = self.root.join(".stages.json.partial");
        let text = serde_json::to_vec_pretty(stages).map_err(|e| MlError::file(&path, e))?;
        fs::write(&partial, text).map_err(|e| MlError::file(&partial, e))?;
        fs::rename(&partial, &path).map_err(|e| MlError::file(&path, e))
    }

    /// Puts `version` in `stage`. Promoting to production archives the version it replaces;
    /// promoting to staging moves the previous staging version back to no stage.
    pub fn promote(&self, version: &str, stage: &str, at: &str) -> Result<StageChange, MlError> {
        if !STAGES.contains(&stage) {
            return Err(MlError::Invalid(format!(
                "unknown stage {stage:?}: use one of {}",
                STAGES.join(", ")
            )));
        }
        if !self.versions()?.iter().any(|v| v == version) {
            return Err(MlError::Invalid(format!("no version {version} in {}", self.root.display())));
        }
        let mut stages = self.stages()?;
        let replaced = if stage == "archived" {
            None
        } else {
            stages
                .stages
                .iter()
                .find(|(v, s)| *s == stage && *v != version)
                .map(|(v, _)| v.clone())
        };
        if let Some(old) = &replaced {
            if stage == "production" {
                stages.stages.insert(old.clone(), "archived".into());
            } else {
                stages.stages.remove(old);
            }
        }
        stages.stages.insert(version.to_string(), stage.to_string());
        let change = StageChange {
            at: at.to_string(),
            version: version.to_string(),
            stage: stage.to_string(),
            replaced,
        };
        stages.history.push(change.clone());
        self.save_stages(&stages)?;
        Ok(change)
    }

    /// Puts back the production version the last promotion to production replaced.
    pub fn rollback(&self, at: &str) -> Result<StageChange, MlError> {
        let stages = self.stages()?;
        let last = stages.history.iter().rev().find(|c| c.stage == "production").ok_or_else(|| {
            MlError::Invalid(format!(
                "nothing to roll back: no version of {} was ever promoted to production",
                self.root.display()
            ))
        })?;
        let previous = last
            .replaced
            .clone()
            .ok_or_else(|| MlError::Invalid(format!("nothing to roll back: {} was the first production version", last.version)))?;
        self.promote(&previous, "production", at)
    }

    /// The version to use: `requested`, else production, else the newest.
    pub fn choose(&self, requested: Option<&str>) -> Result<Chosen, MlError> {
        let versions = self.versions()?;
        let chosen = |version: &str, because: &str| Chosen {
            version: version.to_string(),
            path: self.path_of(version),
            because: because.to_string(),
        };
        if let Some(version) = requested {
            return if versions.iter().any(|v| v == version) {
                Ok(chosen(version, "requested"))
            } else {
                Err(MlError::Invalid(format!(
                    "no version {version} in {}; `rats models list` shows them",
                    self.root.display()
                )))
            };
        }
        let stages = self.stages()?;
        if let Some((version, _)) = stages.stages.iter().find(|(_, s)| *s == "production") {
            return Ok(chosen(version, "production"));
        }
        versions
            .last()
            .map(|v| chosen(v, "newest (none promoted)"))
            .ok_or_else(|| MlError::Invalid(format!("no trained model in {}: run `rats train` first", self.root.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(registry: &Registry) -> String {
        registry
            .add(|dir, _| fs::write(dir.join("model.json"), "{}").map_err(|e| MlError::file(dir, e)))
            .expect("adds")
    }

    #[test]
    fn versions_count_up_and_production_wins_over_newest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let registry = Registry::new(dir.path(), "salary");
        assert!(registry.choose(None).is_err());
        assert_eq!(add(&registry), "v1");
        assert_eq!(add(&registry), "v2");
        assert_eq!(registry.choose(None).expect("chooses").because, "newest (none promoted)");
        registry.promote("v1", "production", "t1").expect("promotes");
        assert_eq!(registry.choose(None).expect("chooses").version, "v1");
        let change = registry.promote("v2", "production", "t2").expect("promotes");
        assert_eq!(change.replaced.as_deref(), Some("v1"));
        assert_eq!(registry.stages().expect("reads").stages["v1"], "archived");
        let back = registry.rollback("t3").expect("rolls back");
        assert_eq!(back.version, "v1");
        assert_eq!(registry.choose(None).expect("chooses").version, "v1");
        assert!(registry.promote("v9", "production", "t4").is_err());
        assert!(registry.promote("v1", "prod", "t4").is_err());
    }
}
