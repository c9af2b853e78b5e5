//! Input readers: each turns one file into [`SourceRecord`]s with their coordinates. A record
//! that cannot be read carries its [`Reject`] instead of a listing, so it lands in quarantine
//! and the file goes on; only errors that stop the whole file (cannot open, unknown layout)
//! are [`ReadError`]s.

mod avro;
mod csv_rows;
mod jsonl;

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::mapping::Mapping;
use super::reject::{ErrorCode, Reject};
use crate::contract::JobListing;

/// The `--input-format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// Decide from the extension and, for CSV, the header.
    Auto,
    /// One contract record as a JSON object per line.
    Jsonl,
    /// An Avro object container file.
    Avro,
    /// `JobSpy`'s CSV output.
    JobspyCsv,
    /// Any CSV, through `--mapping FILE` (or the built-in mapping its header matches).
    Csv,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{path} is a folder; give the files in it (for example {path}/*.csv)")]
    Folder { path: PathBuf },
    #[error("{path}: read failed at byte {offset}: {source}")]
    Io {
        path: PathBuf,
        offset: u64,
        source: std::io::Error,
    },
    #[error("{path}: no known CSV layout has this header ({header}); known layouts: {known}. Write a mapping and pass --mapping FILE")]
    UnknownLayout { path: PathBuf, header: String, known: String },
    #[error("{path}: {message}")]
    Layout { path: PathBuf, message: String },
    #[error("{path}: not an Avro object container file: {message}")]
    AvroHeader { path: PathBuf, message: String },
}

/// Where a record sits in its input: 1-based record number, 1-based line where the record
/// starts (0 for binary formats) and the byte offset of its start (of its block for Avro).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coordinates {
    pub file: String,
    pub record: u64,
    pub line: u64,
    pub byte_offset: u64,
}

/// One record as read.
#[derive(Debug, Clone)]
pub struct SourceRecord {
    pub coordinates: Coordinates,
    /// The record as received: the JSON line, the CSV row as a JSON object in column order,
    /// or the Avro record rendered as JSON.
    pub raw: String,
    /// The bytes as received, kept only when they could not be rendered as `raw` (a Kafka
    /// message that does not decode), so quarantine loses nothing.
    pub raw_bytes: Option<Vec<u8>>,
    pub listing: Decoded,
}

/// A record's contract form, or what it still takes to get it.
#[derive(Debug, Clone)]
pub enum Decoded {
    /// Decoded (or rejected) by the reader.
    Ready(Result<Box<JobListing>, Reject>),
    /// A JSON line, parsed on demand so the parsing runs on the worker threads.
    JsonLine,
    /// Taken for normalising ([`SourceRecord::take_listing`]): what is left of the record
    /// (its raw form and coordinates) is all that committing it needs.
    Taken,
}

impl SourceRecord {
    /// The contract record, or why there is none.
    pub fn listing(&self) -> Result<Cow<'_, JobListing>, Reject> {
        match &self.listing {
            Decoded::Ready(Ok(listing)) => Ok(Cow::Borrowed(listing.as_ref())),
            Decoded::Ready(Err(reject)) => Err(reject.clone()),
            Decoded::JsonLine => jsonl::decode(&self.raw).map(Cow::Owned),
            Decoded::Taken => Err(taken()),
        }
    }

    /// The contract record, or why there is none, taken out of the record: a decoded listing
    /// (the description a second time, beside `raw`) is let go once normalised instead of
    /// waiting in memory with its batch until the batch is committed.
    pub fn take_listing(&mut self) -> Result<Box<JobListing>, Reject> {
        match std::mem::replace(&mut self.listing, Decoded::Taken) {
            Decoded::Ready(listing) => listing,
            Decoded::JsonLine => jsonl::decode(&self.raw).map(Box::new),
            Decoded::Taken => Err(taken()),
        }
    }
}

/// Why a record whose listing was taken has none: asking twice is a bug of the caller.
fn taken() -> Reject {
    Reject::new(
        ErrorCode::InternalError,
        None,
        "the record's listing was taken for normalising already; please report it",
    )
}

/// An open input: its records and what was decided about it.
pub struct Input {
    pub path: PathBuf,
    /// The format actually used (never `Auto`).
    pub format: InputFormat,
    /// The CSV mapping used, if any.
    pub mapping: Option<String>,
    pub records: Box<dyn Iterator<Item = Result<SourceRecord, ReadError>> + Send>,
}

/// Opens an input file. A folder is refused by name: opening one succeeds on Linux, and reading
/// it fails only at its first byte with "Is a directory".
pub fn open_file(path: &Path) -> Result<File, ReadError> {
    if path.is_dir() {
        return Err(ReadError::Folder { path: path.to_path_buf() });
    }
    File::open(path).map_err(|source| ReadError::Open {
        path: path.to_path_buf(),
        source,
    })
}

/// Opens `path` in `format`, detecting it when `Auto`. `mappings` are tried in order for CSV.
pub fn open(path: &Path, format: InputFormat, mappings: &[Mapping]) -> Result<Input, ReadError> {
    let format = match format {
        InputFormat::Auto => detect_format(path)?,
        other => other,
    };
    let file = open_file(path)?;
    match format {
        InputFormat::Jsonl => Ok(Input {
            path: path.to_path_buf(),
            format,
            mapping: None,
            records: Box::new(jsonl::records(path, file)),
        }),
        InputFormat::Avro => Ok(Input {
            path: path.to_path_buf(),
            format,
            mapping: None,
            records: avro::records(path, file)?,
        }),
        InputFormat::JobspyCsv | InputFormat::Csv | InputFormat::Auto => {
            let jobspy_only: Vec<Mapping>;
            let candidates = if format == InputFormat::JobspyCsv {
                jobspy_only = Mapping::builtin().into_iter().filter(|m| m.name == "jobspy").collect();
                &jobspy_only[..]
            } else {
                mappings
            };
            let (mapping, records) = csv_rows::records(path, file, candidates)?;
            Ok(Input {
                path: path.to_path_buf(),
                format: InputFormat::Csv,
                mapping: Some(mapping),
                records,
            })
        }
    }
}

/// The format of a file from its extension, or from its first bytes.
pub fn detect_format(path: &Path) -> Result<InputFormat, ReadError> {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("jsonl" | "ndjson" | "json") => return Ok(InputFormat::Jsonl),
        Some("avro") => return Ok(InputFormat::Avro),
        Some("csv" | "tsv") => return Ok(InputFormat::Csv),
        _ => {}
    }
    let mut head = [0u8; 4];
    let mut file = open_file(path)?;
    let n = file.read(&mut head).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        offset: 0,
        source,
    })?;
    Ok(match &head[..n] {
        [b'O', b'b', b'j', 1] => InputFormat::Avro,
        [b'{', ..] => InputFormat::Jsonl,
        _ => InputFormat::Csv,
    })
}

/// Opens every input up front, so a missing file or an unknown layout fails before anything
/// is written. `mapping` is tried before the built-in mappings.
pub fn open_all(paths: &[PathBuf], format: InputFormat, mapping: Option<&Path>) -> Result<Vec<Input>, OpenError> {
    let mut mappings = Vec::new();
    if let Some(path) = mapping {
        mappings.push(Mapping::from_file(path)?);
    }
    mappings.extend(Mapping::builtin());
    Ok(paths.iter().map(|p| open(p, format, &mappings)).collect::<Result<Vec<_>, _>>()?)
}

/// Why the inputs could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Mapping(#[from] super::mapping::MappingError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(listing: Decoded, raw: &str) -> SourceRecord {
        SourceRecord {
            coordinates: Coordinates {
                file: "in.jsonl".into(),
                record: 1,
                line: 1,
                byte_offset: 0,
            },
            raw: raw.into(),
            raw_bytes: None,
            listing,
        }
    }

    /// A decoded listing leaves the record when taken (the raw form stays, for bronze); a
    /// second take is a bug, quarantined as an internal error rather than a panic.
    #[test]
    fn a_taken_listing_leaves_the_record() {
        let listing = JobListing {
            job_id: Some("7".into()),
            ..Default::default()
        };
        let mut decoded = record(Decoded::Ready(Ok(Box::new(listing.clone()))), "{}");
        assert_eq!(*decoded.take_listing().expect("decoded"), listing);
        assert!(matches!(decoded.listing, Decoded::Taken));
        assert_eq!(decoded.raw, "{}");
        for again in [decoded.take_listing(), decoded.listing().map(|l| Box::new(l.into_owned()))] {
            assert_eq!(again.expect_err("taken").code, ErrorCode::InternalError);
        }

        let mut line = record(Decoded::JsonLine, r#"{"job_id": "8", "site": "indeed"}"#);
        assert_eq!(line.take_listing().expect("parses").job_id.as_deref(), Some("8"));
        assert!(matches!(line.listing, Decoded::Taken));
    }
}
