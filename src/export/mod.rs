//! `rats export`: any lake table, or the answer of a SQL query over them, written as CSV, JSON,
//! JSON lines, Parquet or an Excel workbook for analysts and scripts. Tables are named by their place in the lake
//! (`silver/postings`, `gold/skill_premiums`); queries see each as `layer__name` (and the
//! warehouse's models by their bare name, as the models themselves do). Column choice, filters,
//! order and limit become one SQL statement Polars plans over the tables' Parquet files, so only
//! the columns and rows asked for are read.

pub mod log;
pub mod stream;
pub mod table;
pub mod tables;
pub mod write;
pub mod xlsx;

use std::fmt::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::transform::TransformError;
use crate::transform::delta::DeltaIo;

pub use tables::{LakeTable, lake_tables};
pub use write::{ExportFormat, Written, write_frames};
pub use xlsx::About;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no table {name:?} in the lake {lake}; its tables: {known}")]
    UnknownTable { name: String, lake: PathBuf, known: String },
    #[error("the lake {0} holds no tables (run rats consume first)")]
    EmptyLake(PathBuf),
    #[error("no lake at {0}: the folder does not exist (run rats consume first, or give --lake)")]
    NoLake(PathBuf),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{what}: {message}")]
    Query { what: String, message: String },
    #[error("--{option} {value:?}: {message}")]
    Invalid {
        option: &'static str,
        value: String,
        message: String,
    },
    #[error("{path} exists; give --force to replace it")]
    Exists { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Convert(String),
    #[error(transparent)]
    Transform(#[from] TransformError),
}

/// What to export: a table with optional columns, filter, order and limit, or a query.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub table: Option<String>,
    pub sql: Option<String>,
    pub columns: Vec<String>,
    pub filter: Option<String>,
    /// `column` or `column desc` / `column asc`.
    pub order_by: Vec<String>,
    pub limit: Option<usize>,
}

/// A selection planned over the lake.
pub struct Planned {
    /// `layer/name`, or "the query".
    pub what: String,
    /// The SQL statement the rows come from.
    pub statement: String,
    /// The tables it reads (`layer/name`) and their Delta versions when planned.
    pub read: std::collections::BTreeMap<String, Option<i64>>,
    frame: LazyFrame,
}

impl Planned {
    /// The rows in order, in small batches from Polars' streaming engine, so an export of a
    /// whole table never holds the table (BENCHMARKS.md has the memory it takes). Nothing is
    /// read before the iterator asks.
    pub fn frames(self) -> impl Iterator<Item = Result<DataFrame, ExportError>> {
        let Planned { what, frame, .. } = self;
        match stream::Batches::start(frame, what) {
            Ok(batches) => Box::new(batches) as Box<dyn Iterator<Item = _>>,
            Err(error) => Box::new(std::iter::once(Err(error))),
        }
    }
}

/// The rows a selection names, planned lazily over the lake.
pub fn plan(lake: &Path, selection: &Selection) -> Result<Planned, ExportError> {
    let tables = lake_tables(lake)?;
    if tables.is_empty() {
        return Err(ExportError::EmptyLake(lake.to_path_buf()));
    }
    // A table's export reads that table's log only; a query may name any of them.
    let (what, sql, needed): (String, String, Vec<&LakeTable>) = match (&selection.table, &selection.sql) {
        (Some(name), _) => {
            let table = tables.iter().find(|t| t.name == *name).ok_or_else(|| ExportError::UnknownTable {
                name: name.clone(),
                lake: lake.to_path_buf(),
                known: tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "),
            })?;
            (table.name.clone(), statement(&table.relation(), selection)?, vec![table])
        }
        (None, Some(sql)) => ("the query".to_string(), sql.clone(), tables.iter().collect()),
        (None, None) => {
            return Err(ExportError::Invalid {
                option: "sql",
                value: String::new(),
                message: "name a table or give --sql".into(),
            });
        }
    };
    // A table export's query is rats' own: a parser position would count in text the user never
    // wrote. A --sql query is the user's, positions and all.
    let own_query = selection.table.is_some();
    let query_error = |e: PolarsError| ExportError::Query {
        what: what.clone(),
        message: if own_query {
            crate::transform::engine::built_query_message(&e)
        } else {
            tables::user_query_message(&e, &tables)
        },
    };
    let read = match selection.table {
        Some(_) => needed.clone(),
        None => tables::tables_named(&sql, &tables),
    }
    .into_iter()
    .map(|t| (t.name.clone(), t.version()))
    .collect();
    let io = DeltaIo::new()?;
    let mut context = tables::sql_context(&io, needed)?;
    let frame = context.execute(&sql).map_err(&query_error)?;
    Ok(Planned {
        what,
        statement: sql,
        read,
        frame,
    })
}

/// `SELECT … FROM relation [WHERE …] [ORDER BY …] [LIMIT n]`, names quoted.
fn statement(relation: &str, selection: &Selection) -> Result<String, ExportError> {
    let columns = if selection.columns.is_empty() {
        "*".to_string()
    } else {
        selection
            .columns
            .iter()
            .map(|c| quoted(c, "columns"))
            .collect::<Result<Vec<_>, _>>()?
            .join(", ")
    };
    let mut sql = format!("SELECT {columns} FROM {relation}");
    if let Some(filter) = selection.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        sql.push_str(&crate::transform::engine::where_clause(filter));
    }
    if !selection.order_by.is_empty() {
        let keys = selection
            .order_by
            .iter()
            .map(|key| {
                let mut words = key.split_whitespace();
                let column = quoted(words.next().unwrap_or_default(), "order-by")?;
                let direction = match words.next().map(str::to_ascii_lowercase).as_deref() {
                    None | Some("asc") => "ASC",
                    Some("desc") => "DESC",
                    Some(_) => {
                        return Err(ExportError::Invalid {
                            option: "order-by",
                            value: key.clone(),
                            message: "give COLUMN, COLUMN asc or COLUMN desc".into(),
                        });
                    }
                };
                if words.next().is_some() {
                    return Err(ExportError::Invalid {
                        option: "order-by",
                        value: key.clone(),
                        message: "give COLUMN, COLUMN asc or COLUMN desc".into(),
                    });
                }
                Ok(format!("{column} {direction}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let _ = write!(sql, " ORDER BY {}", keys.join(", "));
    }
    if let Some(limit) = selection.limit {
        let _ = write!(sql, " LIMIT {limit}");
    }
    Ok(sql)
}

/// A column name as a quoted SQL identifier; names with a quote or nothing in them are refused.
fn quoted(name: &str, option: &'static str) -> Result<String, ExportError> {
    let name = name.trim();
    if name.is_empty() || name.contains('"') {
        return Err(ExportError::Invalid {
            option,
            value: name.to_string(),
            message: "a column name, without double quotes".into(),
        });
    }
    Ok(format!("\"{name}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_becomes_one_quoted_statement() {
        let selection = Selection {
            table: Some("silver/postings".into()),
            columns: vec!["title".into(), "salary_max".into()],
            filter: Some("salary_max > 100000".into()),
            order_by: vec!["salary_max desc".into(), "title".into()],
            limit: Some(5),
            ..Selection::default()
        };
        assert_eq!(
            statement("silver__postings", &selection).expect("valid"),
            r#"SELECT "title", "salary_max" FROM silver__postings WHERE (salary_max > 100000) ORDER BY "salary_max" DESC, "title" ASC LIMIT 5"#
        );
        assert_eq!(statement("t", &Selection::default()).expect("valid"), "SELECT * FROM t");
        for bad in [
            Selection {
                columns: vec![r#"a" FROM x; --"#.into()],
                ..Selection::default()
            },
            Selection {
                order_by: vec!["title sideways".into()],
                ..Selection::default()
            },
            Selection {
                order_by: vec!["title desc please".into()],
                ..Selection::default()
            },
        ] {
            assert!(matches!(statement("t", &bad), Err(ExportError::Invalid { .. })), "{bad:?}");
        }
    }
}
