//! The live side of `rats serve`: [`feed`] follows silver's Delta log and turns each `rats
//! consume` commit into events; [`stream`] sends them to clients as Server-Sent Events
//! (`GET /v1/stream`), resumable by event id ([`posting::EventId`]) without gaps or repeats.

pub mod feed;
pub mod ingest;
pub mod posting;
pub mod stream;
pub mod summary;

/// How often the follower looks for new commits.
pub const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Open streams the server holds at most; more are refused with 503.
pub const MAX_STREAMS: usize = 1_024;
