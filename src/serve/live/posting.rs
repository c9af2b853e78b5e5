//! A posting as the live feed sends it, and where it sits in silver's log. Silver only grows by
//! appends, so "row R of the rows commit V added" names a posting for good: it is the stream's
//! event id, a client that reconnects with it is sent exactly what came after, and the same id
//! means the same posting after the server restarts.

use std::fmt;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::lake::log;
use crate::skills::Taxonomy;

use super::super::ServeError;
use super::super::market::{self, Job};

/// A place in silver's log: row `row` of commit `version`, or with `row` `None` the end of
/// that commit (everything it added). Written `V:R` and `V`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventId {
    pub version: i64,
    pub row: Option<u64>,
}

impl EventId {
    pub fn row(version: i64, row: u64) -> Self {
        EventId { version, row: Some(row) }
    }

    /// After every row of commit `version`.
    pub fn end_of(version: i64) -> Self {
        EventId { version, row: None }
    }

    /// `V:R` or `V`; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        match text.split_once(':') {
            Some((version, row)) => Some(EventId::row(version.parse().ok()?, row.parse().ok()?)),
            None => Some(EventId::end_of(text.parse().ok()?)),
        }
    }

    /// Whether the posting at row `row` of commit `version` comes after this place.
    pub fn is_before(self, version: i64, row: u64) -> bool {
        version > self.version || (version == self.version && self.row.is_some_and(|mine| row > mine))
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.row {
            Some(row) => write!(f, "{}:{row}", self.version),
            None => write!(f, "{}", self.version),
        }
    }
}

/// A posting of the feed, with what filters read and its event data serialised once for
/// every client.
#[derive(Debug)]
pub struct LivePosting {
    pub version: i64,
    pub row: u64,
    pub job: Job,
    pub search_text: String,
    pub json: String,
}

impl LivePosting {
    pub fn id(&self) -> EventId {
        EventId::row(self.version, self.row)
    }

    fn new(version: i64, row: u64, committed_at: Option<i64>, job: Job, taxonomy: &Taxonomy) -> Self {
        let id = EventId::row(version, row).to_string();
        let wire = Wire {
            id: &id,
            posting_key: &job.posting_key,
            title: &job.title,
            company: job.company.as_deref(),
            company_key: job.company_key.as_deref(),
            place: job.place(),
            remote_type: job.remote_type.as_deref(),
            seniority: job.seniority.as_deref(),
            salary_min_usd: job.salary_min_usd,
            salary_max_usd: job.salary_max_usd,
            date_posted: job.date_posted,
            source_site: &job.source_site,
            skills: job
                .skill_ids
                .iter()
                .map(|id| SkillName {
                    id,
                    name: taxonomy.get(id).map_or(id.as_str(), |skill| skill.name.as_str()),
                })
                .collect(),
            committed_at: committed_at.and_then(DateTime::from_timestamp_millis),
        };
        let json = serde_json::to_string(&wire).unwrap_or_default();
        LivePosting {
            version,
            row,
            search_text: job.search_text(),
            job,
            json,
        }
    }
}

/// The `posting` event's data.
#[derive(Serialize)]
struct Wire<'a> {
    id: &'a str,
    posting_key: &'a str,
    title: &'a str,
    company: Option<&'a str>,
    company_key: Option<&'a str>,
    place: Option<String>,
    remote_type: Option<&'a str>,
    seniority: Option<&'a str>,
    salary_min_usd: Option<f64>,
    salary_max_usd: Option<f64>,
    date_posted: Option<chrono::NaiveDate>,
    source_site: &'a str,
    skills: Vec<SkillName<'a>>,
    committed_at: Option<DateTime<Utc>>,
}

#[derive(Serialize)]
struct SkillName<'a> {
    id: &'a str,
    name: &'a str,
}

/// The postings commit `commit` of silver (the table at `table`) added, in log order.
pub fn postings_of_commit(table: &Path, commit: &log::Commit, taxonomy: &Taxonomy) -> Result<Vec<LivePosting>, ServeError> {
    let mut postings = Vec::new();
    for add in commit.new_rows() {
        let file = log::local_file(table, &add.path).map_err(|e| ServeError::Lake(e.to_string()))?;
        for job in market::read_silver_file(table, &file)? {
            let row = postings.len() as u64;
            postings.push(LivePosting::new(commit.version, row, commit.at_ms, job, taxonomy));
        }
    }
    Ok(postings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_written_and_read_back() {
        for text in ["12:0", "12:7", "12", "-1"] {
            let id = EventId::parse(text).unwrap_or_else(|| panic!("{text} parses"));
            assert_eq!(id.to_string(), text);
        }
        for text in ["", "x", "12:", "12:x", "1.5", "12:-1"] {
            assert_eq!(EventId::parse(text), None, "{text}");
        }
    }

    #[test]
    fn a_place_is_before_later_rows_and_later_commits_only() {
        let at = EventId::row(5, 2);
        assert!(!at.is_before(5, 2), "not the row itself");
        assert!(!at.is_before(5, 1) && !at.is_before(4, 9));
        assert!(at.is_before(5, 3) && at.is_before(6, 0));
        let end = EventId::end_of(5);
        assert!(!end.is_before(5, 1_000), "the end of a commit is after all its rows");
        assert!(end.is_before(6, 0));
    }
}
