//! Request bodies and query strings read into typed values, with every failure answered as a
//! [`Problem`] that names the field (axum's own extractors answer in plain text).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::problem::Problem;

/// A JSON body (`Content-Type: application/json`).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        if !is_json(request.headers().get(header::CONTENT_TYPE)) {
            return Err(Problem::unsupported_media_type("send the body as application/json"));
        }
        let bytes = body_bytes(request, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            let media = media.trim();
            media.eq_ignore_ascii_case("application/json") || media.to_ascii_lowercase().ends_with("+json")
        })
}

/// The whole body, or 413 when it exceeds the route's limit.
pub async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, Problem> {
    let limit = request.extensions().get::<BodyLimit>().map(|l| l.0);
    Bytes::from_request(request, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Problem::too_large(limit.unwrap_or_default())
        } else {
            Problem::malformed(rejection.body_text())
        }
    })
}

/// The body limit in force, recorded by the server so a 413 can say what it is.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// JSON into `T`, naming the path of the value at fault (`postings[3].title`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            Problem::malformed(format!("the body is not valid JSON: {inner}"))
        } else {
            Problem::invalid(path, inner.to_string())
        }
    })
}

/// The query string (`?title=…&limit=…`).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        from_form(parts.uri.query().unwrap_or_default()).map(ApiQuery)
    }
}

/// `application/x-www-form-urlencoded` text (a query string, form fields) into `T`, naming the
/// field at fault.
pub fn from_form<T: DeserializeOwned>(text: &str) -> Result<T, Problem> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(text.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        Problem::invalid(path, e.into_inner().to_string())
    })
}

/// The address a request came from (for the audit log); `None` when the server was not
/// started with connection info.
pub struct Client(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(client_address(&parts.extensions)))
    }
}

/// The peer's IP address, recorded by the server's connection info.
pub fn client_address(extensions: &axum::http::Extensions) -> Option<String> {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        skills: Vec<String>,
    }

    #[test]
    fn json_errors_name_the_field_or_say_the_body_is_not_json() {
        let problem = parse_json::<Body>(br#"{"title": "x", "skills": ["a", 3]}"#).expect_err("refused");
        assert_eq!(
            (problem.status, problem.code, problem.field.as_deref()),
            (422, "invalid_field", Some("skills[1]"))
        );
        let problem = parse_json::<Body>(b"{\"title\": ").expect_err("refused");
        assert_eq!((problem.status, problem.code), (400, "malformed_request"));
        let problem = parse_json::<Body>(br#"{"skills": []}"#).expect_err("refused");
        assert!(problem.detail.contains("title"), "{}", problem.detail);
    }

    #[test]
    fn json_media_types_are_recognised_with_parameters() {
        let value = |v: &'static str| header::HeaderValue::from_static(v);
        assert!(is_json(Some(&value("application/json; charset=utf-8"))));
        assert!(is_json(Some(&value("application/merge-patch+json"))));
        assert!(!is_json(Some(&value("text/plain"))));
        assert!(!is_json(None));
    }
}

/// A field of a change (`#[serde(default)]`): absent (leave it as it is), `null` (remove it)
/// or a new value.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Change<T> {
    #[default]
    Keep,
    Remove,
    Set(T),
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Change<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match <Option<T> as serde::Deserialize>::deserialize(deserializer)? {
            Some(value) => Change::Set(value),
            None => Change::Remove,
        })
    }
}
