//! The data-health page's figures, read from the lake's tables at request time (a `rats check`
//! or a consume of only bad records moves no table the server's snapshot follows): quarantined
//! records by reason, and the latest `rats check` run's results.

use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use crate::check::results;
use crate::lake;
use crate::transform::TransformError;
use crate::transform::delta::DeltaIo;

/// Quarantined records with one error code and field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub error_code: String,
    pub field: Option<String>,
    pub records: i64,
    /// The message of one of them.
    pub example: String,
}

/// One expectation's result in the latest run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckRow {
    pub check: String,
    pub table: String,
    pub severity: String,
    pub status: String,
    pub observed: String,
    pub expected: String,
    pub failing_rows: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatestChecks {
    pub run_id: String,
    pub checked_at: String,
    pub results: Vec<CheckRow>,
}

fn engine(table: &str) -> impl Fn(PolarsError) -> TransformError + '_ {
    move |e| TransformError::Engine {
        model: table.to_string(),
        message: e.to_string(),
    }
}

/// A text column's values (also read by the company history).
pub(in crate::web) fn texts(frame: &DataFrame, name: &str) -> Result<Vec<Option<String>>, PolarsError> {
    Ok(frame.column(name)?.str()?.iter().map(|v| v.map(String::from)).collect())
}

fn numbers(frame: &DataFrame, name: &str) -> Result<Vec<Option<i64>>, PolarsError> {
    Ok(frame.column(name)?.cast(&DataType::Int64)?.i64()?.iter().collect())
}

/// Quarantined records by error code and field, the most first (empty without the table).
pub fn quarantine(io: &DeltaIo, root: &Path) -> Result<Vec<Reason>, TransformError> {
    let path = root.join(lake::QUARANTINE);
    if !DeltaIo::exists(&path) {
        return Ok(Vec::new());
    }
    let fail = engine(lake::QUARANTINE);
    let frame = io
        .scan(&path)?
        .group_by([col("error_code"), col("field")])
        .agg([len().alias("records"), col("message").first().alias("example")])
        .sort_by_exprs(
            [col("records"), col("error_code")],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .collect()
        .map_err(&fail)?;
    let (codes, fields, records, examples) = (
        texts(&frame, "error_code").map_err(&fail)?,
        texts(&frame, "field").map_err(&fail)?,
        numbers(&frame, "records").map_err(&fail)?,
        texts(&frame, "example").map_err(&fail)?,
    );
    Ok(codes
        .into_iter()
        .zip(fields)
        .zip(records.into_iter().zip(examples))
        .map(|((code, field), (records, example))| Reason {
            error_code: code.unwrap_or_default(),
            field,
            records: records.unwrap_or_default(),
            example: example.unwrap_or_default(),
        })
        .collect())
}

/// The latest recorded run of `rats check` (none before the first).
pub fn latest_checks(io: &DeltaIo, root: &Path) -> Result<Option<LatestChecks>, TransformError> {
    let path = results::table_path(root);
    if !DeltaIo::exists(&path) {
        return Ok(None);
    }
    let fail = engine("quality/results");
    let newest = io
        .scan(&path)?
        .select([col("run_id"), col("checked_at")])
        .sort_by_exprs(
            [col("checked_at"), col("run_id")],
            SortMultipleOptions::default().with_order_descending_multi([true, true]),
        )
        .limit(1)
        .collect()
        .map_err(&fail)?;
    let (Some(Some(run_id)), Some(Some(checked_at))) = (
        texts(&newest, "run_id").map_err(&fail)?.pop(),
        texts(&newest, "checked_at").map_err(&fail)?.pop(),
    ) else {
        return Ok(None);
    };
    let frame = io
        .scan(&path)?
        .filter(col("run_id").eq(lit(run_id.clone())))
        .collect()
        .map_err(&fail)?;
    let column = |name: &str| texts(&frame, name).map_err(&fail);
    let rows = column("check")?
        .into_iter()
        .zip(column("table")?)
        .zip(column("severity")?.into_iter().zip(column("status")?))
        .zip(column("observed")?.into_iter().zip(column("expected")?))
        .zip(numbers(&frame, "failing_rows").map_err(&fail)?)
        .map(
            |((((check, table), (severity, status)), (observed, expected)), failing_rows)| CheckRow {
                check: check.unwrap_or_default(),
                table: table.unwrap_or_default(),
                severity: severity.unwrap_or_default(),
                status: status.unwrap_or_default(),
                observed: observed.unwrap_or_default(),
                expected: expected.unwrap_or_default(),
                failing_rows,
            },
        )
        .collect();
    Ok(Some(LatestChecks {
        run_id,
        checked_at,
        results: rows,
    }))
}
