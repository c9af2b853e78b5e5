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
use apache_avro::types::Value;

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
    let raw = render_json(&value, body.len());
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

/// A decoded value as JSON text, the way apache-avro converts it to `serde_json::Value` (a
/// union as its branch, an enum as its symbol, bytes as numbers, object keys sorted) but
/// written straight from the value instead of through a copy of it and a JSON tree.
/// `body_len`, the Avro body's size, sizes the text: the field names and quotes JSON adds make
/// it a little longer, and grown from nothing by doubling it was copied again at each step.
fn render_json(value: &Value, body_len: usize) -> String {
    let mut text = Vec::with_capacity(body_len + body_len / 4 + 512);
    serde_json::to_writer(&mut text, &AsJson(value))
        .ok()
        .and_then(|()| String::from_utf8(text).ok())
        .unwrap_or_else(|| {
            // A value apache-avro cannot convert (a float that is not finite): its own error, as before.
            serde_json::Value::try_from(value.clone())
                .map_or_else(|e| format!("{{\"unrenderable\": {:?}}}", e.to_string()), |v| v.to_string())
        })
}

/// Serialises an Avro value as apache-avro's `TryFrom<Value> for serde_json::Value` would,
/// failing where it fails; the rarer kinds (decimals, durations, timestamps, uuids) go through
/// that conversion itself.
struct AsJson<'v>(&'v Value);

impl serde::Serialize for AsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        let finite = |number: f64| {
            if number.is_finite() {
                Ok(number)
            } else {
                Err(S::Error::custom("not a finite number"))
            }
        };
        match self.0 {
            Value::Null => serializer.serialize_unit(),
            Value::Boolean(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i32(*i),
            Value::Long(l) => serializer.serialize_i64(*l),
            Value::Float(f) => serializer.serialize_f64(finite(f64::from(*f))?),
            Value::Double(d) => serializer.serialize_f64(finite(*d)?),
            Value::String(text) | Value::Enum(_, text) => serializer.serialize_str(text),
            Value::Bytes(bytes) | Value::Fixed(_, bytes) => serializer.collect_seq(bytes),
            Value::Union(_, branch) => AsJson(branch).serialize(serializer),
            Value::Array(items) => serializer.collect_seq(items.iter().map(AsJson)),
            Value::Record(fields) => serializer.collect_map(sorted(fields.iter().map(|(key, value)| (key, value)))),
            Value::Map(entries) => serializer.collect_map(sorted(entries.iter())),
            other => serde_json::Value::try_from(other.clone())
                .map_err(S::Error::custom)?
                .serialize(serializer),
        }
    }
}

/// Object entries in key order, as `serde_json::Map` keeps them.
fn sorted<'v>(entries: impl Iterator<Item = (&'v String, &'v Value)>) -> impl Iterator<Item = (&'v str, AsJson<'v>)> {
    let mut entries: Vec<(&str, &Value)> = entries.map(|(key, value)| (key.as_str(), value)).collect();
    entries.sort_unstable_by_key(|(key, _)| *key);
    entries.into_iter().map(|(key, value)| (key, AsJson(value)))
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

    /// Every kind of value, fields out of key order: rendered as apache-avro's own conversion
    /// to a JSON tree renders it.
    #[test]
    fn values_render_as_apache_avros_json_conversion_does() {
        use std::collections::HashMap;
        let value = Value::Record(vec![
            (
                "zeta".into(),
                Value::Union(1, Box::new(Value::String("t\u{e9}xt \"quoted\"\n".into()))),
            ),
            ("alpha".into(), Value::Union(0, Box::new(Value::Null))),
            ("flag".into(), Value::Boolean(true)),
            ("small".into(), Value::Int(-7)),
            ("big".into(), Value::Long(9_007_199_254_740_993)),
            ("single".into(), Value::Float(0.1)),
            ("double".into(), Value::Double(1e21)),
            ("kind".into(), Value::Enum(2, "remote".into())),
            ("bytes".into(), Value::Bytes(vec![0, 255])),
            ("fixed".into(), Value::Fixed(2, vec![1, 2])),
            (
                "list".into(),
                Value::Array(vec![
                    Value::Int(1),
                    Value::Record(vec![("b".into(), Value::Null), ("a".into(), Value::Long(2))]),
                ]),
            ),
            (
                "map".into(),
                Value::Map(HashMap::from([
                    ("y".into(), Value::Int(1)),
                    ("x".into(), Value::Int(2)),
                    ("Z".into(), Value::Int(3)),
                ])),
            ),
            ("day".into(), Value::Date(19_000)),
            ("at".into(), Value::TimestampMillis(1_700_000_000_000)),
            ("id".into(), Value::Uuid(apache_avro::Uuid::from_u128(42))),
        ]);
        let expected = serde_json::Value::try_from(value.clone()).expect("converts").to_string();
        assert_eq!(render_json(&value, 16), expected);
        let not_finite = Value::Record(vec![("x".into(), Value::Double(f64::NAN))]);
        let expected = format!(
            "{{\"unrenderable\": {:?}}}",
            serde_json::Value::try_from(not_finite.clone())
                .expect_err("NaN has no JSON")
                .to_string()
        );
        assert_eq!(render_json(&not_finite, 16), expected);
    }
}
