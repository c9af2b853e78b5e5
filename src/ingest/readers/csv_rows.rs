//! CSV files through a column mapping chosen by header.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use super::{Coordinates, Decoded, ReadError, SourceRecord};
use crate::ingest::mapping::Mapping;
use crate::ingest::reject::{ErrorCode, Reject};

type Records = Box<dyn Iterator<Item = Result<SourceRecord, ReadError>> + Send>;

pub fn records(path: &Path, file: File, mappings: &[Mapping]) -> Result<(String, Records), ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(BufReader::with_capacity(1 << 20, file));
    let header: Vec<String> = reader
        .byte_headers()
        .map_err(|e| ReadError::Layout {
            path: path.to_path_buf(),
            message: format!("cannot read the CSV header: {e}"),
        })?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let mapping = Mapping::detect(mappings, &header).ok_or_else(|| ReadError::UnknownLayout {
        path: path.to_path_buf(),
        header: header.join(","),
        known: mappings.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", "),
    })?;
    let bound = mapping.bind(&header).map_err(|message| ReadError::Layout {
        path: path.to_path_buf(),
        message,
    })?;
    let name = mapping.name.clone();
    let display = path.display().to_string();
    let mut record = csv::ByteRecord::new();
    let mut number = 0u64;
    let path = path.to_path_buf();
    let iter = std::iter::from_fn(move || {
        let position = reader.position().clone();
        let read = reader.read_byte_record(&mut record);
        if matches!(read, Ok(false)) {
            return None;
        }
        number += 1;
        let coordinates = Coordinates {
            file: display.clone(),
            record: number,
            line: position.line(),
            byte_offset: position.byte(),
        };
        if let Err(e) = read {
            return match e.kind() {
                csv::ErrorKind::Io(_) => Some(Err(ReadError::Io {
                    path: path.clone(),
                    offset: position.byte(),
                    source: std::io::Error::other(e.to_string()),
                })),
                _ => Some(Ok(SourceRecord {
                    coordinates,
                    raw: String::new(),
                    raw_bytes: None,
                    listing: Decoded::Ready(Err(Reject::new(ErrorCode::MalformedCsv, None, e.to_string()))),
                })),
            };
        }
        let cells: Vec<String> = record.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        let raw = raw_json(&header, &cells);
        let listing = if cells.len() != header.len() {
            Err(Reject::new(
                ErrorCode::MalformedCsv,
                None,
                format!("the row has {} fields, the header {}", cells.len(), header.len()),
            ))
        } else if let Some(i) = record.iter().position(|c| std::str::from_utf8(c).is_err()) {
            Err(Reject::new(
                ErrorCode::MalformedCsv,
                Some(&header[i]),
                "the value is not valid UTF-8",
            ))
        } else {
            let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
            bound.listing(&header, &refs)
        };
        Some(Ok(SourceRecord {
            coordinates,
            raw,
            raw_bytes: None,
            listing: Decoded::Ready(listing.map(Box::new)),
        }))
    });
    Ok((name, Box::new(iter)))
}

/// The row as a JSON object in column order (`serde_json`'s map would sort the keys).
fn raw_json(header: &[String], cells: &[String]) -> String {
    let mut out = String::from("{");
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let key = header.get(i).map_or_else(|| format!("_extra_{i}"), Clone::clone);
        out.push_str(&serde_json::Value::String(key).to_string());
        out.push(':');
        out.push_str(&serde_json::Value::String(cell.clone()).to_string());
    }
    out.push('}');
    out
}
