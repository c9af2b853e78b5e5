//! Data tests, as dbt defines them: each is a query returning the failing rows. Generic tests
//! come from the YAML (`unique`, `not_null`, `accepted_values`, `relationships`,
//! `expression_is_true`) on models, their columns and sources; singular tests are the SQL
//! files under the test paths (except `generic/`, where dbt keeps its test definitions).

use serde::Serialize;

use super::TransformError;
use super::engine::Transform;
use super::project::{ColumnSpec, TestSpec};
use super::render::{self, RenderInputs, model_relation, source_relation};

/// One test, compiled.
#[derive(Debug, Clone, Serialize)]
pub struct DataTest {
    /// dbt's name for it, e.g. `unique_stg_postings_posting_key`.
    pub name: String,
    /// The model or source it tests.
    pub on: String,
    pub sql: String,
}

/// One test's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    pub test: String,
    pub on: String,
    /// Rows the test query returned.
    pub failures: usize,
    /// `pass`, `fail` or `error` (the query itself failed).
    pub status: &'static str,
    pub message: Option<String>,
}

/// The tests of the selected models (and of the sources they read), then the singular tests.
pub fn collect(transform: &Transform) -> Result<Vec<DataTest>, TransformError> {
    let selected = transform.selected()?;
    let mut tests = Vec::new();
    for node in &selected {
        if let Some(spec) = transform.project.model_specs.get(node.name()) {
            let relation = model_relation(node.name());
            tests.extend(model_tests(node.name(), &relation, &spec.tests, &spec.columns)?);
        }
    }
    for source in &transform.project.sources {
        for table in &source.tables {
            let read = selected
                .iter()
                .any(|n| n.sources.contains(&(source.name.clone(), table.name.clone())));
            if read {
                let name = format!("{}_{}", source.name, table.name);
                tests.extend(model_tests(
                    &name,
                    &source_relation(&source.name, &table.name),
                    &[],
                    &table.columns,
                )?);
            }
        }
    }
    let inputs = RenderInputs {
        incremental: false,
        vars: transform.vars().clone(),
    };
    for file in &transform.project.singular_tests {
        if file.folders.first().is_some_and(|f| f == "generic") {
            continue;
        }
        let sql = render::render(&transform.project, file, &inputs)?.sql;
        tests.push(DataTest {
            name: file.name.clone(),
            on: file.path.clone(),
            sql,
        });
    }
    Ok(tests)
}

/// Runs `tests` against the lake; the relations must be registered.
pub fn run(transform: &mut Transform, tests: &[DataTest]) -> Vec<TestResult> {
    tests
        .iter()
        .map(|test| {
            let outcome = transform.query(&test.sql).and_then(LazyFrameCount::count_rows);
            match outcome {
                Ok(0) => TestResult {
                    test: test.name.clone(),
                    on: test.on.clone(),
                    failures: 0,
                    status: "pass",
                    message: None,
                },
                Ok(n) => TestResult {
                    test: test.name.clone(),
                    on: test.on.clone(),
                    failures: n,
                    status: "fail",
                    message: None,
                },
                Err(e) => TestResult {
                    test: test.name.clone(),
                    on: test.on.clone(),
                    failures: 0,
                    status: "error",
                    message: Some(super::engine::polars_message(&e)),
                },
            }
        })
        .collect()
}

/// Counting a lazy result's rows.
trait LazyFrameCount {
    fn count_rows(self) -> polars::prelude::PolarsResult<usize>;
}

impl LazyFrameCount for polars::prelude::LazyFrame {
    fn count_rows(self) -> polars::prelude::PolarsResult<usize> {
        Ok(self.collect()?.height())
    }
}

fn model_tests(name: &str, relation: &str, tests: &[TestSpec], columns: &[ColumnSpec]) -> Result<Vec<DataTest>, TransformError> {
    let mut compiled = Vec::new();
    for test in tests {
        compiled.push(generic(name, relation, None, test)?);
    }
    for column in columns {
        for test in &column.tests {
            compiled.push(generic(name, relation, Some(&column.name), test)?);
        }
    }
    Ok(compiled)
}

/// One generic test as SQL returning the failing rows.
fn generic(name: &str, relation: &str, column: Option<&str>, test: &TestSpec) -> Result<DataTest, TransformError> {
    let (kind, args) = match test {
        TestSpec::Name(kind) => (kind.as_str(), serde_json::Map::new()),
        TestSpec::WithArgs(map) => {
            let (kind, args) = map.iter().next().ok_or_else(|| invalid(name, "an empty test"))?;
            let args = match args {
                serde_json::Value::Object(a) => a.clone().into_iter().filter(|(k, _)| k != "config").collect(),
                _ => serde_json::Map::new(),
            };
            (kind.as_str(), args)
        }
    };
    let needs_column = || column.ok_or_else(|| invalid(name, &format!("test {kind} needs a column")));
    let arg = |key: &str| args.get(key).ok_or_else(|| invalid(name, &format!("test {kind} needs `{key}`")));
    let (test_name, sql) = match kind {
        "unique" => {
            let c = needs_column()?;
            (
                format!("unique_{name}_{c}"),
                format!("SELECT {c} FROM {relation} WHERE {c} IS NOT NULL GROUP BY {c} HAVING COUNT(*) > 1"),
            )
        }
        "not_null" => {
            let c = needs_column()?;
            (
                format!("not_null_{name}_{c}"),
                format!("SELECT * FROM {relation} WHERE {c} IS NULL"),
            )
        }
        "accepted_values" => {
            let c = needs_column()?;
            let values = arg("values")?
                .as_array()
                .ok_or_else(|| invalid(name, "accepted_values: values must be a list"))?
                .iter()
                .map(sql_literal)
                .collect::<Vec<_>>()
                .join(", ");
            (
                format!("accepted_values_{name}_{c}"),
                format!("SELECT * FROM {relation} WHERE {c} IS NOT NULL AND {c} NOT IN ({values})"),
            )
        }
        "relationships" => {
            let c = needs_column()?;
            let to = arg("to")?
                .as_str()
                .ok_or_else(|| invalid(name, "relationships: `to` must be ref('model')"))?;
            let to_relation = parse_ref(to).ok_or_else(|| invalid(name, "relationships: `to` must be ref('model') or source('s', 't')"))?;
            let field = arg("field")?
                .as_str()
                .ok_or_else(|| invalid(name, "relationships: `field` must be a column name"))?;
            (
                format!("relationships_{name}_{c}__{field}__{to_relation}"),
                format!(
                    "SELECT child.{c} FROM {relation} AS child LEFT JOIN (SELECT DISTINCT {field} AS parent_key FROM {to_relation}) AS parent \
                     ON child.{c} = parent.parent_key WHERE child.{c} IS NOT NULL AND parent.parent_key IS NULL"
                ),
            )
        }
        "expression_is_true" => {
            let expression = arg("expression")?
                .as_str()
                .ok_or_else(|| invalid(name, "expression_is_true: `expression` must be text"))?;
            let expression = match column {
                Some(c) => format!("{c} {expression}"),
                None => expression.to_string(),
            };
            let slug: String = expression
                .chars()
                .map(|ch| if ch.is_ascii_alphanumeric() { ch.to_ascii_lowercase() } else { '_' })
                .collect();
            (
                format!("expression_is_true_{name}_{}", slug.trim_matches('_')),
                format!("SELECT * FROM {relation} WHERE NOT ({expression})"),
            )
        }
        other => {
            return Err(invalid(
                name,
                &format!("unknown test `{other}` (rats knows unique, not_null, accepted_values, relationships, expression_is_true)"),
            ));
        }
    };
    Ok(DataTest {
        name: test_name,
        on: name.to_string(),
        sql,
    })
}

fn invalid(on: &str, message: &str) -> TransformError {
    TransformError::Config {
        path: format!("tests of {on}"),
        message: message.to_string(),
    }
}

fn sql_literal(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        other => other.to_string(),
    }
}

/// `ref('x')` or `source('s', 't')` as written in YAML, to the relation it names.
fn parse_ref(text: &str) -> Option<String> {
    let inner = |prefix: &str| {
        text.trim().strip_prefix(prefix)?.strip_suffix(')').map(|args| {
            args.split(',')
                .map(|a| a.trim().trim_matches(['\'', '"']).to_string())
                .collect::<Vec<_>>()
        })
    };
    if let Some(args) = inner("ref(") {
        return args.first().map(|m| model_relation(m));
    }
    let args = inner("source(")?;
    match args.as_slice() {
        [s, t] => Some(source_relation(s, t)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_references_name_relations() {
        assert_eq!(parse_ref("ref('dim_company')").as_deref(), Some("dim_company"));
        assert_eq!(parse_ref(" source(\"silver\", 'postings') ").as_deref(), Some("silver__postings"));
        assert_eq!(parse_ref("dim_company"), None);
    }

    #[test]
    fn generic_tests_compile_to_queries_of_failing_rows() {
        let accepted = TestSpec::WithArgs(
            [("accepted_values".to_string(), serde_json::json!({"values": ["a", "b'c"]}))]
                .into_iter()
                .collect(),
        );
        let test = generic("m", "m", Some("kind"), &accepted).expect("compiles");
        assert_eq!(test.name, "accepted_values_m_kind");
        assert!(test.sql.ends_with("NOT IN ('a', 'b''c')"), "{}", test.sql);
        assert!(
            generic("m", "m", None, &TestSpec::Name("unique".into())).is_err(),
            "unique needs a column"
        );
    }
}
