//! Jobs per hour during ingest, read from the Delta log: every commit `rats consume` makes to
//! silver (new postings) and to the duplicates table (repeats recognised) carries its time and
//! the records its files add, so the log itself says how fast postings arrived — as far back as
//! it keeps commits (delta-rs removes log files older than 30 days at a checkpoint).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::lake;

/// Hours the chart covers, up to the newest commit's.
const HOURS: i64 = 7 * 24;
const HOUR: i64 = 3_600;

/// What the consumes committed in one hour (UTC).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Hour {
    /// Unix seconds of the hour's start.
    pub start: i64,
    pub postings: u64,
    pub duplicates: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ingest {
    /// Every hour of the week up to the newest consume commit, the empty ones too.
    pub hours: Vec<Hour>,
    /// The hour with most new postings in that week.
    pub busiest: Option<Hour>,
    /// Unix seconds of the newest and of the oldest consume commit the log still holds.
    pub newest_commit: Option<i64>,
    pub oldest_commit: Option<i64>,
    /// Files added without a record count in their statistics (their records are not counted).
    pub files_without_counts: u64,
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
    stats: Option<String>,
}

#[derive(Deserialize)]
struct Stats {
    #[serde(rename = "numRecords")]
    num_records: Option<u64>,
}

/// A consume commit: when (Unix milliseconds), records added, and files without a count.
struct Commit {
    at_ms: i64,
    records: u64,
    uncounted: u64,
}

/// The commit in one log file, when it is a consume's; a line that is not JSON is an error
/// naming the file and line.
fn consume_commit(path: &Path, text: &str) -> Result<Option<Commit>, String> {
    let (mut at_ms, mut consume, mut records, mut uncounted) = (None, false, 0, 0);
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let action: Action = serde_json::from_str(line).map_err(|e| format!("{} line {}: {e}", path.display(), number + 1))?;
        if let Some(info) = action.commit_info {
            at_ms = info.timestamp;
            consume = info.operation.as_deref() == Some("consume");
        }
        if let Some(add) = action.add {
            match add
                .stats
                .and_then(|s| serde_json::from_str::<Stats>(&s).ok())
                .and_then(|s| s.num_records)
            {
                Some(n) => records += n,
                None => uncounted += 1,
            }
        }
    }
    Ok(match at_ms {
        Some(at_ms) if consume => Some(Commit { at_ms, records, uncounted }),
        _ => None,
    })
}

/// The consume commits of the table at `table` (none when it does not exist yet).
fn consume_commits(table: &Path) -> Result<Vec<Commit>, String> {
    let log = table.join("_delta_log");
    if !log.is_dir() {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut commits = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", log.display()))?.path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        commits.extend(consume_commit(&path, &text)?);
    }
    Ok(commits)
}

/// Jobs per hour of the lake at `root`.
pub fn read(root: &Path) -> Result<Ingest, String> {
    let postings = consume_commits(&root.join(lake::SILVER))?;
    let duplicates = consume_commits(&root.join(lake::DUPLICATES))?;
    Ok(per_hour(&postings, &duplicates))
}

fn per_hour(postings: &[Commit], duplicates: &[Commit]) -> Ingest {
    let every = || postings.iter().chain(duplicates);
    let (Some(newest), Some(oldest)) = (every().map(|c| c.at_ms).max(), every().map(|c| c.at_ms).min()) else {
        return Ingest::default();
    };
    let hour_of = |at_ms: i64| at_ms.div_euclid(1_000).div_euclid(HOUR) * HOUR;
    let last = hour_of(newest);
    let first = (last - (HOURS - 1) * HOUR).max(hour_of(oldest));
    let mut hours: BTreeMap<i64, Hour> = (0..=(last - first) / HOUR)
        .map(|i| first + i * HOUR)
        .map(|start| (start, Hour { start, ..Hour::default() }))
        .collect();
    for commit in postings {
        if let Some(hour) = hours.get_mut(&hour_of(commit.at_ms)) {
            hour.postings += commit.records;
        }
    }
    for commit in duplicates {
        if let Some(hour) = hours.get_mut(&hour_of(commit.at_ms)) {
            hour.duplicates += commit.records;
        }
    }
    let hours: Vec<Hour> = hours.into_values().collect();
    Ingest {
        busiest: hours
            .iter()
            .copied()
            .filter(|h| h.postings > 0)
            .max_by_key(|h| (h.postings, h.start)),
        hours,
        newest_commit: Some(newest.div_euclid(1_000)),
        oldest_commit: Some(oldest.div_euclid(1_000)),
        files_without_counts: every().map(|c| c.uncounted).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONSUME: &str = r#"{"commitInfo":{"timestamp":1796215120640,"operation":"WRITE","rats.operation":"consume"}}
{"add":{"path":"a.parquet","stats":"{\"numRecords\":2475,\"minValues\":{}}"}}
{"add":{"path":"b.parquet","stats":"{\"numRecords\":25}"}}
{"add":{"path":"c.parquet"}}
{"txn":{"appId":"x","version":1}}
"#;

    #[test]
    fn a_consume_commit_adds_its_files_records() {
        let commit = consume_commit(Path::new("1.json"), CONSUME).expect("parses").expect("a consume");
        assert_eq!((commit.at_ms, commit.records, commit.uncounted), (1_796_215_120_640, 2_500, 1));
    }

    #[test]
    fn other_commits_are_not_ingest_and_broken_lines_are_named() {
        let transform = CONSUME.replace("\"consume\"", "\"transform\"");
        assert!(consume_commit(Path::new("1.json"), &transform).expect("parses").is_none());
        let error = consume_commit(Path::new("7.json"), "{\"add\":{}}\nnot json")
            .err()
            .expect("refused");
        assert!(error.starts_with("7.json line 2:"), "{error}");
    }

    #[test]
    fn hours_are_counted_over_the_week_up_to_the_newest_commit() {
        let commit = |hours_ago: i64, records: u64| Commit {
            at_ms: (1_000 * HOUR - hours_ago * HOUR + 59) * 1_000,
            records,
            uncounted: 0,
        };
        let postings = [commit(0, 10), commit(0, 5), commit(2, 7), commit(500, 99)];
        let ingest = per_hour(&postings, &[commit(2, 3)]);
        assert_eq!(ingest.hours.len(), 168);
        let last = ingest.hours[167];
        assert_eq!((last.start, last.postings, last.duplicates), (1_000 * HOUR, 15, 0));
        assert_eq!((ingest.hours[165].postings, ingest.hours[165].duplicates), (7, 3));
        assert_eq!(
            ingest.hours.iter().map(|h| h.postings).sum::<u64>(),
            22,
            "500 hours back is outside the week"
        );
        assert_eq!(ingest.busiest.map(|h| h.postings), Some(15));
        assert_eq!(ingest.oldest_commit, Some(500 * HOUR + 59));
    }

    #[test]
    fn a_short_history_is_charted_from_its_first_hour() {
        let ingest = per_hour(
            &[Commit {
                at_ms: 7_200_000,
                records: 4,
                uncounted: 2,
            }],
            &[],
        );
        assert_eq!(
            ingest.hours,
            [Hour {
                start: 7_200,
                postings: 4,
                duplicates: 0
            }]
        );
        assert_eq!(ingest.files_without_counts, 2);
        assert_eq!(per_hour(&[], &[]), Ingest::default());
    }
}
