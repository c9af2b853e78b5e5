//! Ingest: read inputs, normalise, deduplicate, and commit to the lake.

pub mod batch;
pub mod kafka;
pub mod mapping;
pub mod pipeline;
pub mod readers;
pub mod reject;
pub mod summary;

pub use pipeline::{ConsumeError, ConsumeOptions, Progress, consume_files};
