//! Polars frames in and out of the lake's Delta tables. Reading scans the table's live
//! Parquet files with Polars (one scan, the partition values read from the files' folders);
//! writing hands the frame to delta-rs through Arrow IPC in memory (Polars and delta-rs use
//! different Arrow implementations, and IPC is the safe bridge between them).

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use deltalake::arrow::array::{ArrayRef, RecordBatch};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use polars::prelude::*;

use super::TransformError;
use crate::lake::{LakeError, Table};

/// A runtime for delta-rs' async API and the tables it has opened.
pub struct DeltaIo {
    runtime: tokio::runtime::Runtime,
}

impl DeltaIo {
    pub fn new() -> Result<Self, TransformError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| TransformError::Engine {
                model: String::new(),
                message: format!("cannot start the I/O runtime: {e}"),
            })?;
        Ok(DeltaIo { runtime })
    }

    /// Whether a Delta table exists at `path`.
    pub fn exists(path: &Path) -> bool {
        path.join("_delta_log").is_dir()
    }

    /// A lazy scan of the table at `path`: one scan of every live file, the partition values
    /// read from the files' `column=value/` folders as Polars' Hive partitioning reads them,
    /// so a filter on a partition column skips the other partitions' files and the streaming
    /// engine reads the table as one source. A table whose folders do not spell its partition
    /// values (written by another tool) is read one scan per partition instead.
    pub fn scan(&self, path: &Path) -> Result<LazyFrame, TransformError> {
        let table = self.runtime.block_on(Table::open_existing(path))?;
        let files = table.live_files()?;
        if files.is_empty() {
            return Ok(empty_frame(path, &table.arrow_schema()?)?.lazy());
        }
        let columns: Vec<&String> = files[0].1.keys().collect();
        if columns.is_empty() {
            return scan_files(path, files.iter().map(|(file, _)| file), HiveOptions::new_disabled());
        }
        // The files' paths are absolute: the table's folder as they spell it.
        let root = [std::path::absolute(path), path.canonicalize()]
            .into_iter()
            .flatten()
            .find(|root| files[0].0.starts_with(root));
        if let Some(root) = root.filter(|root| files.iter().all(|(file, partitions)| in_hive_folders(root, file, partitions))) {
            let hive = HiveOptions {
                enabled: Some(true),
                hive_start_idx: root.to_string_lossy().len() + 1,
                schema: Some(Arc::new(
                    columns
                        .iter()
                        .map(|c| polars::prelude::Field::new(c.as_str().into(), polars::prelude::DataType::String))
                        .collect(),
                )),
                try_parse_dates: false,
            };
            return scan_files(path, files.iter().map(|(file, _)| file), hive);
        }
        let mut groups: BTreeMap<PartitionValues, Vec<PathBuf>> = BTreeMap::new();
        for (file, partitions) in files {
            groups.entry(partitions.into_iter().collect()).or_default().push(file);
        }
        let mut scans = Vec::new();
        for (partitions, paths) in groups {
            let mut scan = scan_files(path, paths.iter(), HiveOptions::new_disabled())?;
            for (column, value) in partitions {
                let value = value.map_or_else(|| lit(NULL), lit);
                scan = scan.with_column(value.cast(polars::prelude::DataType::String).alias(column.as_str()));
            }
            scans.push(scan);
        }
        concat(scans, UnionArgs::default()).map_err(|e| polars_error(path, &e))
    }

    /// Writes `frame` as the table at `path`: its rows replace the table's (`replace`), or are
    /// appended. A table whose columns differ from the frame's is rebuilt when replacing and
    /// refused when appending.
    pub fn write(
        &self,
        path: &Path,
        frame: DataFrame,
        replace: bool,
        metadata: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), TransformError> {
        // The frame is converted and dropped before delta-rs encodes Parquet, so the two
        // copies never coexist with a third.
        let batches = to_arrow(path, &frame)?;
        drop(frame);
        let schema = match batches.first() {
            Some(b) => b.schema(),
            None => Arc::new(Schema::empty()),
        };
        if Self::exists(path) {
            let existing = self.runtime.block_on(Table::open_existing(path))?;
            if !same_columns(existing.arrow_schema()?.as_ref(), &schema) {
                if !replace {
                    return Err(TransformError::Engine {
                        model: path.display().to_string(),
                        message: "the model's columns changed; run it with --full-refresh to rebuild the table".into(),
                    });
                }
                tracing::info!(table = %path.display(), "the model's columns changed; rebuilding the table");
                std::fs::remove_dir_all(path).map_err(|source| TransformError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
            }
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("gold").to_string();
        self.runtime.block_on(async {
            let mut table = Table::open_or_create(path, &name, &schema, &[]).await?;
            if replace {
                table.overwrite(batches, metadata).await
            } else {
                table.append(batches, &[], metadata).await
            }
        })?;
        Ok(())
    }
}

/// A partition's values, by column.
type PartitionValues = Vec<(String, Option<String>)>;

/// A lazy scan of `files` of the table at `table`.
fn scan_files<'a>(table: &Path, files: impl Iterator<Item = &'a PathBuf>, hive: HiveOptions) -> Result<LazyFrame, TransformError> {
    let sources: Vec<PlRefPath> = files.map(|p| PlRefPath::new(p.to_string_lossy().as_ref())).collect();
    let args = ScanArgsParquet {
        hive_options: hive,
        ..ScanArgsParquet::default()
    };
    LazyFrame::scan_parquet_files(sources.into_iter().collect(), args).map_err(|e| polars_error(table, &e))
}

/// Whether `file` lies in `table`'s folders `column=value/…` that spell exactly its partition
/// values, in the order of the columns' names (`__HIVE_DEFAULT_PARTITION__` for none), so Hive
/// partitioning reads them back unchanged.
fn in_hive_folders(table: &Path, file: &Path, partitions: &BTreeMap<String, Option<String>>) -> bool {
    let Ok(relative) = file.strip_prefix(table) else {
        return false;
    };
    let folders: Vec<String> = relative
        .parent()
        .map(|p| p.iter().map(|part| part.to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    folders.len() == partitions.len()
        && folders.iter().zip(partitions).all(|(folder, (column, value))| {
            let value = value.as_deref().unwrap_or("__HIVE_DEFAULT_PARTITION__");
            // A value Polars would read differently: empty (null), or holding '=' or a '*'.
            !value.is_empty() && !value.contains(['=', '*']) && *folder == format!("{column}={value}")
        })
}

fn polars_error(path: &Path, error: &PolarsError) -> TransformError {
    TransformError::Engine {
        model: path.display().to_string(),
        message: error.to_string(),
    }
}

fn same_columns(a: &Schema, b: &Schema) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(x, y)| x.name() == y.name() && x.data_type() == y.data_type())
}

/// Rows converted per IPC round trip: the in-memory IPC copy stays this small.
const CONVERT_ROWS: usize = 65_536;

/// The frame as Arrow record batches with Delta-compatible types, converted a slice at a
/// time (so the IPC bridge holds one slice, not a copy of the whole frame).
pub(crate) fn to_arrow(path: &Path, frame: &DataFrame) -> Result<Vec<RecordBatch>, TransformError> {
    let arrow_error = |e: deltalake::arrow::error::ArrowError| TransformError::Engine {
        model: path.display().to_string(),
        message: format!("converting to Arrow: {e}"),
    };
    let mut batches = Vec::new();
    let mut target: Option<Arc<Schema>> = None;
    let mut offset = 0;
    loop {
        let mut slice = frame.slice(offset as i64, CONVERT_ROWS);
        let mut buffer = Vec::new();
        IpcWriter::new(&mut buffer)
            .with_compat_level(CompatLevel::oldest())
            .finish(&mut slice)
            .map_err(|e| polars_error(path, &e))?;
        let reader = deltalake::arrow::ipc::reader::FileReader::try_new(Cursor::new(buffer), None).map_err(arrow_error)?;
        let schema = Arc::clone(target.get_or_insert_with(|| {
            Arc::new(Schema::new(
                reader
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| Field::new(f.name(), delta_type(f.data_type()), true))
                    .collect::<Vec<_>>(),
            ))
        }));
        for batch in reader {
            let batch = batch.map_err(arrow_error)?;
            let columns: Vec<ArrayRef> = batch
                .columns()
                .iter()
                .zip(schema.fields())
                .map(|(column, field)| cast(column, field.data_type()))
                .collect::<Result<_, _>>()
                .map_err(arrow_error)?;
            if batch.num_rows() > 0 {
                batches.push(RecordBatch::try_new(Arc::clone(&schema), columns).map_err(arrow_error)?);
            }
        }
        offset += CONVERT_ROWS;
        if offset >= frame.height() {
            break;
        }
    }
    if batches.is_empty()
        && let Some(schema) = target
    {
        batches.push(RecordBatch::new_empty(schema));
    }
    Ok(batches)
}

/// The Arrow type Delta stores for a Polars-written one: no unsigned or large types, and
/// timestamps in UTC (Delta's `timestamp`).
fn delta_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..) => DataType::Utf8,
        DataType::LargeBinary | DataType::BinaryView => DataType::Binary,
        DataType::UInt8 | DataType::UInt16 => DataType::Int32,
        DataType::UInt32 | DataType::UInt64 => DataType::Int64,
        DataType::Float16 => DataType::Float32,
        DataType::Timestamp(_, _) => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        DataType::LargeList(item) | DataType::List(item) => {
            DataType::List(Arc::new(Field::new(item.name(), delta_type(item.data_type()), true)))
        }
        other => other.clone(),
    }
}

/// An empty frame with the table's columns (a table with no files yet).
fn empty_frame(path: &Path, schema: &Arc<Schema>) -> Result<DataFrame, TransformError> {
    let arrow_error = |e: deltalake::arrow::error::ArrowError| TransformError::Engine {
        model: path.display().to_string(),
        message: e.to_string(),
    };
    let mut buffer = Vec::new();
    {
        let mut writer = deltalake::arrow::ipc::writer::FileWriter::try_new(&mut buffer, schema).map_err(arrow_error)?;
        writer.write(&RecordBatch::new_empty(Arc::clone(schema))).map_err(arrow_error)?;
        writer.finish().map_err(arrow_error)?;
    }
    IpcReader::new(Cursor::new(buffer)).finish().map_err(|e| polars_error(path, &e))
}

impl From<LakeError> for TransformError {
    fn from(error: LakeError) -> Self {
        TransformError::Lake(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_folders_that_spell_the_partition_values_are_read_as_hive_partitions() {
        let table = Path::new("/lake/silver/postings");
        let values = |pairs: &[(&str, Option<&str>)]| -> BTreeMap<String, Option<String>> {
            pairs.iter().map(|(c, v)| ((*c).to_string(), v.map(str::to_string))).collect()
        };
        let month = values(&[("posting_month", Some("2025-04"))]);
        let in_folders = |file: &str, partitions: &BTreeMap<String, Option<String>>| in_hive_folders(table, Path::new(file), partitions);
        assert!(in_folders("/lake/silver/postings/posting_month=2025-04/part-0.parquet", &month));
        assert!(in_folders(
            "/lake/silver/postings/posting_month=__HIVE_DEFAULT_PARTITION__/part-0.parquet",
            &values(&[("posting_month", None)])
        ));
        // Another value, another table, no folder, a value Polars would read otherwise.
        assert!(!in_folders("/lake/silver/postings/posting_month=2025-03/part-0.parquet", &month));
        assert!(!in_folders("/lake/silver/other/posting_month=2025-04/part-0.parquet", &month));
        assert!(!in_folders("/lake/silver/postings/part-0.parquet", &month));
        let escaped = values(&[("city", Some("a=b"))]);
        assert!(!in_folders("/lake/silver/postings/city=a=b/part-0.parquet", &escaped));
    }
}
