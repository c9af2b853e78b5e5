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

use crate::ingest::kafka::schema_guard;
use crate::ingest::reject::{ErrorCode, Reject};
use crate::settings::redact_userinfo;

/// The time a run gives the registry before it fails: every attempt, and the backoff between
/// them, fit in it. A registry that restarts does not fail a run, while one that is down or
/// accepts connections without answering fails it within this time (each call is cut off
/// when the budget runs out, instead of waiting for a per-request timeout six times).
pub const RETRY_BUDGET: Duration = Duration::from_secs(8);
/// The wait before the first retry; each later wait doubles (0.25, 0.5, 1, 2, 4 s).
pub const FIRST_RETRY_DELAY: Duration = Duration::from_millis(250);

/// How a call retried within [`RETRY_BUDGET`] ended without an answer.
#[derive(Debug)]
pub enum GaveUp<E> {
    /// The call failed with an error that retrying cannot mend, or the budget ran out after it.
    Failed { error: E, attempts: u32 },
    /// The last call was still unanswered when the budget ran out.
    NoAnswer { attempts: u32 },
}

impl<E: std::fmt::Display> GaveUp<E> {
    /// What went wrong and after how many attempts, for an error message.
    pub fn describe(&self) -> String {
        match self {
            GaveUp::Failed { error, attempts } => format!("{error} (after {attempts} attempt(s))"),
            GaveUp::NoAnswer { attempts } => format!("no answer within {} s (after {attempts} attempt(s))", RETRY_BUDGET.as_secs()),
        }
    }
}

/// Calls `call` until it answers, fails with an error `retriable` rejects, or
/// [`RETRY_BUDGET`] is spent; `before_retry` runs before each new attempt (to clear a cache
/// of errors, say).
pub async fn with_retries<T, E: std::fmt::Display, F: std::future::Future<Output = Result<T, E>>>(
    what: &str,
    mut call: impl FnMut() -> F,
    retriable: impl Fn(&E) -> bool,
    mut before_retry: impl FnMut(),
) -> Result<T, GaveUp<E>> {
    let deadline = tokio::time::Instant::now() + RETRY_BUDGET;
    let mut delay = FIRST_RETRY_DELAY;
    let mut attempts = 1;
    loop {
        let error = match tokio::time::timeout_at(deadline, call()).await {
            Ok(Ok(answer)) => return Ok(answer),
            Ok(Err(error)) => error,
            Err(_) => return Err(GaveUp::NoAnswer { attempts }),
        };
        if !retriable(&error) || tokio::time::Instant::now() + delay >= deadline {
            return Err(GaveUp::Failed { error, attempts });
        }
        tracing::warn!(attempt = attempts, %error, "schema registry call ({what}) failed; retrying");
        tokio::time::sleep(delay).await;
        delay *= 2;
        attempts += 1;
        before_retry();
    }
}

/// The registry could not be asked (down, unreachable, or answering with server errors).
#[derive(Debug, thiserror::Error)]
#[error("schema registry {url} cannot be reached: {message}")]
pub struct RegistryUnreachable {
    pub url: String,
    pub message: String,
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
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| unreachable(format!("cannot start the I/O runtime: {e}")))?;
        let settings = SrSettings::new_builder(url.to_string())
            // A backstop only: the retry budget's deadline cuts every call off first, so the
            // error says the registry did not answer rather than naming a client timeout.
            .set_timeout(RETRY_BUDGET * 2)
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
        let answer = self.runtime.block_on(with_retries(
            "get schema by id",
            || get_schema_by_id(id, &self.settings),
            |e| !is_not_found(e),
            || {},
        ));
        match answer {
            Ok(registered) if registered.schema_type != SchemaType::Avro => Ok(Err(Reject::new(
                ErrorCode::IncompatibleSchema,
                None,
                format!("schema id {id} is a {:?} schema, not Avro", registered.schema_type),
            ))),
            Ok(registered) => Ok(Schema::parse_str(&registered.schema)
                .map_err(|e| {
                    Reject::new(
                        ErrorCode::IncompatibleSchema,
                        None,
                        format!("schema id {id} from the registry does not parse: {e}"),
                    )
                })
                .and_then(|schema| match schema_guard::refusal(&schema) {
                    // Checked once per id, when it is fetched: the answer is cached with it.
                    Some(reason) => Err(Reject::new(
                        ErrorCode::IncompatibleSchema,
                        None,
                        format!("writer schema id {id} is refused: {reason}"),
                    )),
                    None => Ok(Arc::new(schema)),
                })),
            Err(GaveUp::Failed { error, .. }) if is_not_found(&error) => Ok(Err(Reject::new(
                ErrorCode::UnknownSchemaId,
                None,
                format!("schema id {id} is not in the registry {}", self.url),
            ))),
            Err(gave_up) => Err(RegistryUnreachable {
                url: self.url.clone(),
                message: gave_up.describe(),
            }),
        }
    }
}

/// A 404 from `GET /schemas/ids/{id}` (Confluent error 40403, "Schema not found").
fn is_not_found(error: &SRCError) -> bool {
    !error.retriable && (error.error.contains("status 404") || error.cause.as_deref().is_some_and(|c| c.contains("40403")))
}
