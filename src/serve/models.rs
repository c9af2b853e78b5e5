//! The models the server answers with: the registry's production version of each kind (else
//! the newest), loaded at start and loaded again when the registry's choice changes.

use std::path::Path;

use crate::matching::model::{KIND as MATCH_KIND, MatchModel};
use crate::ml::registry::{Chosen, Registry};
use crate::ml::salary::SalaryModel;

use super::ServeError;

pub const SALARY_KIND: &str = "salary";

/// The salary model, shared by every request's thread, with its explanations worked out ahead
/// (a server explains many postings).
pub struct SalaryService {
    pub chosen: Chosen,
    pub model: SalaryModel,
}

impl SalaryService {
    fn load(chosen: Chosen) -> Result<Self, ServeError> {
        let mut model = SalaryModel::load(&chosen.path).map_err(|e| ServeError::Model(format!("salary {}: {e}", chosen.version)))?;
        model.answer_ahead();
        Ok(SalaryService { chosen, model })
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
    /// Loads the registry's choice of each kind.
    pub fn load(models_dir: &Path) -> Result<Self, ServeError> {
        let salary = choose(models_dir, SALARY_KIND)?.map(SalaryService::load).transpose()?;
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
