//! Why a record was rejected: a small fixed set of error codes (the quarantine table's
//! `error_code` and the telemetry label) plus the field and a message for people.

use std::fmt;

/// The quarantine reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// A JSON line that does not parse, or does not fit the contract's types.
    MalformedJson,
    /// A CSV row that cannot be read (bad quoting, wrong field count, bad UTF-8).
    MalformedCsv,
    /// An Avro record that does not decode against the contract (for Kafka: a truncated or
    /// corrupt body, or bytes left over after the record).
    MalformedAvro,
    /// A required field is absent or empty.
    MissingField,
    /// A field is present but its value cannot be used.
    InvalidField,
    /// A Kafka message that is not Confluent-framed Avro (empty, shorter than the 5-byte
    /// header, or a magic byte other than 0).
    NotConfluentFramed,
    /// A Kafka message whose schema id the registry does not know.
    UnknownSchemaId,
    /// A Kafka message whose writer schema cannot be read as the contract (a field of another
    /// type, a required field missing without a default) or is not a usable Avro schema.
    IncompatibleSchema,
    /// rats itself failed on the record (a bug to report); the run went on.
    InternalError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::MalformedCsv => "malformed_csv",
            ErrorCode::MalformedAvro => "malformed_avro",
            ErrorCode::MissingField => "missing_field",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::NotConfluentFramed => "not_confluent_framed",
            ErrorCode::UnknownSchemaId => "unknown_schema_id",
            ErrorCode::IncompatibleSchema => "incompatible_schema",
            ErrorCode::InternalError => "internal_error",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected record's reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    pub code: ErrorCode,
    /// The contract field (dotted path) or source column concerned, when one is.
    pub field: Option<String>,
    pub message: String,
}

impl Reject {
    pub fn new(code: ErrorCode, field: Option<&str>, message: impl Into<String>) -> Self {
        Reject {
            code,
            field: field.map(str::to_string),
            message: message.into(),
        }
    }
}

/// Runs a step on one record so that a panic inside it costs that record, not the run (a run
/// killed by a record meets the same record again on every restart): the panic becomes a
/// reject with `code` and the message `describe` makes of the panic's text.
pub fn unless_panicked<T>(
    code: ErrorCode,
    describe: impl FnOnce(&str) -> String,
    step: impl FnOnce() -> Result<T, Reject>,
) -> Result<T, Reject> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)).unwrap_or_else(|panic| {
        let text = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_else(|| "a panic without a message".into());
        Err(Reject::new(code, None, describe(&text)))
    })
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}: field {field}: {}", self.code, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}
