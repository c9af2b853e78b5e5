//! The lake is plain Delta: Python's `deltalake` and `DuckDB` (over the Arrow dataset; `DuckDB`'s
//! own delta extension cannot be downloaded here) read it with the documented schema.

use crate::support::{rats, repo, run, stderr, stdout};

#[test]
fn python_deltalake_and_duckdb_read_every_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixtures = ["postings.jsonl", "jobspy.csv"].map(|f| repo().join("fixtures/demo").join(f));
    let output = run(rats(dir.path())
        .args(["consume", "--lake", "lake", "--max-quarantine", "100", "--from"])
        .args(&fixtures));
    assert!(output.status.success(), "{}", stderr(&output));

    let script = repo().join("tests/it/read_lake.py");
    let python = std::process::Command::new("python3")
        .arg(&script)
        .arg(dir.path().join("lake"))
        .output()
        .expect("python3 runs");
    assert!(
        python.status.success(),
        "read_lake.py failed: {}",
        String::from_utf8_lossy(&python.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&python.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&python)));

    let expected = [
        (rats::lake::BRONZE, rats::lake::rows::bronze_schema(), 13),
        (rats::lake::SILVER, rats::lake::rows::silver_schema(), 8),
        (rats::lake::DUPLICATES, rats::lake::rows::duplicates_schema(), 2),
        (rats::lake::QUARANTINE, rats::lake::rows::quarantine_schema(), 3),
    ];
    for (table, schema, rows) in expected {
        let seen = &report[table];
        assert_eq!(seen["deltalake_rows"], rows, "{table} rows through deltalake");
        assert_eq!(seen["duckdb_rows"], rows, "{table} rows through duckdb");
        let columns: Vec<&str> = seen["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| c.as_str().expect("name"))
            .collect();
        let mut documented: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let mut read = columns.clone();
        documented.sort_unstable();
        read.sort_unstable();
        assert_eq!(read, documented, "{table} columns");
    }
    assert_eq!(
        report[rats::lake::SILVER]["partition_columns"],
        serde_json::json!(["posting_month"])
    );
    assert_eq!(report["salary_by_currency"], serde_json::json!({"EUR": 1, "GBP": 1, "USD": 5}));

    // The long texts are zstd without a dictionary (each is unique), the short unique columns
    // Snappy without one; other columns are Snappy with Parquet's dictionary, as Delta writes
    // them by default.
    let long_text = serde_json::json!({"codecs": ["ZSTD"], "dictionary": false});
    let unique = serde_json::json!({"codecs": ["SNAPPY"], "dictionary": false});
    for (table, column, expected) in [
        (rats::lake::BRONZE, "raw", &long_text),
        (rats::lake::QUARANTINE, "raw", &long_text),
        (rats::lake::SILVER, "description", &long_text),
        (rats::lake::SILVER, "skills", &long_text),
        (rats::lake::SILVER, "posting_key", &unique),
        (rats::lake::SILVER, "content_hash", &unique),
        (rats::lake::SILVER, "minhash", &unique),
        (rats::lake::DUPLICATES, "posting_key", &unique),
    ] {
        assert_eq!(&report[table]["encoding"][column], expected, "{table} {column}");
    }
    assert_eq!(
        report[rats::lake::SILVER]["encoding"]["title"],
        serde_json::json!({"codecs": ["SNAPPY"], "dictionary": true})
    );
}
