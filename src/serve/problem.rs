//! Errors as HTTP answers: Problem Details for HTTP APIs (RFC 9457) with a stable `code` per
//! kind of problem, the offending `field` when one is to blame, and never a stack trace, a
//! file path of the server or a query in the text.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The media type of every error body.
pub const CONTENT_TYPE: &str = "application/problem+json";

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// `urn:rats:problem:<code>`: a stable identifier clients can branch on.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    /// The request field at fault (`skills[2]`, `top`), for validation problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds a client should wait before trying again (sent as `Retry-After` too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl Problem {
    fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("urn:rats:problem:{code}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            code,
            field: None,
            retry_after: None,
        }
    }

    /// A request value that does not pass validation; `field` names it.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        let mut problem = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "A field of the request is invalid",
            detail,
        );
        problem.field = Some(field.into()).filter(|f: &String| !f.is_empty() && f != ".");
        problem
    }

    /// A body that cannot be read at all (not JSON, wrong media type, not a form).
    pub fn malformed(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "malformed_request", "The request cannot be read", detail)
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "The request body has a media type this route does not take",
            detail,
        )
    }

    pub fn too_large(limit_bytes: usize) -> Self {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "The request body is too large",
            format!("bodies over {limit_bytes} bytes are refused"),
        )
    }

    /// No credentials, or ones that do not check out. `WWW-Authenticate` says to send a bearer
    /// token or key.
    pub fn unauthenticated(code: &'static str, detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::UNAUTHORIZED, code, "Not signed in", detail)
    }

    /// Signed in, but the role may not use this route.
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::FORBIDDEN, code, "Not allowed", detail)
    }

    /// The caller's rate-limit budget is spent; `Retry-After` says when one request fits.
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut problem = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests",
            format!("the rate limit of this caller's tier is reached; try again in {retry_after} s"),
        );
        problem.retry_after = Some(retry_after);
        problem
    }

    /// The request clashes with what exists (a name taken).
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::CONFLICT, code, "Conflict", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not_found", "Not found", detail)
    }

    pub fn method_not_allowed() -> Self {
        Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
            "this route does not answer that method",
        )
    }

    /// A part the route needs is not there yet (no trained model, the lake not read yet).
    pub fn unavailable(code: &'static str, detail: impl Into<String>) -> Self {
        let mut problem = Problem::new(StatusCode::SERVICE_UNAVAILABLE, code, "Not available yet", detail);
        problem.retry_after = Some(5);
        problem
    }

    /// A server this one depends on (an OpenID Connect provider) failed or answered wrongly.
    pub fn bad_gateway(code: &'static str, detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_GATEWAY, code, "An upstream server failed", detail)
    }

    /// Too many requests in flight and waiting: refused at once rather than queued for longer.
    pub fn overloaded() -> Self {
        let mut problem = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "The server is busy",
            "too many requests are being answered; try again shortly",
        );
        problem.retry_after = Some(1);
        problem
    }

    pub fn timed_out(seconds: f64) -> Self {
        let mut problem = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "The request took too long",
            format!("the answer was not ready within {seconds} s"),
        );
        problem.retry_after = Some(1);
        problem
    }

    /// Something failed on the server's side. The detail is logged, never sent.
    pub fn internal() -> Self {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal server error",
            "the server could not answer; the error is in its log",
        )
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = self.retry_after;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"rats\""));
        }
        response
    }
}

/// Logs a server-side failure and answers with a detail-free 500.
pub fn internal(context: &str, error: &dyn std::fmt::Display) -> Problem {
    tracing::error!(target: "rats::serve", %error, "{context}");
    Problem::internal()
}
