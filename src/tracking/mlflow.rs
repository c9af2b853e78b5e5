//! A small MLflow REST client: experiments, runs (parameters, metrics, tags), artifacts through
//! the server's artifact proxy (`mlflow-artifacts:/`), and model registration. Only what
//! `rats train` logs; every error names the endpoint and MLflow's own error code and message.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum MlflowError {
    #[error("MLflow tracking URI {uri:?} is not a URL: {message}")]
    Uri { uri: String, message: String },
    #[error("MLflow {endpoint}: {message}")]
    Call { endpoint: String, message: String },
    #[error("MLflow artifact {path}: {message}")]
    Artifact { path: String, message: String },
}

pub struct Mlflow {
    base: String,
    http: reqwest::blocking::Client,
}

/// A started run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub run_id: String,
    pub experiment_id: String,
    pub artifact_uri: String,
}

impl Mlflow {
    pub fn new(uri: &str) -> Result<Self, MlflowError> {
        let parsed = url::Url::parse(uri).map_err(|e| MlflowError::Uri {
            uri: uri.to_string(),
            message: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(MlflowError::Uri {
                uri: uri.to_string(),
                message: "only http and https tracking servers are supported".into(),
            });
        }
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_mins(1))
            .build()
            .map_err(|e| MlflowError::Uri {
                uri: uri.to_string(),
                message: e.to_string(),
            })?;
        Ok(Mlflow {
            base: uri.trim_end_matches('/').to_string(),
            http,
        })
    }

    fn call(&self, endpoint: &str, request: reqwest::blocking::RequestBuilder) -> Result<Value, MlflowError> {
        let failed = |message: String| MlflowError::Call {
            endpoint: endpoint.to_string(),
            message,
        };
        let response = request.send().map_err(|e| failed(format!("no answer from {}: {e}", self.base)))?;
        let status = response.status();
        let body: Value = response.json().unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        let code = body["error_code"].as_str().unwrap_or("");
        let message = body["message"].as_str().unwrap_or("");
        Err(failed(format!("{status} {code} {message}").trim().to_string()))
    }

    fn post(&self, endpoint: &str, body: &Value) -> Result<Value, MlflowError> {
        self.call(
            endpoint,
            self.http.post(format!("{}/api/2.0/mlflow/{endpoint}", self.base)).json(body),
        )
    }

    fn get(&self, endpoint: &str, query: &[(&str, &str)]) -> Result<Value, MlflowError> {
        self.call(
            endpoint,
            self.http.get(format!("{}/api/2.0/mlflow/{endpoint}", self.base)).query(query),
        )
    }

    /// The experiment called `name`, created when missing.
    pub fn experiment(&self, name: &str) -> Result<String, MlflowError> {
        match self.get("experiments/get-by-name", &[("experiment_name", name)]) {
            Ok(found) => Ok(found["experiment"]["experiment_id"].as_str().unwrap_or_default().to_string()),
            Err(MlflowError::Call { message, .. }) if message.contains("RESOURCE_DOES_NOT_EXIST") => {
                let created = self.post("experiments/create", &json!({ "name": name }))?;
                Ok(created["experiment_id"].as_str().unwrap_or_default().to_string())
            }
            Err(other) => Err(other),
        }
    }

    pub fn start_run(&self, experiment_id: &str, run_name: &str, tags: &[(&str, String)]) -> Result<Run, MlflowError> {
        let tags: Vec<Value> = tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect();
        let started = self.post(
            "runs/create",
            &json!({"experiment_id": experiment_id, "run_name": run_name, "start_time": now_ms(), "tags": tags}),
        )?;
        let info = &started["run"]["info"];
        Ok(Run {
            run_id: info["run_id"].as_str().unwrap_or_default().to_string(),
            experiment_id: experiment_id.to_string(),
            artifact_uri: info["artifact_uri"].as_str().unwrap_or_default().to_string(),
        })
    }

    /// Logs parameters and metrics (`(key, value, step)`), in batches of MLflow's limits.
    pub fn log(&self, run: &Run, params: &[(String, String)], metrics: &[(String, f64, i64)]) -> Result<(), MlflowError> {
        let timestamp = now_ms();
        for chunk in params.chunks(100) {
            let params: Vec<Value> = chunk.iter().map(|(k, v)| json!({"key": k, "value": v})).collect();
            self.post("runs/log-batch", &json!({"run_id": run.run_id, "params": params}))?;
        }
        for chunk in metrics.chunks(1000) {
            let metrics: Vec<Value> = chunk
                .iter()
                .map(|(k, v, step)| json!({"key": k, "value": v, "timestamp": timestamp, "step": step}))
                .collect();
            self.post("runs/log-batch", &json!({"run_id": run.run_id, "metrics": metrics}))?;
        }
        Ok(())
    }

    /// Uploads every file of `dir` under `artifact_path` of the run, through the server's
    /// artifact proxy.
    pub fn log_artifacts(&self, run: &Run, dir: &Path, artifact_path: &str) -> Result<(), MlflowError> {
        let Some(root) = run.artifact_uri.strip_prefix("mlflow-artifacts:") else {
            return Err(MlflowError::Artifact {
                path: run.artifact_uri.clone(),
                message: "the run's artifacts are not served by the tracking server; start `mlflow server` with artifact serving on (its default) and --artifacts-destination".into(),
            });
        };
        let root = root.trim_start_matches('/');
        let entries = std::fs::read_dir(dir).map_err(|e| MlflowError::Artifact {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        let mut files: Vec<std::path::PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect();
        files.sort();
        for file in files {
            let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            let bytes = std::fs::read(&file).map_err(|e| MlflowError::Artifact {
                path: file.display().to_string(),
                message: e.to_string(),
            })?;
            let url = format!("{}/api/2.0/mlflow-artifacts/artifacts/{root}/{artifact_path}/{name}", self.base);
            self.call(
                &format!("mlflow-artifacts PUT {artifact_path}/{name}"),
                self.http.put(url).body(bytes),
            )?;
        }
        Ok(())
    }

    pub fn finish_run(&self, run: &Run, status: &str) -> Result<(), MlflowError> {
        self.post(
            "runs/update",
            &json!({"run_id": run.run_id, "status": status, "end_time": now_ms()}),
        )?;
        Ok(())
    }

    /// Registers the run's `artifact_path` as a new version of model `name` (created when
    /// missing); returns the version number.
    pub fn register(&self, name: &str, run: &Run, artifact_path: &str, description: &str) -> Result<String, MlflowError> {
        match self.post("registered-models/create", &json!({"name": name})) {
            Ok(_) => {}
            Err(MlflowError::Call { message, .. }) if message.contains("RESOURCE_ALREADY_EXISTS") => {}
            Err(other) => return Err(other),
        }
        let created = self.post(
            "model-versions/create",
            &json!({
                "name": name,
                "source": format!("{}/{artifact_path}", run.artifact_uri),
                "run_id": run.run_id,
                "description": description,
            }),
        )?;
        Ok(created["model_version"]["version"].as_str().unwrap_or_default().to_string())
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
