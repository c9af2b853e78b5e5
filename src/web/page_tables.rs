//! A page's tables as files: a page asked `?table=NAME&format=csv|json|xlsx` answers the rows of
//! its table `NAME` — the figures it would show for the rest of the query, unformatted (pay in
//! dollars, shares as fractions), with the flattening of the API's downloads
//! ([`crate::serve::download`]) — instead of the page. Such a download spends the caller's rate
//! budget as an API call does. Each page names its tables and where their rows sit in the
//! figures it renders; the template links them with `form.table_downloads`.

use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::query::with;
use crate::serve::download::{self, Download};
use crate::serve::problem::Problem;

/// One table of a page: its name in the address, and a JSON pointer (RFC 6901) to its rows in
/// the page's figures (`/ingest/hours`).
pub struct PageTable {
    name: &'static str,
    rows: &'static str,
    shape: Shape,
}

/// How a table's rows sit in the figures.
enum Shape {
    /// A list of objects.
    Objects,
    /// A list of tuples (JSON arrays), their items named so.
    Tuples(&'static [&'static str]),
    /// A heatmap (`{"columns": [[heading, postings]…], "rows": [{"skill_id", "skill", "cells":
    /// [{"share_pct", "postings"…}]}]}`), downloaded long: a row per skill and column, the
    /// column's heading under this name.
    Heat(&'static str),
}

impl PageTable {
    /// A table whose rows are objects.
    pub const fn new(name: &'static str, rows: &'static str) -> Self {
        PageTable {
            name,
            rows,
            shape: Shape::Objects,
        }
    }

    /// A table whose rows are tuples, their items named `columns`.
    pub const fn tuples(name: &'static str, rows: &'static str, columns: &'static [&'static str]) -> Self {
        PageTable {
            name,
            rows,
            shape: Shape::Tuples(columns),
        }
    }

    /// A heatmap at `map`, its column headings named `heading` (`month`, `place`).
    pub const fn heat(name: &'static str, map: &'static str, heading: &'static str) -> Self {
        PageTable {
            name,
            rows: map,
            shape: Shape::Heat(heading),
        }
    }

    /// The rows as objects; `None` when the figures hold something else there.
    fn rows_of(&self, found: &Value) -> Option<Vec<Value>> {
        match (&self.shape, found) {
            (Shape::Objects, Value::Array(rows)) => Some(rows.clone()),
            (Shape::Tuples(columns), Value::Array(rows)) => Some(
                rows.iter()
                    .map(|row| match row {
                        Value::Array(items) => Value::Object(columns.iter().map(|c| (*c).to_string()).zip(items.iter().cloned()).collect()),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            (Shape::Heat(heading), Value::Object(map)) => {
                let columns = map.get("columns")?.as_array()?;
                let mut long = Vec::new();
                for row in map.get("rows")?.as_array()? {
                    for (column, cell) in columns.iter().zip(row.get("cells")?.as_array()?) {
                        long.push(serde_json::json!({
                            "skill_id": row.get("skill_id"),
                            "skill": row.get("skill"),
                            *heading: column.get(0),
                            "postings": column.get(1),
                            "postings_naming_skill": cell.get("postings"),
                            "share_pct": cell.get("share_pct"),
                        }));
                    }
                }
                Some(long)
            }
            _ => None,
        }
    }
}

/// The table asked for in a page's address, for pages that are not a [`super::filtered::FilteredPage`];
/// a refusal is the page's answer.
pub fn asked_in(uri: &axum::http::Uri) -> Result<Option<Asked>, Response> {
    asked(uri.query().unwrap_or_default())
        .map(|(asked, _)| asked)
        .map_err(IntoResponse::into_response)
}

/// A table asked for, and in which format.
#[derive(Debug, PartialEq)]
pub struct Asked {
    table: String,
    format: Download,
}

/// Whether `query` asks for a table file rather than the page — with the query without
/// `table` and `format` (the figures' query) — or a refusal when one of the two is missing
/// or the format is unknown.
pub fn asked(query: &str) -> Result<(Option<Asked>, String), Problem> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let find = |name: &str| pairs.iter().rfind(|(key, _)| key == name).map(|(_, value)| value.clone());
    let rest = with(&with(query, "table", None), "format", None);
    match (find("table"), find("format")) {
        (None, None) => Ok((None, query.to_string())),
        (Some(table), Some(format)) => Ok((
            Some(Asked {
                table,
                format: Download::parse(&format)?,
            }),
            rest,
        )),
        (None, Some(_)) => Err(Problem::invalid("table", "name the page's table to download (table=NAME)")),
        (Some(_), None) => Err(Problem::invalid("format", "give csv, json or xlsx")),
    }
}

/// The file of the table `asked` for among `tables`, from the page's `figures`; `path` and
/// `query` name the page's view in the file's name and workbook.
pub fn answer(asked: &Asked, tables: &[PageTable], figures: &Value, path: &str, query: &str, lake_version: Option<i64>) -> Response {
    let Some(table) = tables.iter().find(|t| t.name == asked.table) else {
        let known: Vec<&str> = tables.iter().map(|t| t.name).collect();
        let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
        return Problem::invalid("table", format!("no table {:?} on {path} (its tables: {known})", asked.table)).into_response();
    };
    let rows = match figures.pointer(table.rows) {
        // A table the figures do not hold (nothing computed for this view) has no rows.
        None | Some(Value::Null) => Vec::new(),
        Some(found) => match table.rows_of(found) {
            Some(rows) => rows,
            None => {
                return crate::serve::problem::internal("a page's table", &format!("{path}: {} is not that table", table.rows))
                    .into_response();
            }
        },
    };
    let request = format!("GET {}", super::query::address(path, &with(query, "table", Some(table.name))));
    let name = format!("{}/{}", path.trim_matches('/'), table.name);
    download::file(&rows, asked.format, &request, &name, lake_version).unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_file_is_asked_with_its_name_and_format_and_the_rest_is_the_view() {
        let (asked, rest) = asked("title=data&table=hours&format=csv").expect("reads");
        assert_eq!(
            asked,
            Some(Asked {
                table: "hours".into(),
                format: Download::Csv
            })
        );
        assert_eq!(rest, "title=data");
        assert_eq!(super::asked("title=data").expect("reads"), (None, "title=data".to_string()));
        for (query, field) in [
            ("format=csv", "table"),
            ("table=hours", "format"),
            ("table=hours&format=pdf", "format"),
        ] {
            let refused = super::asked(query).expect_err(query);
            assert_eq!(refused.field.as_deref(), Some(field), "{query}");
        }
    }

    #[tokio::test]
    async fn the_rows_are_the_tables_and_an_unknown_table_is_named() {
        let tables = [
            PageTable::new("hours", "/ingest/hours"),
            PageTable::tuples("weeks", "/weekly", &["week", "postings"]),
        ];
        let figures = serde_json::json!({"ingest": {"hours": [{"start": 0, "postings": 3}, {"start": 3600, "postings": 5}]}});
        let csv = Asked {
            table: "hours".into(),
            format: Download::Csv,
        };
        let answered = answer(&csv, &tables, &figures, "/live", "title=data", Some(7));
        assert_eq!(answered.status(), 200);
        assert_eq!(
            answered.headers()["content-disposition"],
            "attachment; filename=\"rats-live-hours-v7.csv\""
        );
        let missing = Asked {
            table: "skills".into(),
            format: Download::Csv,
        };
        assert_eq!(answer(&missing, &tables, &figures, "/live", "", None).status(), 422);
        let weeks = Asked {
            table: "weeks".into(),
            format: Download::Json,
        };
        let figures = serde_json::json!({"weekly": [["2025-W14", 3], ["2025-W15", 5]]});
        let answered = answer(&weeks, &tables, &figures, "/", "", None);
        let body = axum::body::to_bytes(answered.into_body(), 1 << 20).await.expect("a body");
        let rows: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(
            rows,
            serde_json::json!([{"week": "2025-W14", "postings": 3}, {"week": "2025-W15", "postings": 5}])
        );
        let heat = [PageTable::heat("months", "/by_month", "month")];
        let figures = serde_json::json!({"by_month": {
            "columns": [["2025-01", 10], ["2025-02", 20]],
            "rows": [{"skill_id": "sql", "skill": "SQL", "cells": [{"share_pct": 50.0, "postings": 5, "shade": 9, "sparse": false}, {"share_pct": 25.0, "postings": 5, "shade": 4, "sparse": false}]}],
        }});
        let months = Asked {
            table: "months".into(),
            format: Download::Json,
        };
        let body = axum::body::to_bytes(answer(&months, &heat, &figures, "/skills", "", None).into_body(), 1 << 20)
            .await
            .expect("a body");
        let rows: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(
            rows,
            serde_json::json!([
                {"skill_id": "sql", "skill": "SQL", "month": "2025-01", "postings": 10, "postings_naming_skill": 5, "share_pct": 50.0},
                {"skill_id": "sql", "skill": "SQL", "month": "2025-02", "postings": 20, "postings_naming_skill": 5, "share_pct": 25.0},
            ]),
            "a heatmap downloads long"
        );
        let empty = answer(&csv, &tables, &serde_json::json!({}), "/live", "", None);
        assert_eq!(empty.status(), 200, "a view without the table's rows downloads an empty file");
    }
}
