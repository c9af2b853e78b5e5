//! Avro object container files, read with their own writer schema and resolved to the
//! contract, so files written by an older or newer contract version still read.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use apache_avro::{Reader, from_value};

use super::{Coordinates, Decoded, ReadError, SourceRecord};
use crate::contract::{self, JobListing};
use crate::ingest::reject::{ErrorCode, Reject};

type Records = Box<dyn Iterator<Item = Result<SourceRecord, ReadError>> + Send>;

pub fn records(path: &Path, file: File) -> Result<Records, ReadError> {
    let reader = Reader::builder(BufReader::new(file))
        .reader_schema(contract::schema())
        .build()
        .map_err(|e| ReadError::AvroHeader {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let display = path.display().to_string();
    let mut record = 0u64;
    let mut failed = false;
    let iter = reader.map_while(move |value| {
        if failed {
            return None;
        }
        record += 1;
        let coordinates = Coordinates {
            file: display.clone(),
            record,
            line: 0,
            byte_offset: 0,
        };
        Some(Ok(match value {
            Ok(value) => {
                let raw = serde_json::Value::try_from(value.clone())
                    .map_or_else(|e| format!("{{\"unrenderable\": {:?}}}", e.to_string()), |v| v.to_string());
                let listing = from_value::<JobListing>(&value).map_err(|e| Reject::new(ErrorCode::MalformedAvro, None, e.to_string()));
                SourceRecord {
                    coordinates,
                    raw,
                    raw_bytes: None,
                    listing: Decoded::Ready(listing.map(Box::new)),
                }
            }
            Err(e) => {
                // A corrupt block cannot be skipped reliably: quarantine the failure and stop.
                failed = true;
                SourceRecord {
                    coordinates,
                    raw: String::new(),
                    raw_bytes: None,
                    listing: Decoded::Ready(Err(Reject::new(
                        ErrorCode::MalformedAvro,
                        None,
                        format!("{e}; the rest of the file is unreadable"),
                    ))),
                }
            }
        }))
    });
    Ok(Box::new(iter))
}
