//! `GET /v1/stream`: the live feed as Server-Sent Events. Events:
//!
//! - `posting` (id `V:R`): a posting `rats consume` committed, in log order, that passes the
//!   request's filters (the `/v1/jobs` ones);
//! - `ingest` (id `V`, the place after the commit), `skills`, `salary`: jobs per hour, the
//!   newest postings' skills and pay, after each commit and once at the start;
//! - `alert`: a new posting matches one of the caller's saved searches (whatever the filters);
//! - `gap`: postings that cannot be sent (more than [`MAX_REPLAY`] behind, or commits the log
//!   no longer holds).
//!
//! A client that reconnects with `Last-Event-ID` (the header, or `last_event_id` for a new
//! `EventSource`) gets exactly the postings after it — read from the log, so also after the
//! server restarted; one without it gets the `backlog` newest and then what comes. With
//! `follow=false` the stream ends after that start, for scripts that poll from their last id.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{broadcast, mpsc};

use crate::lake::{self, log};

use super::super::access::Caller;
use super::super::extract::ApiQuery;
use super::super::filter::{Filter, JobFilter};
use super::super::problem::Problem;
use super::super::state::AppState;
use super::feed::{Figures, Subscription, Update};
use super::posting::{EventId, LivePosting, postings_of_commit};
use super::summary::WINDOW;

/// The most postings a reconnecting client is sent from the log; older ones are a `gap`.
pub const MAX_REPLAY: u64 = 10_000;
/// How long a stream uses the caller's saved searches before reading them again.
const SEARCHES_FOR: Duration = Duration::from_secs(5);
/// Events waiting for a slow client before the stream stops reading updates for it.
const QUEUED_EVENTS: usize = 256;

#[derive(Debug, Deserialize)]
pub struct Resume {
    /// The `Last-Event-ID` header's value, for clients that cannot set headers.
    last_event_id: Option<String>,
    /// How many of the newest postings to send first when not resuming (at most 1,000).
    backlog: Option<usize>,
    /// `false` ends the stream after its start (for scripts that poll from their last id).
    follow: Option<bool>,
    /// `false` leaves out the `posting` events (pages that only refresh when the lake moves,
    /// and show alerts).
    postings: Option<bool>,
}

/// `GET /v1/stream`.
pub async fn stream(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    ApiQuery(filter): ApiQuery<JobFilter>,
    ApiQuery(resume): ApiQuery<Resume>,
) -> Result<Response, Problem> {
    let filter = Filter::new(&filter, state.extractor.taxonomy())?;
    let given = match headers.get("last-event-id") {
        Some(value) => Some(value.to_str().unwrap_or("?").to_string()),
        None => resume.last_event_id,
    };
    let after = given
        .filter(|text| !text.trim().is_empty())
        .map(|text| {
            EventId::parse(&text)
                .ok_or_else(|| Problem::invalid("Last-Event-ID", format!("{text:?} is not an id of this stream (V:R or V)")))
        })
        .transpose()?;
    let backlog = resume.backlog.unwrap_or(0);
    if backlog > WINDOW {
        return Err(Problem::invalid("backlog", format!("at most {WINDOW} postings")));
    }
    let Ok(slot) = state.streams.clone().try_acquire_owned() else {
        return Err(Problem::unavailable(
            "too_many_streams",
            "the server holds as many streams as it allows; retry later",
        ));
    };
    let Some(start) = state.feed.subscribe() else {
        return Err(Problem::unavailable(
            "feed_not_ready",
            "the lake's log has not been read yet; see /ready",
        ));
    };
    let (out, events) = mpsc::channel(QUEUED_EVENTS);
    let pump = Pump {
        state: state.clone(),
        user_id: caller.user.id,
        filter,
        out,
        place: start.place,
        postings: resume.postings.unwrap_or(true),
        searches: Vec::new(),
        searches_read: None,
    };
    tokio::spawn(async move {
        let _slot = slot;
        pump.run(start, after, backlog, resume.follow.unwrap_or(true)).await;
    });
    let events = futures::stream::unfold(events, |mut events| async move {
        events.recv().await.map(|event| (Ok::<_, Infallible>(event), events))
    });
    Ok((
        // Proxies that buffer answers would hold the events back.
        [("x-accel-buffering", "no")],
        Sse::new(events).keep_alive(KeepAlive::default()),
    )
        .into_response())
}

/// The client went away (or the server is stopping).
struct Gone;

/// One stream's sender: what it has sent so far and the caller's saved searches.
struct Pump {
    state: Arc<AppState>,
    user_id: i64,
    filter: Filter,
    out: mpsc::Sender<Event>,
    /// The last place sent.
    place: EventId,
    /// Whether `posting` events are sent.
    postings: bool,
    searches: Vec<(i64, String, Filter)>,
    searches_read: Option<Instant>,
}

impl Pump {
    async fn run(mut self, start: Subscription, after: Option<EventId>, backlog: usize, follow: bool) {
        let Subscription {
            mut updates,
            place,
            recent,
            figures,
        } = start;
        let mut stopping = self.state.stopping.subscribe();
        let started = match after {
            // An id from before a lake that was made anew is answered as a first connection.
            Some(after) if after.version <= place.version => {
                self.place = after;
                self.replay(place.version).await
            }
            _ => self.send_backlog(&recent, backlog).await,
        };
        if started.and(self.send_figures(&figures).await).is_err() || !follow {
            return;
        }
        loop {
            let update = tokio::select! {
                _ = stopping.wait_for(|stop| *stop) => return,
                () = self.out.closed() => return,
                update = updates.recv() => update,
            };
            let sent = match update {
                Ok(update) => self.send_update(&update).await,
                // Too far behind for the broadcast: the rest comes from the log.
                Err(broadcast::error::RecvError::Lagged(_)) => match self.state.feed.version() {
                    Some(version) => self.replay(version).await,
                    None => Ok(()),
                },
                Err(broadcast::error::RecvError::Closed) => return,
            };
            if sent.is_err() {
                return;
            }
        }
    }

    async fn send(&self, event: Event) -> Result<(), Gone> {
        self.out.send(event).await.map_err(|_| Gone)
    }

    /// The newest `count` postings the filters pass, oldest first (history: no alerts).
    async fn send_backlog(&mut self, recent: &[Arc<LivePosting>], count: usize) -> Result<(), Gone> {
        if !self.postings {
            return Ok(());
        }
        let kept: Vec<&Arc<LivePosting>> = recent
            .iter()
            .rev()
            .filter(|p| self.filter.keeps(&p.job, &p.search_text))
            .take(count)
            .collect();
        for posting in kept.into_iter().rev() {
            self.send(posting_event(posting)).await?;
        }
        Ok(())
    }

    async fn send_update(&mut self, update: &Update) -> Result<(), Gone> {
        if !update.postings.is_empty() {
            self.read_searches().await;
        }
        for posting in &update.postings {
            self.send_new(posting).await?;
        }
        self.send_figures(&update.figures).await
    }

    /// A posting the client has not had, with the alerts of the saved searches it matches.
    async fn send_new(&mut self, posting: &LivePosting) -> Result<(), Gone> {
        if !self.place.is_before(posting.version, posting.row) {
            return Ok(());
        }
        if self.postings && self.filter.keeps(&posting.job, &posting.search_text) {
            self.send(posting_event(posting)).await?;
        }
        let alerts: Vec<Event> = self
            .searches
            .iter()
            .filter(|(_, _, filter)| filter.keeps(&posting.job, &posting.search_text))
            .map(|(id, name, _)| alert_event(*id, name, posting))
            .collect();
        for alert in alerts {
            self.send(alert).await?;
        }
        self.place = posting.id();
        Ok(())
    }

    /// The figures, the first carrying the place after the commit they follow, so a client
    /// whose filters passed none of its postings resumes after it too.
    async fn send_figures(&mut self, figures: &Figures) -> Result<(), Gone> {
        let end = EventId::end_of(figures.version);
        if figures.version >= self.place.version {
            self.place = end;
        }
        for (i, (name, data)) in figures.events.iter().enumerate() {
            let event = Event::default().event(*name).data(data);
            self.send(if i == 0 { event.id(self.place.to_string()) } else { event }).await?;
        }
        Ok(())
    }

    /// Everything after `self.place` up to the end of commit `upto`, read from the log.
    async fn replay(&mut self, upto: i64) -> Result<(), Gone> {
        self.read_searches().await;
        let first = if self.place.row.is_some() {
            self.place.version
        } else {
            self.place.version + 1
        };
        let silver = self.state.options.lake.join(lake::SILVER);
        let table = silver.clone();
        let read = tokio::task::spawn_blocking(move || {
            (first.max(0)..=upto)
                .map(|version| log::read_commit(&table, version))
                .collect::<Result<Vec<_>, _>>()
        })
        .await;
        let commits = match read {
            Ok(Ok(commits)) => commits,
            Ok(Err(error)) => return self.send_gap(json!({"reason": error.to_string()})).await,
            Err(error) => return self.send_gap(json!({"reason": error.to_string()})).await,
        };
        let missing = commits.iter().filter(|c| c.is_none()).count();
        let commits: Vec<log::Commit> = commits.into_iter().flatten().collect();
        // The newest commits that fit in MAX_REPLAY postings (by their files' statistics).
        let mut total = 0;
        let mut keep_from = commits.len();
        for (i, commit) in commits.iter().enumerate().rev() {
            total += commit.new_rows().filter_map(|add| add.records).sum::<u64>();
            if total > MAX_REPLAY {
                break;
            }
            keep_from = i;
        }
        let skipped: u64 = commits[..keep_from]
            .iter()
            .flat_map(|c| c.new_rows().filter_map(|add| add.records))
            .sum();
        if missing > 0 || skipped > 0 {
            let reason = if missing > 0 {
                "the log no longer holds some commits"
            } else {
                "too far behind"
            };
            self.send_gap(json!({"reason": reason, "missing_commits": missing, "skipped_postings": skipped}))
                .await?;
        }
        for commit in commits.into_iter().skip(keep_from) {
            let table = silver.clone();
            let taxonomy = self.state.extractor.clone();
            let read = tokio::task::spawn_blocking(move || postings_of_commit(&table, &commit, taxonomy.taxonomy())).await;
            match read {
                Ok(Ok(postings)) => {
                    for posting in &postings {
                        self.send_new(posting).await?;
                    }
                }
                Ok(Err(error)) => self.send_gap(json!({"reason": error.to_string()})).await?,
                Err(error) => self.send_gap(json!({"reason": error.to_string()})).await?,
            }
        }
        if upto >= self.place.version {
            self.place = EventId::end_of(upto);
        }
        Ok(())
    }

    async fn send_gap(&self, detail: serde_json::Value) -> Result<(), Gone> {
        tracing::warn!(target: "rats::serve", %detail, "live stream: postings not sent");
        self.send(Event::default().event("gap").data(detail.to_string())).await
    }

    /// The caller's saved searches, read again when older than [`SEARCHES_FOR`]; one that no
    /// longer checks (a skill the taxonomy dropped) raises no alerts.
    async fn read_searches(&mut self) {
        if self.searches_read.is_some_and(|at| at.elapsed() < SEARCHES_FOR) {
            return;
        }
        self.searches_read = Some(Instant::now());
        let Ok(saved) = self.state.accounts.saved_searches(Some(self.user_id)).await else {
            return;
        };
        let taxonomy = self.state.extractor.taxonomy();
        self.searches = saved
            .into_iter()
            .filter_map(|search| {
                let given: JobFilter = serde_json::from_value(search.query["filter"].clone()).ok()?;
                Some((search.id, search.name, Filter::new(&given, taxonomy).ok()?))
            })
            .collect();
    }
}

fn posting_event(posting: &LivePosting) -> Event {
    Event::default().event("posting").id(posting.id().to_string()).data(&posting.json)
}

fn alert_event(search_id: i64, search: &str, posting: &LivePosting) -> Event {
    let job = &posting.job;
    let data = json!({
        "search_id": search_id,
        "search": search,
        "id": posting.id().to_string(),
        "posting_key": job.posting_key,
        "title": job.title,
        "company": job.company,
        "place": job.place(),
    });
    Event::default().event("alert").data(data.to_string())
}
