//! kill -9 in the middle of a consume, several times, then finish: the lake equals a clean
//! run's, row for row in every table.

use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use rats::lake::{BRONZE, DUPLICATES, QUARANTINE, SILVER};

use crate::support::{datasets, kill_after, kill_waits, rats, run, stderr, table_rows};

const BATCH: &str = "150";

pub fn inputs() -> Vec<std::path::PathBuf> {
    let postings = datasets().join("postings");
    let mut files: Vec<_> = ["NY", "SF", "TX", "WA"]
        .iter()
        .map(|m| postings.join(format!("glassdoor-2020-metros/Data_Job_{m}.csv")))
        .collect();
    files.push(postings.join("nyc-jobs/NYC_Jobs.csv"));
    files
}

fn consume(dir: &Path, lake: &str) -> std::process::Command {
    let mut command = rats(dir);
    command
        .args(["consume", "-q", "--lake", lake, "--batch-size", BATCH, "--from"])
        .args(inputs());
    command
}

pub fn snapshot(lake: &Path) -> Vec<Vec<Vec<String>>> {
    let columns = |schema: deltalake::arrow::datatypes::Schema| schema.fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>();
    [
        (BRONZE, columns(rats::lake::rows::bronze_schema())),
        (
            SILVER,
            columns(rats::lake::rows::silver_schema())
                .into_iter()
                .filter(|c| c != "posting_month")
                .collect(),
        ),
        (DUPLICATES, columns(rats::lake::rows::duplicates_schema())),
        (QUARANTINE, columns(rats::lake::rows::quarantine_schema())),
    ]
    .into_iter()
    .map(|(table, cols)| table_rows(lake, table, &cols.iter().map(String::as_str).collect::<Vec<_>>()))
    .collect()
}

#[test]
fn killed_runs_resume_to_the_clean_lake() {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let clean = run(&mut consume(dir.path(), "clean"));
    assert!(clean.status.success(), "{}", stderr(&clean));
    let clean_time = started.elapsed();

    for (which, wait) in kill_waits(5, clean_time).into_iter().enumerate() {
        kill_after(
            consume(dir.path(), "crashed").stdout(Stdio::null()).stderr(Stdio::null()),
            wait,
            which + 1,
        );
    }
    let finish = run(&mut consume(dir.path(), "crashed"));
    assert!(finish.status.success(), "{}", stderr(&finish));
    let (expected, got) = (snapshot(&dir.path().join("clean")), snapshot(&dir.path().join("crashed")));
    for (table, (e, g)) in [BRONZE, SILVER, DUPLICATES, QUARANTINE].iter().zip(expected.iter().zip(&got)) {
        assert_eq!(e.len(), g.len(), "{table}: row count after resuming");
        assert!(e == g, "{table}: rows differ from the clean run");
    }
}
