//! Consume on every real postings dataset: every row accounted for, exact duplicates all
//! flagged, and a second run writing nothing.

use std::collections::{BTreeSet, HashSet};

use rats::lake::{BRONZE, DUPLICATES, QUARANTINE, SILVER};

use crate::support::{commit_files, posting_csvs, rats, row_count, run, stderr, summary, table_rows};

/// Counts CSV records with an independent reader configuration (the csv crate's defaults).
fn csv_records(path: &std::path::Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(path).expect("open");
    reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn every_dataset_row_is_accounted_for_and_a_rerun_adds_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = posting_csvs();
    assert!(files.len() >= 9, "expected every postings CSV, found {files:?}");
    let mut command = rats(dir.path());
    command
        .args(["consume", "--lake", "lake", "--format", "json", "--from"])
        .args(&files);
    let output = run(&mut command);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let s = summary(&output);
    let lake = dir.path().join("lake");

    for (file, reported) in files.iter().zip(s["files"].as_array().expect("files")) {
        let rows = csv_records(file).len() as u64;
        let n = |k: &str| reported[k].as_u64().expect("count");
        assert_eq!(n("read"), rows, "{}: every CSV row is read", file.display());
        assert_eq!(
            n("read"),
            n("written") + n("duplicates") + n("quarantined"),
            "{}: read = written + duplicates + quarantined",
            file.display()
        );
    }
    let total = |k: &str| s[k].as_u64().expect("count") as usize;
    assert_eq!(row_count(&lake, BRONZE), total("read"));
    assert_eq!(row_count(&lake, SILVER), total("written"));
    assert_eq!(row_count(&lake, DUPLICATES), total("duplicates"));
    assert_eq!(row_count(&lake, QUARANTINE), total("quarantined"));
    let keys = table_rows(&lake, SILVER, &["posting_key"]);
    assert_eq!(
        keys.iter().collect::<HashSet<_>>().len(),
        keys.len(),
        "posting_key is unique in silver"
    );

    // Every row identical to an earlier glassdoor-2020-metros row is flagged as a duplicate.
    let duplicate_coordinates: BTreeSet<(String, String)> = table_rows(&lake, DUPLICATES, &["source_file", "source_record"])
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let mut seen = HashSet::new();
    let mut exact = 0;
    for file in files.iter().filter(|f| f.to_string_lossy().contains("glassdoor-2020-metros")) {
        for (i, row) in csv_records(file).into_iter().enumerate() {
            if !seen.insert(row) {
                exact += 1;
                let key = (file.display().to_string(), (i + 1).to_string());
                assert!(duplicate_coordinates.contains(&key), "exact duplicate {key:?} was not flagged");
            }
        }
    }
    assert_eq!(exact, 872, "the dataset has 872 exact-duplicate rows");

    education_shares_are_plausible(&lake);
    new_layouts_state_their_currency_and_interval(&lake);

    let before = commit_files(&lake);
    let again = run(&mut command);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let s2 = summary(&again);
    assert_eq!(
        (s2["written"].as_u64(), s2["skipped"].clone(), s2["read"].clone()),
        (Some(0), s["read"].clone(), s["read"].clone())
    );
    assert_eq!(commit_files(&lake), before, "a second run commits nothing");
}

/// The share of each education level among the Glassdoor data/tech postings kept in silver.
/// Measured by hand-reading the matches (2026-11-30): about 20 of the 3,324 raw descriptions
/// name a high-school diploma or GED, and a bachelor's degree is the most common bar. When the
/// GED pattern lacked its leading boundary, "managed" and "engaged" made 387 of them
/// `high_school` (12%), far outside these bounds.
fn education_shares_are_plausible(lake: &std::path::Path) {
    let rows = table_rows(lake, SILVER, &["source_file", "education_level"]);
    let levels: Vec<&str> = rows
        .iter()
        .filter(|r| r[0].contains("glassdoor-2020-metros"))
        .map(|r| r[1].as_str())
        .collect();
    let share = |level: &str| levels.iter().filter(|l| **l == level).count() as f64 / levels.len() as f64;
    let shares: Vec<(&str, f64)> = ["high_school", "associate", "bachelor", "master", "doctorate", ""]
        .iter()
        .map(|l| (*l, share(l)))
        .collect();
    assert!(levels.len() > 2000, "{} glassdoor-2020-metros postings in silver", levels.len());
    assert!(share("high_school") < 0.02, "high school is rare in data/tech postings: {shares:?}");
    assert!(share("associate") < 0.04, "{shares:?}");
    assert!((0.25..0.45).contains(&share("bachelor")), "{shares:?}");
    assert!((0.05..0.15).contains(&share("master")), "{shares:?}");
    assert!((0.05..0.15).contains(&share("doctorate")), "{shares:?}");
    assert!(share("bachelor") > share("master") + share("doctorate"), "{shares:?}");
}

/// Rows of the two layouts added last, checked by hand against their CSV lines (2026-11-30):
/// Adzuna's `SalaryNormalized` is annual GBP (the raw "20000 - 30000/annum" gives 25,000);
/// `NoFluffJobs`' pay is monthly PLN (12,000–20,000 a month is 144,000–240,000 a year), in USD at
/// the table's 3.6962 złoty per dollar (ECB, June 2026); the board is Polish, so is the posting.
fn new_layouts_state_their_currency_and_interval(lake: &std::path::Path) {
    let rows = table_rows(
        lake,
        SILVER,
        &[
            "source_site",
            "title",
            "location_city",
            "location_country",
            "seniority",
            "salary_interval",
            "salary_currency",
            "salary_min_annual",
            "salary_max_annual",
            "salary_min_usd",
        ],
    );
    let find = |site: &str, title: &str| -> Vec<String> {
        rows.iter()
            .find(|r| r[0] == site && r[1] == title)
            .unwrap_or_else(|| panic!("{site} posting {title:?} in silver"))[2..]
            .to_vec()
    };
    assert_eq!(
        find("adzuna", "Engineering Systems Analyst"),
        ["Dorking", "GB", "", "yearly", "GBP", "25000.0", "25000.0", "33346.67"]
    );
    assert_eq!(
        find("nofluffjobs", "ServiceNow Business Analyst"),
        ["", "PL", "mid", "monthly", "PLN", "144000.0", "240000.0", "38958.93"]
    );
    for site in ["adzuna", "nofluffjobs"] {
        let currencies: BTreeSet<&str> = rows.iter().filter(|r| r[0] == site).map(|r| r[6].as_str()).collect();
        let expected = if site == "adzuna" { ["GBP"] } else { ["PLN"] };
        assert!(
            currencies.iter().all(|c| c.is_empty() || expected.contains(c)),
            "{site}: {currencies:?}"
        );
    }
}
