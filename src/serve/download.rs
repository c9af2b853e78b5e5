//! Lists as files: a GET route whose answer is a list, or holds one table (`/v1/jobs`' jobs,
//! `/v1/stats/salary`'s groups, `/v1/audit`'s events, a posting's duplicates …) also answers `?format=csv`, `xlsx` or `json` with that list
//! as a download. The route answers first, with the rest of the query, and only its answer is
//! converted, so a download has the filters, paging, role check and rate budget of the JSON
//! it stands for (the dashboard's download links are these addresses). For the sheet, nested
//! values flatten: an object's fields become `field.sub` columns, a list of plain values is
//! joined with `; ` (as `rats export` joins list columns), a list of objects stays JSON text.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderValue, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use deltalake::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use deltalake::arrow::datatypes::{Field, Schema};
use deltalake::arrow::error::ArrowError;
use serde_json::{Map, Value};

use super::problem::{Problem, internal};
use crate::export::About;
use crate::export::xlsx::workbook;

/// The routes that answer a list, and the field of their answer that holds it.
pub const LISTS: [(&str, &str); 13] = [
    ("/v1/jobs", "jobs"),
    ("/v1/jobs/{posting_key}", "duplicates"),
    ("/v1/stats/salary", "groups"),
    ("/v1/stats/postings", "series"),
    ("/v1/stats/skills", "skills"),
    ("/v1/skills", "skills"),
    ("/v1/skills/{skill_id}", "named_with"),
    ("/v1/companies", "companies"),
    ("/v1/keys", "keys"),
    ("/v1/searches", "searches"),
    ("/v1/searches/{search_id}/jobs", "jobs"),
    ("/v1/users", "users"),
    ("/v1/audit", "events"),
];

/// The largest answer converted (a page of the largest list is far smaller).
const MAX_ANSWER_BYTES: usize = 64 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Download {
    Csv,
    Json,
    Xlsx,
}

impl Download {
    pub fn parse(value: &str) -> Result<Self, Problem> {
        match value {
            "csv" => Ok(Download::Csv),
            "json" => Ok(Download::Json),
            "xlsx" => Ok(Download::Xlsx),
            _ => Err(Problem::invalid("format", "give csv, json or xlsx")),
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Download::Csv => "csv",
            Download::Json => "json",
            Download::Xlsx => "xlsx",
        }
    }

    fn media_type(self) -> &'static str {
        match self {
            Download::Csv => "text/csv; charset=utf-8",
            Download::Json => "application/json",
            Download::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// `format=…` taken out of a query string, the other parameters kept as they were (so the
/// route's cache knows the request as the JSON one).
fn take_format(query: &str) -> (Option<&str>, String) {
    let mut format = None;
    let mut kept = Vec::new();
    for piece in query.split('&').filter(|p| !p.is_empty()) {
        match piece.strip_prefix("format") {
            Some(rest) if rest.is_empty() || rest.starts_with('=') => format = Some(rest.trim_start_matches('=')),
            _ => kept.push(piece),
        }
    }
    (format, kept.join("&"))
}

/// Middleware of the API's routes: a list route asked for a `format` answers with a file.
pub async fn download(mut request: Request, next: Next) -> Response {
    let Some(rows_field) = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|route| LISTS.iter().find(|(pattern, _)| *pattern == route.as_str()))
        .map(|(_, field)| *field)
    else {
        return next.run(request).await;
    };
    let query = request.uri().query().unwrap_or_default().to_string();
    let (format, kept) = take_format(&query);
    let Some(format) = format else {
        return next.run(request).await;
    };
    let format = match Download::parse(format) {
        Ok(format) => format,
        Err(problem) => return problem.into_response(),
    };
    let path = request.uri().path().to_string();
    let path_and_query = if kept.is_empty() { path.clone() } else { format!("{path}?{kept}") };
    let mut parts = request.uri().clone().into_parts();
    parts.path_and_query = PathAndQuery::try_from(path_and_query.as_str()).ok();
    match Uri::from_parts(parts) {
        Ok(uri) => *request.uri_mut() = uri,
        Err(error) => return internal("the query without its format", &error).into_response(),
    }
    // The file is new to the browser even when its JSON is not.
    request.headers_mut().remove(header::IF_NONE_MATCH);
    let answer = next.run(request).await;
    if !answer.status().is_success() {
        return answer;
    }
    match converted(answer, rows_field, format, &path, &kept).await {
        Ok(response) => response,
        Err(problem) => problem.into_response(),
    }
}

async fn converted(answer: Response, rows_field: &str, format: Download, path: &str, query: &str) -> Result<Response, Problem> {
    let body = axum::body::to_bytes(answer.into_body(), MAX_ANSWER_BYTES)
        .await
        .map_err(|e| internal("reading an answer to convert", &e))?;
    let value: Value = serde_json::from_slice(&body).map_err(|e| internal("reading an answer to convert", &e))?;
    let Some(rows) = value.get(rows_field).and_then(Value::as_array) else {
        return Err(internal(
            "converting an answer",
            &format!("{path} answered without its list {rows_field:?}"),
        ));
    };
    let request = if query.is_empty() {
        format!("GET {path}")
    } else {
        format!("GET {path}?{query}")
    };
    let version = value.get("lake_version").and_then(Value::as_i64);
    file(rows, format, &request, path.trim_start_matches("/v1/"), version)
}

/// `rows` as a download: a file named after `name` (`stats/salary`) and the lake version,
/// whose workbook says it answers `request`.
pub fn file(rows: &[Value], format: Download, request: &str, name: &str, lake_version: Option<i64>) -> Result<Response, Problem> {
    let bytes = match format {
        Download::Json => serde_json::to_vec_pretty(rows).map_err(|e| internal("writing JSON", &e))?,
        Download::Csv => {
            let batch = table_of(rows).map_err(|e| internal("a table of the answer", &e))?;
            csv_of(&batch).map_err(|e| internal("writing CSV", &e))?
        }
        Download::Xlsx => {
            let exported_at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let about = About {
                what: request,
                statement: request,
                exported_at: &exported_at,
            };
            let batch = table_of(rows).map_err(|e| internal("a sheet of the answer", &e))?;
            workbook(&[batch], &about).map_err(|e| internal("writing the workbook", &e))?.0
        }
    };
    let file = file_name(name, lake_version, format);
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")).map_err(|e| internal("a file name", &e))?;
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.media_type()));
    headers.insert(header::CONTENT_DISPOSITION, disposition);
    Ok(response)
}

/// `rats-stats-salary-v12.csv` for `stats/salary` at lake version 12.
fn file_name(name: &str, lake_version: Option<i64>, format: Download) -> String {
    let name: String = name
        .trim_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let version = lake_version.map(|v| format!("-v{v}")).unwrap_or_default();
    format!("rats-{name}{version}.{}", format.extension())
}

/// The rows flattened into one record batch: a column per field, by name (the answer's objects
/// reach here with their fields sorted), numbers as numbers (whole ones as integers), booleans
/// as booleans, anything else as text, a missing field empty.
fn table_of(rows: &[Value]) -> Result<RecordBatch, ArrowError> {
    let flat: Vec<Map<String, Value>> = rows.iter().map(flattened).collect();
    let columns: std::collections::BTreeSet<&String> = flat.iter().flat_map(Map::keys).collect();
    let mut fields = Vec::with_capacity(columns.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
    for name in columns.iter().copied() {
        let cells: Vec<Option<&Value>> = flat.iter().map(|row| row.get(name).filter(|v| !v.is_null())).collect();
        let array: ArrayRef = if cells.iter().flatten().all(|v| v.is_i64()) {
            Arc::new(cells.iter().map(|v| v.and_then(Value::as_i64)).collect::<Int64Array>())
        } else if cells.iter().flatten().all(|v| v.is_number()) {
            Arc::new(cells.iter().map(|v| v.and_then(Value::as_f64)).collect::<Float64Array>())
        } else if cells.iter().flatten().all(|v| v.is_boolean()) {
            Arc::new(cells.iter().map(|v| v.and_then(Value::as_bool)).collect::<BooleanArray>())
        } else {
            Arc::new(cells.iter().map(|v| v.map(text_of)).collect::<StringArray>())
        };
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    if columns.is_empty() {
        return Ok(RecordBatch::new_empty(Arc::new(Schema::empty())));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

/// A row's fields, nested objects' fields named `outer.inner`.
fn flattened(row: &Value) -> Map<String, Value> {
    fn into(prefix: &str, value: &Value, out: &mut Map<String, Value>) {
        match value {
            Value::Object(fields) if !fields.is_empty() => {
                for (name, inner) in fields {
                    let name = if prefix.is_empty() {
                        name.clone()
                    } else {
                        format!("{prefix}.{name}")
                    };
                    into(&name, inner, out);
                }
            }
            Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                let joined = items.iter().map(text_of).collect::<Vec<_>>().join("; ");
                out.insert(prefix.to_string(), Value::String(joined));
            }
            other => {
                out.insert(prefix.to_string(), other.clone());
            }
        }
    }
    let mut out = Map::new();
    match row {
        Value::Object(_) => into("", row, &mut out),
        other => into("value", other, &mut out),
    }
    out
}

/// A cell's text: a string as it is, anything else as JSON.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn csv_of(batch: &RecordBatch) -> Result<Vec<u8>, ArrowError> {
    let mut out = Vec::new();
    if batch.num_columns() > 0 {
        deltalake::arrow::csv::WriterBuilder::new()
            .with_header(true)
            .build(&mut out)
            .write(batch)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::array::{Array, AsArray};
    use deltalake::arrow::datatypes::{DataType, Int64Type};
    use serde_json::json;

    #[test]
    fn the_format_leaves_the_query_and_the_other_parameters_stay_as_they_were() {
        assert_eq!(
            take_format("title=data%20x&format=csv&limit=5"),
            (Some("csv"), "title=data%20x&limit=5".to_string())
        );
        assert_eq!(take_format("format=xlsx"), (Some("xlsx"), String::new()));
        assert_eq!(take_format("formats=1&x=2"), (None, "formats=1&x=2".to_string()));
        assert_eq!(take_format("format"), (Some(""), String::new()));
        assert!(Download::parse("").is_err() && Download::parse("pdf").is_err());
    }

    #[test]
    fn nested_fields_flatten_into_typed_columns_by_name() {
        let rows = vec![
            json!({"title": "Data engineer", "skills": ["python", "sql"], "pay": {"low": 90_000, "high": 120_500.5}, "remote": true}),
            json!({"title": "Analyst", "pay": null, "extra": [{"a": 1}], "remote": null}),
        ];
        let batch = table_of(&rows).expect("a batch");
        let names: Vec<&str> = batch.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["extra", "pay", "pay.high", "pay.low", "remote", "skills", "title"]);
        assert_eq!(batch.column(3).as_primitive::<Int64Type>().value(0), 90_000);
        assert!(batch.column(3).is_null(1));
        assert_eq!(batch.column(2).data_type(), &DataType::Float64);
        assert_eq!(batch.column(4).data_type(), &DataType::Boolean);
        assert_eq!(batch.column(5).as_string::<i32>().value(0), "python; sql");
        assert_eq!(batch.column(0).as_string::<i32>().value(1), r#"[{"a":1}]"#);
        let csv = String::from_utf8(csv_of(&batch).expect("CSV")).expect("UTF-8");
        assert_eq!(csv.lines().next(), Some("extra,pay,pay.high,pay.low,remote,skills,title"), "{csv}");
        assert_eq!(csv.lines().nth(1), Some(",,120500.5,90000,true,python; sql,Data engineer"), "{csv}");
    }

    #[test]
    fn a_mixed_column_is_text_and_an_empty_list_gives_an_empty_file() {
        let batch = table_of(&[json!({"v": 1}), json!({"v": "two"})]).expect("a batch");
        assert_eq!(batch.column(0).as_string::<i32>().value(0), "1");
        assert!(csv_of(&table_of(&[]).expect("a batch")).expect("CSV").is_empty());
    }

    #[test]
    fn files_are_named_after_the_route_and_the_lake_version() {
        assert_eq!(file_name("stats/salary", Some(12), Download::Csv), "rats-stats-salary-v12.csv");
        assert_eq!(file_name("searches/3/jobs", None, Download::Xlsx), "rats-searches-3-jobs.xlsx");
    }
}
