//! Settings that libraries read from the environment once, at start-up (jemalloc's options,
//! candle's thread count), and that some commands need other than the default. A running
//! process cannot change what those libraries have read, and this crate sets no environment of
//! its own (it has no unsafe code), so such a command restarts itself with them before doing
//! anything else: the same process id, arguments and the rest of the environment.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// A variable and the value a command wants in it.
pub type Setting = (&'static str, &'static str);

/// Restarts this process with each of `settings` whose variable is not set already (a value in
/// the environment — the user's, or this restart's — is kept). Returns when there is nothing to
/// set, or when the restart failed: the command then runs as it is, slower.
pub fn with(settings: &[Setting]) {
    let missing: Vec<Setting> = settings
        .iter()
        .copied()
        .filter(|(variable, _)| std::env::var_os(variable).is_none())
        .collect();
    if missing.is_empty() {
        return;
    }
    let Ok(program) = std::env::current_exe() else {
        return;
    };
    let error = Command::new(program)
        .args(std::env::args_os().skip(1))
        .envs(missing.iter().copied())
        .exec();
    let named: Vec<String> = missing.iter().map(|(variable, value)| format!("{variable}={value}")).collect();
    note!("warning: could not restart with {} ({error}); this runs slower", named.join(" "));
}
