//! Kafka messages into source records: the Confluent wire format (magic byte 0, a 4-byte
//! big-endian schema id, then one Avro datum), decoded with the writer's schema and resolved
//! to the contract, so a producer on an older or newer contract version still reads. A
//! message that cannot be read becomes a record carrying its reject and its bytes.

use std::collections::BTreeMap;

use std::sync::OnceLock;

use apache_avro::Schema;
use apache_avro::from_value;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::ResolvedSchema;

use crate::contract::{self, JobListing};
use crate::ingest::readers::{Coordinates, Decoded, SourceRecord};
use crate::ingest::reject::{ErrorCode, Reject, unless_panicked};
use crate::registry::WriterSchema;

/// One message as fetched.
#[derive(Debug, Clone)]
pub struct Message {
    pub partition: i32,
    pub offset: i64,
    /// `None` for a tombstone.
    pub payload: Option<Vec<u8>>,
}

/// The stream name of a partition: `kafka://TOPIC/PARTITION`, the `source_file` of its records.
pub fn stream_name(topic: &str, partition: i32) -> String {
    format!("kafka://{topic}/{partition}")
}

/// A message's coordinates: record = offset + 1 (the count of the partition's records up to
/// and including it, so a stream's position is the next offset to read), line 0, and the
/// Kafka offset itself.
pub fn coordinates(topic: &str, partition: i32, offset: i64) -> Coordinates {
    Coordinates {
        file: stream_name(topic, partition),
        record: (offset + 1) as u64,
        line: 0,
        byte_offset: offset as u64,
    }
}

/// The schema id of a Confluent-framed payload and its Avro body.
pub fn frame(payload: Option<&[u8]>) -> Result<(u32, &[u8]), Reject> {
    let reject = |message: String| Reject::new(ErrorCode::NotConfluentFramed, None, message);
    let bytes = payload.ok_or_else(|| reject("an empty message (a tombstone)".into()))?;
    match bytes {
        [0, a, b, c, d, body @ ..] => Ok((u32::from_be_bytes([*a, *b, *c, *d]), body)),
        [magic, ..] if *magic != 0 => Err(reject(format!(
            "the first byte is 0x{magic:02x}, not the magic byte 0 of Confluent-framed Avro"
        ))),
        _ => Err(reject(format!(
            "{} byte(s); a Confluent frame needs at least 5 (magic byte and schema id)",
            bytes.len()
        ))),
    }
}

/// Datum readers for the writer schemas a batch names, built once per batch (building one
/// resolves the schema's names, which costs more than decoding a record).
pub struct Readers<'s> {
    readers: BTreeMap<u32, Result<SchemaReader<'s>, Reject>>,
}

/// How to read the bodies written with one schema.
struct SchemaReader<'s> {
    datum: GenericDatumReader<'s>,
    /// Whether decoded values must be resolved to the contract. Not when the writer's schema
    /// is the contract itself (what `rats produce` registers): resolution would rebuild every
    /// value unchanged, and it was 40 % of decoding's time by `perf`.
    resolve: bool,
}

impl<'s> Readers<'s> {
    pub fn new(schemas: &'s BTreeMap<u32, WriterSchema>) -> Self {
        let readers = schemas
            .iter()
            .map(|(&id, schema)| {
                let reader = schema.as_ref().map_err(Clone::clone).and_then(|schema| {
                    let datum = GenericDatumReader::builder(schema).build().map_err(|e| {
                        Reject::new(
                            ErrorCode::IncompatibleSchema,
                            None,
                            format!("writer schema id {id} cannot be used: {e}"),
                        )
                    })?;
                    Ok(SchemaReader {
                        datum,
                        resolve: !is_the_contract(schema),
                    })
                });
                (id, reader)
            })
            .collect();
        Readers { readers }
    }
}

/// Whether `schema` is the contract, every attribute included (names, defaults, logical
/// types): only then does a value decoded with it need no resolution.
fn is_the_contract(schema: &Schema) -> bool {
    static CONTRACT: OnceLock<Option<serde_json::Value>> = OnceLock::new();
    let contract = CONTRACT.get_or_init(|| serde_json::to_value(contract::schema()).ok());
    matches!((contract, serde_json::to_value(schema)), (Some(contract), Ok(writer)) if *contract == writer)
}

/// The contract's named types, resolved once for every record's resolution.
fn contract_names() -> &'static ResolvedSchema<'static> {
    static NAMES: OnceLock<ResolvedSchema<'static>> = OnceLock::new();
    NAMES.get_or_init(|| ResolvedSchema::new(contract::schema()).expect("the contract resolves (checked by a unit test)"))
}

/// Decodes one message with the readers of its batch. Never fails: what cannot be read is a
/// record with a reject and its bytes.
pub fn decode(topic: &str, message: Message, readers: &Readers<'_>) -> SourceRecord {
    let coordinates = coordinates(topic, message.partition, message.offset);
    let decoded = frame(message.payload.as_deref()).and_then(|(id, body)| {
        let reader = readers
            .readers
            .get(&id)
            .ok_or_else(|| Reject::new(ErrorCode::InternalError, None, format!("schema id {id} was not fetched")))?;
        let reader = reader.as_ref().map_err(Clone::clone)?;
        guarded(|| decode_body(id, body, &reader.datum, reader.resolve))
    });
    match decoded {
        Ok((raw, listing)) => SourceRecord {
            coordinates,
            raw,
            raw_bytes: None,
            listing: Decoded::Ready(Ok(Box::new(listing))),
        },
        Err(reject) => SourceRecord {
            coordinates,
            raw: String::new(),
            raw_bytes: Some(message.payload.unwrap_or_default()),
            listing: Decoded::Ready(Err(reject)),
        },
    }
}

/// Runs a decoding step: a panic inside the Avro library quarantines the message
/// (`malformed_avro`, naming the panic) instead of killing the consumer.
fn guarded(step: impl FnOnce() -> Result<(String, JobListing), Reject>) -> Result<(String, JobListing), Reject> {
    unless_panicked(
        ErrorCode::MalformedAvro,
        |text| format!("the Avro decoder failed on this body ({text})"),
        step,
    )
}

/// The body rendered as JSON (as the writer wrote it, added fields included) and the listing
/// resolved to the contract (`resolve`; a value written with the contract itself is one already).
fn decode_body(id: u32, body: &[u8], datum_reader: &GenericDatumReader<'_>, resolve: bool) -> Result<(String, JobListing), Reject> {
    let mut reader = EndWatch {
        rest: body,
        read_past_end: false,
    };
    let value = datum_reader.read_value(&mut reader).map_err(|e| {
        Reject::new(
            ErrorCode::MalformedAvro,
            None,
            format!("the body does not decode with writer schema id {id} (truncated or corrupt): {e}"),
        )
    })?;
    if reader.read_past_end {
        return Err(Reject::new(
            ErrorCode::MalformedAvro,
            None,
            format!(
                "the body ends inside the record (truncated): {} byte(s) are not a whole record of schema id {id}",
                body.len()
            ),
        ));
    }
    if !reader.rest.is_empty() {
        return Err(Reject::new(
            ErrorCode::MalformedAvro,
            None,
            format!(
                "{} byte(s) left after the record written with schema id {id}: the body is not one Avro datum",
                reader.rest.len()
            ),
        ));
    }
    let raw = super::json::render_json(&value, body.len());
    let incompatible = |e: String| {
        Reject::new(
            ErrorCode::IncompatibleSchema,
            None,
            format!("writer schema id {id} does not resolve to the contract: {e}"),
        )
    };
    let resolved = if resolve {
        value
            .resolve_with_names(contract::schema(), contract_names().get_names())
            .map_err(|e| incompatible(e.to_string()))?
    } else {
        value
    };
    let listing = from_value::<JobListing>(&resolved).map_err(|e| incompatible(e.to_string()))?;
    Ok((raw, listing))
}

/// A byte slice that remembers whether the decoder asked for more than it holds. apache-avro
/// decodes a nullable union it cannot read at the end of input as null, so a body cut at a
/// field boundary would otherwise pass as a record with its last fields missing.
struct EndWatch<'a> {
    rest: &'a [u8],
    read_past_end: bool,
}

impl std::io::Read for EndWatch<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !buf.is_empty() && self.rest.is_empty() {
            self.read_past_end = true;
        }
        self.rest.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_checked_before_any_decoding() {
        assert_eq!(frame(Some(&[0, 0, 0, 1, 2, 9, 9])).map(|(id, body)| (id, body.len())), Ok((258, 2)));
        let code = |payload: Option<&[u8]>| frame(payload).map_err(|r| (r.code, r.message)).expect_err("rejected");
        assert_eq!(code(None).0, ErrorCode::NotConfluentFramed);
        assert!(code(Some(b"{\"job\": 1}")).1.contains("0x7b"), "bad magic names the byte");
        assert!(code(Some(&[0, 0, 1])).1.contains("3 byte(s)"), "short frames name their length");
    }

    #[test]
    fn the_contract_resolves_its_named_types() {
        assert!(contract_names().get_names().keys().any(|n| n.name() == "Job"));
    }

    #[test]
    fn coordinates_make_the_next_offset_the_stream_position() {
        let c = coordinates("jobs", 2, 41);
        assert_eq!((c.file.as_str(), c.record, c.byte_offset), ("kafka://jobs/2", 42, 41));
    }
}

#[cfg(test)]
mod body_tests {
    use super::*;

    fn good_body() -> Vec<u8> {
        let listing = JobListing {
            job_id: Some("a1".into()),
            ..JobListing::default()
        };
        let value = apache_avro::to_value(listing)
            .expect("value")
            .resolve(contract::schema())
            .expect("resolves");
        apache_avro::writer::datum::GenericDatumWriter::builder(contract::schema())
            .build()
            .expect("writer")
            .write_value_to_vec(value)
            .expect("encodes")
    }

    #[test]
    fn a_panicking_decoder_quarantines_the_message() {
        let reject = guarded(|| panic!("index out of bounds")).expect_err("a reject, not a panic");
        assert_eq!(reject.code, ErrorCode::MalformedAvro);
        assert!(reject.message.contains("index out of bounds"), "{}", reject.message);
    }

    #[test]
    fn a_body_must_be_exactly_one_datum() {
        let body = good_body();
        let reader = GenericDatumReader::builder(contract::schema()).build().expect("reader");
        assert!(decode_body(1, &body, &reader, true).is_ok());
        let mut trailing = body.clone();
        trailing.extend([1, 2, 3]);
        let reject = decode_body(1, &trailing, &reader, true).expect_err("trailing bytes");
        assert_eq!(reject.code, ErrorCode::MalformedAvro);
        assert!(reject.message.contains("3 byte(s) left"), "{}", reject.message);
        let reject = decode_body(1, &body[..body.len() / 2], &reader, true).expect_err("truncated");
        assert_eq!(reject.code, ErrorCode::MalformedAvro);
    }

    #[test]
    fn a_body_written_with_the_contract_reads_the_same_without_resolution() {
        let listing = JobListing {
            job_id: Some("a1".into()),
            job: Some(crate::contract::Job {
                title: Some("Data Engineer".into()),
                description: Some("Rust \"and\" SQL".into()),
                ..crate::contract::Job::default()
            }),
            ..JobListing::default()
        };
        let value = apache_avro::to_value(listing.clone())
            .expect("value")
            .resolve(contract::schema())
            .expect("resolves");
        let body = apache_avro::writer::datum::GenericDatumWriter::builder(contract::schema())
            .build()
            .expect("writer")
            .write_value_to_vec(value)
            .expect("encodes");
        let reader = GenericDatumReader::builder(contract::schema()).build().expect("reader");
        let direct = decode_body(1, &body, &reader, false).expect("decodes");
        assert_eq!(direct, decode_body(1, &body, &reader, true).expect("decodes"));
        assert_eq!(direct.1, listing);
    }

    #[test]
    fn only_the_contract_itself_skips_resolution() {
        assert!(is_the_contract(contract::schema()));
        let with_field = contract::SCHEMA_JSON.replacen(
            "\"fields\": [",
            "\"fields\": [{\"name\": \"extra\", \"type\": [\"null\", \"string\"], \"default\": null},",
            1,
        );
        assert!(!is_the_contract(&Schema::parse_str(&with_field).expect("valid")));
        let with_doc = contract::SCHEMA_JSON.replacen("\"doc\": \"One job posting", "\"doc\": \"A job posting", 1);
        assert!(
            !is_the_contract(&Schema::parse_str(&with_doc).expect("valid")),
            "any difference resolves"
        );
    }
}
