//! The lake: Delta tables under one root directory.
//!
//! | table | path | one row per |
//! |---|---|---|
//! | bronze | `bronze/postings` | input record, as received, with its source coordinates |
//! | silver | `silver/postings` | distinct posting, normalised; partitioned by `posting_month` |
//! | duplicates | `silver/duplicates` | record recognised as a duplicate, naming the posting it repeats |
//! | quarantine | `quarantine/postings` | rejected record, with `error_code`, field and message |
//!
//! Every record read lands in exactly one of silver, duplicates and quarantine, and in bronze.

pub mod log;
pub mod reference;
pub mod rows;
mod table;

use std::path::Path;

use deltalake::arrow::record_batch::RecordBatch;
use deltalake::kernel::Action;
pub use table::{LakeError, Table, read_parquet};

/// Table locations relative to the lake root.
pub const BRONZE: &str = "bronze/postings";
pub const SILVER: &str = "silver/postings";
pub const DUPLICATES: &str = "silver/duplicates";
pub const QUARANTINE: &str = "quarantine/postings";

/// One table's part of a batch commit: its new rows, in parts whose files are written at once
/// (each on a thread of its own), and the position each stream (an input file, a Kafka
/// partition) reaches with them, recorded as Delta application transactions
/// `(app_id, version)` in the same commit.
pub struct TableWrite {
    pub parts: Vec<RecordBatch>,
    pub transactions: Vec<(String, i64)>,
}

/// The four posting tables, open for appending. Delta's API is async; the lake keeps its
/// own small runtime so ingest code stays synchronous and CPU work never sits on an executor.
pub struct Lake {
    runtime: tokio::runtime::Runtime,
    pub bronze: Table,
    pub silver: Table,
    pub duplicates: Table,
    pub quarantine: Table,
}

impl Lake {
    /// Opens the lake at `root`, creating missing tables.
    pub fn open(root: &Path) -> Result<Self, LakeError> {
        let runtime = io_runtime(root)?;
        let open = |rel: &str, name: &str, schema, partitions: &[&str]| {
            runtime.block_on(Table::open_or_create(&root.join(rel), name, &schema, partitions))
        };
        let bronze = open(BRONZE, "bronze_postings", rows::bronze_schema(), &[])?;
        let silver = open(SILVER, "silver_postings", rows::silver_schema(), &["posting_month"])?;
        let duplicates = open(DUPLICATES, "silver_duplicates", rows::duplicates_schema(), &[])?;
        let quarantine = open(QUARANTINE, "quarantine_postings", rows::quarantine_schema(), &[])?;
        Ok(Lake {
            runtime,
            bronze,
            silver,
            duplicates,
            quarantine,
        })
    }

    /// How many records of input `app_id` each table already holds: (bronze, quarantine,
    /// duplicates, silver).
    pub fn committed(&self, app_id: &str) -> Result<[i64; 4], LakeError> {
        self.runtime.block_on(async {
            Ok([
                self.bronze.committed(app_id).await?,
                self.quarantine.committed(app_id).await?,
                self.duplicates.committed(app_id).await?,
                self.silver.committed(app_id).await?,
            ])
        })
    }

    /// Commits one batch to each table in the order bronze, quarantine, duplicates, silver.
    /// Silver goes last, so its transaction versions are never ahead of the others and a
    /// resumed run restarts from silver's position. `None` skips a table that already holds
    /// the batch.
    ///
    /// The data files of every table and part are written at once, each on a thread of its
    /// own (encoding and compressing Parquet is most of a commit's work); only the commits,
    /// a few milliseconds each, go one after another.
    pub fn commit_batch(
        &mut self,
        metadata: &serde_json::Map<String, serde_json::Value>,
        writes: [Option<TableWrite>; 4],
    ) -> Result<(), LakeError> {
        let runtime = &self.runtime;
        let tables = [&mut self.bronze, &mut self.quarantine, &mut self.duplicates, &mut self.silver];
        let written: Vec<_> = std::thread::scope(|scope| {
            let writing: Vec<_> = tables
                .iter()
                .zip(writes)
                .map(|(table, write)| {
                    let table: &Table = table;
                    write.map(|write| {
                        let parts: Vec<_> = write
                            .parts
                            .into_iter()
                            .map(|part| scope.spawn(move || write_part(runtime, table, part)))
                            .collect();
                        (parts, write.transactions)
                    })
                })
                .collect();
            writing
                .into_iter()
                .map(|table| {
                    table.map(|(parts, transactions)| {
                        let files = parts
                            .into_iter()
                            .try_fold(Vec::new(), |mut files, part| -> Result<Vec<Action>, LakeError> {
                                files.extend(part.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?);
                                Ok(files)
                            });
                        (files, transactions)
                    })
                })
                .collect()
        });
        for (table, written) in tables.into_iter().zip(written) {
            if let Some((files, transactions)) = written {
                let started = std::time::Instant::now();
                runtime.block_on(table.commit_files(files?, &transactions, metadata.clone()))?;
                tracing::debug!(table = %table.path().display(), commit_ms = started.elapsed().as_millis(), "files committed");
            }
        }
        Ok(())
    }
}

/// Writes one part of a table's new rows as data files, not yet committed.
fn write_part(runtime: &tokio::runtime::Runtime, table: &Table, part: RecordBatch) -> Result<Vec<Action>, LakeError> {
    let started = std::time::Instant::now();
    let files = runtime.block_on(table.write_files(vec![part]))?;
    tracing::debug!(table = %table.path().display(), files = files.len(), write_ms = started.elapsed().as_millis(), "data files written");
    Ok(files)
}

/// Reads `columns` of the existing table at `path` (for readers of the lake that do not
/// write: tests, later stages, tools).
pub fn scan_table(path: &Path, columns: &[&str]) -> Result<Vec<RecordBatch>, LakeError> {
    scan_table_versioned(path, columns).map(|(_, batches)| batches)
}

/// Like [`scan_table`], with the table version the rows were read at (for model cards and
/// answers that say which data they used).
pub fn scan_table_versioned(path: &Path, columns: &[&str]) -> Result<(i64, Vec<RecordBatch>), LakeError> {
    with_io_runtime(path, |runtime| {
        let table = runtime.block_on(Table::open_existing(path))?;
        Ok((table.version(), table.scan(columns)?))
    })
}

/// The current version of the existing table at `path`.
pub fn table_version(path: &Path) -> Result<i64, LakeError> {
    with_io_runtime(path, |runtime| Ok(runtime.block_on(Table::open_existing(path))?.version()))
}

/// Replaces the rows of the small derived table at `path` (created with `schema` when missing)
/// by `batch` in one commit, unless it already holds exactly those rows. Returns whether it
/// wrote. The replaced Parquet files are deleted.
pub fn replace_table(
    path: &Path,
    name: &str,
    batch: RecordBatch,
    metadata: serde_json::Map<String, serde_json::Value>,
) -> Result<bool, LakeError> {
    with_io_runtime(path, |runtime| {
        let schema = batch.schema();
        let mut table = runtime.block_on(Table::open_or_create(path, name, &schema, &[]))?;
        let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let held = table.scan(&columns)?;
        if rendered(path, &held)? == rendered(path, std::slice::from_ref(&batch))? {
            return Ok(false);
        }
        runtime.block_on(table.overwrite(vec![batch], metadata))?;
        remove_replaced_files(path, &table)?;
        Ok(true)
    })
}

/// Deletes the Parquet files the overwrite removed from the table, so that readers of plain
/// Parquet (dbt-duckdb's `read_parquet`) see only the live rows. The table is small and only
/// ever read whole; older versions are not worth keeping.
fn remove_replaced_files(path: &Path, table: &Table) -> Result<(), LakeError> {
    let live: Vec<std::path::PathBuf> = table.live_files()?.into_iter().map(|(file, _)| file).collect();
    let entries = std::fs::read_dir(path).map_err(|e| LakeError::Invalid {
        path: path.to_path_buf(),
        message: format!("cannot list the table's files: {e}"),
    })?;
    for entry in entries.flatten() {
        let file = entry.path();
        let is_parquet = file.extension().is_some_and(|e| e == "parquet");
        if is_parquet && !live.iter().any(|l| l.file_name() == file.file_name()) {
            std::fs::remove_file(&file).map_err(|e| LakeError::Invalid {
                path: file.clone(),
                message: format!("cannot delete a replaced file: {e}"),
            })?;
        }
    }
    Ok(())
}

/// Every cell as text, row by row: a comparison of what a table holds that does not depend on
/// how Parquet hands the arrays back (buffers, null masks, batch boundaries).
fn rendered(path: &Path, batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, LakeError> {
    use deltalake::arrow::util::display::array_value_to_string;
    let mut rows = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let cells = batch
                .columns()
                .iter()
                .map(|column| array_value_to_string(column, row))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| LakeError::Invalid {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?;
            rows.push(cells);
        }
    }
    Ok(rows)
}

/// Runs `work`, which drives Delta's async API on a small runtime of its own, from synchronous
/// code. Starting a runtime on a thread that is already running async code panics, so when the
/// caller is itself inside a runtime (a `rats serve` handler, an async test) the work gets a
/// thread of its own; elsewhere it runs on the calling thread.
fn with_io_runtime<T: Send>(
    path: &Path,
    work: impl FnOnce(&tokio::runtime::Runtime) -> Result<T, LakeError> + Send,
) -> Result<T, LakeError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return work(&io_runtime(path)?);
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| work(&io_runtime(path)?))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The small runtime Delta's async API runs on.
fn io_runtime(path: &Path) -> Result<tokio::runtime::Runtime, LakeError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| LakeError::Invalid {
            path: path.to_path_buf(),
            message: format!("cannot start the I/O runtime: {e}"),
        })
}

/// Each silver posting's taxonomy skill ids (for the skill graph and other readers).
pub fn read_silver_skill_ids(root: &Path) -> Result<Vec<Vec<String>>, LakeError> {
    use deltalake::arrow::array::{Array, AsArray};
    let path = root.join(SILVER);
    let batches = scan_table(&path, &["skill_ids"])?;
    let mut out = Vec::new();
    for batch in batches {
        let lists = batch.column(0).as_list_opt::<i32>().ok_or_else(|| LakeError::Invalid {
            path: path.clone(),
            message: "silver's skill_ids is not a list column".into(),
        })?;
        for i in 0..lists.len() {
            let ids = if lists.is_null(i) {
                Vec::new()
            } else {
                let values = lists.value(i);
                values.as_string::<i32>().iter().flatten().map(str::to_string).collect()
            };
            out.push(ids);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reading the lake from async code (what `rats serve` does) must not start a runtime on
    /// the executor's thread, which panics.
    #[test]
    fn reads_from_inside_an_async_runtime() {
        let dir = tempfile::tempdir().expect("tempdir");
        drop(Lake::open(dir.path()).expect("opens"));
        let silver = dir.path().join(SILVER);
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        runtime.block_on(async {
            assert_eq!(table_version(&silver).expect("version"), 0);
            let (version, batches) = scan_table_versioned(&silver, &["posting_key"]).expect("scans");
            assert_eq!((version, batches.iter().map(RecordBatch::num_rows).sum::<usize>()), (0, 0));
        });
    }
}
