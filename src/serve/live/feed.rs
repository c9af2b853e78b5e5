//! The follower of silver's Delta log: every few hundred milliseconds it looks for the next
//! commit file of silver and of the duplicates table, reads the postings a new silver commit
//! added, and broadcasts them with the figures they change to every open stream. It also keeps
//! the newest postings (for a new client's backlog and the live figures) and every consume
//! commit's count (jobs per hour). Following the log directly, rather than waiting for the lake
//! snapshot to be reloaded, puts a posting on the stream within a poll of its commit.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::broadcast;

use crate::lake::{self, log};
use crate::skills::Taxonomy;

use super::super::ServeError;
use super::super::market::{Job, Market};
use super::ingest::{self, Ingest};
use super::posting::{EventId, LivePosting, postings_of_commit};
use super::summary::{self, Salary, Trending, WINDOW};

/// Updates a stream may fall behind by before it reads the rest from the log instead.
const BACKLOG_UPDATES: usize = 64;

/// What one pass of the follower found: the new postings (log order) and the figures after them.
#[derive(Debug)]
pub struct Update {
    pub postings: Vec<Arc<LivePosting>>,
    pub figures: Arc<Figures>,
}

/// The figures the stream sends after each commit, serialised once for every client.
#[derive(Debug)]
pub struct Figures {
    /// Silver's version they follow: the stream's place after them.
    pub version: i64,
    pub ingest: Ingest,
    pub events: [(&'static str, String); 3],
}

impl Figures {
    fn new(version: i64, ingest: Ingest, skills: &Trending, salary: &Salary) -> Self {
        let json = |written: serde_json::Result<String>| written.unwrap_or_default();
        let events = [
            ("ingest", json(serde_json::to_string(&ingest))),
            ("skills", json(serde_json::to_string(skills))),
            ("salary", json(serde_json::to_string(salary))),
        ];
        Figures { version, ingest, events }
    }
}

/// What a new stream starts from: the updates after this moment, the place they follow, the
/// newest postings and the current figures.
pub struct Subscription {
    pub updates: broadcast::Receiver<Arc<Update>>,
    pub place: EventId,
    pub recent: Vec<Arc<LivePosting>>,
    pub figures: Arc<Figures>,
}

/// What one pass read from the log.
struct Read {
    /// Silver's new commits, each with the postings it added.
    added: Vec<(log::Commit, Vec<LivePosting>)>,
    /// The duplicates table's new commits.
    repeats: Vec<log::Commit>,
    /// What stopped the reading before the end of the log.
    trouble: Option<ServeError>,
}

#[derive(Default)]
struct Followed {
    /// Silver's newest version read (`None` before the first pass).
    silver: Option<i64>,
    duplicates: Option<i64>,
    /// The newest postings, oldest first, at most [`WINDOW`].
    recent: VecDeque<Arc<LivePosting>>,
    posting_commits: Vec<ingest::Commit>,
    duplicate_commits: Vec<ingest::Commit>,
    /// The lake snapshot version the figures' market side was computed on.
    market_version: Option<i64>,
    figures: Option<Arc<Figures>>,
}

pub struct Feed {
    lake: PathBuf,
    followed: Mutex<Followed>,
    sender: broadcast::Sender<Arc<Update>>,
}

impl Feed {
    pub fn new(lake: &Path) -> Self {
        Feed {
            lake: lake.to_path_buf(),
            followed: Mutex::default(),
            sender: broadcast::Sender::new(BACKLOG_UPDATES),
        }
    }

    fn followed(&self) -> MutexGuard<'_, Followed> {
        // A pass that panicked leaves counts that are still whole; keep following.
        self.followed.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the first pass has read the log.
    pub fn is_following(&self) -> bool {
        self.followed().silver.is_some()
    }

    /// Silver's version the feed has read up to (-1 before silver exists), once following.
    pub fn version(&self) -> Option<i64> {
        self.followed().silver
    }

    /// Jobs per hour over the week up to the newest consume commit, once following.
    pub fn ingest(&self) -> Option<Ingest> {
        self.followed().figures.as_ref().map(|f| f.ingest.clone())
    }

    /// Where the feed is: its place, the newest postings and the current figures, once the
    /// first pass is done.
    pub fn now(&self) -> Option<(EventId, Vec<Arc<LivePosting>>, Arc<Figures>)> {
        Self::view(&self.followed())
    }

    fn view(followed: &Followed) -> Option<(EventId, Vec<Arc<LivePosting>>, Arc<Figures>)> {
        Some((
            EventId::end_of(followed.silver?),
            followed.recent.iter().cloned().collect(),
            followed.figures.clone()?,
        ))
    }

    /// A new stream's start, once the first pass is done.
    pub fn subscribe(&self) -> Option<Subscription> {
        let followed = self.followed();
        let (place, recent, figures) = Self::view(&followed)?;
        // Subscribing under the lock the follower broadcasts under: every update after `place`
        // reaches the receiver, and none before it.
        Some(Subscription {
            updates: self.sender.subscribe(),
            place,
            recent,
            figures,
        })
    }

    /// Reads what was committed since the last pass and broadcasts it; with `market`, the
    /// figures compare the newest postings with it. Returns whether a table moved. Blocking.
    /// The files are read without holding the feed, so streams starting meanwhile do not wait
    /// on them; a commit that cannot be read stops the pass after the ones before it are sent.
    pub fn catch_up(&self, market: Option<&Market>, taxonomy: &Taxonomy) -> Result<bool, ServeError> {
        let silver = self.lake.join(lake::SILVER);
        let duplicates = self.lake.join(lake::DUPLICATES);
        let (silver_at, duplicates_at) = {
            let followed = self.followed();
            (followed.silver, followed.duplicates)
        };
        let Some(silver_at) = silver_at else {
            let fresh = Self::first_pass(&silver, &duplicates, taxonomy)?;
            let mut followed = self.followed();
            *followed = fresh;
            self.publish(&mut followed, Vec::new(), market, taxonomy);
            return Ok(true);
        };
        let Read { added, repeats, trouble } = Self::read_since(&silver, silver_at, &duplicates, duplicates_at.unwrap_or(-1), taxonomy);
        let mut followed = self.followed();
        let moved = !added.is_empty() || !repeats.is_empty();
        let mut new_postings = Vec::new();
        for (commit, postings) in added {
            followed.posting_commits.extend(ingest::Commit::of(&commit));
            for posting in postings.into_iter().map(Arc::new) {
                if followed.recent.len() == WINDOW {
                    followed.recent.pop_front();
                }
                followed.recent.push_back(posting.clone());
                new_postings.push(posting);
            }
            followed.silver = Some(commit.version);
        }
        for commit in repeats {
            followed.duplicate_commits.extend(ingest::Commit::of(&commit));
            followed.duplicates = Some(commit.version);
        }
        if moved || market.map(|m| m.lake_version) != followed.market_version {
            self.publish(&mut followed, new_postings, market, taxonomy);
        }
        trouble.map_or(Ok(moved), Err)
    }

    /// Silver's commits after `silver_at` with their postings and the duplicates table's after
    /// `duplicates_at`, as far as they read; the error that stopped the reading, if any.
    fn read_since(silver: &Path, silver_at: i64, duplicates: &Path, duplicates_at: i64, taxonomy: &Taxonomy) -> Read {
        let lake_error = |e: lake::LakeError| ServeError::Lake(e.to_string());
        let mut added = Vec::new();
        let mut version = silver_at + 1;
        let trouble = loop {
            match log::read_commit(silver, version).map_err(lake_error) {
                Ok(Some(commit)) => match postings_of_commit(silver, &commit, taxonomy) {
                    Ok(postings) => added.push((commit, postings)),
                    Err(error) => break Some(error),
                },
                Ok(None) => break None,
                Err(error) => break Some(error),
            }
            version += 1;
        };
        let mut repeats = Vec::new();
        let mut version = duplicates_at + 1;
        let trouble = trouble.or_else(|| {
            loop {
                match log::read_commit(duplicates, version).map_err(lake_error) {
                    Ok(Some(commit)) => repeats.push(commit),
                    Ok(None) => break None,
                    Err(error) => break Some(error),
                }
                version += 1;
            }
        });
        Read { added, repeats, trouble }
    }

    /// The figures after `new_postings`, kept and broadcast with them.
    fn publish(&self, followed: &mut Followed, new_postings: Vec<Arc<LivePosting>>, market: Option<&Market>, taxonomy: &Taxonomy) {
        let window: Vec<&Job> = followed.recent.iter().map(|p| &p.job).collect();
        let jobs = market.map_or(&[][..], |m| &m.jobs);
        let figures = Arc::new(Figures::new(
            followed.silver.unwrap_or(-1),
            ingest::per_hour(&followed.posting_commits, &followed.duplicate_commits),
            &summary::trending(&window, jobs, taxonomy),
            &summary::salary(&window, jobs),
        ));
        followed.market_version = market.map(|m| m.lake_version);
        followed.figures = Some(figures.clone());
        // No open stream is not an error.
        let _ = self.sender.send(Arc::new(Update {
            postings: new_postings,
            figures,
        }));
    }

    /// Every commit's count, and the newest postings read from the newest commits back.
    fn first_pass(silver: &Path, duplicates: &Path, taxonomy: &Taxonomy) -> Result<Followed, ServeError> {
        let lake_error = |e: lake::LakeError| ServeError::Lake(e.to_string());
        let mut commits = Vec::new();
        for version in log::versions(silver).map_err(lake_error)? {
            commits.extend(log::read_commit(silver, version).map_err(lake_error)?);
        }
        let mut recent = VecDeque::new();
        for commit in commits.iter().rev() {
            if recent.len() == WINDOW {
                break;
            }
            for posting in postings_of_commit(silver, commit, taxonomy)?.into_iter().rev() {
                if recent.len() == WINDOW {
                    break;
                }
                recent.push_front(Arc::new(posting));
            }
        }
        Ok(Followed {
            silver: Some(commits.last().map_or(-1, |c| c.version)),
            duplicates: Some(log::versions(duplicates).map_err(lake_error)?.last().copied().unwrap_or(-1)),
            recent,
            posting_commits: commits.iter().filter_map(ingest::Commit::of).collect(),
            duplicate_commits: ingest::consume_commits(duplicates).map_err(lake_error)?,
            market_version: None,
            figures: None,
        })
    }
}
