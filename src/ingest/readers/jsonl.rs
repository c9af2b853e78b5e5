//! Contract records as JSON lines (nested objects in the contract's shape).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::{Coordinates, Decoded, ReadError, SourceRecord};
use crate::contract::JobListing;
use crate::ingest::reject::{ErrorCode, Reject};

pub fn records(path: &Path, file: File) -> impl Iterator<Item = Result<SourceRecord, ReadError>> + Send + use<> {
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let display = path.display().to_string();
    let path = path.to_path_buf();
    let (mut line_no, mut offset, mut record) = (0u64, 0u64, 0u64);
    let mut buffer = Vec::new();
    std::iter::from_fn(move || {
        loop {
            buffer.clear();
            let start = offset;
            let read = match reader.read_until(b'\n', &mut buffer) {
                Ok(0) => return None,
                Ok(n) => n as u64,
                Err(source) => {
                    return Some(Err(ReadError::Io {
                        path: path.clone(),
                        offset: start,
                        source,
                    }));
                }
            };
            offset += read;
            line_no += 1;
            // Validated once, by `from_utf8`, which checks ASCII a word at a time; the lossy
            // conversion's validator goes byte by byte (1.7 % of a consume's samples when it ran
            // on every line), so it only runs on invalid ones.
            let (text, valid_utf8) = match std::str::from_utf8(&buffer) {
                Ok(valid) => (std::borrow::Cow::Borrowed(valid), true),
                Err(_) => (String::from_utf8_lossy(&buffer), false),
            };
            let trimmed = text.trim();
            if trimmed.is_empty() {
                continue;
            }
            record += 1;
            let coordinates = Coordinates {
                file: display.clone(),
                record,
                line: line_no,
                byte_offset: start,
            };
            // Parsing is left to the worker threads (see `SourceRecord::listing`).
            let listing = if valid_utf8 {
                Decoded::JsonLine
            } else {
                Decoded::Ready(Err(Reject::new(ErrorCode::MalformedJson, None, "the line is not valid UTF-8")))
            };
            return Some(Ok(SourceRecord {
                coordinates,
                raw: trimmed.to_string(),
                raw_bytes: None,
                listing,
            }));
        }
    })
}

/// Parses one contract JSON line; the error names the offending field's path.
pub fn decode(line: &str) -> Result<JobListing, Reject> {
    let mut deserializer = serde_json::Deserializer::from_str(line);
    serde_path_to_error::deserialize::<_, JobListing>(&mut deserializer).map_err(|e| {
        let field = e.path().to_string();
        let field = (field != ".").then_some(field);
        Reject::new(ErrorCode::MalformedJson, field.as_deref(), e.into_inner().to_string())
    })
}
