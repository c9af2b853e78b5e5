//! Progress on a terminal: a spinner with the record count per input, on stderr, only when
//! stderr is a terminal and `--quiet` is off.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use rats::ingest::Progress;
use rats::ingest::summary::FileSummary;

pub struct TerminalProgress {
    bar: Option<ProgressBar>,
}

impl TerminalProgress {
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {msg}: {human_pos} records ({elapsed})").expect("valid template"));
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        TerminalProgress { bar }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for TerminalProgress {
    fn file_started(&self, path: &Path, index: usize, total: usize) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("[{}/{total}] {}", index + 1, path.display()));
        }
    }

    fn records_done(&self, count: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(count);
        }
    }

    fn file_finished(&self, summary: &FileSummary) {
        if let Some(bar) = &self.bar {
            bar.println(format!(
                "{}: {} read, {} written, {} duplicates, {} quarantined",
                summary.path, summary.counts.read, summary.counts.written, summary.counts.duplicates, summary.counts.quarantined
            ));
        }
    }
}

/// A spinner with the current step of a long run (a training), on stderr, only when stderr is
/// a terminal and `--quiet` is off; every step is also logged.
pub struct StepSpinner {
    bar: Option<ProgressBar>,
}

impl StepSpinner {
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("valid template"));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        StepSpinner { bar }
    }

    pub fn step(&self, message: &str) {
        tracing::info!("{message}");
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_string());
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
