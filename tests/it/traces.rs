//! `rats serve --otlp-endpoint` against a real OTLP/HTTP receiver: the MLflow tracking server's
//! `POST /v1/traces` (MLflow 3.17.2, started by `scripts/mlflow up` as `scripts/test` does),
//! which files the spans under the experiment named by the `x-mlflow-experiment-id` header.
//! The spans are read back through MLflow's trace API.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::mlflow::server as mlflow;
use crate::serve::{Server, private_copy};
use crate::support::{rats, run, stderr};

/// The caller's span id in the `traceparent` the test sends, and the same eight bytes
/// (01 02 … 08) as MLflow writes ids: base64.
const CALLERS_SPAN: &str = "0102030405060708";
const CALLERS_SPAN_BASE64: &str = "AQIDBAUGBwg=";

fn new_experiment() -> String {
    let name = format!(
        "rats-traces-{}",
        SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_nanos()
    );
    let created: Value = reqwest::blocking::Client::new()
        .post(format!("{}/api/2.0/mlflow/experiments/create", mlflow()))
        .json(&json!({"name": name}))
        .send()
        .unwrap_or_else(|e| panic!("MLflow at {} does not answer ({e}); start it with scripts/mlflow up", mlflow()))
        .json()
        .expect("JSON");
    created["experiment_id"].as_str().expect("an experiment id").to_string()
}

/// The spans MLflow holds for the trace, once `wanted` are all among them (spans arrive in
/// batches, each at most a second after it ends).
/// The spans MLflow holds of trace `id` so far; `None` while it does not know the trace.
fn trace_spans(id: &str) -> Option<Vec<Value>> {
    let response = reqwest::blocking::Client::new()
        .get(format!("{}/api/3.0/mlflow/traces/get", mlflow()))
        .query(&[("trace_id", id), ("allow_partial", "true")])
        .send()
        .expect("MLflow answers");
    if !response.status().is_success() {
        return None;
    }
    let body: Value = response.json().expect("JSON");
    Some(body["trace"]["spans"].as_array().cloned().unwrap_or_default())
}

fn spans_of_trace(trace_id: &str, wanted: &[&str]) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let spans = trace_spans(&format!("tr-{trace_id}")).unwrap_or_default();
        let names: Vec<&str> = spans.iter().filter_map(|s| s["name"].as_str()).collect();
        if wanted.iter().all(|w| names.contains(w)) {
            return spans;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "after 30 s MLflow holds {names:?} of trace {trace_id}, not all of {wanted:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn named<'a>(spans: &'a [Value], name: &str) -> &'a Value {
    spans.iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("no {name} span"))
}

fn attribute(span: &Value, key: &str) -> Option<String> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| a["value"].to_string())
}

#[test]
fn a_request_is_traced_with_its_database_call_and_model_inference_in_the_callers_trace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let experiment = new_experiment();
    let endpoint = format!("{}/v1/traces", mlflow());
    let header = format!("x-mlflow-experiment-id={experiment}");
    let server = Server::start(
        dir.path(),
        &lake,
        &models,
        &["--otlp-endpoint", &endpoint, "--otlp-header", &header],
    );
    let trace_id = format!("{:032x}", SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_nanos());
    let answer = Server::answer(
        server
            .client
            .post(format!("{}/v1/predict/salary", server.base))
            .header("traceparent", format!("00-{trace_id}-{CALLERS_SPAN}-01"))
            .json(&json!({"title": "Senior Data Engineer", "location": "Austin, TX", "skills": ["python", "sql"]})),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);

    let root_name = "POST /v1/predict/salary";
    let spans = spans_of_trace(&trace_id, &[root_name, "db.user_of_key", "salary.predict"]);
    let root = named(&spans, root_name);
    assert_eq!(
        root["parent_span_id"], CALLERS_SPAN_BASE64,
        "the caller's span is the parent: {root}"
    );
    assert!(
        attribute(root, "http.response.status_code").is_some_and(|v| v.contains("200")),
        "{root}"
    );
    assert!(
        attribute(root, "http.route").is_some_and(|v| v.contains("/v1/predict/salary")),
        "{root}"
    );
    for child in ["db.user_of_key", "salary.predict"] {
        let span = named(&spans, child);
        assert_eq!(span["parent_span_id"], root["span_id"], "{child} is inside the request: {span}");
    }
    let predict = named(&spans, "salary.predict");
    assert!(attribute(predict, "model.version").is_some_and(|v| v.contains("v1")), "{predict}");
    assert!(
        attribute(named(&spans, "db.user_of_key"), "db.system").is_some_and(|v| v.contains("sqlite")),
        "{spans:?}"
    );

    // Loading the models and reading the lake happen outside requests: traces of their own.
    let started = Instant::now();
    let mut names = Vec::new();
    while !(names.iter().any(|n| n == "lake.read") && names.iter().any(|n| n == "models.load")) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "experiment {experiment} holds {names:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
        names = span_names_in(&experiment);
    }
    let log = server.log();
    assert!(!log.contains("sending spans failed"), "{log}");
}

/// The names of every span of every trace MLflow files under `experiment`.
fn span_names_in(experiment: &str) -> Vec<String> {
    let found: Value = reqwest::blocking::Client::new()
        .post(format!("{}/api/3.0/mlflow/traces/search", mlflow()))
        .json(&json!({"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment}}]}))
        .send()
        .expect("MLflow answers")
        .json()
        .expect("JSON");
    let ids: Vec<String> = found["traces"]
        .as_array()
        .map(|traces| traces.iter().filter_map(|t| t["trace_id"].as_str().map(String::from)).collect())
        .unwrap_or_default();
    ids.iter()
        .flat_map(|id| trace_spans(id).unwrap_or_else(|| panic!("MLflow lists trace {id} but does not give it")))
        .filter_map(|span| span["name"].as_str().map(String::from))
        .collect()
}

#[test]
fn malformed_trace_settings_are_refused_before_the_server_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_http = run(rats(dir.path()).args(["serve", "--otlp-endpoint", "ftp://127.0.0.1/v1/traces"]));
    assert_eq!(not_http.status.code(), Some(2));
    assert!(stderr(&not_http).contains("--otlp-endpoint"), "{}", stderr(&not_http));
    let bad_header = run(rats(dir.path()).args([
        "serve",
        "--otlp-endpoint",
        "http://127.0.0.1:4318/v1/traces",
        "--otlp-header",
        "no equals sign",
    ]));
    assert_eq!(bad_header.status.code(), Some(2));
    assert!(stderr(&bad_header).contains("--otlp-header"), "{}", stderr(&bad_header));
}
