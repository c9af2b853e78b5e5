//! Advisory locks on files of the lake, so two processes never do the same work together (two
//! overlapping cron runs, two `rats report due`). The system drops the lock when the process
//! ends, so a killed process never leaves one behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::Path;

/// Takes the lock on the file at `path` (created when missing) and writes who holds it into
/// it; `Ok(Err(holder))` when another process holds it, naming that process.
pub fn try_lock(path: &Path) -> std::io::Result<Result<File, String>> {
    let mut file = OpenOptions::new().create(true).truncate(false).read(true).write(true).open(path)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0)?;
            writeln!(
                file,
                "pid {} since {}",
                std::process::id(),
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )?;
            Ok(Ok(file))
        }
        Err(TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(path).unwrap_or_default();
            Ok(Err(holder.trim().to_string()))
        }
        Err(TryLockError::Error(e)) => Err(e),
    }
}
