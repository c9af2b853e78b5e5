//! Consume on the project's own small samples: accounting, quarantine detail, idempotence,
//! Avro input with schema evolution.

use std::path::Path;

use apache_avro::types::{Record, Value};
use apache_avro::{Schema, Writer};
use rats::lake::{DUPLICATES, QUARANTINE, SILVER};

use crate::support::{commit_files, rats, repo, row_count, run, stderr, summary, table_rows};

fn demo_inputs() -> Vec<String> {
    ["postings.jsonl", "jobspy.csv"]
        .iter()
        .map(|f| repo().join("fixtures/demo").join(f).display().to_string())
        .collect()
}

fn consume(dir: &Path, inputs: &[String], extra: &[&str]) -> std::process::Output {
    let mut command = rats(dir);
    command
        .args(["consume", "--lake", "lake", "--format", "json", "--from"])
        .args(inputs)
        .args(extra);
    run(&mut command)
}

#[test]
fn demo_fixtures_are_fully_accounted_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = consume(dir.path(), &demo_inputs(), &[]);
    // 3 of 13 records are broken on purpose: above the default 5% threshold, so exit 1.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("quarantined records above the threshold"));
    let s = summary(&output);
    assert_eq!(
        [&s["read"], &s["written"], &s["duplicates"], &s["quarantined"], &s["skipped"]],
        [13, 8, 2, 3, 0].map(serde_json::Value::from).each_ref()
    );
    assert_eq!(s["duplicates_by_kind"], serde_json::json!({"content": 1, "source_id": 1}));
    let lake = dir.path().join("lake");
    assert_eq!(row_count(&lake, rats::lake::BRONZE), 13);
    assert_eq!(row_count(&lake, SILVER), 8);
    assert_eq!(row_count(&lake, DUPLICATES), 2);

    let quarantine = table_rows(&lake, QUARANTINE, &["source_line", "error_code", "field"]);
    assert_eq!(
        quarantine,
        vec![
            vec![
                "6".to_string(),
                "invalid_field".into(),
                "compensation.min_amount (column \"min_amount\")".into()
            ],
            vec!["6".to_string(), "missing_field".into(), "job.title".into()],
            vec!["8".to_string(), "malformed_json".into(), "job_id".into()],
        ]
    );
    let duplicates = table_rows(&lake, DUPLICATES, &["source_record", "match_kind"]);
    assert_eq!(
        duplicates,
        vec![vec!["4".to_string(), "content".into()], vec!["5".to_string(), "source_id".into()]]
    );
}

#[test]
fn the_threshold_decides_the_exit_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = consume(dir.path(), &demo_inputs(), &["--max-quarantine", "30"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn a_second_run_and_a_moved_copy_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    consume(dir.path(), &demo_inputs(), &["--max-quarantine", "100"]);
    let lake = dir.path().join("lake");
    let before = commit_files(&lake);
    let output = consume(dir.path(), &demo_inputs(), &["--max-quarantine", "100"]);
    let s = summary(&output);
    assert_eq!(
        (s["read"].as_u64(), s["skipped"].as_u64(), s["written"].as_u64()),
        (Some(13), Some(13), Some(0))
    );
    let copy = dir.path().join("renamed.jsonl");
    std::fs::copy(repo().join("fixtures/demo/postings.jsonl"), &copy).expect("copy");
    let output = consume(dir.path(), &[copy.display().to_string()], &["--max-quarantine", "100"]);
    assert_eq!(
        summary(&output)["skipped"].as_u64(),
        Some(8),
        "the same bytes under another name are the same input"
    );
    assert_eq!(commit_files(&lake), before, "no table got a new commit");
}

/// A newer writer (v2) adds a field with a default, as the evolution rules allow.
const V2_SCHEMA: &str = r#"{"type": "record", "name": "JobListing", "namespace": "com.rats.jobs", "fields": [
  {"name": "job_id", "type": ["null", "string"], "default": null},
  {"name": "site", "type": ["null", "string"], "default": null},
  {"name": "job", "type": ["null", {"type": "record", "name": "Job", "fields": [
    {"name": "title", "type": ["null", "string"], "default": null},
    {"name": "company", "type": ["null", "string"], "default": null},
    {"name": "description", "type": ["null", "string"], "default": null}]}], "default": null},
  {"name": "board_rank", "type": ["null", "int"], "default": null}
]}"#;

#[test]
fn avro_files_from_the_contract_and_a_newer_writer_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v1_path = dir.path().join("v1.avro");
    let mut writer = Writer::new(rats::contract::schema(), Vec::new()).expect("writer");
    let listing = rats::contract::JobListing {
        job_id: Some("a-1".into()),
        site: Some("board".into()),
        job: Some(rats::contract::Job {
            title: Some("Platform Engineer".into()),
            company: Some("Initech".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    writer.append_ser(&listing).expect("append");
    std::fs::write(&v1_path, writer.into_inner().expect("bytes")).expect("write");

    let v2 = Schema::parse_str(V2_SCHEMA).expect("v2 schema");
    let v2_path = dir.path().join("v2.avro");
    let mut writer = Writer::new(&v2, Vec::new()).expect("writer");
    let some = |v: Value| Value::Union(1, Box::new(v));
    let text = |s: &str| some(Value::String(s.into()));
    let mut record = Record::new(&v2).expect("record schema");
    record.put("job_id", text("b-2"));
    record.put("site", text("board"));
    record.put(
        "job",
        some(Value::Record(vec![
            ("title".into(), text("Data Engineer")),
            ("company".into(), text("Initech")),
            ("description".into(), Value::Union(0, Box::new(Value::Null))),
        ])),
    );
    record.put("board_rank", some(Value::Int(3)));
    writer.append_value(record).expect("append");
    std::fs::write(&v2_path, writer.into_inner().expect("bytes")).expect("write");

    let output = consume(dir.path(), &[v1_path.display().to_string(), v2_path.display().to_string()], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(summary(&output)["written"].as_u64(), Some(2));
    let rows = table_rows(&dir.path().join("lake"), SILVER, &["source_job_id", "title"]);
    assert_eq!(
        rows,
        vec![
            vec!["a-1".to_string(), "Platform Engineer".into()],
            vec!["b-2".to_string(), "Data Engineer".into()]
        ]
    );
}

#[test]
fn csv_output_has_one_row_per_input_and_a_total() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = rats(dir.path());
    command
        .args(["consume", "--lake", "lake", "--format", "csv", "--max-quarantine", "100", "--from"])
        .args(demo_inputs());
    let output = run(&mut command);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "input,format,mapping,read,written,duplicates,quarantined,skipped");
    assert_eq!(lines.len(), 4, "header, two inputs, total: {text}");
    assert_eq!(lines[3], "total,,,13,8,2,3,0");
}

/// A batch's silver rows of one month go to one file even when the input interleaves months
/// (the lake writes the months one after another, each file closed before the next opens).
#[test]
fn silver_gets_one_file_per_month_of_a_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let postings: String = [
        ("a-1", "2026-01-10", "Data Engineer", "Northwind"),
        ("a-2", "2026-03-10", "Nurse Practitioner", "Contoso Health"),
        ("a-3", "2026-01-11", "Welder", "Fabrikam Metals"),
        ("a-4", "2026-03-11", "Pastry Chef", "Tailspin Bakery"),
    ]
    .iter()
    .map(|(id, date, title, company)| {
        let description = format!("{title} at {company}: a posting of its own, unlike the others ({id}).");
        let job = serde_json::json!({"job_url": format!("https://example.org/{id}"), "title": title, "company": company, "date_posted": date, "description": description});
        serde_json::json!({"job_id": id, "site": "indeed", "job": job}).to_string()
    })
    .collect::<Vec<_>>()
    .join("\n");
    let input = dir.path().join("months.jsonl");
    std::fs::write(&input, postings).expect("writes the input");
    let output = consume(dir.path(), &[input.display().to_string()], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(summary(&output)["written"], 4);
    for month in ["2026-01", "2026-03"] {
        let partition = dir.path().join("lake").join(SILVER).join(format!("posting_month={month}"));
        let files = std::fs::read_dir(&partition)
            .unwrap_or_else(|e| panic!("{}: {e}", partition.display()))
            .filter(|f| f.as_ref().is_ok_and(|f| f.path().extension().is_some_and(|e| e == "parquet")))
            .count();
        assert_eq!(files, 1, "files of {month}");
    }
}

/// An operator who turns warnings on (`RUST_LOG=warn`) sees none on a clean consume into a new
/// lake, nor on the next one: the Delta library logs neither a failed load before each table is
/// created (at ERROR level) nor the binary columns its statistics skip (WARN).
#[test]
fn a_clean_consume_logs_no_error_or_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let postings = repo().join("fixtures/matching/postings.jsonl");
    for attempt in ["into a new lake", "again"] {
        let output = run(rats(dir.path())
            .env("RUST_LOG", "warn")
            .args(["consume", "--format", "json", "--lake", "lake", "--from"])
            .arg(&postings));
        assert!(output.status.success(), "{attempt}: {}", stderr(&output));
        let logged = stderr(&output);
        let noisy: Vec<&str> = logged
            .lines()
            .filter(|line| line.contains("ERROR") || line.contains("WARN"))
            .collect();
        assert!(noisy.is_empty(), "{attempt}: {noisy:#?}");
    }
}
