//! docs/lake.md against the tables consume writes: every documented column exists, every
//! column is documented, and silver's `skills` JSON has the documented keys. The docs once
//! listed keys the code had stopped writing; this fails on the next such drift.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::{rats, repo, run, stderr, table_rows};

/// Each `## path` section of docs/lake.md that names a table, with the backticked column
/// names in the first cell of its table rows, and the columns of the coordinates section.
fn documented_columns(doc: &str) -> (BTreeMap<String, BTreeSet<String>>, BTreeSet<String>) {
    let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut coordinates = BTreeSet::new();
    let mut section = String::new();
    for line in doc.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            section = heading.trim().to_string();
            continue;
        }
        let Some(first_cell) = line.strip_prefix("| `").and_then(|rest| rest.split(" |").next()) else {
            continue;
        };
        let names = format!("`{first_cell}")
            .split(',')
            .map(|name| name.trim().trim_matches('`').to_string())
            .collect::<Vec<_>>();
        if section.starts_with("Source coordinates") {
            coordinates.extend(names);
        } else if section.contains('/') {
            tables.entry(section.clone()).or_default().extend(names);
        }
    }
    (tables, coordinates)
}

/// The column names a Delta table declares in its first commit's metadata.
fn delta_columns(table: &Path) -> BTreeSet<String> {
    let commit = std::fs::read_to_string(table.join("_delta_log/00000000000000000000.json")).expect("first commit");
    let metadata = commit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON action"))
        .find_map(|action| action.get("metaData").cloned())
        .expect("a metaData action");
    let schema: serde_json::Value = serde_json::from_str(metadata["schemaString"].as_str().expect("schemaString")).expect("schema JSON");
    schema["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["name"].as_str().expect("name").to_string())
        .collect()
}

#[test]
fn documented_columns_are_the_columns_consume_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(rats(dir.path())
        .args(["consume", "--lake", "lake", "--max-quarantine", "100", "--from"])
        .arg(repo().join("fixtures/demo/postings.jsonl"))
        .arg(repo().join("fixtures/demo/jobspy.csv")));
    assert!(output.status.success(), "{}", stderr(&output));
    let doc = std::fs::read_to_string(repo().join("docs/lake.md")).expect("docs/lake.md");
    let (tables, coordinates) = documented_columns(&doc);
    let expected = [
        rats::lake::BRONZE,
        rats::lake::SILVER,
        rats::lake::DUPLICATES,
        rats::lake::QUARANTINE,
        rats::lake::reference::SKILLS,
    ];
    assert_eq!(
        tables.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        expected.into_iter().collect(),
        "docs/lake.md documents each table in a section named after its path"
    );
    for (table, columns) in &tables {
        let mut documented = columns.clone();
        // Silver lists the two coordinates it keeps in its own table; the reference table has none.
        if ![rats::lake::reference::SKILLS, rats::lake::SILVER].contains(&table.as_str()) {
            documented.extend(coordinates.iter().cloned());
        }
        let actual = delta_columns(&dir.path().join("lake").join(table));
        let undocumented: Vec<_> = actual.difference(&documented).collect();
        let absent: Vec<_> = documented.difference(&actual).collect();
        assert!(
            undocumented.is_empty() && absent.is_empty(),
            "{table}: columns not in docs/lake.md {undocumented:?}, documented but not in the table {absent:?}"
        );
    }
}

#[test]
fn documented_skill_mention_keys_are_the_keys_silver_holds() {
    let doc = std::fs::read_to_string(repo().join("docs/lake.md")).expect("docs/lake.md");
    let row = doc.lines().find(|l| l.starts_with("| `skills` |")).expect("silver's skills row");
    let keys = row
        .split("`{")
        .nth(1)
        .and_then(|r| r.split("}`").next())
        .expect("the documented `{keys}`");
    let (optional, required): (BTreeSet<&str>, BTreeSet<&str>) = keys.split(',').map(str::trim).partition(|k| k.ends_with('?'));
    let optional: BTreeSet<&str> = optional.into_iter().map(|k| k.trim_end_matches('?')).collect();

    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(rats(dir.path())
        .args(["consume", "--lake", "lake", "--max-quarantine", "100", "--from"])
        .arg(repo().join("fixtures/demo/postings.jsonl")));
    assert!(output.status.success(), "{}", stderr(&output));
    let rows = table_rows(&dir.path().join("lake"), rats::lake::SILVER, &["skills"]);
    let mut mentions = 0;
    for row in rows {
        let list: serde_json::Value = serde_json::from_str(&row[0]).expect("skills is JSON");
        for mention in list.as_array().expect("a JSON array") {
            mentions += 1;
            let present: BTreeSet<&str> = mention.as_object().expect("an object").keys().map(String::as_str).collect();
            assert!(required.is_subset(&present), "{mention} lacks a documented key of {required:?}");
            let unknown: Vec<_> = present
                .iter()
                .filter(|k| !required.contains(*k) && !optional.contains(*k))
                .collect();
            assert!(unknown.is_empty(), "{mention} has keys docs/lake.md does not name: {unknown:?}");
        }
    }
    assert!(mentions >= 5, "the demo postings mention skills ({mentions} found)");
}
