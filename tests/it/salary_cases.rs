//! Pay parsing on real data: the Hacker News "Who is hiring" cases with hand-written
//! expectations, and every NYC civil-service row against an independent annualisation.

use rats::contract::{Job, JobListing};
use rats::ingest::mapping::Mapping;
use rats::normalize::Normaliser;
use rats::normalize::currency::Currencies;

use crate::support::datasets;

fn normaliser() -> Normaliser {
    Normaliser::new(Currencies::builtin())
}

/// The expectation of one case: exact min/max/currency, bounds, or "no salary".
#[derive(Debug, Default)]
struct Expected {
    min: Option<f64>,
    max: Option<f64>,
    currency: Option<String>,
    min_at_least: Option<f64>,
    max_at_most: Option<f64>,
    none: bool,
}

fn expectation(case: &serde_json::Value) -> Option<Expected> {
    let expected = &case["expected"];
    let mut blocks: Vec<&serde_json::Value> = expected["roles"].as_array().into_iter().flatten().map(|r| &r["expect"]).collect();
    blocks.push(&expected["all_roles"]);
    let mut e = Expected::default();
    for block in blocks.into_iter().filter(|b| b.is_object()) {
        let obj = block.as_object().expect("object");
        if obj.contains_key("salary_min") && block["salary_min"].is_null() {
            e.none = true;
        }
        e.min = e.min.or(block["salary_min"].as_f64());
        e.max = e.max.or(block["salary_max"].as_f64());
        e.currency = e.currency.clone().or(block["salary_currency"].as_str().map(str::to_string));
        e.min_at_least = e.min_at_least.or(block["salary_min_gte"].as_f64());
        e.max_at_most = e.max_at_most.or(block["salary_max_lte"].as_f64());
    }
    (e.none || e.min.is_some() || e.min_at_least.is_some()).then_some(e)
}

#[test]
fn hacker_news_comments_get_the_stated_pay_and_no_invented_pay() {
    let path = datasets().join("postings/hn-salary-cases/eval_cases.json");
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read cases")).expect("json");
    let n = normaliser();
    let mut checked = 0;
    for case in cases["test_cases"].as_array().expect("cases") {
        let content = case["comment"]["content"].as_str().unwrap_or_default();
        let listing = JobListing {
            job: Some(Job {
                title: Some("role".into()),
                description: Some(content.into()),
                ..Job::default()
            }),
            ..JobListing::default()
        };
        let salary = n.normalise(&listing).expect("valid").salary;
        let id = case["id"].as_str().unwrap_or_default();
        let Some(expected) = expectation(case) else {
            // Cases without any pay expectation (non-postings, empty comments) must not invent pay.
            assert_eq!(salary, None, "case {id} has no pay but got {salary:?}");
            continue;
        };
        checked += 1;
        if expected.none {
            assert_eq!(salary, None, "case {id}: no salary is stated");
            continue;
        }
        let salary = salary.unwrap_or_else(|| panic!("case {id}: a salary is stated but none was found"));
        if let Some(min) = expected.min {
            assert_eq!(salary.min_annual, Some(min), "case {id} min");
        }
        if let Some(max) = expected.max {
            assert_eq!(salary.max_annual, Some(max), "case {id} max");
        }
        if let Some(currency) = &expected.currency {
            assert_eq!(salary.currency.as_deref(), Some(currency.as_str()), "case {id} currency");
        }
        if let Some(low) = expected.min_at_least {
            assert!(salary.min_annual.is_some_and(|m| m >= low), "case {id}: {salary:?}");
        }
        if let Some(high) = expected.max_at_most {
            assert!(salary.max_annual.is_some_and(|m| m <= high), "case {id}: {salary:?}");
        }
    }
    assert!(checked >= 8, "only {checked} cases carried pay expectations");
}

#[test]
fn every_nyc_row_is_annualised_as_documented() {
    let path = datasets().join("postings/nyc-jobs/NYC_Jobs.csv");
    let mapping = Mapping::builtin().into_iter().find(|m| m.name == "nyc-jobs").expect("nyc mapping");
    let mut reader = csv::Reader::from_path(&path).expect("open");
    let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_string).collect();
    let bound = mapping.bind(&header).expect("binds");
    let column = |name: &str| header.iter().position(|h| h == name).expect("column");
    let (from, to, frequency) = (column("Salary Range From"), column("Salary Range To"), column("Salary Frequency"));
    let n = normaliser();
    let mut rows = 0;
    for record in reader.records() {
        let record = record.expect("row");
        rows += 1;
        // The independent computation: 2,080 hours or 260 days a year.
        let factor = match &record[frequency] {
            "Annual" => 1.0,
            "Hourly" => 2080.0,
            "Daily" => 260.0,
            other => panic!("unexpected frequency {other}"),
        };
        let low: f64 = record[from].parse().expect("number");
        let high: f64 = record[to].parse().expect("number");
        let cells: Vec<&str> = record.iter().collect();
        let posting = n.normalise(&bound.listing(&header, &cells).expect("maps")).expect("normalises");
        let salary = posting.salary.expect("every NYC row states pay");
        // As documented: a bound of 0 states nothing (NYC writes 0 for "not given").
        let stated = |v: f64| (v > 0.0).then_some(v * factor);
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-6,
            (a, b) => a == b,
        };
        assert!(
            close(salary.min_annual, stated(low)) && close(salary.max_annual, stated(high)),
            "row {rows}: {salary:?} vs {low}-{high} x {factor}"
        );
        assert!(salary.max_usd.is_some_and(|usd| (usd - high * factor).abs() <= 0.005) && salary.currency.as_deref() == Some("USD"));
        assert_eq!(salary.source.as_str(), "stated");
    }
    assert_eq!(rows, 3977);
}

#[test]
fn the_federal_reserve_csv_converts_at_the_posting_month() {
    let path = datasets().join("reference/fx/monthly.csv");
    let table = Currencies::with_fed_csv(&path).expect("the shared Fed CSV loads");
    // The month's rate, read independently from the file: units per USD in this copy.
    let rate = |country: &str, month: &str| -> f64 {
        let mut reader = csv::Reader::from_path(&path).expect("open");
        reader
            .records()
            .map(|r| r.expect("row"))
            .find(|r| &r[0] == month && &r[1] == country)
            .map(|r| r[2].parse().expect("number"))
            .expect("the month is in the file")
    };
    let may_2020 = chrono::NaiveDate::from_ymd_opt(2020, 5, 15);
    for (code, country) in [("GBP", "United Kingdom"), ("EUR", "Euro"), ("JPY", "Japan")] {
        let usd = table.to_usd(1_000.0, code, may_2020).expect("a rate");
        let expected = 1_000.0 / rate(country, "2020-05-01");
        assert!((usd - expected).abs() < 1e-6, "{code}: {usd} vs {expected}");
    }
    // A month after the series ends uses its last month.
    let later = table
        .to_usd(1_000.0, "EUR", chrono::NaiveDate::from_ymd_opt(2030, 1, 1))
        .expect("rate");
    assert!((later - 1_000.0 / rate("Euro", "2026-06-01")).abs() < 1e-6);
}
