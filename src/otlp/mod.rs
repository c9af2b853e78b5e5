//! OpenTelemetry traces over OTLP/HTTP (JSON encoding), for `rats serve --otlp-endpoint`.
//!
//! A `tracing` layer ([`layer::SpanLayer`]) turns rats' own spans (targets under `rats`) into
//! OTLP spans — ids, parent links, start and end times, fields as attributes — and hands each
//! finished one to an exporter thread ([`export`]) that posts them in batches to the collector.
//! A request's root span continues the caller's trace when it carries a W3C `traceparent`
//! field (the server copies the header into it).
//!
//! Why by hand and not the `opentelemetry` crates: rats needs one exporter of one signal, and
//! those crates (with their protobuf and gRPC stacks) would add far more to every build than the
//! few hundred lines here; OTLP's JSON encoding over the HTTP client already in the build is
//! part of the protocol's specification, and collectors accept it.
//!
//! Tracing never slows or stops the server: spans wait in a bounded queue (dropped and counted
//! when it is full), a collector that does not answer costs only the exporter thread's time,
//! and its failures are logged, not returned.

pub mod encode;
pub mod export;
pub mod layer;

use std::time::Duration;

pub use export::ExportGuard;
pub use layer::SpanLayer;

/// Where and how spans are sent.
#[derive(Debug, Clone)]
pub struct OtlpConfig {
    /// The collector's traces URL, e.g. `http://127.0.0.1:4318/v1/traces`.
    pub endpoint: String,
    /// Extra request headers (authentication, tenant or experiment ids).
    pub headers: Vec<(String, String)>,
    /// The `service.name` resource attribute.
    pub service_name: String,
    /// How long a finished span may wait before its batch is sent.
    pub flush_every: Duration,
}

/// Rejected exporter settings.
#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    #[error("--otlp-endpoint {0:?} is not an http:// or https:// URL")]
    Endpoint(String),
    #[error("--otlp-header {0:?} is not NAME=VALUE with a valid header name and value")]
    Header(String),
    #[error("the OTLP exporter's HTTP client could not be built: {0}")]
    Client(String),
}

/// The OpenTelemetry SDKs' standard variables, read when the flags are not given.
pub const ENDPOINT_VARIABLE: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
pub const HEADERS_VARIABLE: &str = "OTEL_EXPORTER_OTLP_HEADERS";
pub const SERVICE_NAME_VARIABLE: &str = "OTEL_SERVICE_NAME";

/// Batches are sent at least this often.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

impl OtlpConfig {
    /// The exporter's settings from `--otlp-endpoint` and `--otlp-header` (else the standard
    /// `OTEL_*` variables); `None` when no endpoint is set: no traces.
    pub fn resolve(endpoint: Option<&str>, headers: &[String]) -> Result<Option<Self>, OtlpError> {
        let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(endpoint) = endpoint.map(str::to_string).or_else(|| from_env(ENDPOINT_VARIABLE)) else {
            return Ok(None);
        };
        let headers = if headers.is_empty() {
            from_env(HEADERS_VARIABLE)
                .map(|list| list.split(',').map(parse_header).collect::<Result<Vec<_>, _>>())
                .transpose()?
                .unwrap_or_default()
        } else {
            headers.iter().map(|h| parse_header(h)).collect::<Result<Vec<_>, _>>()?
        };
        Ok(Some(Self {
            endpoint,
            headers,
            service_name: from_env(SERVICE_NAME_VARIABLE).unwrap_or_else(|| "rats".to_string()),
            flush_every: FLUSH_EVERY,
        }))
    }
}

/// Parses `NAME=VALUE` (as `--otlp-header` and `OTEL_EXPORTER_OTLP_HEADERS` give them).
pub fn parse_header(text: &str) -> Result<(String, String), OtlpError> {
    let (name, value) = text.split_once('=').ok_or_else(|| OtlpError::Header(text.to_string()))?;
    let (name, value) = (name.trim(), value.trim());
    let valid = reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_ok() && reqwest::header::HeaderValue::from_str(value).is_ok();
    if !valid || name.is_empty() {
        return Err(OtlpError::Header(text.to_string()));
    }
    Ok((name.to_string(), value.to_string()))
}

/// The layer to add to the subscriber and the guard that sends what is left when dropped.
pub fn start(config: OtlpConfig) -> Result<(SpanLayer, ExportGuard), OtlpError> {
    let url = url::Url::parse(&config.endpoint).map_err(|_| OtlpError::Endpoint(config.endpoint.clone()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(OtlpError::Endpoint(config.endpoint.clone()));
    }
    let (sender, guard) = export::spawn(config)?;
    Ok((SpanLayer::new(sender), guard))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_name_equals_value_and_bad_ones_are_refused() {
        assert_eq!(
            parse_header("x-mlflow-experiment-id = 7").expect("valid"),
            ("x-mlflow-experiment-id".to_string(), "7".to_string())
        );
        assert_eq!(
            parse_header("authorization=Bearer a=b").expect("valid").1,
            "Bearer a=b",
            "only the first = separates"
        );
        assert!(parse_header("no-equals-sign").is_err());
        assert!(parse_header("bad name=1").is_err());
        assert!(parse_header("=1").is_err());
    }
}
