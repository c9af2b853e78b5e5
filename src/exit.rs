//! Process exit codes, one meaning each, so cron and CI can branch on them.

/// How a `rats` run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything worked.
    Success,
    /// The run completed but found problems (for example quarantine above the threshold).
    Problems,
    /// The run failed.
    Error,
}

impl Outcome {
    /// The numeric process exit code: 0, 1 or 2.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Problems => 1,
            Outcome::Error => 2,
        }
    }
}
