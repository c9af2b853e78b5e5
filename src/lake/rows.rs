//! Table schemas and the Arrow batches written to them.

use std::sync::Arc;

use deltalake::arrow::array::{
    ArrayRef, BinaryArray, BinaryBuilder, Date32Array, Date32Builder, Float64Array, Float64Builder, Int32Array, Int64Array, Int64Builder,
    ListBuilder, StringArray, StringBuilder,
};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::arrow::record_batch::RecordBatch;

use crate::dedup::minhash::Signature;
use crate::dedup::{Duplicate, Repeat};
use crate::ingest::readers::Coordinates;
use crate::ingest::reject::Reject;
use crate::normalize::Posting;
use crate::normalize::salary::Salary;

fn coordinate_fields() -> Vec<Field> {
    vec![
        Field::new("source_file", DataType::Utf8, false),
        Field::new("source_record", DataType::Int64, false),
        Field::new("source_line", DataType::Int64, false),
        Field::new("source_offset", DataType::Int64, false),
    ]
}

fn with_coordinates(fields: Vec<Field>) -> Schema {
    let mut all = coordinate_fields();
    all.extend(fields);
    Schema::new(all)
}

pub fn bronze_schema() -> Schema {
    with_coordinates(vec![
        Field::new("input_format", DataType::Utf8, false),
        Field::new("mapping", DataType::Utf8, true),
        Field::new("raw", DataType::Utf8, false),
        Field::new("raw_bytes", DataType::Binary, true),
    ])
}

pub fn quarantine_schema() -> Schema {
    with_coordinates(vec![
        Field::new("raw", DataType::Utf8, false),
        Field::new("raw_bytes", DataType::Binary, true),
        Field::new("error_code", DataType::Utf8, false),
        Field::new("field", DataType::Utf8, true),
        Field::new("message", DataType::Utf8, false),
    ])
}

pub fn duplicates_schema() -> Schema {
    with_coordinates(vec![
        Field::new("posting_key", DataType::Utf8, false),
        Field::new("duplicate_of", DataType::Utf8, false),
        Field::new("match_kind", DataType::Utf8, false),
        Field::new("similarity", DataType::Float64, false),
        Field::new("date_posted", DataType::Date32, true),
        Field::new("scraped_at", DataType::Utf8, true),
    ])
}

/// Silver's columns; `posting_month` is the partition column.
pub fn silver_schema() -> Schema {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    let number = |name: &str| Field::new(name, DataType::Float64, true);
    Schema::new(vec![
        Field::new("posting_key", DataType::Utf8, false),
        Field::new("source_site", DataType::Utf8, false),
        text("source_job_id"),
        text("job_url"),
        Field::new("title", DataType::Utf8, false),
        text("company"),
        text("company_key"),
        text("location_city"),
        text("location_state"),
        text("location_country"),
        text("remote_type"),
        text("seniority"),
        Field::new("min_years_experience", DataType::Int32, true),
        text("job_type"),
        text("education_level"),
        text("company_size_band"),
        text("company_industry"),
        text("salary_interval"),
        text("salary_currency"),
        number("salary_min_annual"),
        number("salary_max_annual"),
        number("salary_min_usd"),
        number("salary_max_usd"),
        text("salary_source"),
        text("description"),
        Field::new("date_posted", DataType::Date32, true),
        text("scraped_at"),
        Field::new(
            "skill_ids",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        ),
        text("skills"),
        Field::new("content_hash", DataType::Utf8, false),
        Field::new("minhash", DataType::Binary, true),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("source_record", DataType::Int64, false),
        Field::new("posting_month", DataType::Utf8, false),
    ])
}

/// Column builders for the coordinate columns every table starts with.
#[derive(Default)]
struct CoordinateColumns {
    file: StringBuilder,
    record: Int64Builder,
    line: Int64Builder,
    offset: Int64Builder,
}

impl CoordinateColumns {
    fn push(&mut self, c: &Coordinates) {
        self.file.append_value(&c.file);
        self.record.append_value(c.record as i64);
        self.line.append_value(c.line as i64);
        self.offset.append_value(c.byte_offset as i64);
    }

    fn finish(mut self, rest: Vec<ArrayRef>) -> Vec<ArrayRef> {
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.file.finish()),
            Arc::new(self.record.finish()),
            Arc::new(self.line.finish()),
            Arc::new(self.offset.finish()),
        ];
        columns.extend(rest);
        columns
    }
}

fn batch(schema: Schema, columns: Vec<ArrayRef>) -> RecordBatch {
    RecordBatch::try_new(Arc::new(schema), columns).expect("builders match their schema (checked by unit tests)")
}

/// A record as received: its text and, when that text could not be made from it (a Kafka
/// message that does not decode), its bytes.
pub type Raw<'a> = (&'a str, Option<&'a [u8]>);

/// Bronze rows: (coordinates, raw) with the input's format and mapping.
pub fn bronze_batch<'a>(
    rows: impl IntoIterator<Item = (&'a Coordinates, Raw<'a>)>,
    input_format: &str,
    mapping: Option<&str>,
) -> RecordBatch {
    let rows: Vec<_> = rows.into_iter().collect();
    let mut coords = CoordinateColumns::default();
    let (mut format, mut map, mut raw, mut bytes) = (
        StringBuilder::new(),
        StringBuilder::new(),
        // Sized for every record at once: grown by doubling, the raw text was copied again
        // and its fresh pages faulted in at each step.
        StringBuilder::with_capacity(rows.len(), rows.iter().map(|(_, (text, _))| text.len()).sum()),
        BinaryBuilder::new(),
    );
    for (c, (text, raw_bytes)) in rows {
        coords.push(c);
        format.append_value(input_format);
        map.append_option(mapping);
        raw.append_value(text);
        bytes.append_option(raw_bytes);
    }
    batch(
        bronze_schema(),
        coords.finish(vec![
            Arc::new(format.finish()),
            Arc::new(map.finish()),
            Arc::new(raw.finish()),
            Arc::new(bytes.finish()),
        ]),
    )
}

/// Quarantine rows.
pub fn quarantine_batch<'a>(rows: impl IntoIterator<Item = (&'a Coordinates, Raw<'a>, &'a Reject)>) -> RecordBatch {
    let mut coords = CoordinateColumns::default();
    let (mut raw, mut bytes, mut code, mut field, mut message) = (
        StringBuilder::new(),
        BinaryBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    for (c, (text, raw_bytes), reject) in rows {
        coords.push(c);
        raw.append_value(text);
        bytes.append_option(raw_bytes);
        code.append_value(reject.code.as_str());
        field.append_option(reject.field.as_deref());
        message.append_value(&reject.message);
    }
    batch(
        quarantine_schema(),
        coords.finish(vec![
            Arc::new(raw.finish()),
            Arc::new(bytes.finish()),
            Arc::new(code.finish()),
            Arc::new(field.finish()),
            Arc::new(message.finish()),
        ]),
    )
}

/// Duplicate rows: the record's own posting key, the verdict, and when the repeat was posted
/// and collected (a posting's history: first and last seen).
pub fn duplicates_batch<'a>(rows: impl IntoIterator<Item = (&'a Coordinates, &'a Repeat, &'a Duplicate)>) -> RecordBatch {
    let mut coords = CoordinateColumns::default();
    let (mut key, mut of, mut kind, mut similarity) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        Float64Builder::new(),
    );
    let (mut posted, mut scraped) = (Date32Builder::new(), StringBuilder::new());
    for (c, repeat, d) in rows {
        coords.push(c);
        key.append_value(&repeat.posting_key);
        of.append_value(&d.of);
        kind.append_value(d.kind.as_str());
        similarity.append_value(d.similarity);
        posted.append_option(repeat.date_posted.map(days_since_epoch));
        scraped.append_option(repeat.scraped_at.as_deref());
    }
    batch(
        duplicates_schema(),
        coords.finish(vec![
            Arc::new(key.finish()),
            Arc::new(of.finish()),
            Arc::new(kind.finish()),
            Arc::new(similarity.finish()),
            Arc::new(posted.finish()),
            Arc::new(scraped.finish()),
        ]),
    )
}

/// A date as Arrow's Date32: days since 1970-01-01.
fn days_since_epoch(date: chrono::NaiveDate) -> i32 {
    (date - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")).num_days() as i32
}

/// One silver row: where it came from and the posting.
pub type SilverRow<'a> = (&'a Coordinates, &'a Posting);

/// A text column sized for its values at once (the description is most of silver's bytes; see
/// [`bronze_batch`]'s raw column).
fn text_column(rows: &[SilverRow<'_>], value: impl Fn(&Posting) -> Option<&str>) -> ArrayRef {
    let bytes = rows.iter().filter_map(|(_, p)| value(p)).map(str::len).sum();
    let mut column = StringBuilder::with_capacity(rows.len(), bytes);
    for (_, posting) in rows {
        column.append_option(value(posting));
    }
    Arc::new(column.finish())
}

fn amount_column(rows: &[SilverRow<'_>], value: impl Fn(&Salary) -> Option<f64>) -> ArrayRef {
    Arc::new(Float64Array::from_iter(
        rows.iter().map(|(_, p)| p.salary.as_ref().and_then(&value)),
    ))
}

/// Each posting's distinct taxonomy skill ids, in order of first mention.
fn skill_ids_column(rows: &[SilverRow<'_>]) -> ArrayRef {
    let mut ids = ListBuilder::new(StringBuilder::new());
    for (_, posting) in rows {
        for id in posting.skill_ids() {
            ids.values().append_value(id);
        }
        ids.append(true);
    }
    Arc::new(ids.finish())
}

/// Every skill mention (taxonomy and learned) with field and character offsets, as JSON.
fn skills_json(posting: &Posting) -> String {
    serde_json::to_string(&posting.skills).expect("mentions serialise (plain strings and numbers)")
}

/// Silver rows, in [`silver_schema`] order.
pub fn silver_batch(rows: &[SilverRow<'_>]) -> RecordBatch {
    let salary_text = |value: fn(&Salary) -> Option<&str>| -> ArrayRef {
        Arc::new(StringArray::from_iter(rows.iter().map(|(_, p)| p.salary.as_ref().and_then(value))))
    };
    let columns: Vec<ArrayRef> = vec![
        text_column(rows, |p| Some(&p.posting_key)),
        text_column(rows, |p| Some(&p.source_site)),
        text_column(rows, |p| p.source_job_id.as_deref()),
        text_column(rows, |p| p.job_url.as_deref()),
        text_column(rows, |p| Some(&p.title)),
        text_column(rows, |p| p.company.as_deref()),
        text_column(rows, |p| p.company_key.as_deref()),
        text_column(rows, |p| p.location_city.as_deref()),
        text_column(rows, |p| p.location_state.as_deref()),
        text_column(rows, |p| p.location_country.as_deref()),
        text_column(rows, |p| p.remote_type),
        text_column(rows, |p| p.seniority),
        Arc::new(Int32Array::from_iter(
            rows.iter().map(|(_, p)| p.min_years_experience.map(i32::from)),
        )),
        text_column(rows, |p| p.job_type.as_deref()),
        text_column(rows, |p| p.education_level),
        text_column(rows, |p| p.company_size_band),
        text_column(rows, |p| p.company_industry.as_deref()),
        salary_text(|s| Some(s.interval.as_str())),
        salary_text(|s| s.currency.as_deref()),
        amount_column(rows, |s| s.min_annual),
        amount_column(rows, |s| s.max_annual),
        amount_column(rows, |s| s.min_usd),
        amount_column(rows, |s| s.max_usd),
        salary_text(|s| Some(s.source.as_str())),
        text_column(rows, |p| p.description.as_deref()),
        Arc::new(Date32Array::from_iter(
            rows.iter().map(|(_, p)| p.date_posted.map(days_since_epoch)),
        )),
        text_column(rows, |p| p.scraped_at.as_deref()),
        skill_ids_column(rows),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|(_, p)| skills_json(p)))),
        text_column(rows, |p| Some(&p.content_hash)),
        Arc::new(BinaryArray::from_iter(
            rows.iter().map(|(_, p)| p.signature.as_ref().map(Signature::to_bytes)),
        )),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|(c, _)| c.file.as_str()))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|(c, _)| c.record as i64))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|(_, p)| p.posting_month()))),
    ];
    batch(silver_schema(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::MatchKind;
    use crate::ingest::reject::ErrorCode;

    fn coordinates() -> Coordinates {
        Coordinates {
            file: "f.csv".into(),
            record: 1,
            line: 2,
            byte_offset: 30,
        }
    }

    #[test]
    fn every_builder_matches_its_schema() {
        let c = coordinates();
        assert_eq!(bronze_batch([(&c, ("{}", None))], "csv", Some("m")).num_rows(), 1);
        let reject = Reject::new(ErrorCode::MissingField, Some("job.title"), "missing");
        assert_eq!(quarantine_batch([(&c, ("", Some(&b"\x01"[..])), &reject)]).num_rows(), 1);
        let dup = Duplicate {
            of: "k".into(),
            kind: MatchKind::Content,
            similarity: 1.0,
        };
        let posting = crate::normalize::Normaliser::new(crate::normalize::currency::Currencies::builtin())
            .normalise(&crate::contract::JobListing {
                job: Some(crate::contract::Job {
                    title: Some("Analyst".into()),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .expect("valid");
        assert_eq!(duplicates_batch([(&c, &Repeat::of(posting), &dup)]).num_rows(), 1);
        let listing = crate::contract::JobListing {
            job: Some(crate::contract::Job {
                title: Some("Analyst".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let posting = crate::normalize::Normaliser::new(crate::normalize::currency::Currencies::builtin())
            .normalise(&listing)
            .expect("valid");
        let batch = silver_batch(&[(&c, &posting)]);
        assert_eq!((batch.num_rows(), batch.num_columns()), (1, silver_schema().fields().len()));
    }
}
