//! Evaluating one expectation on the lake: Polars plans over the tables' Delta scans, with the
//! verdict, what was observed and what was expected in words a person reads.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use polars::prelude::*;
use polars::sql::SQLContext;

use super::spec::Kind;
use super::stats;
use crate::duration::parse_age;
use crate::export::LakeTable;
use crate::transform::engine::polars_message;

/// What an evaluation found, before it is named and stamped.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub verdict: Verdict,
    pub observed: String,
    pub expected: String,
    /// Rows breaking the expectation, where counting them makes sense.
    pub failing_rows: Option<u64>,
    /// The measured number the verdict rests on (a share, an age in hours, a PSI, …).
    pub metric: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    /// Not enough data to judge (a volume check without earlier weeks, a drift check with an
    /// empty window): reported, never failing.
    Skip,
}

/// Why an expectation could not be evaluated (a missing column, bad SQL, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

impl From<PolarsError> for EvalError {
    fn from(error: PolarsError) -> Self {
        EvalError(polars_message(&error))
    }
}

/// What an expectation is evaluated against.
pub struct Target<'a> {
    pub table: &'a LakeTable,
    /// The table's rows (after the expectation's `where`).
    pub frame: LazyFrame,
    /// Every lake table, for relationships and SQL.
    pub context: &'a mut SQLContext,
    pub tables: &'a [LakeTable],
    /// "Now", for freshness (`--as-of`).
    pub as_of: DateTime<Utc>,
}

pub fn evaluate(kind: &Kind, target: &mut Target<'_>) -> Result<Finding, EvalError> {
    match kind {
        Kind::Schema { columns, exact } => schema(target, columns, *exact),
        Kind::NotNull { column, max_share } => not_null(target, column, *max_share),
        Kind::Unique { columns } => unique(target, columns),
        Kind::AcceptedValues { column, values } => accepted_values(target, column, values),
        Kind::Range { column, min, max } => range(target, column, *min, *max),
        Kind::Regex { column, pattern } => regex(target, column, pattern),
        Kind::RowCount { min, max } => row_count(target, *min, *max),
        Kind::Freshness { column, max_age, by } => freshness(target, column.as_deref(), max_age, by.as_deref()),
        Kind::NotFuture { column, tolerance } => not_future(target, column, tolerance),
        Kind::Volume {
            column,
            weeks,
            tolerance,
            min_change,
        } => volume(target, column, *weeks, *tolerance, *min_change),
        Kind::Drift {
            column,
            date_column,
            current_days,
            reference_days,
            max_psi,
        } => drift(target, column, date_column, *current_days, *reference_days, *max_psi),
        Kind::Relationship { column, to, field } => relationship(target, column, to, field),
        Kind::Sql { query } => sql(target, query),
    }
}

fn finding(fail: bool, observed: String, expected: String) -> Finding {
    Finding {
        verdict: if fail { Verdict::Fail } else { Verdict::Pass },
        observed,
        expected,
        failing_rows: None,
        metric: None,
    }
}

/// One row of numbers from a lazy query.
fn numbers(frame: LazyFrame, exprs: Vec<Expr>) -> Result<Vec<Option<f64>>, EvalError> {
    let row = frame.select(exprs).collect()?;
    row.columns()
        .iter()
        .map(|c| {
            let value = c.cast(&DataType::Float64)?.f64()?.get(0);
            Ok(value)
        })
        .collect()
}

fn require_column(frame: &mut LazyFrame, column: &str) -> Result<DataType, EvalError> {
    let schema = frame.collect_schema()?;
    schema.get(column).cloned().ok_or_else(|| {
        EvalError(format!(
            "no column {column:?}; the table has {}",
            schema.iter_names().map(PlSmallStr::as_str).collect::<Vec<_>>().join(", ")
        ))
    })
}

/// The simple type names expectations use.
pub fn type_name(dtype: &DataType) -> String {
    match dtype {
        DataType::String => "string".into(),
        d if d.is_integer() => "int".into(),
        d if d.is_float() => "float".into(),
        DataType::Date => "date".into(),
        DataType::Datetime(..) => "datetime".into(),
        DataType::Boolean => "bool".into(),
        DataType::List(_) => "list".into(),
        DataType::Binary => "binary".into(),
        other => other.to_string(),
    }
}

fn schema(target: &mut Target<'_>, columns: &BTreeMap<String, String>, exact: bool) -> Result<Finding, EvalError> {
    let schema = target.frame.collect_schema()?;
    let mut problems = Vec::new();
    for (name, wanted) in columns {
        match schema.get(name) {
            None => problems.push(format!("{name} missing")),
            Some(dtype) if type_name(dtype) != wanted.to_ascii_lowercase() => {
                problems.push(format!("{name} is {} not {wanted}", type_name(dtype)));
            }
            Some(_) => {}
        }
    }
    if exact {
        for name in schema.iter_names().filter(|n| !columns.contains_key(n.as_str())) {
            problems.push(format!("{name} unexpected"));
        }
    }
    let observed = if problems.is_empty() {
        format!("{} columns as expected", columns.len())
    } else {
        problems.join("; ")
    };
    let expected = format!("{} columns{}", columns.len(), if exact { ", no others" } else { "" });
    Ok(finding(!problems.is_empty(), observed, expected))
}

fn not_null(target: &mut Target<'_>, column: &str, max_share: f64) -> Result<Finding, EvalError> {
    require_column(&mut target.frame, column)?;
    let [total, nulls] = numbers(
        target.frame.clone(),
        vec![len().alias("rows"), col(column).null_count().alias("nulls")],
    )?[..] else {
        unreachable!("two expressions give two numbers")
    };
    let (total, nulls) = (total.unwrap_or(0.0), nulls.unwrap_or(0.0));
    let share = if total > 0.0 { nulls / total } else { 0.0 };
    let mut found = finding(
        share > max_share,
        format!("{nulls} of {total} null ({})", percent(share)),
        format!("at most {} null", percent(max_share)),
    );
    found.failing_rows = Some(nulls as u64);
    found.metric = Some(share);
    Ok(found)
}

fn unique(target: &mut Target<'_>, columns: &[String]) -> Result<Finding, EvalError> {
    for column in columns {
        require_column(&mut target.frame, column)?;
    }
    let keys: Vec<Expr> = columns.iter().map(|c| col(c.as_str())).collect();
    let total = numbers(target.frame.clone(), vec![len()])?[0].unwrap_or(0.0);
    let distinct = numbers(target.frame.clone().select(keys).unique(None, UniqueKeepStrategy::Any), vec![len()])?[0].unwrap_or(0.0);
    let repeated = total - distinct;
    let mut found = finding(
        repeated > 0.0,
        format!("{repeated} of {total} rows repeat a key"),
        "every key once".into(),
    );
    found.failing_rows = Some(repeated as u64);
    Ok(found)
}

/// The most frequent values among `frame`'s rows in `column`, as `'value' (count)`.
fn top_values(frame: LazyFrame, column: &str, limit: usize) -> Result<String, EvalError> {
    let mut counts = value_counts(frame, column)?;
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    Ok(counts
        .iter()
        .take(limit)
        .map(|(v, n)| format!("{:?} ({n})", v.as_deref().unwrap_or("null")))
        .collect::<Vec<_>>()
        .join(", "))
}

/// Each value of `column` (as text; `None` for null) with its number of rows.
fn value_counts(frame: LazyFrame, column: &str) -> Result<Vec<(Option<String>, u64)>, EvalError> {
    let counts = frame
        .group_by([col(column).cast(DataType::String).alias("value")])
        .agg([len().alias("rows")])
        .collect()?;
    let values = counts.column("value")?.str()?.clone();
    let rows = counts.column("rows")?.cast(&DataType::UInt64)?;
    Ok(values
        .iter()
        .zip(rows.u64()?.iter())
        .map(|(v, n)| (v.map(str::to_string), n.unwrap_or(0)))
        .collect())
}

/// The rows whose `column` holds a value outside `known` (nulls are not counted), and how many.
fn rows_not_in(frame: &LazyFrame, column: &str, known: &Series) -> Result<(LazyFrame, f64), EvalError> {
    let list = known.implode()?.into_series();
    let outside = frame.clone().filter(
        col(column)
            .is_not_null()
            .and(col(column).cast(DataType::String).is_in(lit(list), false).not()),
    );
    let count = numbers(outside.clone(), vec![len()])?[0].unwrap_or(0.0);
    Ok((outside, count))
}

fn accepted_values(target: &mut Target<'_>, column: &str, values: &[serde_json::Value]) -> Result<Finding, EvalError> {
    require_column(&mut target.frame, column)?;
    let accepted: Vec<String> = values
        .iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        .collect();
    let (outside, count) = rows_not_in(&target.frame, column, &Series::new("accepted".into(), accepted.clone()))?;
    let observed = if count > 0.0 {
        format!("{count} rows outside: {}", top_values(outside, column, 5)?)
    } else {
        "every value accepted".into()
    };
    let mut found = finding(count > 0.0, observed, format!("one of {}", accepted.join(", ")));
    found.failing_rows = Some(count as u64);
    Ok(found)
}

fn range(target: &mut Target<'_>, column: &str, min: Option<f64>, max: Option<f64>) -> Result<Finding, EvalError> {
    require_column(&mut target.frame, column)?;
    let value = col(column).cast(DataType::Float64);
    let mut outside = lit(false);
    if let Some(min) = min {
        outside = outside.or(value.clone().lt(lit(min)));
    }
    if let Some(max) = max {
        outside = outside.or(value.clone().gt(lit(max)));
    }
    let [count, lowest, highest] = numbers(
        target.frame.clone(),
        vec![
            outside.cast(DataType::UInt32).sum().alias("outside"),
            value.clone().min().alias("lowest"),
            value.max().alias("highest"),
        ],
    )?[..] else {
        unreachable!("three expressions give three numbers")
    };
    let count = count.unwrap_or(0.0);
    let bound = |b: Option<f64>| b.map_or_else(|| "…".to_string(), |v| v.to_string());
    let seen = match (lowest, highest) {
        (Some(lo), Some(hi)) => format!("values from {lo} to {hi}"),
        _ => "no values".to_string(),
    };
    let mut found = finding(
        count > 0.0,
        format!("{count} rows outside; {seen}"),
        format!("within [{}, {}]", bound(min), bound(max)),
    );
    found.failing_rows = Some(count as u64);
    Ok(found)
}

fn regex(target: &mut Target<'_>, column: &str, pattern: &str) -> Result<Finding, EvalError> {
    require_column(&mut target.frame, column)?;
    let matcher = regex::Regex::new(pattern).map_err(|e| EvalError(format!("pattern {pattern:?}: {e}")))?;
    // Checked per distinct value in Rust, so the Polars build needs no regex engine of its own.
    let mut failing = 0;
    let mut examples = Vec::new();
    for (value, n) in value_counts(target.frame.clone(), column)? {
        if let Some(value) = value
            && !matcher.is_match(&value)
        {
            failing += n;
            if examples.len() < 3 {
                examples.push(format!("{value:?}"));
            }
        }
    }
    let observed = if failing > 0 {
        format!("{failing} rows do not match, e.g. {}", examples.join(", "))
    } else {
        "every value matches".into()
    };
    let mut found = finding(failing > 0, observed, format!("matches {pattern}"));
    found.failing_rows = Some(failing);
    Ok(found)
}

fn row_count(target: &mut Target<'_>, min: Option<u64>, max: Option<u64>) -> Result<Finding, EvalError> {
    let rows = numbers(target.frame.clone(), vec![len()])?[0].unwrap_or(0.0) as u64;
    let low = min.is_some_and(|m| rows < m);
    let high = max.is_some_and(|m| rows > m);
    let bound = |b: Option<u64>| b.map_or_else(|| "…".to_string(), |v| v.to_string());
    let mut found = finding(
        low || high,
        format!("{rows} rows"),
        format!("within [{}, {}]", bound(min), bound(max)),
    );
    found.metric = Some(rows as f64);
    Ok(found)
}

/// A group's name and its newest time (none when the group has no value).
type Newest = (String, Option<DateTime<Utc>>);

/// The newest value of a date or timestamp column per group (`by`) or overall.
fn newest_by(frame: LazyFrame, column: &str, by: Option<&str>) -> Result<Vec<Newest>, EvalError> {
    let newest = col(column)
        .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
        .max()
        .alias("newest");
    let rows = match by {
        Some(by) => frame
            .group_by([col(by).cast(DataType::String).alias("group")])
            .agg([newest])
            .sort(["group"], SortMultipleOptions::default())
            .collect()?,
        None => frame.select([lit("all").alias("group"), newest]).collect()?,
    };
    let groups = rows.column("group")?.str()?.clone();
    let times = rows.column("newest")?.cast(&DataType::Int64)?;
    Ok(groups
        .iter()
        .zip(times.i64()?.iter())
        .map(|(g, t)| (g.unwrap_or("null").to_string(), t.and_then(DateTime::from_timestamp_millis)))
        .collect())
}

fn freshness(target: &mut Target<'_>, column: Option<&str>, max_age: &str, by: Option<&str>) -> Result<Finding, EvalError> {
    let limit = parse_age(max_age).ok_or_else(|| EvalError(format!("max_age {max_age:?}: give a number and m, h, d or w")))?;
    let newest = match column {
        Some(column) => {
            let dtype = require_column(&mut target.frame, column)?;
            if !matches!(dtype, DataType::Date | DataType::Datetime(..)) {
                return Err(EvalError(format!("{column} is {}, not a date or timestamp", type_name(&dtype))));
            }
            if let Some(by) = by {
                require_column(&mut target.frame, by)?;
            }
            newest_by(target.frame.clone(), column, by)?
        }
        None => vec![("last commit".to_string(), Some(last_commit(&target.table.path)?))],
    };
    // A group without any value (a board that never dates its postings) has no freshness to
    // judge; it is named, not failed.
    let (dated, undated): (Vec<_>, Vec<_>) = newest.into_iter().partition(|(_, t)| t.is_some());
    let ages: Vec<(String, Duration)> = dated
        .into_iter()
        .filter_map(|(group, t)| Some((group, target.as_of - t?)))
        .collect();
    if ages.is_empty() {
        return Ok(skipped("no dated rows".into()));
    }
    let stale: Vec<String> = ages
        .iter()
        .filter(|(_, age)| *age > limit)
        .map(|(group, age)| format!("{group} {}", human_age(*age)))
        .collect();
    let oldest = ages.iter().map(|(_, age)| *age).max();
    let mut observed = match (by, stale.is_empty()) {
        (Some(_), false) => format!("{} of {} stale: {}", stale.len(), ages.len(), stale.join(", ")),
        (Some(_), true) => format!(
            "{} groups fresh, the stalest {} old",
            ages.len(),
            oldest.map(human_age).unwrap_or_default()
        ),
        (None, _) => format!("newest is {}", oldest.map(human_age).unwrap_or_default()),
    };
    if !undated.is_empty() {
        let names: Vec<&str> = undated.iter().map(|(group, _)| group.as_str()).collect();
        observed = format!("{observed}; undated: {}", names.join(", "));
    }
    let mut found = finding(!stale.is_empty(), observed, format!("at most {max_age} old"));
    found.metric = oldest.map(|a| a.num_minutes() as f64 / 60.0);
    Ok(found)
}

/// "14 h old", "396 d old", or how far past the time checked against (`--as-of` in the past).
fn human_age(age: Duration) -> String {
    if age < Duration::zero() {
        return format!("{} past the time checked against", short_duration(-age));
    }
    format!("{} old", short_duration(age))
}

fn short_duration(age: Duration) -> String {
    let hours = age.num_hours();
    if hours < 48 {
        format!("{hours} h")
    } else {
        format!("{} d", age.num_days())
    }
}

/// When the table's newest Delta commit was written (its `commitInfo.timestamp`).
fn last_commit(table: &std::path::Path) -> Result<DateTime<Utc>, EvalError> {
    let log = table.join("_delta_log");
    let newest = std::fs::read_dir(&log)
        .map_err(|e| EvalError(format!("cannot read {}: {e}", log.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .max()
        .ok_or_else(|| EvalError(format!("{} holds no commits", log.display())))?;
    let text = std::fs::read_to_string(&newest).map_err(|e| EvalError(format!("cannot read {}: {e}", newest.display())))?;
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find_map(|action| action["commitInfo"]["timestamp"].as_i64())
        .and_then(DateTime::from_timestamp_millis)
        .ok_or_else(|| EvalError(format!("{} has no commit timestamp", newest.display())))
}

fn not_future(target: &mut Target<'_>, column: &str, tolerance: &str) -> Result<Finding, EvalError> {
    let slack = parse_age(tolerance).ok_or_else(|| EvalError(format!("tolerance {tolerance:?}: give a number and m, h, d or w")))?;
    let dtype = require_column(&mut target.frame, column)?;
    if !matches!(dtype, DataType::Date | DataType::Datetime(..)) {
        return Err(EvalError(format!("{column} is {}, not a date or timestamp", type_name(&dtype))));
    }
    let limit = target.as_of + slack;
    let stamp = col(column)
        .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
        .cast(DataType::Int64);
    let future = target.frame.clone().filter(stamp.gt(lit(limit.timestamp_millis())));
    let count = numbers(future.clone(), vec![len()])?[0].unwrap_or(0.0);
    let observed = if count > 0.0 {
        format!(
            "{count} rows after {}, e.g. {}",
            limit.format("%Y-%m-%d %H:%M UTC"),
            top_values(future, column, 3)?
        )
    } else {
        "none in the future".into()
    };
    let mut found = finding(count > 0.0, observed, format!("none after now + {tolerance}"));
    found.failing_rows = Some(count as u64);
    Ok(found)
}

/// Rows per day of a date or timestamp column.
fn rows_per_day(target: &mut Target<'_>, column: &str) -> Result<BTreeMap<NaiveDate, f64>, EvalError> {
    let dtype = require_column(&mut target.frame, column)?;
    if !matches!(dtype, DataType::Date | DataType::Datetime(..)) {
        return Err(EvalError(format!("{column} is {}, not a date or timestamp", type_name(&dtype))));
    }
    let counts = target
        .frame
        .clone()
        .filter(col(column).is_not_null())
        .group_by([col(column).cast(DataType::Date).cast(DataType::Int32).alias("day")])
        .agg([len().alias("rows")])
        .collect()?;
    let days = counts.column("day")?.i32()?.clone();
    let rows = counts.column("rows")?.cast(&DataType::Float64)?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    Ok(days
        .iter()
        .zip(rows.f64()?.iter())
        .filter_map(|(d, n)| Some((epoch + Duration::days(i64::from(d?)), n?)))
        .collect())
}

fn volume(target: &mut Target<'_>, column: &str, weeks: usize, tolerance: f64, min_change: f64) -> Result<Finding, EvalError> {
    let per_day = rows_per_day(target, column)?;
    let (Some((&first, _)), Some((&newest, &count))) = (per_day.first_key_value(), per_day.last_key_value()) else {
        return Ok(Finding {
            verdict: Verdict::Skip,
            observed: "no dated rows".into(),
            expected: String::new(),
            failing_rows: None,
            metric: None,
        });
    };
    // Only weeks the table reaches back to count; a weekday without rows then counts as 0.
    let history: Vec<f64> = (1..=weeks as i64)
        .map(|k| newest - Duration::weeks(k))
        .filter(|day| *day >= first)
        .map(|day| per_day.get(&day).copied().unwrap_or(0.0))
        .collect();
    let weekday = newest.format("%A");
    let Some(verdict) = stats::volume(count, &history, tolerance, min_change).filter(|_| history.len() >= 2) else {
        return Ok(Finding {
            verdict: Verdict::Skip,
            observed: format!(
                "{count} rows on {newest}; {} earlier {weekday}s in the table, 2 needed",
                history.len()
            ),
            expected: String::new(),
            failing_rows: None,
            metric: Some(count),
        });
    };
    let mut found = finding(
        verdict.anomaly,
        format!("{count} rows on {weekday} {newest}"),
        format!(
            "{} ± {} (median of the {} {weekday}s before)",
            verdict.median,
            verdict.allowed.round(),
            history.len()
        ),
    );
    found.metric = Some(count);
    Ok(found)
}

fn drift(
    target: &mut Target<'_>,
    column: &str,
    date_column: &str,
    current_days: i64,
    reference_days: i64,
    max_psi: f64,
) -> Result<Finding, EvalError> {
    let dtype = require_column(&mut target.frame, column)?;
    let dates = rows_per_day(target, date_column)?;
    let Some(&newest) = dates.keys().next_back() else {
        return Ok(skipped("no dated rows".into()));
    };
    let current_start = newest - Duration::days(current_days);
    let reference_start = current_start - Duration::days(reference_days);
    let day = col(date_column).cast(DataType::Date);
    let window = |from: NaiveDate, to: NaiveDate| {
        target
            .frame
            .clone()
            .filter(day.clone().gt(lit(from)).and(day.clone().lt_eq(lit(to))))
            .select([col(column)])
    };
    let (reference, current) = (window(reference_start, current_start), window(current_start, newest));
    let (reference_shares, current_shares, sizes) = if dtype.is_primitive_numeric() {
        let values = |frame: LazyFrame| -> Result<Vec<f64>, EvalError> {
            let frame = frame.filter(col(column).is_not_null()).collect()?;
            Ok(frame.column(column)?.cast(&DataType::Float64)?.f64()?.into_no_null_iter().collect())
        };
        let (r, c) = (values(reference)?, values(current)?);
        let sizes = (r.len(), c.len());
        let (rs, cs) = stats::decile_shares(&r, &c);
        (rs, cs, sizes)
    } else {
        let counts = |frame: LazyFrame| -> Result<(BTreeMap<String, f64>, usize), EvalError> {
            let frame = if matches!(dtype, DataType::List(_)) {
                frame.explode(
                    cols([column]),
                    ExplodeOptions {
                        empty_as_null: false,
                        keep_nulls: false,
                    },
                )
            } else {
                frame
            };
            let map: BTreeMap<String, f64> = value_counts(frame, column)?
                .into_iter()
                .filter_map(|(v, n)| Some((v?, n as f64)))
                .collect();
            let total = map.values().sum::<f64>() as usize;
            Ok((map, total))
        };
        let ((r, rn), (c, cn)) = (counts(reference)?, counts(current)?);
        let (rs, cs) = stats::category_shares(&r, &c);
        (rs, cs, (rn, cn))
    };
    let windows = format!("{current_start}..{newest} against {reference_start}..{current_start}");
    if sizes.0 < MIN_WINDOW_VALUES || sizes.1 < MIN_WINDOW_VALUES {
        return Ok(skipped(format!(
            "{} and {} values in {windows}; {MIN_WINDOW_VALUES} needed in each",
            sizes.0, sizes.1
        )));
    }
    let index = stats::psi(&reference_shares, &current_shares);
    let mut found = finding(
        index > max_psi,
        format!("PSI {index:.3} ({windows}; {} and {} values)", sizes.0, sizes.1),
        format!("PSI at most {max_psi}"),
    );
    found.metric = Some(index);
    Ok(found)
}

/// Fewer values than this in either window make a PSI noise, not a signal.
const MIN_WINDOW_VALUES: usize = 50;

fn skipped(observed: String) -> Finding {
    Finding {
        verdict: Verdict::Skip,
        observed,
        expected: String::new(),
        failing_rows: None,
        metric: None,
    }
}

fn relationship(target: &mut Target<'_>, column: &str, to: &str, field: &str) -> Result<Finding, EvalError> {
    require_column(&mut target.frame, column)?;
    let other = target
        .tables
        .iter()
        .find(|t| t.name == to)
        .ok_or_else(|| EvalError(format!("no table {to:?} in the lake")))?;
    let mut other_frame = target.context.execute(&format!("SELECT * FROM {}", other.relation()))?;
    require_column(&mut other_frame, field).map_err(|e| EvalError(format!("{to}: {e}")))?;
    let known = other_frame
        .select([col(field).cast(DataType::String)])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()?;
    let known = known.column(field)?.as_materialized_series().clone();
    let (orphans, count) = rows_not_in(&target.frame, column, &known)?;
    let observed = if count > 0.0 {
        format!("{count} rows without a match, e.g. {}", top_values(orphans, column, 3)?)
    } else {
        "every value found".into()
    };
    let mut found = finding(count > 0.0, observed, format!("every {column} in {to}.{field}"));
    found.failing_rows = Some(count as u64);
    Ok(found)
}

fn sql(target: &mut Target<'_>, query: &str) -> Result<Finding, EvalError> {
    let rows = target
        .context
        .execute(query)
        .map_err(|e| EvalError(crate::export::tables::user_query_message(&e, target.tables)))?;
    let count = numbers(rows.clone(), vec![len().alias("rows")])?[0].unwrap_or(0.0);
    let observed = if count > 0.0 {
        format!("{count} rows returned, e.g. {}", first_row(rows)?)
    } else {
        "no rows returned".into()
    };
    let mut found = finding(count > 0.0, observed, "no rows".into());
    found.failing_rows = Some(count as u64);
    Ok(found)
}

/// The first row of `frame` as `column=value, …` (long values cut), for messages.
fn first_row(frame: LazyFrame) -> Result<String, EvalError> {
    let row = frame.limit(1).collect()?;
    let mut cells = Vec::new();
    for column in row.columns() {
        let value = column.get(0).map_err(EvalError::from)?;
        let mut text = match value {
            AnyValue::String(s) => s.to_string(),
            other => other.to_string(),
        };
        if text.chars().count() > 40 {
            text = format!("{}…", text.chars().take(40).collect::<String>());
        }
        cells.push(format!("{}={text}", column.name()));
    }
    Ok(cells.join(", "))
}

fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}
