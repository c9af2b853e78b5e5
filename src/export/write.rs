//! Writing exported rows: CSV (a header, list columns joined with `;`), a JSON array, JSON
//! lines, Parquet (zstd) or an Excel workbook ([`xlsx`]). The rows come as frames one after the
//! other (small batches from the streaming engine) and are converted to Arrow a batch at a
//! time, so only the workbook holds them all.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use deltalake::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringBuilder};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::arrow::error::ArrowError;
use deltalake::arrow::json::writer::{JsonArray, JsonFormat, LineDelimited, Writer as JsonWriter};
use deltalake::arrow::util::display::{ArrayFormatter, FormatOptions};
use deltalake::parquet::arrow::ArrowWriter;
use deltalake::parquet::basic::{Compression, ZstdLevel};
use deltalake::parquet::file::properties::WriterProperties;
use polars::prelude::DataFrame;

use super::ExportError;
use super::xlsx::{self, About};
use crate::transform::delta::to_arrow;

/// Rows in a Parquet row group: the writer holds a row group's encoded pages until it ends, so
/// its default of a million rows held most of a big export in memory.
const PARQUET_ROW_GROUP_ROWS: usize = 16_384;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
    Jsonl,
    Parquet,
    Xlsx,
}

impl ExportFormat {
    /// The format a file name's extension names (`.csv`, `.json`, `.jsonl`/`.ndjson`, `.parquet`,
    /// `.xlsx`).
    pub fn of_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(ExportFormat::Csv),
            "json" => Some(ExportFormat::Json),
            "jsonl" | "ndjson" => Some(ExportFormat::Jsonl),
            "parquet" => Some(ExportFormat::Parquet),
            "xlsx" => Some(ExportFormat::Xlsx),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Parquet => "parquet",
            ExportFormat::Xlsx => "xlsx",
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub rows: usize,
}

/// Writes `frames` (the rows in order, in parts) to `out` in `format`. A closed pipe comes back
/// as [`ExportError::Io`] of kind `BrokenPipe` whichever writer met it (Arrow's CSV writer turns
/// I/O errors into text).
pub fn write_frames<W: Write + Send>(
    frames: impl Iterator<Item = Result<DataFrame, ExportError>>,
    format: ExportFormat,
    out: W,
    target: &Path,
    about: &About,
) -> Result<Written, ExportError> {
    let broken = Arc::new(AtomicBool::new(false));
    let watched = PipeWatch {
        inner: out,
        broken: Arc::clone(&broken),
    };
    write_watched(frames, format, watched, target, about).map_err(|error| {
        if broken.load(Ordering::Relaxed) {
            ExportError::Io {
                path: target.to_path_buf(),
                source: std::io::ErrorKind::BrokenPipe.into(),
            }
        } else {
            error
        }
    })
}

/// A writer that remembers whether its reader went away.
struct PipeWatch<W> {
    inner: W,
    broken: Arc<AtomicBool>,
}

impl<W: Write> PipeWatch<W> {
    fn watch<T>(&self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(error) = &result
            && error.kind() == std::io::ErrorKind::BrokenPipe
        {
            self.broken.store(true, Ordering::Relaxed);
        }
        result
    }
}

impl<W: Write> Write for PipeWatch<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let result = self.inner.write(buf);
        self.watch(result)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let result = self.inner.flush();
        self.watch(result)
    }
}

fn write_watched<W: Write + Send>(
    frames: impl Iterator<Item = Result<DataFrame, ExportError>>,
    format: ExportFormat,
    out: W,
    target: &Path,
    about: &About,
) -> Result<Written, ExportError> {
    let io = |source: std::io::Error| ExportError::Io {
        path: target.to_path_buf(),
        source,
    };
    let arrow = |e: ArrowError| match e {
        ArrowError::IoError(_, source) => io(source),
        other => ExportError::Convert(other.to_string()),
    };
    let mut rows = 0;
    // Frames come from the streaming engine a batch at a time; each becomes one record batch.
    let mut converted = frames.map(|frame| to_arrow(target, &frame?).map_err(ExportError::from));
    match format {
        ExportFormat::Csv => {
            let mut writer = deltalake::arrow::csv::WriterBuilder::new().with_header(true).build(out);
            for batches in converted.by_ref() {
                for batch in batches? {
                    rows += batch.num_rows();
                    writer.write(&lists_joined(&batch)?).map_err(arrow)?;
                }
            }
        }
        ExportFormat::Json => rows = write_json(JsonWriter::<_, JsonArray>::new(out), converted.by_ref(), &arrow, &io)?,
        ExportFormat::Jsonl => rows = write_json(JsonWriter::<_, LineDelimited>::new(out), converted.by_ref(), &arrow, &io)?,
        ExportFormat::Xlsx => {
            let mut batches = Vec::new();
            for slice in converted.by_ref() {
                batches.extend(slice?);
            }
            let (bytes, written) = xlsx::workbook(&batches, about)?;
            rows = written;
            let mut out = out;
            out.write_all(&bytes).map_err(io)?;
            out.flush().map_err(io)?;
        }
        ExportFormat::Parquet => {
            let mut writer: Option<ArrowWriter<W>> = None;
            let mut out = Some(out);
            let properties = WriterProperties::builder()
                .set_max_row_group_row_count(Some(PARQUET_ROW_GROUP_ROWS))
                .set_compression(Compression::ZSTD(
                    ZstdLevel::try_new(3).map_err(|e| ExportError::Convert(e.to_string()))?,
                ))
                .build();
            for batches in converted.by_ref() {
                for batch in batches? {
                    rows += batch.num_rows();
                    if writer.is_none()
                        && let Some(out) = out.take()
                    {
                        writer = Some(
                            ArrowWriter::try_new(out, batch.schema(), Some(properties.clone()))
                                .map_err(|e| ExportError::Convert(e.to_string()))?,
                        );
                    }
                    if let Some(writer) = writer.as_mut() {
                        writer.write(&batch).map_err(|e| parquet_error(e, target))?;
                    }
                }
            }
            if let Some(writer) = writer {
                writer.close().map_err(|e| parquet_error(e, target))?;
            }
        }
    }
    Ok(Written { rows })
}

/// Every batch through one of Arrow's JSON writers (an array, or an object per line); the rows.
fn write_json<W: Write, F: JsonFormat>(
    mut writer: JsonWriter<W, F>,
    slices: impl Iterator<Item = Result<Vec<RecordBatch>, ExportError>>,
    arrow: &impl Fn(ArrowError) -> ExportError,
    io: &impl Fn(std::io::Error) -> ExportError,
) -> Result<usize, ExportError> {
    let mut rows = 0;
    for batches in slices {
        for batch in batches? {
            rows += batch.num_rows();
            writer.write(&batch).map_err(arrow)?;
        }
    }
    writer.finish().map_err(arrow)?;
    writer.into_inner().flush().map_err(io)?;
    Ok(rows)
}

fn parquet_error(error: deltalake::parquet::errors::ParquetError, target: &Path) -> ExportError {
    match error {
        deltalake::parquet::errors::ParquetError::External(inner) => match inner.downcast::<std::io::Error>() {
            Ok(source) => ExportError::Io {
                path: target.to_path_buf(),
                source: *source,
            },
            Err(other) => ExportError::Convert(other.to_string()),
        },
        other => ExportError::Convert(other.to_string()),
    }
}

/// The batch with every list column as text, its items joined with `;` (CSV has no lists).
pub(super) fn lists_joined(batch: &RecordBatch) -> Result<RecordBatch, ExportError> {
    let convert = |e: ArrowError| ExportError::Convert(e.to_string());
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let DataType::List(_) = field.data_type() else {
            fields.push(field.as_ref().clone());
            columns.push(Arc::clone(column));
            continue;
        };
        let lists = column.as_list::<i32>();
        let mut text = StringBuilder::new();
        for row in 0..lists.len() {
            if lists.is_null(row) {
                text.append_null();
                continue;
            }
            let items = lists.value(row);
            let formatter = ArrayFormatter::try_new(items.as_ref(), &FormatOptions::default()).map_err(convert)?;
            let joined: Vec<String> = (0..items.len()).map(|i| formatter.value(i).to_string()).collect();
            text.append_value(joined.join(";"));
        }
        fields.push(Field::new(field.name(), DataType::Utf8, true));
        columns.push(Arc::new(text.finish()));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(convert)
}
