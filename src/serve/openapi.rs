//! `GET /openapi.json` and `GET /docs`: the API's OpenAPI 3.1 document and an interactive
//! reference page built into the binary.
//!
//! The document is assembled from the route table ([`access::TABLE`]: every path, method and
//! who may call it) and `openapi.yaml` beside this file (each route's summary, parameters,
//! request body and answers). Neither can drift from the other: a route the table has and the
//! file does not document, or the other way round, fails [`document`] — and a unit test, so
//! the build never ships such a pair. What every route shares is added here once: the
//! credentials it takes, 401/403 for role-gated routes, the rate-limit headers and 429 on
//! `/v1`, 503 when overloaded, and the `format` parameter of the routes that answer a list.

use std::sync::LazyLock;

use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::access::{Access, TABLE};
use super::download::LISTS;
use super::problem::internal;

/// Each route's summary, parameters, request body and answers, and the shared components.
const ROUTE_DOCS: &str = include_str!("openapi.yaml");

/// The reference page: one file with its script and styles inline, reading `/openapi.json`.
const DOCS_PAGE: &str = include_str!("docs.html");

/// The page may load nothing from elsewhere: it works offline and behind any firewall.
const DOCS_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; form-action 'none'; frame-ancestors 'none'";

#[derive(Debug, thiserror::Error)]
pub enum OpenApiError {
    #[error("src/serve/openapi.yaml does not parse: {0}")]
    Yaml(#[from] serde_norway::Error),
    #[error("src/serve/openapi.yaml has no `{0}` mapping")]
    Missing(&'static str),
    #[error("the route table has {0}, which src/serve/openapi.yaml does not document")]
    Undocumented(String),
    #[error("src/serve/openapi.yaml documents {0}, which is not in the route table")]
    NotARoute(String),
}

/// The OpenAPI 3.1 document of this build's API.
pub fn document() -> Result<Value, OpenApiError> {
    document_from(ROUTE_DOCS)
}

fn document_from(route_docs: &str) -> Result<Value, OpenApiError> {
    let mut docs: Value = serde_norway::from_str(route_docs)?;
    let mut operations = take_object(&mut docs, "operations")?;
    let mut paths: Map<String, Value> = Map::new();
    for (method, path, access) in TABLE {
        let name = format!("{method} {path}");
        let Some(Value::Object(mut operation)) = operations.remove(&name) else {
            return Err(OpenApiError::Undocumented(name));
        };
        operation.insert("operationId".into(), json!(operation_id(method, path)));
        add_shared(&mut operation, path, *access)?;
        if *method == Method::GET {
            add_download(&mut operation, path);
        }
        let item = paths.entry((*path).to_string()).or_insert_with(|| json!({}));
        item[method.as_str().to_ascii_lowercase()] = Value::Object(operation);
    }
    if let Some(extra) = operations.keys().next() {
        return Err(OpenApiError::NotARoute(extra.clone()));
    }
    let mut info = take_object(&mut docs, "info")?;
    info.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
    Ok(json!({
        "openapi": "3.1.0",
        "info": info,
        "tags": docs["tags"].take(),
        "paths": paths,
        "components": docs["components"].take(),
    }))
}

fn take_object(value: &mut Value, key: &'static str) -> Result<Map<String, Value>, OpenApiError> {
    match value.get_mut(key).map(Value::take) {
        Some(Value::Object(map)) => Ok(map),
        _ => Err(OpenApiError::Missing(key)),
    }
}

/// `GET /v1/jobs/{posting_key}` → `get_v1_jobs_posting_key`.
fn operation_id(method: &Method, path: &str) -> String {
    let words: Vec<String> = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    format!("{}_{}", method.as_str().to_ascii_lowercase(), words.join("_"))
}

/// What the route table and the middleware decide for every route: credentials and roles,
/// the refusals they bring, rate limits and overload on `/v1`.
fn add_shared(operation: &mut Map<String, Value>, path: &str, access: Access) -> Result<(), OpenApiError> {
    let problem = || json!({"$ref": "#/components/responses/Problem"});
    let Some(Value::Object(mut responses)) = operation.remove("responses") else {
        return Err(OpenApiError::Missing("responses"));
    };
    match access {
        Access::Public => {
            operation.insert("security".into(), json!([]));
        }
        Access::Roles(roles) => {
            responses.entry("401").or_insert_with(problem);
            responses.entry("403").or_insert_with(problem);
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            operation.insert("security".into(), json!([{"bearer": []}, {"session_cookie": []}]));
            operation.insert("x-roles".into(), json!(names));
            let who = format!("Roles: {}.", names.join(", "));
            let described = match operation.get("description").and_then(Value::as_str) {
                Some(text) => format!("{text}\n\n{who}"),
                None => who,
            };
            operation.insert("description".into(), json!(described));
        }
    }
    if path.starts_with("/v1/") {
        responses.insert(
            "429".into(),
            json!({
                "description": "The caller's rate-limit budget is spent",
                "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until a request is allowed"}},
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }),
        );
        responses.entry("503").or_insert_with(problem);
    }
    operation.insert("responses".into(), Value::Object(responses));
    Ok(())
}

/// The `format` parameter of a route that answers a list, and the files it gives
/// ([`super::download`]).
fn add_download(operation: &mut Map<String, Value>, path: &str) {
    let Some((_, list)) = LISTS.iter().find(|(route, _)| *route == path) else {
        return;
    };
    let parameter = json!({
        "name": "format",
        "in": "query",
        "description": format!("The answer's `{list}` as a file to download (`Content-Disposition: attachment`): CSV or an Excel workbook with nested fields flattened (`field.sub` columns, lists joined with `; `), or the list alone as JSON"),
        "schema": {"enum": ["csv", "json", "xlsx"]},
    });
    if let Value::Array(parameters) = operation.entry("parameters").or_insert_with(|| json!([])) {
        parameters.push(parameter);
    }
    if let Some(Value::Object(content)) = operation.get_mut("responses").and_then(|r| r.pointer_mut("/200/content")) {
        content.insert("text/csv".into(), json!({"schema": {"type": "string"}}));
        content.insert(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".into(),
            json!({"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}),
        );
    }
}

/// The document as sent, built on first use (a build whose table and docs disagree fails its
/// unit tests, so the error arm is for completeness).
static DOCUMENT_JSON: LazyLock<Result<Vec<u8>, String>> =
    LazyLock::new(|| document().map_err(|e| e.to_string()).map(|d| d.to_string().into_bytes()));

/// `GET /openapi.json`.
pub async fn json_answer() -> Response {
    match &*DOCUMENT_JSON {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes.as_slice()).into_response(),
        Err(error) => internal("building the OpenAPI document", error).into_response(),
    }
}

/// `GET /docs`: the reference page, allowed to reach nothing but this server.
pub async fn docs_answer() -> Response {
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], DOCS_PAGE).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_POLICY));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_in_the_table_is_documented_once_with_its_roles() {
        let document = document().expect("the document builds");
        let paths = document["paths"].as_object().expect("paths");
        let documented: usize = paths.values().map(|item| item.as_object().map_or(0, Map::len)).sum();
        assert_eq!(documented, TABLE.len());
        let users = &paths["/v1/users"]["get"];
        assert_eq!(users["x-roles"], json!(["admin"]));
        assert!(users["responses"]["403"].is_object());
        assert!(users["responses"]["429"].is_object());
        assert_eq!(paths["/health"]["get"]["security"], json!([]));
        assert!(paths["/health"]["get"]["responses"]["429"].is_null());
        assert_eq!(paths["/v1/jobs/{posting_key}"]["get"]["operationId"], "get_v1_jobs_posting_key");
    }

    #[test]
    fn every_list_route_documents_its_download_formats_and_other_routes_do_not() {
        let document = document().expect("the document builds");
        for (route, _) in LISTS {
            let get = &document["paths"][route]["get"];
            assert!(get.is_object(), "{route} is a GET route of the table");
            let format = get["parameters"].as_array().and_then(|p| p.iter().find(|p| p["name"] == "format"));
            assert_eq!(
                format.map(|f| &f["schema"]["enum"]),
                Some(&json!(["csv", "json", "xlsx"])),
                "{route}"
            );
            assert!(get["responses"]["200"]["content"]["text/csv"].is_object(), "{route}");
        }
        let one = &document["paths"]["/v1/stats/overview"]["get"]["parameters"];
        assert!(one.as_array().is_some_and(|p| p.iter().all(|p| p["name"] != "format")));
    }

    #[test]
    fn a_route_missing_from_the_docs_or_the_table_is_named() {
        let with = |change: &dyn Fn(&mut Map<String, Value>)| {
            let mut docs: Value = serde_norway::from_str(ROUTE_DOCS).expect("parses");
            change(docs["operations"].as_object_mut().expect("operations"));
            document_from(&serde_norway::to_string(&docs).expect("writes")).map(|_| ())
        };
        assert!(with(&|_| ()).is_ok());
        let missing = with(&|operations| {
            operations.remove("GET /v1/audit");
        });
        assert_eq!(
            missing.expect_err("refused").to_string(),
            "the route table has GET /v1/audit, which src/serve/openapi.yaml does not document"
        );
        let extra = with(&|operations| {
            operations.insert("GET /v1/nowhere".into(), json!({"responses": {}}));
        });
        assert!(matches!(extra, Err(OpenApiError::NotARoute(name)) if name == "GET /v1/nowhere"));
    }
}
