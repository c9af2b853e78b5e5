//! PDF through headless Chromium printing the report's own HTML page: the PDF then looks like
//! the page people see in a browser and the mail (one layout, one stylesheet, tables and
//! inline SVG as the browser draws them). Typst would need every report written a second time
//! in its own language and its compiler built into every rats (not tried: its build cost is
//! not measured); Chromium is a run-time dependency only of PDF output, found on PATH or
//! through `report.chromium`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::ReportError;

/// The names Chromium is installed under, tried in order on PATH.
const CANDIDATES: [&str; 4] = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/// The browser to print with: the one configured, else the first of [`CANDIDATES`] on PATH.
pub fn find_browser(configured: Option<&Path>) -> Result<PathBuf, ReportError> {
    if let Some(path) = configured {
        return Ok(path.to_path_buf());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|dir| CANDIDATES.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            ReportError::Output(format!(
                "PDF output needs Chromium: none of {} is on PATH; install it (Debian: apt install chromium) or set report.chromium (env RATS_CHROMIUM)",
                CANDIDATES.join(", ")
            ))
        })
}

/// Prints the HTML page `html` to a PDF and returns its bytes.
pub fn print(browser: &Path, html: &str) -> Result<Vec<u8>, ReportError> {
    const TIMEOUT: Duration = Duration::from_secs(90);
    let work = tempfile::tempdir().map_err(|e| ReportError::Output(format!("cannot make a folder for Chromium: {e}")))?;
    let page = work.path().join("report.html");
    let pdf = work.path().join("report.pdf");
    std::fs::write(&page, html).map_err(|source| ReportError::Io {
        path: page.clone(),
        source,
    })?;
    let mut command = Command::new(browser);
    command
        .args([
            "--headless",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", work.path().join("profile").display()))
        .arg(format!("--print-to-pdf={}", pdf.display()));
    // Chromium refuses to start its sandbox as root (containers, CI); the page is our own,
    // with no script and a policy that fetches nothing.
    if running_as_root() {
        command.arg("--no-sandbox");
    }
    let mut child = command
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ReportError::Output(format!("cannot start {}: {e}", browser.display())))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ReportError::Output(format!(
                    "{} did not print the PDF within {} s",
                    browser.display(),
                    TIMEOUT.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(ReportError::Output(format!("{}: {e}", browser.display()))),
        }
    };
    let bytes = std::fs::read(&pdf).unwrap_or_default();
    if !status.success() || !bytes.starts_with(b"%PDF") {
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        let last: Vec<&str> = stderr.lines().rev().take(3).collect();
        return Err(ReportError::Output(format!(
            "{} printed no PDF ({status}): {}",
            browser.display(),
            last.into_iter().rev().collect::<Vec<_>>().join(" / ")
        )));
    }
    Ok(bytes)
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}
