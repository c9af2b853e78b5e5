//! Logging a trained version to MLflow (`--mlflow URL`): one run per version with its
//! parameters, per-fold and per-dataset metrics and files, registered as a model version.

use std::path::Path;

use super::mlflow::{Mlflow, MlflowError};
use crate::ml::card::ModelCard;

/// What MLflow recorded.
#[derive(Debug, serde::Serialize)]
pub struct Logged {
    pub tracking_uri: String,
    pub experiment_id: String,
    pub run_id: String,
    pub registered_model: String,
    pub registered_version: String,
}

/// The line a training prints under its table.
impl std::fmt::Display for Logged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MLflow {}: run {} in experiment {}, registered as {} version {}",
            self.tracking_uri, self.run_id, self.experiment_id, self.registered_model, self.registered_version
        )
    }
}

/// The experiment every rats training run goes to, and the registered model name of a kind.
const EXPERIMENT: &str = "rats";

/// Fails unless the server answers and the experiment exists or can be created, so a
/// training run that could not be logged is not started.
pub fn check_reachable(uri: &str) -> Result<(), MlflowError> {
    Mlflow::new(uri)?.experiment(EXPERIMENT).map(|_| ())
}

/// Logs the version at `dir` described by `card`; `params` and `metrics` are the kind's own.
pub fn log_version(
    uri: &str,
    card: &ModelCard,
    dir: &Path,
    params: &[(String, String)],
    metrics: &[(String, f64, i64)],
) -> Result<Logged, MlflowError> {
    let mlflow = Mlflow::new(uri)?;
    let experiment_id = mlflow.experiment(EXPERIMENT)?;
    let run = mlflow.start_run(
        &experiment_id,
        &format!("{} {}", card.kind, card.version),
        &[
            ("rats.kind", card.kind.clone()),
            ("rats.version", card.version.clone()),
            ("rats.code_version", card.code_version.clone()),
            ("rats.inputs_sha256", card.inputs_sha256.clone()),
        ],
    )?;
    let outcome = (|| {
        mlflow.log(&run, params, metrics)?;
        mlflow.log_artifacts(&run, dir, "model")?;
        let name = format!("rats-{}", card.kind);
        let version = mlflow.register(&name, &run, "model", &format!("rats {} {}", card.kind, card.version))?;
        Ok((name, version))
    })();
    mlflow.finish_run(&run, if outcome.is_ok() { "FINISHED" } else { "FAILED" })?;
    let (registered_model, registered_version) = outcome?;
    Ok(Logged {
        tracking_uri: uri.to_string(),
        experiment_id,
        run_id: run.run_id,
        registered_model,
        registered_version,
    })
}
