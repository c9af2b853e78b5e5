//! Jobs per hour during ingest, from the Delta log: every commit `rats consume` makes to silver
//! (new postings) and to the duplicates table (repeats recognised) carries its time and the
//! records its files add, so the log itself says how fast postings arrived — as far back as it
//! keeps commits (delta-rs removes log files older than 30 days at a checkpoint). The live feed
//! ([`super::feed`]) keeps these counts as it follows the log; the trends page and the stream's
//! `ingest` events read them from there.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::lake::{LakeError, log};

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

/// A consume commit: when (Unix milliseconds), records added, and files without a count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Commit {
    at_ms: i64,
    records: u64,
    uncounted: u64,
}

impl Commit {
    /// The commit, when it is a consume's with a time.
    pub fn of(commit: &log::Commit) -> Option<Self> {
        let at_ms = commit.at_ms.filter(|_| commit.is_consume())?;
        let (counted, uncounted): (Vec<_>, Vec<_>) = commit.new_rows().partition(|add| add.records.is_some());
        Some(Commit {
            at_ms,
            records: counted.iter().filter_map(|add| add.records).sum(),
            uncounted: uncounted.len() as u64,
        })
    }
}

/// The consume commits of the table at `table` (none when it does not exist yet).
pub fn consume_commits(table: &Path) -> Result<Vec<Commit>, LakeError> {
    let mut commits = Vec::new();
    for version in log::versions(table)? {
        if let Some(commit) = log::read_commit(table, version)? {
            commits.extend(Commit::of(&commit));
        }
    }
    Ok(commits)
}

/// Jobs per hour over the week up to the newest of `postings` (silver's consume commits) and
/// `duplicates` (the duplicates table's).
pub fn per_hour(postings: &[Commit], duplicates: &[Commit]) -> Ingest {
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

    #[test]
    fn a_consume_commit_counts_the_rows_its_files_add() {
        let text = r#"{"commitInfo":{"timestamp":1796215120640,"rats.operation":"consume"}}
{"add":{"path":"a.parquet","stats":"{\"numRecords\":2475}"}}
{"add":{"path":"b.parquet","stats":"{\"numRecords\":25}"}}
{"add":{"path":"c.parquet"}}"#;
        let parsed = log::parse_commit(Path::new("t"), Path::new("1.json"), 1, text).expect("parses");
        let commit = Commit::of(&parsed).expect("a consume");
        assert_eq!((commit.at_ms, commit.records, commit.uncounted), (1_796_215_120_640, 2_500, 1));
        let transform = log::parse_commit(Path::new("t"), Path::new("1.json"), 1, &text.replace("consume", "transform")).expect("parses");
        assert!(Commit::of(&transform).is_none(), "only consumes are ingest");
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
