//! Experiment tracking: training runs logged to an MLflow tracking server through its REST API.

pub mod log_version;
pub mod mlflow;
