//! `rats`, the Reversed-ATS toolkit: the core library behind the `rats` binary.
//!
//! Data flows files → [`ingest`] (readers, [`normalize`], [`dedup`]) → [`lake`]. Commands
//! in `commands/` only parse arguments, resolve [`settings::Settings`] once and call in here.

// The library writes to stdout or stderr only through writers it is given or that report their
// errors: `print!`-style macros panic when the reader has gone (`rats … | head`).
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod accounts;
pub mod bundled;
pub mod chart;
pub mod check;
pub mod comma_items;
pub mod contract;
pub mod dedup;
pub mod duration;
pub mod env_vars;
pub mod exit;
pub mod export;
pub mod fnv1a;
pub mod ingest;
pub mod lake;
pub mod lock;
pub mod mail;
pub mod matching;
pub mod ml;
pub mod normalize;
pub mod otlp;
pub mod output;
pub mod parallel;
pub mod produce;
pub mod registry;
pub mod report;
pub mod serve;
pub mod settings;
pub mod skills;
pub mod tracking;
pub mod transform;
pub mod web;
