//! A table's Delta log read file by file, for readers that follow what each commit did: the
//! live feed (the postings a `rats consume` commit added, in order, so a posting's place in the
//! log is its event id) and the trends page's jobs per hour. delta-rs answers "what is in the
//! table now"; these readers ask "what did commit N add", which the commit file says directly.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use super::LakeError;

/// What one commit file says, as far as these readers need.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    pub version: i64,
    /// Unix milliseconds of the commit (`commitInfo.timestamp`).
    pub at_ms: Option<i64>,
    /// The rats stage that made it (`commitInfo["rats.operation"]`: consume, transform, …).
    pub operation: Option<String>,
    /// The files it added, in the order the commit lists them.
    pub adds: Vec<AddedFile>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AddedFile {
    /// Relative to the table, percent-encoded as the log writes it.
    pub path: String,
    /// Rows in the file, from its statistics (`None` when the writer kept none).
    pub records: Option<u64>,
    /// False for files that only rewrite rows already in the table (compaction).
    pub data_change: bool,
}

impl Commit {
    pub fn is_consume(&self) -> bool {
        self.operation.as_deref() == Some("consume")
    }

    /// The files that bring new rows.
    pub fn new_rows(&self) -> impl Iterator<Item = &AddedFile> {
        self.adds.iter().filter(|add| add.data_change)
    }
}

/// One line of a commit file: only the parts read here.
#[derive(Deserialize)]
struct Action {
    #[serde(rename = "commitInfo")]
    commit_info: Option<CommitInfo>,
    add: Option<Add>,
}

#[derive(Deserialize)]
struct CommitInfo {
    timestamp: Option<i64>,
    #[serde(rename = "rats.operation")]
    operation: Option<String>,
}

#[derive(Deserialize)]
struct Add {
    path: String,
    stats: Option<String>,
    #[serde(rename = "dataChange", default = "data_change_default")]
    data_change: bool,
}

fn data_change_default() -> bool {
    true
}

#[derive(Deserialize)]
struct Stats {
    #[serde(rename = "numRecords")]
    num_records: Option<u64>,
}

fn log_dir(table: &Path) -> PathBuf {
    table.join("_delta_log")
}

fn read_error(table: &Path, file: &Path, message: impl std::fmt::Display) -> LakeError {
    LakeError::Read {
        path: table.to_path_buf(),
        file: file.display().to_string(),
        message: message.to_string(),
    }
}

/// Parses the commit file `file` (its text `text`) of version `version`; a line that is not
/// JSON is an error naming the file and line.
pub fn parse_commit(table: &Path, file: &Path, version: i64, text: &str) -> Result<Commit, LakeError> {
    let mut commit = Commit {
        version,
        at_ms: None,
        operation: None,
        adds: Vec::new(),
    };
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let action: Action = serde_json::from_str(line).map_err(|e| read_error(table, file, format!("line {}: {e}", number + 1)))?;
        if let Some(info) = action.commit_info {
            commit.at_ms = info.timestamp;
            commit.operation = info.operation;
        }
        if let Some(add) = action.add {
            commit.adds.push(AddedFile {
                records: add
                    .stats
                    .and_then(|s| serde_json::from_str::<Stats>(&s).ok())
                    .and_then(|s| s.num_records),
                path: add.path,
                data_change: add.data_change,
            });
        }
    }
    Ok(commit)
}

/// Commit `version` of the table at `table`, or `None` when its file is not (or no longer) in
/// the log.
pub fn read_commit(table: &Path, version: i64) -> Result<Option<Commit>, LakeError> {
    let file = log_dir(table).join(format!("{version:020}.json"));
    match std::fs::read_to_string(&file) {
        Ok(text) => parse_commit(table, &file, version, &text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(read_error(table, &file, e)),
    }
}

/// The versions whose commit files the log holds, oldest first (none when the table does not
/// exist yet). delta-rs removes commit files older than its log retention at a checkpoint, so
/// the oldest may be well after 0.
pub fn versions(table: &Path) -> Result<Vec<i64>, LakeError> {
    let log = log_dir(table);
    if !log.is_dir() {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(&log).map_err(|e| read_error(table, &log, e))?;
    let mut versions = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| read_error(table, &log, e))?.path();
        let version = (path.extension().is_some_and(|x| x == "json"))
            .then(|| path.file_stem()?.to_str()?.parse::<i64>().ok())
            .flatten();
        versions.extend(version);
    }
    versions.sort_unstable();
    Ok(versions)
}

/// The local path of a file the log names relative to the table (percent-decoded).
pub fn local_file(table: &Path, relative: &str) -> Result<PathBuf, LakeError> {
    let invalid = |message: String| LakeError::Invalid {
        path: table.to_path_buf(),
        message,
    };
    let absolute = std::path::absolute(table).map_err(|e| invalid(e.to_string()))?;
    let base = Url::from_directory_path(&absolute).map_err(|()| invalid("not a local directory".into()))?;
    base.join(relative)
        .ok()
        .and_then(|url| url.to_file_path().ok())
        .ok_or_else(|| invalid(format!("the log names a file outside the local table: {relative}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONSUME: &str = r#"{"commitInfo":{"timestamp":1796215120640,"operation":"WRITE","rats.operation":"consume"}}
{"add":{"path":"posting_month=2026-01/a.parquet","dataChange":true,"stats":"{\"numRecords\":2475,\"minValues\":{}}"}}
{"add":{"path":"b%20c.parquet","stats":"{\"numRecords\":25}"}}
{"add":{"path":"d.parquet","dataChange":false}}
{"txn":{"appId":"x","version":1}}
"#;

    #[test]
    fn a_commit_lists_its_files_in_order_with_their_counts() {
        let commit = parse_commit(Path::new("t"), Path::new("1.json"), 1, CONSUME).expect("parses");
        assert!(commit.is_consume());
        assert_eq!(commit.at_ms, Some(1_796_215_120_640));
        let adds: Vec<(&str, Option<u64>)> = commit.adds.iter().map(|a| (a.path.as_str(), a.records)).collect();
        assert_eq!(
            adds,
            [
                ("posting_month=2026-01/a.parquet", Some(2_475)),
                ("b%20c.parquet", Some(25)),
                ("d.parquet", None)
            ]
        );
        assert_eq!(commit.new_rows().count(), 2, "a rewrite adds no rows");
    }

    #[test]
    fn a_broken_line_is_named_by_file_and_line() {
        let error = parse_commit(Path::new("t"), Path::new("7.json"), 7, "{\"add\":{\"path\":\"a\"}}\nnot json")
            .expect_err("refused")
            .to_string();
        assert!(error.contains("7.json") && error.contains("line 2"), "{error}");
    }

    #[test]
    fn versions_and_commits_are_read_from_the_log_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(versions(dir.path()).expect("no log").is_empty());
        let log = dir.path().join("_delta_log");
        std::fs::create_dir_all(&log).expect("log dir");
        for version in [3, 1, 2] {
            std::fs::write(log.join(format!("{version:020}.json")), CONSUME).expect("writes");
        }
        std::fs::write(log.join("00000000000000000002.checkpoint.parquet"), b"").expect("writes");
        assert_eq!(versions(dir.path()).expect("reads"), [1, 2, 3]);
        assert_eq!(read_commit(dir.path(), 2).expect("reads").map(|c| c.version), Some(2));
        assert_eq!(read_commit(dir.path(), 9).expect("reads"), None);
        let file = local_file(dir.path(), "b%20c.parquet").expect("a local path");
        assert_eq!(file.file_name().and_then(|n| n.to_str()), Some("b c.parquet"));
        assert!(local_file(dir.path(), "http://elsewhere/x.parquet").is_err());
    }
}
