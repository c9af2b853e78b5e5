//! `rats export` on a lake consumed from a shared postings file: every format read back by
//! Python (csv, json, pyarrow) with the same rows, filters, order and limit as asked, a query
//! over the lake, and the refusals an analyst meets (an unknown table or column, an existing
//! file) — plus a reader that goes away after the first bytes.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{consume_into, datasets, rats, row_count, run, stderr, stdout};

fn lake_of_one_file(dir: &Path) -> std::path::PathBuf {
    let lake = dir.join("lake");
    consume_into(dir, &lake, &[datasets().join("postings/glassdoor-2020-metros/Data_Job_WA.csv")]);
    lake
}

fn export(dir: &Path, lake: &Path, args: &[&str]) -> std::process::Output {
    run(rats(dir).arg("export").arg("--lake").arg(lake).args(args))
}

/// Each file's rows as Python reads them, as JSON: lists as lists, numbers as numbers.
fn read_back(files: &[(&str, &Path)]) -> Value {
    let script = r#"
import csv, json, sys
import pyarrow.parquet as pq
out = {}
for kind, path in zip(sys.argv[1::2], sys.argv[2::2]):
    if kind == "csv":
        rows = list(csv.DictReader(open(path, newline="")))
        for row in rows:
            row["salary_max_usd"] = float(row["salary_max_usd"]) if row["salary_max_usd"] else None
            row["skill_ids"] = row["skill_ids"].split(";") if row["skill_ids"] else []
    elif kind == "json":
        rows = json.load(open(path))
    elif kind == "jsonl":
        rows = [json.loads(line) for line in open(path)]
    else:
        rows = pq.read_table(path).to_pylist()
    for row in rows:
        row["skill_ids"] = row.get("skill_ids") or []
    out[kind] = rows
print(json.dumps(out))
"#;
    let mut command = Command::new("python3");
    command.args(["-c", script]);
    for (kind, path) in files {
        command.arg(kind).arg(path);
    }
    let output = run(&mut command);
    assert!(output.status.success(), "python: {}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn tables_export_in_every_format_with_the_rows_asked_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = lake_of_one_file(dir.path());
    let listed = export(dir.path(), &lake, &["--list", "--format", "json"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    let names: Vec<&str> = listed
        .as_array()
        .expect("tables")
        .iter()
        .filter_map(|t| t["table"].as_str())
        .collect();
    for table in ["bronze/postings", "quarantine/postings", "silver/duplicates", "silver/postings"] {
        assert!(names.contains(&table), "{table} in {names:?}");
    }

    let mut files = Vec::new();
    for kind in ["csv", "json", "jsonl", "parquet"] {
        let file = dir.path().join(format!("top.{kind}"));
        let out = file.to_str().expect("UTF-8").to_string();
        let args = [
            "silver/postings",
            "--columns",
            "posting_key,title,salary_max_usd,skill_ids",
            "--where",
            "salary_max_usd >= 100000",
            "--order-by",
            "salary_max_usd desc,posting_key",
            "--limit",
            "25",
            "--out",
            &out,
        ];
        let written = export(dir.path(), &lake, &args);
        assert!(written.status.success(), "{kind}: {}", stderr(&written));
        assert!(
            stderr(&written).contains(&format!("25 rows of silver/postings to {out} ({kind})")),
            "{}",
            stderr(&written)
        );
        files.push((kind, file));
    }
    let borrowed: Vec<(&str, &Path)> = files.iter().map(|(k, f)| (*k, f.as_path())).collect();
    let read = read_back(&borrowed);
    let csv = &read["csv"];
    for kind in ["json", "jsonl", "parquet"] {
        assert_eq!(&read[kind], csv, "{kind} holds the rows the CSV holds");
    }
    let rows = csv.as_array().expect("rows");
    assert_eq!(rows.len(), 25);
    let pay: Vec<f64> = rows.iter().map(|r| r["salary_max_usd"].as_f64().expect("pay")).collect();
    assert!(pay.iter().all(|p| *p >= 100_000.0), "{pay:?}");
    assert!(pay.windows(2).all(|w| w[0] >= w[1]), "highest first: {pay:?}");
    assert!(
        rows.iter().any(|r| r["skill_ids"].as_array().is_some_and(|s| s.len() > 1)),
        "lists survive"
    );

    // Everything, by default as CSV on stdout: one line per posting and a header.
    let all = export(dir.path(), &lake, &["silver/postings", "--columns", "posting_key", "--quiet"]);
    assert!(all.status.success(), "{}", stderr(&all));
    assert_eq!(stdout(&all).lines().count(), row_count(&lake, "silver/postings") + 1);
    let listed = stdout(&all);
    let keys: std::collections::BTreeSet<&str> = listed.lines().skip(1).collect();
    assert_eq!(
        keys.len(),
        row_count(&lake, "silver/postings"),
        "each posting once, though read a data file at a time"
    );
    // A limit without an order stops part-way through the files.
    for limit in [7, row_count(&lake, "silver/postings") - 1] {
        let some = export(
            dir.path(),
            &lake,
            &[
                "silver/postings",
                "--columns",
                "posting_key",
                "--limit",
                &limit.to_string(),
                "--quiet",
            ],
        );
        assert!(some.status.success(), "{}", stderr(&some));
        assert_eq!(stdout(&some).lines().count(), limit + 1, "--limit {limit}");
    }

    // A query over the lake's tables.
    let query = "SELECT remote_type, count(*) AS postings FROM silver__postings GROUP BY remote_type ORDER BY postings DESC";
    let counted = export(dir.path(), &lake, &["--sql", query, "--to", "json"]);
    assert!(counted.status.success(), "{}", stderr(&counted));
    let counted: Value = serde_json::from_slice(&counted.stdout).expect("JSON");
    let total: u64 = counted
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["postings"].as_u64().expect("a count"))
        .sum();
    assert_eq!(total as usize, row_count(&lake, "silver/postings"));

    // A plain count of silver, which Delta partitions by month (Polars sums one count per
    // partition's scan, and needs its 128-bit integers for that).
    let count = export(
        dir.path(),
        &lake,
        &["--sql", "SELECT count(*) AS n FROM silver__postings", "--to", "json"],
    );
    assert!(count.status.success(), "{}", stderr(&count));
    let count: Value = serde_json::from_slice(&count.stdout).expect("JSON");
    assert_eq!(count[0]["n"].as_u64(), Some(row_count(&lake, "silver/postings") as u64));
}

#[test]
fn on_stdout_the_output_format_the_user_set_is_honoured_and_csv_is_the_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = lake_of_one_file(dir.path());
    // The lists as typed: spaces after commas, one comma too many.
    let three = [
        "silver/postings",
        "--columns",
        "title, skill_ids,",
        "--order-by",
        "posting_key,",
        "--limit",
        "3",
    ];
    let written = |format: &[&str], env: Option<&str>| {
        let mut command = rats(dir.path());
        command.args(format).arg("export").arg("--lake").arg(&lake).args(three);
        if let Some(value) = env {
            command.env("RATS_FORMAT", value);
        }
        let output = run(&mut command);
        assert!(output.status.success(), "{format:?} {env:?}: {}", stderr(&output));
        stdout(&output)
    };
    let csv = written(&[], None);
    assert!(csv.starts_with("title,skill_ids\n") && csv.lines().count() == 4, "{csv}");
    for json in [written(&["--format", "json"], None), written(&[], Some("json"))] {
        let rows: Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(rows.as_array().map(Vec::len), Some(3), "{json}");
        assert!(rows[0]["skill_ids"].is_array(), "lists stay lists: {json}");
    }
    let table = written(&["--format", "table"], None);
    let titles: Vec<&str> = csv.lines().skip(1).map(|line| line.split(',').next().unwrap_or_default()).collect();
    assert!(
        table.contains("┆") && table.contains("skill_ids") && titles.iter().all(|t| table.contains(t.trim_matches('"'))),
        "{table}"
    );
    // --to says what the rows are written as, whatever --format says.
    assert_eq!(written(&["--format", "json"], None).chars().next(), Some('['));
    let mut command = rats(dir.path());
    command
        .args(["--format", "json", "export", "--lake"])
        .arg(&lake)
        .args(three)
        .args(["--to", "csv"]);
    assert_eq!(stdout(&run(&mut command)), csv);
}

#[test]
fn mistakes_are_named_and_files_are_never_half_written_or_overwritten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = lake_of_one_file(dir.path());
    let unknown = export(dir.path(), &lake, &["silver/jobs"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("no table \"silver/jobs\"") && stderr(&unknown).contains("silver/postings"),
        "{}",
        stderr(&unknown)
    );
    let no_lake = export(dir.path(), &dir.path().join("no-lake"), &["silver/postings"]);
    assert_eq!(no_lake.status.code(), Some(2));
    assert!(stderr(&no_lake).contains("no lake at"), "{}", stderr(&no_lake));
    // An unfinished condition is reported as the user's, not as rats' ORDER BY after it, and
    // without a parser position counted in the query rats built.
    let unfinished = export(
        dir.path(),
        &lake,
        &["silver/postings", "--where", "title ==", "--order-by", "title"],
    );
    assert_eq!(unfinished.status.code(), Some(2));
    assert!(
        stderr(&unfinished).contains("found: )") && !stderr(&unfinished).contains("Column:"),
        "{}",
        stderr(&unfinished)
    );
    // A query naming a table as `silver.postings` is told the name SQL knows it by.
    let dotted = export(dir.path(), &lake, &["--sql", "SELECT count(*) FROM silver.postings"]);
    assert_eq!(dotted.status.code(), Some(2));
    assert!(
        stderr(&dotted).contains("in SQL a table is layer__name: silver__duplicates, silver__postings"),
        "{}",
        stderr(&dotted)
    );
    let column = export(dir.path(), &lake, &["silver/postings", "--columns", "title,pay"]);
    assert_eq!(column.status.code(), Some(2));
    assert!(stderr(&column).contains("\"pay\""), "{}", stderr(&column));
    let order = export(dir.path(), &lake, &["silver/postings", "--order-by", "title sideways"]);
    assert_eq!(order.status.code(), Some(2));
    assert!(stderr(&order).contains("--order-by"), "{}", stderr(&order));

    let out = dir.path().join("kept.csv");
    std::fs::write(&out, "an analyst's file\n").expect("writes");
    let refused = export(dir.path(), &lake, &["silver/postings", "--out", out.to_str().expect("UTF-8")]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert_eq!(std::fs::read_to_string(&out).expect("reads"), "an analyst's file\n");
    let bad_filter = export(
        dir.path(),
        &lake,
        &[
            "silver/postings",
            "--where",
            "no_such_column > 1",
            "--out",
            out.to_str().expect("UTF-8"),
            "--force",
        ],
    );
    assert_eq!(bad_filter.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&out).expect("reads"),
        "an analyst's file\n",
        "a failed export leaves the file"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("lists")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let replaced = export(
        dir.path(),
        &lake,
        &["silver/postings", "--out", out.to_str().expect("UTF-8"), "--force"],
    );
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert!(std::fs::read_to_string(&out).expect("reads").starts_with("posting_key,"));
}

#[test]
fn a_reader_that_goes_away_stops_the_export_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = lake_of_one_file(dir.path());
    for format in ["csv", "jsonl", "parquet"] {
        let mut child = rats(dir.path())
            .args(["export", "silver/postings", "--to", format, "--lake"])
            .arg(&lake)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts");
        let mut first = [0_u8; 16];
        child
            .stdout
            .take()
            .expect("stdout")
            .read_exact(&mut first)
            .expect("the first bytes");
        // The pipe's reading end is closed here, as `| head -c 16` does.
        let output = child.wait_with_output().expect("finishes");
        assert!(output.status.success(), "{format}: {}", stderr(&output));
        assert!(stderr(&output).is_empty(), "{format}: {}", stderr(&output));
    }
}

/// The workbook holds every cell the JSON export holds (which leaves out absent values), typed: numbers as numbers, dates as
/// dates, lists joined with `;`, absent values as empty cells; a bold, frozen header with an
/// autofilter; and a sheet saying what was exported.
#[test]
fn the_excel_workbook_has_every_cell_typed_under_a_frozen_filtered_header() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = lake_of_one_file(dir.path());
    let columns = "posting_key,title,company,salary_max_usd,date_posted,skill_ids,min_years_experience";
    let (json, xlsx) = (dir.path().join("rows.json"), dir.path().join("rows.xlsx"));
    for out in [&json, &xlsx] {
        let out = out.to_str().expect("UTF-8");
        let written = export(
            dir.path(),
            &lake,
            &["silver/postings", "--columns", columns, "--order-by", "posting_key", "--out", out],
        );
        assert!(written.status.success(), "{out}: {}", stderr(&written));
    }
    let script = r#"
import datetime, json, sys
import openpyxl
expected = json.load(open(sys.argv[1]))
book = openpyxl.load_workbook(sys.argv[2])
sheet = book["data"]
rows = list(sheet.iter_rows(values_only=True))
header, cells = list(rows[0]), rows[1:]
problems = []
if header != sys.argv[3].split(","): problems.append(f"header {header}")
if len(cells) != len(expected): problems.append(f"{len(cells)} rows, expected {len(expected)}")
for number, (row, want) in enumerate(zip(cells, expected), start=2):
    for name, got in zip(header, row):
        value = want.get(name)
        if isinstance(value, list):
            value = ";".join(value) if value else ""
        if isinstance(got, datetime.datetime):
            got = got.date().isoformat()
        if isinstance(value, float) or isinstance(got, float):
            same = value is not None and got is not None and abs(float(got) - float(value)) < 1e-9
        else:
            same = got == value
        if not same:
            problems.append(f"{name} row {number}: {got!r} != {value!r}")
dates = [c for c in sheet["E"][1:] if c.value is not None]
if not dates or not all(c.is_date and c.number_format == "yyyy-mm-dd" for c in dates): problems.append("dates are not dates")
if not all(c.font.b for c in sheet[1]): problems.append("the header is not bold")
if sheet.freeze_panes != "A2": problems.append(f"frozen at {sheet.freeze_panes}")
if sheet.auto_filter.ref != f"A1:G{len(expected) + 1}": problems.append(f"autofilter {sheet.auto_filter.ref}")
about = {row[0]: row[1] for row in book["export"].iter_rows(values_only=True)}
if about.get("exported") != "silver/postings" or "silver__postings" not in about.get("statement", ""): problems.append(f"about {about}")
print(json.dumps(problems[:20]))
"#;
    let checked = run(Command::new("python3").args(["-c", script]).arg(&json).arg(&xlsx).arg(columns));
    assert!(checked.status.success(), "python: {}", stderr(&checked));
    let problems: Value = serde_json::from_slice(&checked.stdout).expect("JSON");
    assert_eq!(problems, serde_json::json!([]), "the workbook differs from the JSON export");
}
