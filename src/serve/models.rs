//! The models the server answers with: the registry's production version of each kind (else
//! the newest), loaded at start and loaded again when the registry's choice changes.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::matching::model::{KIND as MATCH_KIND, MatchModel};
use crate::ml::registry::{Chosen, Registry};
use crate::ml::salary::SalaryModel;

use super::ServeError;

pub const SALARY_KIND: &str = "salary";

/// The salary model, once per core: an XGBoost booster is not shared between threads at
/// once, so each prediction borrows a free copy.
pub struct SalaryService {
    pub chosen: Chosen,
    copies: Vec<Mutex<SalaryModel>>,
    next: AtomicUsize,
}

impl SalaryService {
    fn load(chosen: Chosen, copies: usize) -> Result<Self, ServeError> {
        let copies = (0..copies.max(1))
            .map(|_| SalaryModel::load(&chosen.path).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ServeError::Model(format!("salary {}: {e}", chosen.version)))?;
        Ok(SalaryService {
            chosen,
            copies,
            next: AtomicUsize::new(0),
        })
    }

    /// A copy of the model nobody is using, else the next one in turn (waiting for it).
    pub fn borrow(&self) -> MutexGuard<'_, SalaryModel> {
        for copy in &self.copies {
            if let Ok(model) = copy.try_lock() {
                return model;
            }
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.copies.len();
        self.copies[turn].lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub struct MatchService {
    pub chosen: Chosen,
    pub model: MatchModel,
}

/// The models in use; a kind the registry holds no version of is `None` (its routes answer
/// 503 and say how to train one).
pub struct Models {
    pub salary: Option<SalaryService>,
    pub matching: Option<MatchService>,
}

/// The versions the registry chooses now, `(salary, match)`: what decides whether to reload.
pub fn chosen_versions(models_dir: &Path) -> Result<(Option<String>, Option<String>), ServeError> {
    Ok((
        choose(models_dir, SALARY_KIND)?.map(|c| c.version),
        choose(models_dir, MATCH_KIND)?.map(|c| c.version),
    ))
}

fn choose(models_dir: &Path, kind: &str) -> Result<Option<Chosen>, ServeError> {
    let registry = Registry::new(models_dir, kind);
    let model_error = |e: crate::ml::MlError| ServeError::Model(format!("{kind}: {e}"));
    if registry.versions().map_err(model_error)?.is_empty() {
        return Ok(None);
    }
    registry.choose(None).map(Some).map_err(model_error)
}

impl Models {
    /// Loads the registry's choice of each kind; `salary_copies` boosters for parallel
    /// predictions.
    pub fn load(models_dir: &Path, salary_copies: usize) -> Result<Self, ServeError> {
        let salary = choose(models_dir, SALARY_KIND)?
            .map(|chosen| SalaryService::load(chosen, salary_copies))
            .transpose()?;
        let matching = choose(models_dir, MATCH_KIND)?
            .map(|chosen| {
                MatchModel::load(&chosen.path)
                    .map(|model| MatchService {
                        chosen: chosen.clone(),
                        model,
                    })
                    .map_err(|e| ServeError::Model(format!("match {}: {e}", chosen.version)))
            })
            .transpose()?;
        Ok(Models { salary, matching })
    }

    pub fn versions(&self) -> (Option<String>, Option<String>) {
        (
            self.salary.as_ref().map(|s| s.chosen.version.clone()),
            self.matching.as_ref().map(|m| m.chosen.version.clone()),
        )
    }

    /// `(kind, version)` of each model in use.
    pub fn in_use(&self) -> Vec<(String, String)> {
        let (salary, matching) = self.versions();
        [(SALARY_KIND, salary), (MATCH_KIND, matching)]
            .into_iter()
            .filter_map(|(kind, version)| Some((kind.to_string(), version?)))
            .collect()
    }
}
