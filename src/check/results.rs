//! The history of checks: every run's results appended to the lake's `quality/results` Delta
//! table, one row per expectation, which the dashboard's data-health page and `rats export`
//! read, and from which a run learns each expectation's previous status.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{CheckError, CheckResult};
use crate::transform::TransformError;
use crate::transform::delta::DeltaIo;

/// `LAKE/quality/results`.
pub fn table_path(lake: &Path) -> PathBuf {
    lake.join("quality").join("results")
}

/// Appends one run's results, stamped with the run's id and time.
pub fn record(io: &DeltaIo, lake: &Path, run_id: &str, checked_at: &str, results: &[CheckResult]) -> Result<(), CheckError> {
    let text = |f: &dyn Fn(&CheckResult) -> String| results.iter().map(f).collect::<Vec<String>>();
    let frame = DataFrame::new(
        results.len(),
        vec![
            Column::new("run_id".into(), vec![run_id.to_string(); results.len()]),
            Column::new("checked_at".into(), vec![checked_at.to_string(); results.len()]),
            Column::new("check".into(), text(&|r| r.check.clone())),
            Column::new("table".into(), text(&|r| r.table.clone())),
            Column::new("kind".into(), text(&|r| r.kind.to_string())),
            Column::new("column".into(), results.iter().map(|r| r.column.clone()).collect::<Vec<_>>()),
            Column::new("severity".into(), text(&|r| r.severity.as_str().to_string())),
            Column::new("status".into(), text(&|r| r.status.to_string())),
            Column::new("observed".into(), text(&|r| r.observed.clone())),
            Column::new("expected".into(), text(&|r| r.expected.clone())),
            Column::new(
                "failing_rows".into(),
                results.iter().map(|r| r.failing_rows.map(|n| n as i64)).collect::<Vec<_>>(),
            ),
            Column::new("metric".into(), results.iter().map(|r| r.metric).collect::<Vec<_>>()),
        ],
    )
    .map_err(|e| TransformError::Engine {
        model: "quality/results".into(),
        message: e.to_string(),
    })?;
    let mut metadata = serde_json::Map::new();
    metadata.insert("operation".into(), "rats check".into());
    metadata.insert("run_id".into(), run_id.into());
    io.write(&table_path(lake), frame, false, metadata)?;
    Ok(())
}

/// Each expectation's status in its most recent recorded run (none before the first run).
pub fn previous_statuses(io: &DeltaIo, lake: &Path) -> Result<BTreeMap<String, String>, CheckError> {
    let path = table_path(lake);
    if !DeltaIo::exists(&path) {
        return Ok(BTreeMap::new());
    }
    let engine = |e: PolarsError| TransformError::Engine {
        model: "quality/results".into(),
        message: e.to_string(),
    };
    let latest = io
        .scan(&path)?
        .select([col("check"), col("status"), col("checked_at"), col("run_id")])
        .group_by([col("check")])
        .agg([col("status")
            .sort_by([col("checked_at"), col("run_id")], SortMultipleOptions::default())
            .last()])
        .collect()
        .map_err(engine)?;
    let checks = latest.column("check").and_then(|c| c.str().cloned()).map_err(engine)?;
    let statuses = latest.column("status").and_then(|c| c.str().cloned()).map_err(engine)?;
    Ok(checks
        .iter()
        .zip(statuses.iter())
        .filter_map(|(c, s)| Some((c?.to_string(), s?.to_string())))
        .collect())
}
