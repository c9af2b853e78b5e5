//! Alerts on change: one message when an expectation starts failing and one when it recovers,
//! never one per run. What each channel (the webhook, mail) was last told lives in
//! `LAKE/quality/alert-state.json`, written only after its message is delivered, so a receiver
//! that is down gets the news on the next run rather than never, and one channel failing does
//! not make the other repeat itself.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::CheckResult;
use super::spec::Severity;

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("cannot read {path}: {message}")]
    State { path: PathBuf, message: String },
    #[error("the webhook {url} refused the alert after {attempts} attempts: {message}")]
    Delivery { url: String, attempts: usize, message: String },
}

/// The expectations last announced as failing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertState {
    pub failing: BTreeSet<String>,
}

/// One expectation whose announced state changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub check: String,
    pub table: String,
    pub severity: Severity,
    /// `failing` or `recovered`.
    pub change: &'static str,
    pub status: &'static str,
    pub observed: String,
    pub expected: String,
}

pub fn state_path(lake: &Path) -> PathBuf {
    lake.join("quality").join("alert-state.json")
}

/// What `channel` was last told (nothing before its first alert).
pub fn load_state(lake: &Path, channel: &str) -> Result<AlertState, AlertError> {
    Ok(load_all(lake)?.remove(channel).unwrap_or_default())
}

/// Every channel's state.
fn load_all(lake: &Path) -> Result<BTreeMap<String, AlertState>, AlertError> {
    let path = state_path(lake);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| AlertError::State {
            path,
            message: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(AlertError::State {
            path,
            message: e.to_string(),
        }),
    }
}

/// Records what `channel` was told, beside the file and renamed over it, so it is whole or old.
pub fn save_state(lake: &Path, channel: &str, state: &AlertState) -> Result<(), AlertError> {
    let mut all = load_all(lake)?;
    all.insert(channel.to_string(), state.clone());
    let path = state_path(lake);
    let partial = path.with_extension("json.partial");
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&partial, serde_json::to_vec_pretty(&all).map_err(std::io::Error::other)?)?;
        std::fs::rename(&partial, &path)
    };
    write().map_err(|e| AlertError::State {
        path: path.clone(),
        message: e.to_string(),
    })
}

/// The changes `results` make to `state`: a result failing at `min_severity` or above (or not
/// able to run) that was not announced, and a passing one that was. Skipped expectations and
/// those this run did not select keep their state.
pub fn changes(results: &[CheckResult], state: &AlertState, min_severity: Severity) -> Vec<Change> {
    results
        .iter()
        .filter_map(|r| {
            let failing = r.status == "error" || (r.status == "fail" && r.severity >= min_severity);
            let announced = state.failing.contains(&r.check);
            let change = match (failing, announced, r.status) {
                (true, false, _) => "failing",
                (false, true, "pass") => "recovered",
                _ => return None,
            };
            Some(Change {
                check: r.check.clone(),
                table: r.table.clone(),
                severity: r.severity,
                change,
                status: r.status,
                observed: r.observed.clone(),
                expected: r.expected.clone(),
            })
        })
        .collect()
}

/// The state after `changes` are announced. A failure below `min_severity` that was announced
/// leaves quietly (no "recovered" for something that never stopped failing).
pub fn next_state(results: &[CheckResult], state: &AlertState, min_severity: Severity) -> AlertState {
    let mut failing = state.failing.clone();
    for r in results {
        if r.status == "error" || (r.status == "fail" && r.severity >= min_severity) {
            failing.insert(r.check.clone());
        } else if r.status != "skip" {
            failing.remove(&r.check);
        }
    }
    AlertState { failing }
}

/// The webhook's message: Slack-compatible (`text`), with the changes as data for other receivers.
pub fn payload(lake: &Path, changes: &[Change]) -> serde_json::Value {
    serde_json::json!({
        "text": text(lake, changes),
        "rats_check": {"lake": lake, "changes": changes},
    })
}

/// A mail's subject: how many started failing and recovered, and where.
pub fn subject(lake: &Path, changes: &[Change]) -> String {
    let failing = changes.iter().filter(|c| c.change == "failing").count();
    let recovered = changes.len() - failing;
    let mut parts = Vec::new();
    if failing > 0 {
        parts.push(format!("{failing} failing"));
    }
    if recovered > 0 {
        parts.push(format!("{recovered} recovered"));
    }
    format!("rats check on {}: {}", lake.display(), parts.join(", "))
}

/// The changes in words, one line each under a heading per kind of change.
pub fn text(lake: &Path, changes: &[Change]) -> String {
    let mut text = String::new();
    for (change, heading) in [("failing", "started failing"), ("recovered", "recovered")] {
        let these: Vec<&Change> = changes.iter().filter(|c| c.change == change).collect();
        if these.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push('\n');
        }
        let _ = write!(
            text,
            "rats check on {}: {} expectation{} {heading}",
            lake.display(),
            these.len(),
            if these.len() == 1 { "" } else { "s" }
        );
        for c in these {
            let _ = write!(text, "\n• {} ({}): {}", c.check, c.severity.as_str(), c.observed);
            if change == "failing" && !c.expected.is_empty() {
                let _ = write!(text, "; expected {}", c.expected);
            }
        }
    }
    text
}

/// Posts `payload` to `url`, trying three times (1 s, then 2 s apart) before giving up.
pub fn post(url: &str, payload: &serde_json::Value) -> Result<(), AlertError> {
    const ATTEMPTS: usize = 3;
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| delivery(url, 0, &e.to_string()))?;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match client.post(url).json(payload).send() {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => last = format!("HTTP {}", response.status()),
            Err(e) => last = e.to_string(),
        }
        tracing::warn!(attempt, error = %last, "the alert webhook failed");
        if attempt < ATTEMPTS {
            std::thread::sleep(Duration::from_secs(1 << (attempt - 1)));
        }
    }
    Err(delivery(url, ATTEMPTS, &last))
}

fn delivery(url: &str, attempts: usize, message: &str) -> AlertError {
    AlertError::Delivery {
        url: crate::settings::redact_webhook(url),
        attempts,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(check: &str, severity: Severity, status: &'static str) -> CheckResult {
        CheckResult {
            check: check.into(),
            table: "silver/postings".into(),
            kind: "range",
            column: None,
            severity,
            status,
            observed: format!("{check} observed"),
            expected: "within bounds".into(),
            failing_rows: None,
            metric: None,
            description: None,
        }
    }

    #[test]
    fn only_changes_are_announced() {
        let mut state = AlertState::default();
        let run = |state: &AlertState, statuses: [&'static str; 3]| {
            let results = [
                result("a", Severity::Error, statuses[0]),
                result("b", Severity::Warn, statuses[1]),
                result("c", Severity::Error, statuses[2]),
            ];
            let found: Vec<(String, &str)> = changes(&results, state, Severity::Warn)
                .into_iter()
                .map(|c| (c.check, c.change))
                .collect();
            (found, next_state(&results, state, Severity::Warn))
        };
        let (found, next) = run(&state, ["fail", "fail", "pass"]);
        assert_eq!(found, [("a".into(), "failing"), ("b".into(), "failing")]);
        state = next;
        let (found, next) = run(&state, ["fail", "fail", "pass"]);
        assert!(found.is_empty(), "still failing: no second alert");
        state = next;
        let (found, next) = run(&state, ["pass", "skip", "error"]);
        assert_eq!(found, [("a".into(), "recovered"), ("c".into(), "failing")], "a skip is no news");
        assert_eq!(next.failing, BTreeSet::from(["b".to_string(), "c".to_string()]));
    }

    #[test]
    fn warnings_below_the_threshold_neither_alert_nor_recover() {
        let state = AlertState {
            failing: BTreeSet::from(["b".to_string()]),
        };
        let results = [result("b", Severity::Warn, "fail"), result("w", Severity::Warn, "fail")];
        assert!(changes(&results, &state, Severity::Error).is_empty());
        assert!(next_state(&results, &state, Severity::Error).failing.is_empty(), "b leaves quietly");
    }

    #[test]
    fn the_message_names_each_change() {
        let changes = changes(
            &[result("a", Severity::Error, "fail")],
            &AlertState {
                failing: BTreeSet::from(["b".to_string()]),
            },
            Severity::Warn,
        );
        let body = payload(Path::new("lake"), &changes);
        let text = body["text"].as_str().expect("text");
        assert!(text.contains("1 expectation started failing"), "{text}");
        assert!(text.contains("• a (error): a observed; expected within bounds"), "{text}");
        assert_eq!(body["rats_check"]["changes"][0]["change"], "failing");
    }

    #[test]
    fn the_state_survives_a_round_trip_and_starts_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(load_state(dir.path(), "webhook").expect("empty"), AlertState::default());
        let state = AlertState {
            failing: BTreeSet::from(["x".to_string()]),
        };
        save_state(dir.path(), "webhook", &state).expect("saved");
        save_state(dir.path(), "email", &AlertState::default()).expect("saved");
        assert_eq!(
            load_state(dir.path(), "webhook").expect("loaded"),
            state,
            "one channel's state leaves the other's"
        );
        assert_eq!(load_state(dir.path(), "email").expect("loaded"), AlertState::default());
    }
}
