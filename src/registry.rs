//! The Confluent Schema Registry as consume needs it: writer schemas by id, each fetched once
//! and cached, with calls that cannot reach the registry retried with exponential backoff.
//! An id the registry does not know is an answer about the record (it goes to quarantine),
//! not a failure of the run.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use apache_avro::Schema;
use schema_registry_converter::async_impl::schema_registry::{SrSettings, get_schema_by_id};
use schema_registry_converter::error::SRCError;
use schema_registry_converter::schema_registry_common::SchemaType;

use crate::ingest::reject::{ErrorCode, Reject};
use crate::settings::redact_userinfo;

/// Registry calls made before giving up: 0.25 s, then doubling (about 8 s in all), so a
/// registry that restarts does not fail a run while one that is down fails it soon.
pub const ATTEMPTS: u32 = 6;
/// The wait before the first retry; each later wait doubles.
pub const FIRST_RETRY_DELAY: Duration = Duration::from_millis(250);

/// The registry could not be asked (down, unreachable, or answering with server errors).
#[derive(Debug, thiserror::Error)]
#[error("schema registry {url} cannot be reached: {message} (after {attempts} attempts)")]
pub struct RegistryUnreachable {
    pub url: String,
    pub message: String,
    pub attempts: u32,
}

/// A writer schema, or why records written with that id cannot be read.
pub type WriterSchema = Result<Arc<Schema>, Reject>;

/// Writer schemas by id, cached for the life of the run (ids are immutable in a registry).
pub struct WriterSchemas {
    runtime: tokio::runtime::Runtime,
    settings: SrSettings,
    url: String,
    cache: HashMap<u32, WriterSchema>,
}

impl WriterSchemas {
    pub fn new(url: &str) -> Result<Self, RegistryUnreachable> {
        let unreachable = |message: String| RegistryUnreachable {
            url: redact_userinfo(url),
            message,
            attempts: 0,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| unreachable(format!("cannot start the I/O runtime: {e}")))?;
        let settings = SrSettings::new_builder(url.to_string())
            .set_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(WriterSchemas {
            runtime,
            settings,
            url: redact_userinfo(url),
            cache: HashMap::new(),
        })
    }

    /// The writer schema registered under `id`.
    pub fn get(&mut self, id: u32) -> Result<WriterSchema, RegistryUnreachable> {
        if let Some(known) = self.cache.get(&id) {
            return Ok(known.clone());
        }
        let fetched = self.fetch(id)?;
        self.cache.insert(id, fetched.clone());
        Ok(fetched)
    }

    fn fetch(&self, id: u32) -> Result<WriterSchema, RegistryUnreachable> {
        let mut delay = FIRST_RETRY_DELAY;
        let mut attempt = 1;
        loop {
            match self.runtime.block_on(get_schema_by_id(id, &self.settings)) {
                Ok(registered) if registered.schema_type != SchemaType::Avro => {
                    return Ok(Err(Reject::new(
                        ErrorCode::IncompatibleSchema,
                        None,
                        format!("schema id {id} is a {:?} schema, not Avro", registered.schema_type),
                    )));
                }
                Ok(registered) => {
                    return Ok(Schema::parse_str(&registered.schema).map(Arc::new).map_err(|e| {
                        Reject::new(
                            ErrorCode::IncompatibleSchema,
                            None,
                            format!("schema id {id} from the registry does not parse: {e}"),
                        )
                    }));
                }
                Err(e) if is_not_found(&e) => {
                    return Ok(Err(Reject::new(
                        ErrorCode::UnknownSchemaId,
                        None,
                        format!("schema id {id} is not in the registry {}", self.url),
                    )));
                }
                Err(e) if attempt < ATTEMPTS => {
                    tracing::warn!(attempt, id, error = %e, "schema registry call failed; retrying");
                    std::thread::sleep(delay);
                    delay *= 2;
                    attempt += 1;
                }
                Err(e) => {
                    return Err(RegistryUnreachable {
                        url: self.url.clone(),
                        message: e.to_string(),
                        attempts: attempt,
                    });
                }
            }
        }
    }
}

/// A 404 from `GET /schemas/ids/{id}` (Confluent error 40403, "Schema not found").
fn is_not_found(error: &SRCError) -> bool {
    !error.retriable && (error.error.contains("status 404") || error.cause.as_deref().is_some_and(|c| c.contains("40403")))
}
