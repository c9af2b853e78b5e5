//! `POST /v1/match/jobs`: a résumé (JSON text, or a PDF, DOCX or text file uploaded as
//! `multipart/form-data`) against the lake's postings — ranked jobs with score, explanation,
//! matched and missing skills, and skill-gap advice, optionally among filtered postings only.
//!
//! The sentence encoder embeds a few résumés at once (`--encoder-slots`). A request that waits
//! longer than `--encoder-wait` for a turn is not queued behind it: its résumé is scored by the
//! match model's skills-only fallback (fitted without the encoder's signal, and evaluated beside
//! the full scorer in the model's report), and the answer's `scoring` says so.

use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header;
use chrono::Datelike;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::OwnedSemaphorePermit;

use super::super::extract::{ApiJson, BodyLimit, from_form};
use super::super::filter::{Filter, JobFilter};
use super::super::problem::{Problem, internal};
use super::super::state::AppState;
use crate::matching::document::{self, Format};
use crate::matching::profile::read_resume;
use crate::matching::rank::{self, Inputs};
use crate::serve::blocking::in_current_span;

pub const DEFAULT_TOP: usize = 10;
pub const MAX_TOP: usize = 100;

#[derive(Debug, Deserialize)]
struct MatchBody {
    /// The résumé's text.
    resume: String,
    #[serde(default)]
    top: Option<usize>,
    #[serde(flatten)]
    filter: JobFilter,
}

#[derive(Debug, Deserialize)]
struct UploadOptions {
    #[serde(default)]
    top: Option<usize>,
}

/// What was read from the request.
pub struct Asked {
    text: String,
    format: Format,
    pub top: usize,
    pub filter: JobFilter,
}

pub async fn match_jobs(State(state): State<Arc<AppState>>, request: Request) -> Result<Json<Value>, Problem> {
    let media = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let asked = if media.starts_with("multipart/form-data") {
        from_upload(request, &state).await?
    } else {
        let ApiJson(body) = ApiJson::<MatchBody>::from_request(request, &state).await?;
        Asked {
            text: body.resume,
            format: Format::Text,
            top: body.top.unwrap_or(DEFAULT_TOP),
            filter: body.filter,
        }
    };
    Ok(Json(ranked(&state, asked).await?))
}

/// The answer to `asked`: the résumé read, the postings ranked for it, and the advice.
pub async fn ranked(state: &Arc<AppState>, asked: Asked) -> Result<Value, Problem> {
    if asked.top == 0 || asked.top > MAX_TOP {
        return Err(Problem::invalid("top", format!("give 1 to {MAX_TOP}")));
    }
    if asked.text.trim().is_empty() {
        return Err(Problem::invalid("resume", "the résumé has no text"));
    }
    let filter = Filter::new(&asked.filter, state.extractor.taxonomy())?;
    let turn = encoder_turn(state).await?;
    let worker = state.clone();
    let answer = in_current_span(move || rank_resume(&worker, &asked, &filter, turn))
        .await
        .map_err(|e| internal("matching", &e))??;
    state.metrics.matched(answer["scoring"]["mode"] == "skills_only");
    Ok(answer)
}

/// A turn at the sentence encoder, or `None` when none came within `--encoder-wait` and the
/// model has a skills-only fallback (one without waits as long as it takes).
async fn encoder_turn(state: &AppState) -> Result<Option<OwnedSemaphorePermit>, Problem> {
    let closed = |e: tokio::sync::AcquireError| internal("waiting for the encoder", &e);
    let waited = tokio::time::timeout(state.options.encoder_wait, state.encoder.clone().acquire_owned()).await;
    match waited {
        Ok(turn) => turn.map(Some).map_err(closed),
        Err(_) if has_fallback(state) => Ok(None),
        Err(_) => state.encoder.clone().acquire_owned().await.map(Some).map_err(closed),
    }
}

fn has_fallback(state: &AppState) -> bool {
    state
        .models()
        .is_some_and(|m| m.matching.as_ref().is_some_and(|s| s.model.fallback.is_some()))
}

/// PDF text extraction swaps the process' panic hook while it runs (it panics on some bad
/// files), so two uploads are not read at once.
static DOCUMENT_READER: Mutex<()> = Mutex::new(());

/// A `multipart/form-data` request: the file in the field `resume`, `top` and the filters in
/// the others.
pub async fn from_upload(request: Request, state: &Arc<AppState>) -> Result<Asked, Problem> {
    let limit = request.extensions().get::<BodyLimit>().map(|l| l.0).unwrap_or_default();
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| Problem::malformed(e.body_text()))?;
    let mut resume: Option<(String, Vec<u8>)> = None;
    let mut fields: Vec<(String, String)> = Vec::new();
    let part_error = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Problem::too_large(limit)
        } else {
            Problem::malformed(e.body_text())
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(part_error)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "resume" {
            // Only the final component of the client's name is kept, and only to tell a
            // misnamed file in messages: the format is read from the bytes.
            let file_name = field
                .file_name()
                .and_then(|n| Path::new(n).file_name())
                .map_or_else(|| "resume".to_string(), |n| n.to_string_lossy().into_owned());
            resume = Some((file_name, field.bytes().await.map_err(part_error)?.to_vec()));
        } else {
            // A form sends every field, filled in or not: an empty one asks for nothing.
            let value = field.text().await.map_err(part_error)?;
            if !value.trim().is_empty() {
                fields.push((name, value));
            }
        }
    }
    let (file_name, bytes) = resume.ok_or_else(|| Problem::invalid("resume", "upload the résumé as the form field `resume`"))?;
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    let options: UploadOptions = from_form(&query)?;
    let filter: JobFilter = from_form(&query)?;
    let (format, text) = in_current_span(move || {
        let _one_at_a_time = DOCUMENT_READER.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        document::from_bytes(&bytes, Path::new(&file_name))
    })
    .await
    .map_err(|e| internal("reading an upload", &e))?
    // The reader names only the client's file name in its message, never a server path.
    .map_err(|e| Problem::invalid("resume", e.to_string()))?;
    Ok(Asked {
        text,
        format,
        top: options.top.unwrap_or(DEFAULT_TOP),
        filter,
    })
}

/// Ranks the postings for the résumé: embedded and scored by the model's scorer with an
/// encoder `turn`, else scored by its skills-only fallback.
fn rank_resume(state: &AppState, asked: &Asked, filter: &Filter, turn: Option<OwnedSemaphorePermit>) -> Result<Value, Problem> {
    let models = state.models();
    let service = models.as_ref().and_then(|m| m.matching.as_ref()).ok_or_else(|| {
        Problem::unavailable(
            "no_match_model",
            "no match model is loaded: run `rats train match`, then see /ready",
        )
    })?;
    let market = state.market_or_503()?;
    let side = market.matching.side_for(&service.chosen.version).ok_or_else(|| {
        let why = market.matching.why_not_ready(&service.chosen.version);
        Problem::unavailable("matching_not_ready", format!("{why}; see /ready"))
    })?;
    let resume = read_resume(&asked.text, &state.extractor, chrono::Utc::now().year());
    let (scorer, vector, scoring) = match (turn, &service.model.fallback) {
        (None, Some(fallback)) => (
            fallback,
            Vec::new(),
            json!({"mode": "skills_only", "reason": format!(
                "the sentence encoder was busy for over {} s: scored on skills, requirements, keywords, title and experience alone",
                state.options.encoder_wait.as_secs_f64()
            )}),
        ),
        (turn, _) => {
            let vector = tracing::info_span!(target: "rats::serve", "encoder.embed", texts = 1_u64)
                .in_scope(|| service.model.encoder.embed(&[resume.focus().as_str()]))
                .map_err(|e| internal("embedding a résumé", &e))?
                .remove(0);
            drop(turn);
            (&service.model.scorer, vector, json!({"mode": "full"}))
        }
    };
    let only: Vec<usize> = side
        .job_of_candidate
        .iter()
        .enumerate()
        .filter(|(_, job)| filter.keeps(&market.jobs[**job], &market.search_text[**job]))
        .map(|(candidate, _)| candidate)
        .collect();
    let ranking = tracing::info_span!(
        target: "rats::serve",
        "match.rank",
        model.version = %service.chosen.version,
        candidates = only.len()
    )
    .in_scope(|| {
        rank::rank(
            &Inputs {
                scorer,
                taxonomy: state.extractor.taxonomy(),
                resume: &resume,
                resume_vector: &vector,
                candidates: &side.candidates,
                profiles: &side.profiles,
                index: &side.index,
                premiums: &market.premiums,
                only: Some(&only),
            },
            asked.top,
        )
    });
    Ok(json!({
        "resume": {
            "format": asked.format.name(),
            "skills": resume.skills,
            "skill_phrases": resume.skill_phrases,
            "years_of_experience": resume.total_years,
            "roles": resume.roles.iter().map(|r| json!({"title": r.title, "years": r.years})).collect::<Vec<_>>(),
            "education": resume.education,
            "warnings": resume.warnings,
        },
        "model": {"kind": crate::matching::model::KIND, "version": service.chosen.version, "chosen_because": service.chosen.because},
        "scoring": scoring,
        "lake_version": market.lake_version,
        "considered": ranking.considered,
        "fits": ranking.fits,
        "fit_score": rank::FIT,
        "jobs": ranking.jobs,
        "advice": ranking.advice,
    }))
}
