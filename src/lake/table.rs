//! One Delta table of the lake: created on first use with its schema, appended to in atomic
//! commits that carry an application transaction (Delta's `txn` action) per input, so a
//! re-run or a resumed run knows exactly which records each table already holds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use deltalake::arrow::array::ArrayRef;
use deltalake::arrow::datatypes::Schema as ArrowSchema;
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::scalars::ScalarExt;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties, FinalizedCommit};
use deltalake::kernel::{Action, StructType, Transaction};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter, RecordBatchWriter, WriteMode};
use deltalake::{DeltaTable, DeltaTableError};
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("lake table {path}: {source}")]
    Delta { path: PathBuf, source: DeltaTableError },
    #[error("lake table {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("lake table {path}: cannot read {file}: {message}")]
    Read { path: PathBuf, file: String, message: String },
}

/// Refuses a table whose columns differ from the ones this rats writes (a lake made by another
/// version), naming the difference, before any write could fail half-way.
fn check_columns(path: &Path, table: &DeltaTable, expected: &ArrowSchema) -> Result<(), LakeError> {
    let snapshot = table.snapshot().map_err(|source| LakeError::Delta {
        path: path.to_path_buf(),
        source,
    })?;
    let actual: Vec<String> = snapshot.schema().fields().map(|f| f.name().clone()).collect();
    let wanted: Vec<String> = expected.fields().iter().map(|f| f.name().clone()).collect();
    if actual == wanted {
        return Ok(());
    }
    let missing: Vec<&str> = wanted.iter().filter(|c| !actual.contains(c)).map(String::as_str).collect();
    let extra: Vec<&str> = actual.iter().filter(|c| !wanted.contains(c)).map(String::as_str).collect();
    Err(LakeError::Invalid {
        path: path.to_path_buf(),
        message: format!(
            "the table's columns differ from this rats version's (missing: [{}], unexpected: [{}]); consume into a new lake or migrate this one",
            missing.join(", "),
            extra.join(", ")
        ),
    })
}

/// A live data file and its partition values (column → value, null for a null partition).
pub type LiveFile = (PathBuf, BTreeMap<String, Option<String>>);

/// An open table.
pub struct Table {
    path: PathBuf,
    table: DeltaTable,
}

impl Table {
    /// Opens the table at `path`, creating it with `schema` and `partitions` when absent.
    pub async fn open_or_create(path: &Path, name: &str, schema: &ArrowSchema, partitions: &[&str]) -> Result<Self, LakeError> {
        let err = |source| LakeError::Delta {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(path).map_err(|e| LakeError::Invalid {
            path: path.to_path_buf(),
            message: format!("cannot create the directory: {e}"),
        })?;
        let absolute = std::fs::canonicalize(path).map_err(|e| LakeError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let url = Url::from_directory_path(&absolute).map_err(|()| LakeError::Invalid {
            path: path.to_path_buf(),
            message: "not an absolute path".into(),
        })?;
        let table = if absolute.join("_delta_log").is_dir() {
            let table = deltalake::open_table(url).await.map_err(err)?;
            check_columns(path, &table, schema)?;
            table
        } else {
            let kernel: StructType = schema.try_into_kernel().map_err(|e| LakeError::Invalid {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
            // Built without loading: `DeltaTable::try_from_url` tries to load the table first,
            // and the Delta kernel logs that failed load at ERROR level although creating the
            // table then succeeds.
            deltalake::DeltaTableBuilder::from_url(url)
                .and_then(deltalake::DeltaTableBuilder::build)
                .map_err(err)?
                .create()
                .with_table_name(name)
                .with_columns(kernel.fields().cloned())
                .with_partition_columns(partitions.iter().map(|p| (*p).to_string()))
                .await
                .map_err(err)?
        };
        Ok(Table {
            path: path.to_path_buf(),
            table,
        })
    }

    /// Opens a table that must already exist.
    pub async fn open_existing(path: &Path) -> Result<Self, LakeError> {
        let absolute = std::fs::canonicalize(path).map_err(|e| LakeError::Invalid {
            path: path.to_path_buf(),
            message: format!("no such table: {e}"),
        })?;
        let url = Url::from_directory_path(&absolute).map_err(|()| LakeError::Invalid {
            path: path.to_path_buf(),
            message: "not an absolute path".into(),
        })?;
        let table = deltalake::open_table(url).await.map_err(|source| LakeError::Delta {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Table {
            path: path.to_path_buf(),
            table,
        })
    }

    /// Where the table lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The table version this handle reads (-1 before the first commit).
    pub fn version(&self) -> i64 {
        self.table.version().map_or(-1, |v| i64::try_from(v).unwrap_or(i64::MAX))
    }

    /// The last version committed under `app_id` (the number of an input's records this table
    /// already covers), or 0.
    pub async fn committed(&self, app_id: &str) -> Result<i64, LakeError> {
        let snapshot = self.table.snapshot().map_err(|source| LakeError::Delta {
            path: self.path.clone(),
            source,
        })?;
        let version = snapshot
            .transaction_version(self.table.log_store().as_ref(), app_id)
            .await
            .map_err(|source| LakeError::Delta {
                path: self.path.clone(),
                source,
            })?;
        Ok(version.unwrap_or(0))
    }

    /// Appends `batches` (possibly none) in one commit that also records each stream's
    /// application transaction (`app_id`, version) and `metadata` in the commit info.
    pub async fn append(
        &mut self,
        batches: Vec<RecordBatch>,
        transactions: &[(String, i64)],
        metadata: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), LakeError> {
        let files = self.write_files(batches).await?;
        self.commit_files(files, transactions, metadata).await
    }

    /// Writes `batches` (possibly none) as new data files of this table, not yet part of it:
    /// [`Table::commit_files`] adds them. Only reads the table, so the lake writes the files of
    /// several tables at once and then commits them in its fixed order.
    ///
    /// In a partitioned table each run of consecutive rows of one partition is written and its
    /// file closed before the next run's opens, so callers give each partition's rows
    /// together (rows of a partition spread over several runs still land, in more files).
    /// Why: an open file holds a writer per column with its buffers and dictionary, and
    /// delta-rs keeps every partition's file open until the end; silver's batches span about 75
    /// months, and writing them one after another lowered a Kafka consume's peak by 35-50 MB
    /// (BENCHMARKS.md).
    pub async fn write_files(&self, batches: Vec<RecordBatch>) -> Result<Vec<Action>, LakeError> {
        let err = |source| LakeError::Delta {
            path: self.path.clone(),
            source,
        };
        let batches: Vec<RecordBatch> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
        if batches.is_empty() {
            return Ok(Vec::new());
        }
        let partition_columns = self.table.snapshot().map_err(err)?.metadata().partition_columns().to_vec();
        let mut writer = self.writer().map_err(err)?;
        let mut files = Vec::new();
        for batch in batches {
            if partition_columns.is_empty() {
                writer.write(batch).await.map_err(err)?;
                continue;
            }
            // Each run goes to delta-rs as one partition's rows with their values: given the
            // whole batch, it grouped the rows itself and copied every column into each group,
            // silver's descriptions included (a tenth of a Kafka consume's page faults,
            // BENCHMARKS.md).
            let columns = self.partition_columns_of(&batch, &partition_columns)?;
            for run in self.partition_runs(&columns)? {
                let values = partition_columns
                    .iter()
                    .zip(&columns)
                    .map(|(name, column)| {
                        ScalarExt::from_array(column.as_ref(), run.start)
                            .map(|value| (name.clone(), value))
                            .ok_or_else(|| self.invalid(format!("cannot read the value of partition column {name} at row {}", run.start)))
                    })
                    .collect::<Result<_, _>>()?;
                writer
                    .write_partition(batch.slice(run.start, run.len()), &values, WriteMode::Default)
                    .await
                    .map_err(err)?;
                files.extend(writer.flush().await.map_err(err)?);
            }
        }
        files.extend(writer.flush().await.map_err(err)?);
        Ok(files.into_iter().map(Action::Add).collect())
    }

    /// The partition columns of `batch`, in the table's order.
    fn partition_columns_of(&self, batch: &RecordBatch, partition_columns: &[String]) -> Result<Vec<ArrayRef>, LakeError> {
        partition_columns
            .iter()
            .map(|name| {
                batch
                    .column_by_name(name)
                    .cloned()
                    .ok_or_else(|| self.invalid(format!("the rows to write have no partition column {name}")))
            })
            .collect()
    }

    /// The ranges of consecutive rows that share their values in `columns`.
    fn partition_runs(&self, columns: &[ArrayRef]) -> Result<Vec<std::ops::Range<usize>>, LakeError> {
        let runs =
            deltalake::arrow::compute::partition(columns).map_err(|e| self.invalid(format!("cannot group the rows by partition: {e}")))?;
        Ok(runs.ranges())
    }

    fn invalid(&self, message: String) -> LakeError {
        LakeError::Invalid {
            path: self.path.clone(),
            message,
        }
    }

    /// Commits `files` (from [`Table::write_files`]) in one commit that also records each
    /// stream's application transaction (`app_id`, version) and `metadata` in the commit info.
    pub async fn commit_files(
        &mut self,
        files: Vec<Action>,
        transactions: &[(String, i64)],
        metadata: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), LakeError> {
        let err = |source| LakeError::Delta {
            path: self.path.clone(),
            source,
        };
        let snapshot = self.table.snapshot().map_err(err)?;
        let partition_by = Some(snapshot.metadata().partition_columns().to_vec()).filter(|p| !p.is_empty());
        let properties = CommitProperties::default()
            .with_application_transactions(
                transactions
                    .iter()
                    .map(|(app_id, version)| Transaction::new(app_id, *version))
                    .collect(),
            )
            .with_metadata(metadata);
        let committed = CommitBuilder::from(properties)
            .with_actions(files)
            .build(
                Some(snapshot),
                self.table.log_store(),
                DeltaOperation::Write {
                    mode: SaveMode::Append,
                    partition_by,
                    predicate: None,
                },
            )
            .await
            .map_err(&err)?;
        self.adopt(&committed);
        Ok(())
    }

    /// Takes the table state a commit left behind: the commit already brought the previous
    /// state up to its version, and reading the log again would replay every file the table
    /// holds a second time (the two replays together took 2-4 % of a Kafka consume's samples,
    /// BENCHMARKS.md).
    fn adopt(&mut self, committed: &FinalizedCommit) {
        self.table.state = Some(committed.snapshot());
    }

    /// A writer of this table's data files.
    fn writer(&self) -> Result<RecordBatchWriter, DeltaTableError> {
        Ok(RecordBatchWriter::for_table(&self.table)?.with_writer_properties(writer_properties()))
    }

    /// The live data files as local paths, each with its partition values (for readers that
    /// scan the files themselves, such as Polars).
    pub fn live_files(&self) -> Result<Vec<LiveFile>, LakeError> {
        let err = |source| LakeError::Delta {
            path: self.path.clone(),
            source,
        };
        let snapshot = self.table.snapshot().map_err(err)?;
        let log_store = self.table.log_store();
        let mut files = Vec::new();
        for file in snapshot.log_data() {
            let uri = log_store.to_uri(&file.object_store_path());
            files.push((self.local_path(&uri)?, file.partition_values_map().into_iter().collect()));
        }
        Ok(files)
    }

    /// Replaces every row with `batches` in one commit (the files of the previous version are
    /// removed in the same commit, so readers see the old rows or the new ones, never none).
    pub async fn overwrite(
        &mut self,
        batches: Vec<RecordBatch>,
        metadata: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), LakeError> {
        let err = |source| LakeError::Delta {
            path: self.path.clone(),
            source,
        };
        let mut actions: Vec<Action> = self
            .table
            .snapshot()
            .map_err(err)?
            .log_data()
            .into_iter()
            .map(|file| Action::Remove(file.remove_action(true)))
            .collect();
        actions.extend(self.write_files(batches).await?);
        let snapshot = self.table.snapshot().map_err(err)?;
        let committed = CommitBuilder::from(CommitProperties::default().with_metadata(metadata))
            .with_actions(actions)
            .build(
                Some(snapshot),
                self.table.log_store(),
                DeltaOperation::Write {
                    mode: SaveMode::Overwrite,
                    partition_by: None,
                    predicate: None,
                },
            )
            .await
            .map_err(&err)?;
        self.adopt(&committed);
        Ok(())
    }

    /// The table's columns as Arrow sees them (what written batches must match).
    pub fn arrow_schema(&self) -> Result<deltalake::arrow::datatypes::SchemaRef, LakeError> {
        use deltalake::kernel::engine::arrow_conversion::TryIntoArrow;
        let snapshot = self.table.snapshot().map_err(|source| LakeError::Delta {
            path: self.path.clone(),
            source,
        })?;
        let schema: ArrowSchema = snapshot
            .schema()
            .as_ref()
            .try_into_arrow()
            .map_err(|e: deltalake::arrow::error::ArrowError| LakeError::Invalid {
                path: self.path.clone(),
                message: e.to_string(),
            })?;
        Ok(std::sync::Arc::new(schema))
    }

    /// A file URI of this table as a local path.
    fn local_path(&self, uri: &str) -> Result<PathBuf, LakeError> {
        match Url::parse(uri) {
            Ok(url) if url.scheme() == "file" => url.to_file_path().map_err(|()| LakeError::Read {
                path: self.path.clone(),
                file: uri.to_string(),
                message: "not a local file".into(),
            }),
            Ok(_) => Err(LakeError::Read {
                path: self.path.clone(),
                file: uri.to_string(),
                message: "only local lakes are supported".into(),
            }),
            Err(_) => Ok(PathBuf::from(uri)),
        }
    }

    /// Reads `columns` (in that order) of every live row, file by file.
    pub fn scan(&self, columns: &[&str]) -> Result<Vec<RecordBatch>, LakeError> {
        let uris: Vec<String> = self
            .table
            .get_file_uris()
            .map_err(|source| LakeError::Delta {
                path: self.path.clone(),
                source,
            })?
            .collect();
        let mut batches = Vec::new();
        for uri in uris {
            let file_path = self.local_path(&uri)?;
            batches.extend(read_parquet(&self.path, &file_path, columns)?);
        }
        Ok(batches)
    }
}

/// Reads `columns` (in that order) of the Parquet data file `file` of the table at `table`.
pub fn read_parquet(table: &Path, file: &Path, columns: &[&str]) -> Result<Vec<RecordBatch>, LakeError> {
    use deltalake::parquet::arrow::ProjectionMask;
    use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let read_err = |message: String| LakeError::Read {
        path: table.to_path_buf(),
        file: file.display().to_string(),
        message,
    };
    let opened = std::fs::File::open(file).map_err(|e| read_err(e.to_string()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(opened).map_err(|e| read_err(e.to_string()))?;
    let indices: Vec<usize> = columns
        .iter()
        .map(|c| builder.schema().index_of(c).map_err(|_| read_err(format!("column {c} is missing"))))
        .collect::<Result<_, _>>()?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
    let mut batches = Vec::new();
    for batch in builder.with_projection(mask).build().map_err(|e| read_err(e.to_string()))? {
        // Parquet returns projected columns in file order; callers index them in the order
        // they asked for.
        let batch = batch.map_err(|e| read_err(e.to_string()))?;
        let order: Vec<usize> = columns
            .iter()
            .map(|c| batch.schema().index_of(c))
            .collect::<Result<_, _>>()
            .map_err(|e| read_err(e.to_string()))?;
        batches.push(batch.project(&order).map_err(|e| read_err(e.to_string()))?);
    }
    Ok(batches)
}

/// The columns of the lake that hold long text: a record as received (bronze, quarantine), a
/// posting's description and its skill mentions as JSON (silver).
const LONG_TEXT_COLUMNS: [&str; 3] = ["raw", "description", "skills"];

/// Short columns whose every value is another (keys, hashes, signatures): a dictionary of them
/// is as large as the column, so they are written plainly.
const UNIQUE_COLUMNS: [&str; 3] = ["posting_key", "content_hash", "minhash"];

/// Binary columns (silver's `MinHash` signature, the raw bytes bronze and quarantine keep of
/// input that is not UTF-8): their minimum and maximum prune nothing, and Delta's statistics
/// skip them with a warning per file when Parquet has them, so Parquet keeps none.
const BINARY_COLUMNS: [&str; 2] = ["minhash", "raw_bytes"];

/// How the lake's Parquet files are written: Snappy, as Delta writes them by default, except
/// for the long text columns, which zstd at level 1 compresses at the same speed to half the
/// size (200,000 postings from Kafka: bronze 183 → 87 MB, silver 203 → 150 MB; silver's skills
/// JSON too: 148 → 141 MB). Not every column: zstd for all of them, silver's many small column
/// chunks included (about 3,000 a batch), cost a sixth more CPU time than Snappy
/// (BENCHMARKS.md). The long texts and the unique columns are written plainly, without
/// Parquet's default dictionary: each value is unique, so the writer hashed and copied every
/// one of them into a dictionary it then gave up on (bronze) or kept as large as the column
/// (silver's small files). Polars, `DuckDB` and Python's deltalake read both
/// (`tests/it/interop.rs` and the transform tests read the lake with them).
fn writer_properties() -> deltalake::parquet::file::properties::WriterProperties {
    use deltalake::parquet::basic::{Compression, ZstdLevel};
    use deltalake::parquet::file::properties::EnabledStatistics;
    use deltalake::parquet::schema::types::ColumnPath;
    let properties = deltalake::parquet::file::properties::WriterProperties::builder()
        .set_created_by(format!("rats {}", env!("CARGO_PKG_VERSION")))
        .set_compression(Compression::SNAPPY);
    let properties = LONG_TEXT_COLUMNS.iter().fold(properties, |properties, column| {
        properties
            .set_column_compression(ColumnPath::from(*column), Compression::ZSTD(ZstdLevel::default()))
            .set_column_dictionary_enabled(ColumnPath::from(*column), false)
    });
    let properties = UNIQUE_COLUMNS.iter().fold(properties, |properties, column| {
        properties.set_column_dictionary_enabled(ColumnPath::from(*column), false)
    });
    BINARY_COLUMNS
        .iter()
        .fold(properties, |properties, column| {
            properties.set_column_statistics_enabled(ColumnPath::from(*column), EnabledStatistics::None)
        })
        .build()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use deltalake::arrow::array::{Int64Array, StringArray};
    use deltalake::arrow::datatypes::{DataType, Field};

    use super::*;

    /// Each run of consecutive rows of one partition becomes a file of its own, written and
    /// closed before the next run's (what keeps a batch's many months from being open at once),
    /// and a partition whose rows come in two runs still gets all of them.
    #[test]
    fn each_run_of_a_partition_is_one_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let schema = ArrowSchema::new(vec![
            Field::new("value", DataType::Int64, false),
            Field::new("month", DataType::Utf8, false),
        ]);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            let mut table = Table::open_or_create(dir.path(), "runs", &schema, &["month"])
                .await
                .expect("creates");
            let rows = RecordBatch::try_new(
                Arc::new(schema.clone()),
                vec![
                    Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5])),
                    Arc::new(StringArray::from(vec!["2026-01", "2026-01", "2026-02", "2026-02", "2026-01"])),
                ],
            )
            .expect("batch");
            let files = table.write_files(vec![rows]).await.expect("writes");
            table.commit_files(files, &[], serde_json::Map::new()).await.expect("commits");

            let mut files_per_month: BTreeMap<String, usize> = BTreeMap::new();
            for (_, partition) in table.live_files().expect("files") {
                *files_per_month.entry(partition["month"].clone().expect("a month")).or_default() += 1;
            }
            assert_eq!(
                files_per_month,
                BTreeMap::from([("2026-01".to_string(), 2), ("2026-02".to_string(), 1)])
            );
            let mut values: Vec<i64> = table
                .scan(&["value"])
                .expect("scans")
                .iter()
                .flat_map(|b| b.column(0).as_any().downcast_ref::<Int64Array>().expect("int64").values().to_vec())
                .collect();
            values.sort_unstable();
            assert_eq!(values, [1, 2, 3, 4, 5]);
        });
    }
}
