//! `--mlflow URL` (setting `mlflow.tracking_uri`) for the trainings that log to MLflow: the
//! server is checked before training, so a run that could not be logged is not started, and the
//! trained version is logged after.

use std::path::Path;

use anyhow::Context;
use rats::ml::card::{ModelCard, TrackingRecord};
use rats::settings::Settings;
use rats::tracking::log_version::{self, Logged};

pub fn check_before_training(settings: &Settings) -> anyhow::Result<()> {
    if let Some(uri) = &settings.mlflow_tracking_uri.value {
        log_version::check_reachable(uri).with_context(|| format!("MLflow at {uri} (--mlflow) is not usable; nothing was trained"))?;
    }
    Ok(())
}

/// Logs the version saved in `dir` when a tracking server is set; `record` gives the kind's
/// parameters and metrics.
pub fn log_trained(
    settings: &Settings,
    card: &ModelCard,
    dir: &Path,
    record: impl FnOnce() -> TrackingRecord,
) -> anyhow::Result<Option<Logged>> {
    let Some(uri) = &settings.mlflow_tracking_uri.value else {
        return Ok(None);
    };
    let (params, metrics) = record();
    let logged = log_version::log_version(uri, card, dir, &params, &metrics).with_context(|| {
        format!(
            "{} {} is saved in {}, but logging it to MLflow at {uri} failed",
            card.kind,
            card.version,
            dir.display()
        )
    })?;
    Ok(Some(logged))
}
