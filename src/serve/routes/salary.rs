//! `POST /v1/predict/salary`: one posting, or a batch of up to [`MAX_BATCH`], through the
//! salary model in use — estimate, calibrated 80 % interval, currency and what drives it.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ml::facts::PostingFacts;
use crate::ml::salary::query::{SalaryQuery, facts_of_query};
use crate::normalize::title::Seniority;

use super::super::extract::{ApiJson, ApiQuery};
use super::super::observe::CacheHit;
use super::super::problem::{Problem, internal};
use super::super::state::AppState;
use crate::serve::blocking::in_current_span;

pub const MAX_BATCH: usize = 1_000;
/// How long a prediction is answered from the cache (the model version is part of its key).
pub const PREDICTION_TTL: std::time::Duration = std::time::Duration::from_mins(10);
/// Requests whose answers the prediction cache holds at most.
pub const PREDICTION_CACHE_ENTRIES: usize = 10_000;
/// Requests larger than this are answered afresh each time.
const MAX_CACHED_KEY_BYTES: usize = 16 * 1024;
/// Work arrangements a posting can state.
pub const REMOTE_TYPES: [&str; 3] = ["remote", "hybrid", "on-site"];

/// A posting described by the caller. Stated pay is never an input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalaryPosting {
    pub title: String,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Taxonomy skill ids or names, besides those found in the title and description.
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default)]
    pub seniority: Option<String>,
    #[serde(default)]
    pub years_experience: Option<u8>,
    #[serde(default)]
    pub remote: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    postings: Vec<SalaryPosting>,
}

#[derive(Debug, Deserialize)]
pub struct PredictOptions {
    /// Contributions listed per estimate (default 5); 0 answers without explaining, faster.
    #[serde(default)]
    top: Option<usize>,
}

/// Answers one posting or a batch; the same request to the same model version within
/// [`PREDICTION_TTL`] is answered from the prediction cache (this process', else the one
/// replicas share through Redis).
pub async fn predict(
    State(state): State<Arc<AppState>>,
    ApiQuery(options): ApiQuery<PredictOptions>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, Problem> {
    let top = options.top.unwrap_or(5);
    let version = state.models().and_then(|m| m.salary.as_ref().map(|s| s.chosen.version.clone()));
    // The body as parsed (keys in one order), so spacing and key order do not split entries;
    // large batches are not kept (they would crowd out the single postings people repeat).
    let key = version
        .map(|version| format!("{version}|{top}|{body}"))
        .filter(|key| key.len() <= MAX_CACHED_KEY_BYTES);
    let Some(key) = key else {
        return Ok(answer(&predict_fresh(&state, top, body).await?, false));
    };
    if let Some(cached) = state.predictions.get(&key) {
        state.metrics.cache_lookup("predictions", true);
        return Ok(answer(&cached, true));
    }
    let shared_key = format!("prediction|{key}");
    if let Some(value) = state
        .shared_cache
        .get(&shared_key)
        .await
        .and_then(|b| serde_json::from_slice(&b).ok())
    {
        state.metrics.cache_lookup("predictions", true);
        state.metrics.shared_hit("predictions");
        return Ok(answer(&state.predictions.put(key, value), true));
    }
    let value = predict_fresh(&state, top, body).await?;
    state.metrics.cache_lookup("predictions", false);
    if let Ok(bytes) = serde_json::to_vec(&value) {
        state.shared_cache.put(&shared_key, &bytes, PREDICTION_TTL).await;
    }
    state.predictions.put(key, value.clone());
    Ok(answer(&value, false))
}

fn answer(value: &Value, hit: bool) -> Response {
    let mut response = Json(value).into_response();
    response.extensions_mut().insert(CacheHit(hit));
    response
}

async fn predict_fresh(state: &Arc<AppState>, top: usize, body: Value) -> Result<Value, Problem> {
    let batch = body.get("postings").is_some();
    let postings = if batch {
        let batch: Batch = from_value(body)?;
        if batch.postings.is_empty() || batch.postings.len() > MAX_BATCH {
            return Err(Problem::invalid("postings", format!("give 1 to {MAX_BATCH} postings")));
        }
        batch.postings
    } else {
        vec![from_value(body)?]
    };
    let facts = postings
        .iter()
        .enumerate()
        .map(|(i, posting)| facts_of(state, posting).map_err(|p| within_batch(p, batch.then_some(i))))
        .collect::<Result<Vec<_>, _>>()?;
    // One posting takes about a millisecond of CPU or less (BENCHMARKS.md), so it is estimated
    // on the request's own thread: handing it to the blocking pool and back cost two thread
    // switches per request. A batch (up to 1,000 postings) goes to the blocking pool.
    let answer = if batch {
        let worker = state.clone();
        in_current_span(move || estimate(&worker, &facts, top))
            .await
            .map_err(|e| internal("predicting", &e))??
    } else {
        estimate(state, &facts, top)?
    };
    state.metrics.predicted(postings.len());
    Ok(if batch {
        json!({"model": answer.0, "predictions": answer.1})
    } else {
        let mut one = answer.1.into_iter().next().unwrap_or_default();
        one["model"] = answer.0;
        one
    })
}

/// A JSON value into `T`, naming the field at fault.
fn from_value<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Problem> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        Problem::invalid(path, e.into_inner().to_string())
    })
}

fn within_batch(mut problem: Problem, index: Option<usize>) -> Problem {
    if let (Some(i), Some(field)) = (index, &problem.field) {
        problem.field = Some(format!("postings[{i}].{field}"));
    }
    problem
}

pub fn facts_of(state: &AppState, posting: &SalaryPosting) -> Result<PostingFacts, Problem> {
    if posting.title.trim().is_empty() {
        return Err(Problem::invalid("title", "give the posting's title"));
    }
    if let Some(level) = &posting.seniority
        && !<Seniority as clap::ValueEnum>::value_variants().iter().any(|s| s.as_str() == level)
    {
        let names: Vec<&str> = <Seniority as clap::ValueEnum>::value_variants()
            .iter()
            .map(|s| s.as_str())
            .collect();
        return Err(Problem::invalid(
            "seniority",
            format!("{level:?} is not one of {}", names.join(", ")),
        ));
    }
    if let Some(remote) = &posting.remote
        && !REMOTE_TYPES.contains(&remote.as_str())
    {
        return Err(Problem::invalid(
            "remote",
            format!("{remote:?} is not one of {}", REMOTE_TYPES.join(", ")),
        ));
    }
    let query = SalaryQuery {
        title: posting.title.clone(),
        location: posting.location.clone(),
        description: posting.description.clone(),
        skills: posting.skills.clone(),
        seniority: posting.seniority.clone(),
        years_experience: posting.years_experience,
        remote: posting.remote.clone(),
    };
    facts_of_query(&state.normaliser, state.normaliser.skills().taxonomy(), &query)
        .map_err(|reject| Problem::invalid(reject.field.unwrap_or_else(|| "posting".into()), reject.message))
}

/// The model's answers for `facts`: `(model, [estimate…])`, contributions cut to `top`.
pub fn estimate(state: &AppState, facts: &[PostingFacts], top: usize) -> Result<(Value, Vec<Value>), Problem> {
    let models = state.models();
    let service = models.as_ref().and_then(|m| m.salary.as_ref()).ok_or_else(|| {
        Problem::unavailable(
            "no_salary_model",
            "no salary model is loaded: run `rats train salary`, then see /ready",
        )
    })?;
    let taxonomy = state.normaliser.skills().taxonomy();
    let skill_name = |id: &str| taxonomy.get(id).map_or_else(|| id.to_string(), |s| s.name.clone());
    let estimates = tracing::info_span!(
        target: "rats::serve",
        "salary.predict",
        model.version = %service.chosen.version,
        postings = facts.len()
    )
    .in_scope(|| {
        let model = &service.model;
        // The SHAP explanation costs about as much as the rest of the request (BENCHMARKS.md):
        // not computed when no contribution is asked for.
        if top == 0 {
            model.predict_without_explanations(facts)
        } else {
            model.predict(facts, &skill_name)
        }
    })
    .map_err(|e| internal("salary prediction", &e))?;
    let answers = estimates
        .into_iter()
        .zip(facts)
        .map(|(mut estimate, facts)| {
            estimate.contributions.truncate(top);
            let mut value = serde_json::to_value(&estimate).unwrap_or_default();
            value["title"] = json!(facts.title);
            value["skill_ids"] = json!(facts.skill_ids);
            value
        })
        .collect();
    let model = json!({"kind": "salary", "version": service.chosen.version, "chosen_because": service.chosen.because});
    Ok((model, answers))
}
