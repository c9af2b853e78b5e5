//! What a consume run did, in numbers that always add up:
//! `read = written + duplicates + quarantined + skipped`.

use std::collections::BTreeMap;

use serde::Serialize;

/// Counts for one input file or for the whole run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Records read from the input.
    pub read: u64,
    /// New postings written to silver.
    pub written: u64,
    /// Records recognised as duplicates of a posting in silver.
    pub duplicates: u64,
    /// Records rejected into quarantine.
    pub quarantined: u64,
    /// Records a previous run already committed (re-runs and resumed runs).
    pub skipped: u64,
    /// Duplicates by match kind.
    pub duplicates_by_kind: BTreeMap<String, u64>,
    /// Quarantined records by error code.
    pub quarantined_by_reason: BTreeMap<String, u64>,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.read += other.read;
        self.written += other.written;
        self.duplicates += other.duplicates;
        self.quarantined += other.quarantined;
        self.skipped += other.skipped;
        for (k, v) in &other.duplicates_by_kind {
            *self.duplicates_by_kind.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.quarantined_by_reason {
            *self.quarantined_by_reason.entry(k.clone()).or_default() += v;
        }
    }

    /// Quarantined records as a percentage of the records this run processed.
    pub fn quarantine_percent(&self) -> f64 {
        let processed = self.read - self.skipped;
        if processed == 0 {
            0.0
        } else {
            self.quarantined as f64 * 100.0 / processed as f64
        }
    }
}

/// One input's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub path: String,
    pub format: String,
    pub mapping: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct ConsumeSummary {
    pub lake: String,
    #[serde(flatten)]
    pub totals: Counts,
    pub quarantine_percent: f64,
    pub files: Vec<FileSummary>,
}
