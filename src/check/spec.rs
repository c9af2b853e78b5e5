//! Expectations as users write them: YAML files (`checks/*.yml`), each a list of tables with
//! the expectations that must hold on them.
//!
//! ```yaml
//! tables:
//!   - table: silver/postings
//!     expectations:
//!       - not_null: { column: title }
//!       - range: { column: salary_min_usd, min: 1000, max: 2000000 }
//!         severity: warn
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

/// One expectation file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckFile {
    pub tables: Vec<TableChecks>,
}

/// The expectations on one lake table (`layer/name`, as `rats export --list` names them).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableChecks {
    pub table: String,
    pub expectations: Vec<ExpectationSpec>,
}

/// How much a failure matters: `error` fails the run (exit 1), `warn` is reported only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warn,
    #[default]
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warn => "warn",
            Severity::Error => "error",
        }
    }
}

/// One expectation: its kind with arguments, and what every kind shares.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "BTreeMap<String, serde_json::Value>")]
pub struct ExpectationSpec {
    /// A name unique in the run [default: `table.kind.column`].
    pub name: Option<String>,
    pub severity: Severity,
    /// A SQL condition: only rows where it holds are checked.
    pub filter: Option<String>,
    pub description: Option<String>,
    pub kind: Kind,
}

/// The keys every kind shares; any other key of an expectation is its kind.
const SHARED_KEYS: [&str; 4] = ["name", "severity", "where", "description"];

impl TryFrom<BTreeMap<String, serde_json::Value>> for ExpectationSpec {
    type Error = String;

    /// Read by hand rather than with `#[serde(flatten)]`, which would quietly take a misspelt
    /// shared key (`severty: warn`) for an unknown kind and drop it.
    fn try_from(mut map: BTreeMap<String, serde_json::Value>) -> Result<Self, String> {
        let mut take = |key: &str| -> Result<Option<String>, String> {
            match map.remove(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(text)) => Ok(Some(text)),
                Some(other) => Err(format!("{key}: expected text, found {other}")),
            }
        };
        let name = take("name")?;
        let filter = take("where")?;
        let description = take("description")?;
        let severity = match take("severity")?.as_deref() {
            None | Some("error") => Severity::Error,
            Some("warn") => Severity::Warn,
            Some(other) => return Err(format!("severity: {other:?} is neither warn nor error")),
        };
        let kind_keys: Vec<&String> = map.keys().collect();
        if kind_keys.len() != 1 {
            return Err(format!(
                "an expectation has one kind besides {}; found {}",
                SHARED_KEYS.join(", "),
                if kind_keys.is_empty() {
                    "none".to_string()
                } else {
                    kind_keys.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
                }
            ));
        }
        let kind: Kind = serde_json::from_value(serde_json::Value::Object(map.into_iter().collect())).map_err(|e| e.to_string())?;
        Ok(ExpectationSpec {
            name,
            severity,
            filter,
            description,
            kind,
        })
    }
}

/// What is expected.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Kind {
    /// The table has these columns with these types (string, int, float, date, datetime, bool,
    /// list, binary); `exact` also refuses other columns.
    Schema {
        columns: BTreeMap<String, String>,
        #[serde(default)]
        exact: bool,
    },
    /// At most `max_share` (0–1, default 0) of the rows are null in `column`.
    NotNull {
        column: String,
        #[serde(default)]
        max_share: f64,
    },
    /// No two rows share the values of `columns`.
    Unique { columns: Vec<String> },
    /// Every non-null value of `column` is one of `values`.
    AcceptedValues { column: String, values: Vec<serde_json::Value> },
    /// Every non-null value of `column` lies within `[min, max]` (either may be left out).
    Range {
        column: String,
        #[serde(default)]
        min: Option<f64>,
        #[serde(default)]
        max: Option<f64>,
    },
    /// Every non-null value of `column` matches `pattern` (a Rust regex, anchored by the user).
    Regex { column: String, pattern: String },
    /// The number of rows (after `where`) lies within `[min, max]`.
    RowCount {
        #[serde(default)]
        min: Option<u64>,
        #[serde(default)]
        max: Option<u64>,
    },
    /// The newest value of `column` (a date or timestamp) is at most `max_age` old ("36h",
    /// "7d", "2w"); without a column, the table's last commit. With `by`, every group of that
    /// column must be fresh.
    Freshness {
        #[serde(default)]
        column: Option<String>,
        max_age: String,
        #[serde(default)]
        by: Option<String>,
    },
    /// No value of `column` (a date or timestamp) lies after "now" by more than `tolerance`
    /// (default "1d": a board in another time zone may date a posting tomorrow).
    NotFuture {
        column: String,
        #[serde(default = "default_future_tolerance")]
        tolerance: String,
    },
    /// The rows of the newest day of `column` against the same weekday of the `weeks` before
    /// it: the count is an anomaly when it is further from their median than `tolerance` times
    /// their scaled median absolute deviation, and than `min_change` of the median.
    Volume {
        column: String,
        #[serde(default = "default_weeks")]
        weeks: usize,
        #[serde(default = "default_tolerance")]
        tolerance: f64,
        #[serde(default = "default_min_change")]
        min_change: f64,
    },
    /// The distribution of `column` in the newest `current_days` of `date_column` against the
    /// `reference_days` before them, by the population stability index: numbers in ten
    /// reference deciles, text and lists by their shares. Fails above `max_psi` (0.25 is the
    /// usual "significant shift").
    Drift {
        column: String,
        date_column: String,
        #[serde(default = "default_current_days")]
        current_days: i64,
        #[serde(default = "default_reference_days")]
        reference_days: i64,
        #[serde(default = "default_max_psi")]
        max_psi: f64,
    },
    /// Every non-null value of `column` is a value of `field` in table `to`.
    Relationship { column: String, to: String, field: String },
    /// A SQL query over the lake (tables as `layer__name`, gold models by name) that returns
    /// the rows breaking the expectation; it holds when none come back.
    Sql { query: String },
}

fn default_future_tolerance() -> String {
    "1d".into()
}
fn default_weeks() -> usize {
    4
}
fn default_tolerance() -> f64 {
    3.0
}
fn default_min_change() -> f64 {
    0.5
}
fn default_current_days() -> i64 {
    30
}
fn default_reference_days() -> i64 {
    90
}
fn default_max_psi() -> f64 {
    0.25
}

impl Kind {
    /// The kind's name as written in YAML.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Schema { .. } => "schema",
            Kind::NotNull { .. } => "not_null",
            Kind::Unique { .. } => "unique",
            Kind::AcceptedValues { .. } => "accepted_values",
            Kind::Range { .. } => "range",
            Kind::Regex { .. } => "regex",
            Kind::RowCount { .. } => "row_count",
            Kind::Freshness { .. } => "freshness",
            Kind::NotFuture { .. } => "not_future",
            Kind::Volume { .. } => "volume",
            Kind::Drift { .. } => "drift",
            Kind::Relationship { .. } => "relationship",
            Kind::Sql { .. } => "sql",
        }
    }

    /// The column the expectation is about, when there is one.
    pub fn column(&self) -> Option<String> {
        match self {
            Kind::NotNull { column, .. }
            | Kind::AcceptedValues { column, .. }
            | Kind::Range { column, .. }
            | Kind::Regex { column, .. }
            | Kind::Volume { column, .. }
            | Kind::NotFuture { column, .. }
            | Kind::Drift { column, .. }
            | Kind::Relationship { column, .. } => Some(column.clone()),
            Kind::Freshness { column, .. } => column.clone(),
            Kind::Unique { columns } => Some(columns.join(",")),
            Kind::Schema { .. } | Kind::RowCount { .. } | Kind::Sql { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations_read_from_yaml_with_their_shared_fields() {
        let file: CheckFile = serde_norway::from_str(
            "tables:\n  - table: silver/postings\n    expectations:\n      - not_null: { column: title }\n      - range: { column: salary_min_usd, min: 1000 }\n        severity: warn\n        where: \"salary_currency = 'USD'\"\n        name: usd_floor\n",
        )
        .expect("test input is valid");
        let [first, second] = &file.tables[0].expectations[..] else {
            panic!("two expectations")
        };
        assert!(matches!(&first.kind, Kind::NotNull { column, max_share } if column == "title" && max_share.abs() < f64::EPSILON));
        assert_eq!(first.severity, Severity::Error, "error unless said otherwise");
        assert!(matches!(&second.kind, Kind::Range { min: Some(m), max: None, .. } if (*m - 1000.0).abs() < f64::EPSILON));
        assert_eq!(second.severity, Severity::Warn);
        assert_eq!(second.filter.as_deref(), Some("salary_currency = 'USD'"));
        assert_eq!(second.name.as_deref(), Some("usd_floor"));
    }

    #[test]
    fn an_unknown_kind_or_field_is_refused() {
        let unknown = serde_norway::from_str::<CheckFile>("tables:\n  - table: t\n    expectations:\n      - not_nul: { column: a }\n");
        assert!(unknown.is_err());
        let misspelt = serde_norway::from_str::<CheckFile>("tables:\n  - table: t\n    expectation: []\n");
        assert!(misspelt.is_err());
        let shared = serde_norway::from_str::<CheckFile>(
            "tables:\n  - table: t\n    expectations:\n      - row_count: { min: 1 }\n        severty: warn\n",
        );
        let message = shared.expect_err("a misspelt shared key").to_string();
        assert!(message.contains("severty"), "{message}");
        let argument =
            serde_norway::from_str::<CheckFile>("tables:\n  - table: t\n    expectations:\n      - range: { column: a, mni: 1 }\n");
        assert!(argument.is_err(), "a misspelt argument");
    }
}
