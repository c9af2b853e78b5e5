//! The postings' side of matching for one lake snapshot: every posting profiled and embedded by
//! the match model's sentence encoder, vectors cached in the lake (`matching::vectors`).
//!
//! On a lake whose postings were never embedded that takes minutes (9,049 texts in 7 min on two
//! cores, BENCHMARKS.md "serve: first start"), so a snapshot is put to use as soon as it is read and its matching is prepared
//! beside it ([`prepare`]); until then the match routes answer 503 saying how far it got, and
//! `/ready` says the same. A snapshot that replaces one whose matching was prepared has only its
//! new postings to embed, and is prepared before it replaces it, so matching never goes away
//! while the lake moves.

use std::path::Path;
use std::sync::{Mutex, OnceLock};

use serde::Serialize;

use crate::chart::draw::thousands;
use crate::matching::candidates::{self, Candidate};
use crate::matching::features::JobIndex;
use crate::matching::profile::JobProfile;
use crate::matching::vectors::VectorCache;
use crate::skills::Extractor;

use super::ServeError;
use super::market::Market;
use super::models::MatchService;

/// The postings' side of matching, prepared once per lake version and match model.
pub struct MatchingSide {
    pub model_version: String,
    pub candidates: Vec<Candidate>,
    pub profiles: Vec<JobProfile>,
    pub index: JobIndex,
    /// Each candidate's position in [`Market::jobs`].
    pub job_of_candidate: Vec<usize>,
}

/// How far a snapshot's matching got, as `/ready` and the match routes tell it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub model_version: String,
    pub state: State,
    /// The postings matched against (known once they are profiled).
    pub postings: Option<usize>,
    /// Their texts without a vector in the lake's cache (known once they are profiled).
    pub to_embed: Option<usize>,
    /// Of those, the ones embedded so far.
    pub embedded: usize,
    /// Why the preparation failed.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Preparing,
    Prepared,
    Failed,
}

impl Progress {
    /// One line for people: "4,210 of 13,252 postings embedded" and the like.
    pub fn describe(&self) -> String {
        match (self.state, self.to_embed) {
            (State::Failed, _) => format!("preparing matching failed: {}", self.error.as_deref().unwrap_or("unknown")),
            (State::Prepared, _) => "matching is prepared".into(),
            (State::Preparing, None) => "the postings are being read for the match model".into(),
            (State::Preparing, Some(to_embed)) => format!(
                "the postings are being embedded for the match model: {} of {} done",
                thousands(self.embedded as f64),
                thousands(to_embed as f64)
            ),
        }
    }
}

/// A snapshot's matching: empty, being prepared (with its progress), prepared, or failed.
/// Prepared at most once: another match model needs another snapshot.
#[derive(Default)]
pub struct MatchingSlot {
    side: OnceLock<MatchingSide>,
    progress: Mutex<Option<Progress>>,
}

impl MatchingSlot {
    /// The prepared side, for `model_version`.
    pub fn side_for(&self, model_version: &str) -> Option<&MatchingSide> {
        self.side.get().filter(|side| side.model_version == model_version)
    }

    pub fn progress(&self) -> Option<Progress> {
        self.progress.lock().ok()?.clone()
    }

    /// Why matching for `model_version` does not answer yet, for people.
    pub fn why_not_ready(&self, model_version: &str) -> String {
        self.progress()
            .filter(|p| p.model_version == model_version)
            .map_or_else(|| "matching is about to be prepared".into(), |p| p.describe())
    }

    /// Whether a preparation for `model_version` was started (whatever came of it).
    pub fn started_for(&self, model_version: &str) -> bool {
        self.progress().is_some_and(|p| p.model_version == model_version)
    }

    /// Marks the preparation for `model_version` started, unless one was.
    fn claim(&self, model_version: &str) -> bool {
        let Ok(mut progress) = self.progress.lock() else {
            return false;
        };
        if progress.is_some() {
            return false;
        }
        *progress = Some(Progress {
            model_version: model_version.to_string(),
            state: State::Preparing,
            postings: None,
            to_embed: None,
            embedded: 0,
            error: None,
        });
        true
    }

    fn update(&self, change: impl FnOnce(&mut Progress)) {
        if let Ok(mut progress) = self.progress.lock()
            && let Some(progress) = progress.as_mut()
        {
            change(progress);
        }
    }
}

/// Prepares `market`'s matching for `service`'s model, unless a preparation was started already
/// (then `Ok(false)`). Blocking: minutes on a lake never embedded before. The lake having moved
/// since `market` was read is [`ServeError::LakeMoved`].
pub fn prepare(market: &Market, root: &Path, extractor: &Extractor, service: &MatchService) -> Result<bool, ServeError> {
    let slot = &market.matching;
    if !slot.claim(&service.chosen.version) {
        return Ok(false);
    }
    let _preparing = tracing::info_span!(target: "rats::serve", "matching.prepare", lake.version = market.lake_version).entered();
    match build(market, root, extractor, service) {
        Ok(side) => {
            // Claimed above, so nothing else sets it.
            let _ = slot.side.set(side);
            slot.update(|p| p.state = State::Prepared);
            Ok(true)
        }
        Err(e) => {
            slot.update(|p| {
                p.state = State::Failed;
                p.error = Some(e.to_string());
            });
            Err(e)
        }
    }
}

fn build(market: &Market, root: &Path, extractor: &Extractor, service: &MatchService) -> Result<MatchingSide, ServeError> {
    let match_error = |e: crate::matching::MatchError| ServeError::Lake(e.to_string());
    let (version, candidates) = candidates::from_silver(root, None).map_err(match_error)?;
    if version != market.lake_version {
        return Err(ServeError::LakeMoved);
    }
    let job_of_candidate = candidates
        .iter()
        .map(|c| market.by_key.get(&c.posting_key).copied().ok_or(ServeError::LakeMoved))
        .collect::<Result<Vec<_>, _>>()?;
    let profiles: Vec<JobProfile> = candidates.iter().map(|c| c.profile(extractor)).collect();
    let focus: Vec<&str> = profiles.iter().map(|p| p.focus.as_str()).collect();
    let encoder = &service.model.encoder;
    let mut cache = VectorCache::open(root, encoder).map_err(match_error)?;
    let slot = &market.matching;
    slot.update(|p| p.postings = Some(candidates.len()));
    let mut report = |embedded: usize, to_embed: usize| {
        slot.update(|p| {
            p.embedded = embedded;
            p.to_embed = Some(to_embed);
        });
        if to_embed > 0 {
            tracing::info!(target: "rats::serve", embedded, to_embed, "embedding the postings for matching");
        }
    };
    let vectors = cache.vectors(encoder, &focus, &mut report).map_err(match_error)?;
    cache.save().map_err(match_error)?;
    let index = JobIndex::new(&profiles, &vectors);
    Ok(MatchingSide {
        model_version: service.chosen.version.clone(),
        candidates,
        profiles,
        index,
        job_of_candidate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(state: State, to_embed: Option<usize>, embedded: usize) -> Progress {
        Progress {
            model_version: "v1".into(),
            state,
            postings: Some(13_252),
            to_embed,
            embedded,
            error: (state == State::Failed).then(|| "the encoder failed".into()),
        }
    }

    #[test]
    fn progress_reads_as_a_sentence() {
        assert_eq!(
            progress(State::Preparing, Some(13_252), 4_210).describe(),
            "the postings are being embedded for the match model: 4,210 of 13,252 done"
        );
        assert_eq!(
            progress(State::Preparing, None, 0).describe(),
            "the postings are being read for the match model"
        );
        assert_eq!(
            progress(State::Failed, Some(3), 0).describe(),
            "preparing matching failed: the encoder failed"
        );
    }

    #[test]
    fn a_slot_is_claimed_once() {
        let slot = MatchingSlot::default();
        assert!(!slot.started_for("v1"));
        assert!(slot.claim("v1"));
        assert!(slot.started_for("v1") && !slot.started_for("v2"));
        assert!(
            !slot.claim("v1") && !slot.claim("v2"),
            "a second preparation would embed the same postings again"
        );
        slot.update(|p| p.embedded = 7);
        assert_eq!(slot.progress().map(|p| p.embedded), Some(7));
        assert!(slot.side_for("v1").is_none());
    }
}
