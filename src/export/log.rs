//! The exports' log: every `rats export` to a file appends one row to the lake's `exports/log`
//! table — when, what (a table or a query, and the SQL statement), which tables it read at
//! which Delta versions, the format, the file and the row count — so the lineage can show where
//! the lake's data went and from which versions (`rats check lineage`). Exports to stdout are
//! not logged: they feed pipes (`| head`), not files someone will ask about.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;

use super::ExportError;
use crate::transform::delta::DeltaIo;

/// The log's place in the lake.
pub const TABLE: &str = "exports/log";

/// One export written to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRecord {
    pub exported_at: String,
    /// `layer/name`, or "the query".
    pub what: String,
    pub statement: String,
    pub format: String,
    /// The file, as an absolute path.
    pub target: String,
    pub rows: u64,
    /// The tables read (`layer/name`) and their Delta versions when the export started.
    pub read: BTreeMap<String, Option<i64>>,
}

/// Appends `record` to the lake's log.
pub fn append(lake: &Path, record: &ExportRecord) -> Result<(), ExportError> {
    let text = |name: &str, value: &str| Column::new(name.into(), [value]);
    let read = serde_json::to_string(&record.read).map_err(|e| ExportError::Convert(e.to_string()))?;
    let frame = DataFrame::new(
        1,
        vec![
            text("exported_at", &record.exported_at),
            text("what", &record.what),
            text("statement", &record.statement),
            text("read", &read),
            text("format", &record.format),
            text("target", &record.target),
            Column::new("rows".into(), [record.rows]),
        ],
    )
    .map_err(|e| ExportError::Convert(format!("{TABLE}: {e}")))?;
    let mut metadata = serde_json::Map::new();
    metadata.insert("operation".into(), "rats export".into());
    DeltaIo::new()?.write(&lake.join(TABLE), frame, false, metadata)?;
    Ok(())
}

/// Every file exported, with the tables it was read from (the newest export of a file counts).
pub fn exported_files(io: &DeltaIo, lake: &Path) -> Result<BTreeMap<String, Vec<String>>, ExportError> {
    let path = lake.join(TABLE);
    if !DeltaIo::exists(&path) {
        return Ok(BTreeMap::new());
    }
    let engine = |e: PolarsError| ExportError::Query {
        what: TABLE.into(),
        message: crate::transform::engine::polars_message(&e),
    };
    let frame = io
        .scan(&path)?
        .select([col("exported_at"), col("target"), col("read")])
        .sort(["exported_at"], SortMultipleOptions::default())
        .collect()
        .map_err(engine)?;
    let targets = frame.column("target").and_then(|c| c.str().cloned()).map_err(engine)?;
    let reads = frame.column("read").and_then(|c| c.str().cloned()).map_err(engine)?;
    let mut files = BTreeMap::new();
    for (target, read) in targets.iter().zip(reads.iter()) {
        let (Some(target), Some(read)) = (target, read) else { continue };
        let tables: BTreeMap<String, Option<i64>> =
            serde_json::from_str(read).map_err(|e| ExportError::Convert(format!("{TABLE}: read {read:?}: {e}")))?;
        files.insert(target.to_string(), tables.into_keys().collect());
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_appended_and_read_back_newest_last() {
        let lake = tempfile::tempdir().expect("tempdir");
        let record = |at: &str, target: &str, read: &[&str]| ExportRecord {
            exported_at: at.into(),
            what: "the query".into(),
            statement: "SELECT 1".into(),
            format: "csv".into(),
            target: target.into(),
            rows: 1,
            read: read.iter().map(|t| ((*t).to_string(), Some(3))).collect(),
        };
        append(lake.path(), &record("2026-12-01T08:00:00Z", "/out/a.csv", &["silver/postings"])).expect("append");
        append(lake.path(), &record("2026-12-02T08:00:00Z", "/out/a.csv", &["gold/fct_postings"])).expect("append");
        append(lake.path(), &record("2026-12-01T09:00:00Z", "/out/b.csv", &["silver/postings"])).expect("append");
        let files = exported_files(&DeltaIo::new().expect("io"), lake.path()).expect("read");
        assert_eq!(files["/out/a.csv"], ["gold/fct_postings"], "the newest export of a file counts");
        assert_eq!(files["/out/b.csv"], ["silver/postings"]);
    }
}
