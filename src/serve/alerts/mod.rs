//! Saved-search alerts by mail: every `every` (an hour by default), each search whose owner
//! asked for mail gets one digest of the postings that reached silver since its last one — one
//! message per person, however many of their searches matched. The postings are read from
//! silver's log (the commits after each search's mark), so a server that was down or a mail
//! that failed loses nothing: the next round covers those commits too. Marks are claimed in the
//! accounts database ([`crate::accounts::searches`]), so replicas sharing it mail once.

mod digest;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::accounts::searches::MailingSearch;
use crate::lake::{self, log};
use crate::mail::Mailer;
use crate::skills::Taxonomy;

use super::ServeError;
use super::filter::{Filter, JobFilter};
use super::live::posting::{LivePosting, postings_of_commit};
use super::state::AppState;

use digest::SHOWN_PER_SEARCH;

/// How the server mails alerts (`rats serve` with `smtp.url`).
#[derive(Clone)]
pub struct AlertMail {
    pub mailer: Arc<Mailer>,
    /// Time between rounds: the longest a new posting waits for its mail.
    pub every: Duration,
    /// The server as its users' browsers reach it, for the links in the mail.
    pub public_url: String,
}

impl std::fmt::Debug for AlertMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertMail")
            .field("every", &self.every)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// A search this round mails: the commits after `from` through the round's version.
struct Claimed {
    mailing: MailingSearch,
    from: i64,
    filter: Filter,
}

/// What one search found in a round.
struct Found {
    search_id: i64,
    name: String,
    /// The search's filters, as the jobs page's query string.
    query: String,
    /// The first [`SHOWN_PER_SEARCH`] postings, in log order.
    shown: Vec<Arc<LivePosting>>,
    total: usize,
}

/// Mails a round every `config.every` until the server stops.
pub async fn mail_alerts(state: Arc<AppState>, config: AlertMail) {
    loop {
        tokio::time::sleep(config.every).await;
        if let Err(error) = round(&state, &config).await {
            tracing::warn!(target: "rats::serve", %error, "the saved-search mail round stopped; the next one covers its postings");
        }
    }
}

/// One round: claims every mailing search's new commits, reads them once, and sends each owner
/// one digest; a digest that does not go gives its searches' commits back.
async fn round(state: &Arc<AppState>, config: &AlertMail) -> Result<(), ServeError> {
    let Some(version) = state.feed.version() else {
        return Ok(());
    };
    let accounts = &state.accounts;
    let database = |e: crate::accounts::AccountsError| ServeError::Io(format!("the accounts database: {e}"));
    let taxonomy = state.extractor.taxonomy();
    let mut claimed = Vec::new();
    for mailing in accounts.mailing_searches().await.map_err(database)? {
        let from = mailing.mailed_through;
        if from >= version || !accounts.claim_mail(mailing.search.id, from, version).await.map_err(database)? {
            continue;
        }
        // A mark of -1 starts at the version the round saw: mail is for what comes after.
        if from < 0 {
            continue;
        }
        match filter_of(&mailing, taxonomy) {
            Some(filter) => claimed.push(Claimed { mailing, from, filter }),
            None => {
                tracing::warn!(target: "rats::serve", search = mailing.search.id, "a saved search's filters no longer read; it mails nothing");
            }
        }
    }
    if claimed.is_empty() {
        return Ok(());
    }
    let silver = state.options.lake.join(lake::SILVER);
    let reader = state.clone();
    let (claimed, found) = tokio::task::spawn_blocking(move || {
        let found = matches(&silver, &claimed, version, reader.extractor.taxonomy());
        (claimed, found)
    })
    .await
    .map_err(|e| ServeError::Io(format!("reading silver's new commits: {e}")))?;
    let found = match found {
        Ok(found) => found,
        Err(error) => {
            give_back(state, &claimed, version).await;
            return Err(error);
        }
    };
    // One digest per address, its searches in the order they were saved.
    let mut by_address: BTreeMap<&str, Vec<(&Claimed, Found)>> = BTreeMap::new();
    for (claim, found) in claimed.iter().zip(found) {
        if found.total > 0 {
            by_address.entry(claim.mailing.address.as_str()).or_default().push((claim, found));
        }
    }
    for (address, searches) in by_address {
        let (found, claims): (Vec<Found>, Vec<&Claimed>) = searches.into_iter().map(|(claim, found)| (found, claim)).unzip();
        let message = match digest::Digest::new(&found, &config.public_url, version, taxonomy) {
            Ok(message) => message,
            Err(error) => {
                // The others' digests still go; this one's postings wait for the next round.
                tracing::error!(target: "rats::serve", to = address, %error, "a saved-search mail could not be written");
                give_back(state, claims, version).await;
                continue;
            }
        };
        let mailer = config.mailer.clone();
        let to = vec![address.to_string()];
        let sent = tokio::task::spawn_blocking(move || message.send(&mailer, &to))
            .await
            .map_err(|e| ServeError::Io(format!("sending a saved-search mail: {e}")))
            .and_then(|sent| sent.map_err(|e| ServeError::Io(e.to_string())));
        state.metrics.alert_mailed(sent.is_ok());
        match sent {
            Ok(()) => {
                let postings: usize = found.iter().map(|f| f.total).sum();
                tracing::info!(target: "rats::serve", to = address, searches = found.len(), postings, lake_version = version, "saved-search mail sent");
            }
            Err(error) => {
                tracing::warn!(target: "rats::serve", to = address, %error, "a saved-search mail did not go; its postings are mailed the next round");
                give_back(state, claims, version).await;
            }
        }
    }
    Ok(())
}

/// Puts the marks of `claimed` back where they were before this round.
async fn give_back<'a>(state: &AppState, claimed: impl IntoIterator<Item = &'a Claimed>, version: i64) {
    for claim in claimed {
        if let Err(error) = state.accounts.unclaim_mail(claim.mailing.search.id, claim.from, version).await {
            tracing::warn!(target: "rats::serve", search = claim.mailing.search.id, %error, "a saved search's mail mark could not be put back");
        }
    }
}

fn filter_of(mailing: &MailingSearch, taxonomy: &Taxonomy) -> Option<Filter> {
    let given: JobFilter = serde_json::from_value(mailing.search.query["filter"].clone()).ok()?;
    Filter::new(&given, taxonomy).ok()
}

/// Each claimed search's postings among silver's commits after its mark through `version`,
/// reading each commit once.
fn matches(silver: &Path, claimed: &[Claimed], version: i64, taxonomy: &Taxonomy) -> Result<Vec<Found>, ServeError> {
    let mut found: Vec<Found> = claimed
        .iter()
        .map(|claim| Found {
            search_id: claim.mailing.search.id,
            name: claim.mailing.search.name.clone(),
            query: serde_urlencoded::to_string(&claim.mailing.search.query["filter"]).unwrap_or_default(),
            shown: Vec::new(),
            total: 0,
        })
        .collect();
    let first = claimed.iter().map(|c| c.from + 1).min().unwrap_or(version + 1);
    for commit_version in first..=version {
        // A commit the log no longer holds (cleaned up after 30 days) has nothing to mail.
        let Some(commit) = log::read_commit(silver, commit_version).map_err(|e| ServeError::Lake(e.to_string()))? else {
            continue;
        };
        if commit.new_rows().next().is_none() {
            continue;
        }
        let postings: Vec<Arc<LivePosting>> = postings_of_commit(silver, &commit, taxonomy)?.into_iter().map(Arc::new).collect();
        for (claim, found) in claimed.iter().zip(found.iter_mut()) {
            if claim.from >= commit_version {
                continue;
            }
            for posting in postings.iter().filter(|p| claim.filter.keeps(&p.job, &p.search_text)) {
                found.total += 1;
                if found.shown.len() < SHOWN_PER_SEARCH {
                    found.shown.push(posting.clone());
                }
            }
        }
    }
    Ok(found)
}
