//! `rats check`: data-quality expectations on the lake's tables — schema, nulls, uniqueness,
//! accepted values, ranges, patterns, row counts, freshness, volume anomalies, distribution
//! drift, relationships between tables and custom SQL — read from YAML (`checks/*.yml`, or the
//! set built into the binary), evaluated by Polars over the Delta tables, and appended to the
//! lake's `quality/results` table so the dashboard and later runs see the history. A webhook
//! hears when an expectation starts failing and when it recovers.

pub mod alerts;
pub mod evaluate;
pub mod lineage;
pub mod results;
pub mod spec;
pub mod stats;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::bundled;
use crate::export::{self, ExportError, LakeTable};
use crate::transform::delta::DeltaIo;
use evaluate::{EvalError, Target, Verdict};
use spec::{CheckFile, ExpectationSpec, Severity};

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Yaml { path: String, message: String },
    #[error("two expectations are named {0:?}; give one of them its own `name:`")]
    DuplicateName(String),
    #[error("--select {0:?} matches no expectation")]
    NothingSelected(String),
    #[error(transparent)]
    Lake(#[from] ExportError),
    #[error("cannot record the results: {0}")]
    Record(#[from] crate::transform::TransformError),
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
}

/// Where the expectation files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckSource {
    /// A folder of `*.yml` / `*.yaml` files.
    Folder(PathBuf),
    /// The expectations built into the binary (`checks/` of the repository).
    BuiltIn,
}

impl CheckSource {
    /// The folder given, else `./checks` when it exists, else the built-in set.
    pub fn resolve(given: Option<&Path>) -> Self {
        match given {
            Some(dir) => CheckSource::Folder(dir.to_path_buf()),
            None if Path::new(bundled::CHECKS.name).is_dir() => CheckSource::Folder(PathBuf::from(bundled::CHECKS.name)),
            None => CheckSource::BuiltIn,
        }
    }

    /// Every expectation file, parsed, in name order.
    pub fn load(&self) -> Result<Vec<(String, CheckFile)>, CheckError> {
        let texts: Vec<(String, String)> = match self {
            CheckSource::Folder(dir) => {
                let entries = std::fs::read_dir(dir).map_err(|source| CheckError::Io { path: dir.clone(), source })?;
                let mut paths: Vec<PathBuf> = entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.extension()
                            .is_some_and(|x| x.eq_ignore_ascii_case("yml") || x.eq_ignore_ascii_case("yaml"))
                    })
                    .collect();
                paths.sort();
                paths
                    .into_iter()
                    .map(|path| {
                        std::fs::read_to_string(&path)
                            .map(|text| (path.display().to_string(), text))
                            .map_err(|source| CheckError::Io { path, source })
                    })
                    .collect::<Result<_, _>>()?
            }
            CheckSource::BuiltIn => bundled::CHECKS
                .files
                .iter()
                .map(|(path, text)| (format!("built-in checks/{path}"), (*text).to_string()))
                .collect(),
        };
        texts
            .into_iter()
            .map(|(path, text)| {
                serde_norway::from_str(&text)
                    .map(|file| (path.clone(), file))
                    .map_err(|e| CheckError::Yaml {
                        path,
                        message: e.to_string(),
                    })
            })
            .collect()
    }
}

impl std::fmt::Display for CheckSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckSource::Folder(dir) => write!(f, "{}", dir.display()),
            CheckSource::BuiltIn => write!(f, "the built-in checks"),
        }
    }
}

/// One expectation's outcome, as printed and recorded.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckResult {
    pub check: String,
    pub table: String,
    pub kind: &'static str,
    pub column: Option<String>,
    pub severity: Severity,
    /// `pass`, `fail`, `skip` (not enough data to judge) or `error` (could not run).
    pub status: &'static str,
    pub observed: String,
    pub expected: String,
    pub failing_rows: Option<u64>,
    pub metric: Option<f64>,
    pub description: Option<String>,
}

/// What to check and against which moment.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub lake: PathBuf,
    /// Names, tables or `*` patterns of names; empty for every expectation.
    pub select: Vec<String>,
    /// "Now", for freshness.
    pub as_of: DateTime<Utc>,
}

/// An expectation with its table and final name.
struct Planned<'a> {
    name: String,
    table: &'a str,
    spec: &'a ExpectationSpec,
}

/// Names every expectation of `files` (refusing two with one name) and keeps the selected ones.
fn plan<'a>(files: &'a [(String, CheckFile)], select: &[String]) -> Result<Vec<Planned<'a>>, CheckError> {
    let mut planned: Vec<Planned<'a>> = Vec::new();
    for (_, file) in files {
        for table in &file.tables {
            for spec in &table.expectations {
                let name = spec.name.clone().unwrap_or_else(|| {
                    let mut name = format!("{}.{}", table.table, spec.kind.name());
                    if let Some(column) = spec.kind.column() {
                        name = format!("{name}.{column}");
                    }
                    name
                });
                if planned.iter().any(|p| p.name == name) {
                    return Err(CheckError::DuplicateName(name));
                }
                planned.push(Planned {
                    name,
                    table: &table.table,
                    spec,
                });
            }
        }
    }
    for selector in select {
        if !planned.iter().any(|p| selects(selector, p)) {
            return Err(CheckError::NothingSelected(selector.clone()));
        }
    }
    planned.retain(|p| select.is_empty() || select.iter().any(|s| selects(s, p)));
    Ok(planned)
}

fn selects(selector: &str, planned: &Planned<'_>) -> bool {
    selector == planned.table || glob(selector, &planned.name)
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Evaluates the selected expectations of `files` on the lake, in file order.
pub fn run(files: &[(String, CheckFile)], options: &CheckOptions) -> Result<Vec<CheckResult>, CheckError> {
    let planned = plan(files, &options.select)?;
    let tables = export::lake_tables(&options.lake)?;
    // A folder without tables is not a lake (a mistyped --lake): say so rather than report every
    // expectation as one that could not run and record that in the folder.
    if tables.is_empty() {
        return Err(ExportError::EmptyLake(options.lake.clone()).into());
    }
    let io = DeltaIo::new().map_err(ExportError::from)?;
    let mut context = export::tables::sql_context(&io, &tables)?;
    let mut results = Vec::with_capacity(planned.len());
    for check in planned {
        let outcome = evaluate_one(&check, &tables, &mut context, options.as_of);
        let (status, finding) = match outcome {
            Ok(finding) => (
                match finding.verdict {
                    Verdict::Pass => "pass",
                    Verdict::Fail => "fail",
                    Verdict::Skip => "skip",
                },
                finding,
            ),
            Err(EvalError(message)) => (
                "error",
                evaluate::Finding {
                    verdict: Verdict::Skip,
                    observed: message,
                    expected: String::new(),
                    failing_rows: None,
                    metric: None,
                },
            ),
        };
        tracing::debug!(check = %check.name, status, observed = %finding.observed, "expectation evaluated");
        results.push(CheckResult {
            check: check.name,
            table: check.table.to_string(),
            kind: check.spec.kind.name(),
            column: check.spec.kind.column(),
            severity: check.spec.severity,
            status,
            observed: finding.observed,
            expected: finding.expected,
            failing_rows: finding.failing_rows,
            metric: finding.metric,
            description: check.spec.description.clone(),
        });
    }
    Ok(results)
}

fn evaluate_one(
    check: &Planned<'_>,
    tables: &[LakeTable],
    context: &mut polars::sql::SQLContext,
    as_of: DateTime<Utc>,
) -> Result<evaluate::Finding, EvalError> {
    let table = tables.iter().find(|t| t.name == check.table).ok_or_else(|| {
        EvalError(format!(
            "no table {:?} in the lake (its tables: {})",
            check.table,
            tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let mut statement = format!("SELECT * FROM {}", table.relation());
    if let Some(filter) = check.spec.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        statement = format!("{statement} WHERE {filter}");
    }
    let frame = context.execute(&statement)?;
    let mut target = Target {
        table,
        frame,
        context,
        tables,
        as_of,
    };
    evaluate::evaluate(&check.spec.kind, &mut target)
}

/// How a run ends: an expectation that could not run is an error (2), a failing `error`
/// expectation is a problem found (1); warnings and skips leave it at 0.
pub fn outcome(results: &[CheckResult]) -> crate::exit::Outcome {
    use crate::exit::Outcome;
    if results.iter().any(|r| r.status == "error") {
        Outcome::Error
    } else if results.iter().any(|r| r.status == "fail" && r.severity == Severity::Error) {
        Outcome::Problems
    } else {
        Outcome::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(yaml: &str) -> Vec<(String, CheckFile)> {
        vec![("t.yml".into(), serde_norway::from_str(yaml).expect("test input is valid"))]
    }

    #[test]
    fn expectations_are_named_and_selected() {
        let files = files(
            "tables:\n  - table: silver/postings\n    expectations:\n      - not_null: { column: title }\n      - row_count: { min: 1 }\n        name: has_rows\n  - table: gold/fct_postings\n    expectations:\n      - unique: { columns: [posting_key] }\n",
        );
        let names = |select: &[&str]| -> Vec<String> {
            plan(&files, &select.iter().map(|s| (*s).to_string()).collect::<Vec<_>>())
                .expect("test input is valid")
                .into_iter()
                .map(|p| p.name)
                .collect()
        };
        assert_eq!(
            names(&[]),
            ["silver/postings.not_null.title", "has_rows", "gold/fct_postings.unique.posting_key"]
        );
        assert_eq!(names(&["silver/postings"]), ["silver/postings.not_null.title", "has_rows"]);
        assert_eq!(
            names(&["*unique*", "has_rows"]),
            ["has_rows", "gold/fct_postings.unique.posting_key"]
        );
        assert!(matches!(
            plan(&files, &["nothing".to_string()]),
            Err(CheckError::NothingSelected(_))
        ));
    }

    #[test]
    fn two_expectations_with_one_name_are_refused() {
        let files =
            files("tables:\n  - table: t\n    expectations:\n      - range: { column: a, min: 0 }\n      - range: { column: a, max: 9 }\n");
        assert!(matches!(plan(&files, &[]), Err(CheckError::DuplicateName(n)) if n == "t.range.a"));
    }

    #[test]
    fn globs() {
        assert!(glob("salary*", "salary_range"));
        assert!(glob("*range*", "silver/postings.range.salary"));
        assert!(glob("a*b*c", "a-x-b-y-c"));
        assert!(!glob("a*b*c", "a-x-c-y-b"));
        assert!(!glob("salary", "salary_range"));
    }

    #[test]
    fn the_run_ends_by_its_worst_result() {
        use crate::exit::Outcome;
        let result = |status: &'static str, severity| CheckResult {
            check: "c".into(),
            table: "t".into(),
            kind: "range",
            column: None,
            severity,
            status,
            observed: String::new(),
            expected: String::new(),
            failing_rows: None,
            metric: None,
            description: None,
        };
        assert_eq!(
            outcome(&[result("pass", Severity::Error), result("fail", Severity::Warn)]),
            Outcome::Success
        );
        assert_eq!(
            outcome(&[result("skip", Severity::Error), result("fail", Severity::Error)]),
            Outcome::Problems
        );
        assert_eq!(
            outcome(&[result("fail", Severity::Error), result("error", Severity::Warn)]),
            Outcome::Error
        );
    }

    #[test]
    fn the_built_in_checks_parse() {
        let loaded = CheckSource::BuiltIn.load().expect("test input is valid");
        assert!(!loaded.is_empty());
        plan(&loaded, &[]).expect("unique names");
    }
}
