//! The tables of a lake: every Delta table one folder below a layer (`bronze/postings`,
//! `silver/postings`, `silver/duplicates`, `quarantine/postings`, `reference/skills`, the
//! warehouse's `gold/*`).

use std::path::{Path, PathBuf};

use polars::sql::SQLContext;

use super::ExportError;
use crate::transform::delta::DeltaIo;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeTable {
    /// `layer/name`, as users name it.
    pub name: String,
    pub path: PathBuf,
}

impl LakeTable {
    /// The table's name in SQL: `layer__name`.
    pub fn relation(&self) -> String {
        self.name.replace('/', "__")
    }

    /// A warehouse model's own name (gold tables), as the models refer to each other.
    pub fn model_name(&self) -> Option<&str> {
        self.name.strip_prefix("gold/")
    }

    /// The table's Delta version now: its newest commit file's number.
    pub fn version(&self) -> Option<i64> {
        std::fs::read_dir(self.path.join("_delta_log"))
            .ok()?
            .flatten()
            .filter_map(|e| {
                let name = e.file_name();
                let name = name.to_str()?;
                name.strip_suffix(".json")?.parse::<i64>().ok()
            })
            .max()
    }
}

/// Every table of the lake at `lake`, by name.
pub fn lake_tables(lake: &Path) -> Result<Vec<LakeTable>, ExportError> {
    let read = |dir: &Path| {
        std::fs::read_dir(dir).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound if dir == lake => ExportError::NoLake(lake.to_path_buf()),
            _ => ExportError::Read {
                path: dir.to_path_buf(),
                source,
            },
        })
    };
    let mut tables = Vec::new();
    for layer in read(lake)?.flatten().filter(|e| e.path().is_dir()) {
        let layer_name = layer.file_name().to_string_lossy().into_owned();
        for table in read(&layer.path())?.flatten() {
            let path = table.path();
            if path.join("_delta_log").is_dir() {
                tables.push(LakeTable {
                    name: format!("{layer_name}/{}", table.file_name().to_string_lossy()),
                    path,
                });
            }
        }
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tables)
}

/// A SQL context where each of `tables` is a lazy scan named `layer__name`, and a gold model
/// also by its own name (as the models and users' queries refer to them).
pub fn sql_context<'a>(io: &DeltaIo, tables: impl IntoIterator<Item = &'a LakeTable>) -> Result<SQLContext, ExportError> {
    let context = SQLContext::new();
    for table in tables {
        let frame = io.scan(&table.path)?;
        if let Some(model) = table.model_name() {
            context.register(model, frame.clone());
        }
        context.register(&table.relation(), frame);
    }
    Ok(context)
}

/// The tables among `tables` that `sql` names: a table's SQL name (`layer__name`), or a
/// warehouse model's own name, appearing as a word.
pub fn tables_named<'a>(sql: &str, tables: &'a [LakeTable]) -> Vec<&'a LakeTable> {
    let words: std::collections::BTreeSet<&str> = sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).collect();
    tables
        .iter()
        .filter(|t| words.contains(t.relation().as_str()) || t.model_name().is_some_and(|m| words.contains(m)))
        .collect()
}

/// Polars' message about a query a user wrote over `tables`, with the tables it most likely
/// meant when it named one that does not exist.
pub fn user_query_message(error: &polars::prelude::PolarsError, tables: &[LakeTable]) -> String {
    let message = crate::transform::engine::polars_message(error);
    match unknown_relation_hint(&message, tables) {
        Some(hint) => format!("{message}; {hint}"),
        None => message,
    }
}

/// What to say after Polars' "relation 'X' was not found" in a user's query: the SQL names of
/// the tables `X` most likely meant (those of layer `X`, as in `silver.postings`, or named `X` in
/// any layer), else every table's. Analysts write `silver.postings` or `postings` first; the
/// message alone does not say that a table is `silver__postings` in SQL.
fn unknown_relation_hint(message: &str, tables: &[LakeTable]) -> Option<String> {
    let (_, rest) = message.split_once("relation '")?;
    let (unknown, _) = rest.split_once("' was not found")?;
    let unknown = unknown.to_ascii_lowercase();
    let meant: Vec<String> = tables
        .iter()
        .filter(|t| {
            t.name
                .split_once('/')
                .is_some_and(|(layer, name)| layer == unknown || name == unknown)
        })
        .map(LakeTable::relation)
        .collect();
    Some(if meant.is_empty() {
        let all: Vec<String> = tables.iter().map(LakeTable::relation).collect();
        format!("the lake's tables in SQL are {}", all.join(", "))
    } else {
        format!(
            "in SQL a table is layer__name: {} (`rats export --list` shows every table)",
            meant.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> LakeTable {
        LakeTable {
            name: name.into(),
            path: name.into(),
        }
    }

    #[test]
    fn a_query_reads_the_tables_it_names_by_either_name() {
        let tables = [table("silver/postings"), table("gold/fct_postings"), table("gold/dim_skill")];
        let named: Vec<&str> = tables_named(
            "SELECT * FROM silver__postings JOIN fct_postings USING (posting_key) -- dim_skills",
            &tables,
        )
        .iter()
        .map(|t| t.name.as_str())
        .collect();
        assert_eq!(named, ["silver/postings", "gold/fct_postings"]);
    }

    #[test]
    fn an_unknown_relation_is_answered_with_the_sql_names_it_most_likely_meant() {
        let tables = [table("bronze/postings"), table("silver/duplicates"), table("silver/postings")];
        let hint = |message: &str| unknown_relation_hint(message, &tables);
        assert_eq!(
            hint("relation 'silver' was not found").as_deref(),
            Some("in SQL a table is layer__name: silver__duplicates, silver__postings (`rats export --list` shows every table)")
        );
        assert_eq!(
            hint("relation 'Postings' was not found").as_deref(),
            Some("in SQL a table is layer__name: bronze__postings, silver__postings (`rats export --list` shows every table)")
        );
        assert_eq!(
            hint("relation 'jobs' was not found").as_deref(),
            Some("the lake's tables in SQL are bronze__postings, silver__duplicates, silver__postings")
        );
        assert_eq!(hint("unable to find column \"x\""), None);
    }

    #[test]
    fn a_lake_folder_that_does_not_exist_is_named_as_no_lake() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("lake");
        assert!(matches!(lake_tables(&missing), Err(ExportError::NoLake(path)) if path == missing));
        std::fs::create_dir(&missing).expect("mkdir");
        assert!(lake_tables(&missing).expect("an empty folder is read").is_empty());
    }
}
