//! Running the graph: every model's SQL is rendered for the moment (`is_incremental()` true
//! only when its table exists and no full refresh is asked for) and planned by Polars SQL
//! against the relations registered so far. Views and ephemeral models stay lazy and are
//! inlined where they are read; table and incremental models are collected and written to
//! `LAKE/gold/<model>` as Delta tables.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

use polars::prelude::*;
use polars::sql::SQLContext;
use serde::Serialize;

use super::TransformError;
use super::dag::{Dag, Materialization, Node};
use super::delta::DeltaIo;
use super::project::{Project, ProjectSource};
use super::render::{self, RenderInputs, model_relation, source_relation};
use super::select;
use super::snapshot::{self, SnapshotConfig};

/// What to run, and where.
#[derive(Debug, Clone)]
pub struct TransformOptions {
    pub project: ProjectSource,
    pub lake: PathBuf,
    pub select: Vec<String>,
    pub exclude: Vec<String>,
    /// Rebuild incremental models from scratch.
    pub full_refresh: bool,
    /// `--vars`, over the project's vars.
    pub vars: BTreeMap<String, serde_json::Value>,
}

/// One model's outcome, as dbt reports it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    pub model: String,
    pub materialization: &'static str,
    /// Rows written (table, incremental); none for lazy models.
    pub rows: Option<usize>,
    pub seconds: f64,
    /// `ok`, `error` or `skipped` (an upstream model failed).
    pub status: &'static str,
    pub message: Option<String>,
}

/// A model's SQL as it runs now.
#[derive(Debug, Clone, Serialize)]
pub struct Compiled {
    pub model: String,
    pub path: String,
    pub materialization: &'static str,
    pub sql: String,
}

/// A loaded, checked project bound to a lake.
pub struct Transform {
    pub project: Project,
    pub dag: Dag,
    options: TransformOptions,
    vars: BTreeMap<String, serde_json::Value>,
    io: DeltaIo,
    context: SQLContext,
}

impl Transform {
    /// Reads the project and checks its graph; no SQL runs yet.
    pub fn load(options: TransformOptions) -> Result<Self, TransformError> {
        let project = Project::load(&options.project)?;
        let mut vars = project.file.vars.clone();
        vars.extend(options.vars.clone());
        let dag = Dag::build(&project, &vars)?;
        Ok(Transform {
            project,
            dag,
            options,
            vars,
            io: DeltaIo::new()?,
            context: SQLContext::new(),
        })
    }

    /// `var()` values: the project's vars overridden by `--vars`.
    pub fn vars(&self) -> &BTreeMap<String, serde_json::Value> {
        &self.vars
    }

    /// The selected nodes, in run order.
    pub fn selected(&self) -> Result<Vec<&Node>, TransformError> {
        let names = select::select(&self.dag, &self.options.select, &self.options.exclude)?;
        Ok(self.dag.nodes.iter().filter(|n| names.contains(n.name())).collect())
    }

    /// Where model `name`'s table lives.
    pub fn table_path(&self, name: &str) -> PathBuf {
        self.options.lake.join("gold").join(name)
    }

    /// Where compiled SQL and the docs site go: `target/` in a project folder, `LAKE/_transform/`
    /// for the built-in project (the binary's copy cannot be written to, the lake can).
    pub fn target_dir(&self) -> PathBuf {
        match &self.project.source {
            ProjectSource::Folder(root) => root.join("target"),
            ProjectSource::BuiltIn => self.options.lake.join("_transform"),
        }
    }

    /// Renders the selected models as they would run now and writes each under
    /// `compiled/<project>/<path>` in the [target folder](Self::target_dir).
    pub fn compile(&self) -> Result<Vec<Compiled>, TransformError> {
        let mut compiled = Vec::new();
        for node in self.selected()? {
            let sql = render::render(&self.project, &node.file, &self.inputs(node))?.sql;
            let out = self
                .target_dir()
                .join("compiled")
                .join(&self.project.file.name)
                .join(&node.file.path);
            if let Some(dir) = out.parent() {
                std::fs::create_dir_all(dir).map_err(|source| TransformError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
            std::fs::write(&out, &sql).map_err(|source| TransformError::Io { path: out.clone(), source })?;
            compiled.push(Compiled {
                model: node.name().to_string(),
                path: node.file.path.clone(),
                materialization: node.materialization.as_str(),
                sql,
            });
        }
        Ok(compiled)
    }

    /// Writes the documentation site (`index.html`, one self-contained page) into `docs/` in the
    /// [target folder](Self::target_dir), and returns its path.
    pub fn docs(&self) -> Result<PathBuf, TransformError> {
        let dir = self.target_dir().join("docs");
        std::fs::create_dir_all(&dir).map_err(|source| TransformError::Io { path: dir.clone(), source })?;
        let page = dir.join("index.html");
        std::fs::write(&page, super::docs::page(&self.project, &self.dag)).map_err(|source| TransformError::Io {
            path: page.clone(),
            source,
        })?;
        Ok(page)
    }

    /// Runs the selected models in graph order; `report` sees each result as it comes. A failed
    /// model skips the models downstream of it; the others still run.
    pub fn run(&mut self, mut report: impl FnMut(&ModelResult)) -> Result<Vec<ModelResult>, TransformError> {
        let selected: BTreeSet<String> = self.selected()?.iter().map(|n| n.name().to_string()).collect();
        self.register_sources()?;
        let mut failed: BTreeSet<String> = BTreeSet::new();
        let mut results = Vec::new();
        let nodes = self.dag.nodes.clone();
        for node in &nodes {
            let upstream_failed = node.depends_on.iter().any(|d| failed.contains(d));
            if !selected.contains(node.name()) {
                // Not run, but what it would be must be readable by the models that are.
                if !upstream_failed && let Err(e) = self.register_existing(node) {
                    tracing::debug!(model = node.name(), error = %e, "unselected model not available");
                }
                continue;
            }
            let started = Instant::now();
            let result = if upstream_failed {
                failed.insert(node.name().to_string());
                ModelResult {
                    model: node.name().to_string(),
                    materialization: node.materialization.as_str(),
                    rows: None,
                    seconds: 0.0,
                    status: "skipped",
                    message: Some("an upstream model failed".into()),
                }
            } else {
                match self.run_node(node) {
                    Ok(rows) => ModelResult {
                        model: node.name().to_string(),
                        materialization: node.materialization.as_str(),
                        rows,
                        seconds: started.elapsed().as_secs_f64(),
                        status: "ok",
                        message: None,
                    },
                    Err(e) => {
                        failed.insert(node.name().to_string());
                        ModelResult {
                            model: node.name().to_string(),
                            materialization: node.materialization.as_str(),
                            rows: None,
                            seconds: started.elapsed().as_secs_f64(),
                            status: "error",
                            message: Some(e.to_string()),
                        }
                    }
                }
            };
            report(&result);
            results.push(result);
        }
        Ok(results)
    }

    /// Every relation the project can read, registered for queries outside a run (tests).
    pub fn register_all(&mut self) -> Result<(), TransformError> {
        self.register_sources()?;
        let nodes = self.dag.nodes.clone();
        for node in &nodes {
            self.register_existing(node)?;
        }
        Ok(())
    }

    /// Plans `sql` against the registered relations.
    pub fn query(&mut self, sql: &str) -> PolarsResult<LazyFrame> {
        self.context.execute(sql)
    }

    fn inputs(&self, node: &Node) -> RenderInputs {
        RenderInputs {
            incremental: node.materialization == Materialization::Incremental
                && !self.options.full_refresh
                && DeltaIo::exists(&self.table_path(node.name())),
            vars: self.vars.clone(),
        }
    }

    /// Registers every source table some model reads (`LAKE/<source>/<table>`).
    fn register_sources(&mut self) -> Result<(), TransformError> {
        let used: BTreeSet<(String, String)> = self.dag.nodes.iter().flat_map(|n| n.sources.iter().cloned()).collect();
        for (source, table) in used {
            let path = self.options.lake.join(&source).join(&table);
            if !DeltaIo::exists(&path) {
                return Err(TransformError::Engine {
                    model: source_relation(&source, &table),
                    message: format!("source table {} does not exist (run rats consume first)", path.display()),
                });
            }
            let frame = self.io.scan(&path)?;
            self.context.register(&source_relation(&source, &table), frame);
        }
        Ok(())
    }

    /// Registers a model without running it: its stored table, or its lazy plan.
    fn register_existing(&mut self, node: &Node) -> Result<(), TransformError> {
        if node.materialization.is_stored() {
            let path = self.table_path(node.name());
            if DeltaIo::exists(&path) {
                let frame = self.io.scan(&path)?;
                self.context.register(&model_relation(node.name()), frame);
            }
            Ok(())
        } else {
            self.run_node(node).map(|_| ())
        }
    }

    /// Runs one model; the rows written for stored models.
    fn run_node(&mut self, node: &Node) -> Result<Option<usize>, TransformError> {
        let inputs = self.inputs(node);
        let path = self.table_path(node.name());
        if inputs.incremental {
            // `{{ this }}` reads the model's own table.
            let existing = self.io.scan(&path)?;
            self.context.register(&model_relation(node.name()), existing);
        }
        let sql = render::render(&self.project, &node.file, &inputs)?.sql;
        let engine_error = |e: PolarsError| TransformError::Engine {
            model: node.name().to_string(),
            message: format!("{} ({})", polars_message(&e), node.file.path),
        };
        let frame = self.context.execute(&sql).map_err(engine_error)?;
        let metadata = |rows: usize| {
            serde_json::json!({"rats.operation": "transform", "rats.model": node.name(), "rats.rows": rows})
                .as_object()
                .cloned()
                .unwrap_or_default()
        };
        match node.materialization {
            Materialization::View | Materialization::Ephemeral => {
                self.context.register(&model_relation(node.name()), frame);
                Ok(None)
            }
            Materialization::Table => {
                let rows = frame.collect().map_err(engine_error)?;
                let count = rows.height();
                self.io.write(&path, rows, true, metadata(count))?;
                self.context.register(&model_relation(node.name()), self.io.scan(&path)?);
                Ok(Some(count))
            }
            Materialization::Incremental => {
                let new_rows = frame.collect().map_err(engine_error)?;
                let count = new_rows.height();
                if !inputs.incremental {
                    self.io.write(&path, new_rows, true, metadata(count))?;
                } else if count == 0 {
                    // Nothing new: the table stays as it is (no empty commit).
                } else if let Some(key) = unique_key(node) {
                    let merged = merge_on_key(self.io.scan(&path)?, new_rows, &key).map_err(engine_error)?;
                    self.io.write(&path, merged, true, metadata(count))?;
                } else {
                    self.io.write(&path, new_rows, false, metadata(count))?;
                }
                self.context.register(&model_relation(node.name()), self.io.scan(&path)?);
                Ok(Some(count))
            }
            Materialization::Snapshot => {
                let config = SnapshotConfig::of(node).map_err(|message| TransformError::Config {
                    path: node.file.path.clone(),
                    message,
                })?;
                let current = frame.collect().map_err(engine_error)?;
                let existing = if DeltaIo::exists(&path) {
                    Some(self.io.scan(&path)?.collect().map_err(engine_error)?)
                } else {
                    None
                };
                if let Some(table) = &existing
                    && table.column("dbt_valid_to").is_err()
                {
                    return Err(TransformError::Engine {
                        model: node.name().to_string(),
                        message: format!(
                            "{} holds no snapshot (it has no dbt_valid_to column, so another materialisation wrote it); move it away to start the snapshot",
                            path.display()
                        ),
                    });
                }
                let before = existing.as_ref().map_or(0, DataFrame::height);
                let now = chrono::Utc::now().timestamp_micros();
                let mut opened = 0;
                if let Some(snapshot) = snapshot::apply(&config, current, existing, now).map_err(engine_error)? {
                    opened = snapshot.height() - before;
                    self.io.write(&path, snapshot, true, metadata(opened))?;
                }
                self.context.register(&model_relation(node.name()), self.io.scan(&path)?);
                Ok(Some(opened))
            }
        }
    }
}

/// Polars' error without the query plan it appends (which can run to pages).
pub fn polars_message(error: &PolarsError) -> String {
    let text = error.to_string();
    text.split("\n\nResolved plan until failure")
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// A user's condition (`--where`) as the WHERE clause of a query rats builds around it: in
/// parentheses, so what rats appends (`ORDER BY …`) cannot be read as part of an unfinished
/// condition ("found: BY").
pub fn where_clause(condition: &str) -> String {
    format!(" WHERE ({condition})")
}

/// [`polars_message`] about a query rats built around a user's condition, without the SQL
/// parser's "at Line: 1, Column: N": it counts in rats' query, which the user never wrote.
pub fn built_query_message(error: &PolarsError) -> String {
    static POSITION: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r" at Line: \d+, Column: \d+").expect("valid regex"));
    POSITION.replace_all(&polars_message(error), "").into_owned()
}

/// `unique_key` as a list of columns (dbt accepts a name or a list).
fn unique_key(node: &Node) -> Option<Vec<String>> {
    match node.config.get("unique_key")? {
        serde_json::Value::String(s) => Some(vec![s.clone()]),
        serde_json::Value::Array(values) => Some(values.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()),
        _ => None,
    }
}

/// The existing rows whose key is not among the new rows', then the new rows: dbt's merge on
/// `unique_key` (new versions replace old ones, new keys are added).
fn merge_on_key(existing: LazyFrame, new_rows: DataFrame, key: &[String]) -> PolarsResult<DataFrame> {
    let on: Vec<Expr> = key.iter().map(|k| col(k.as_str())).collect();
    let kept = existing.join(
        new_rows.clone().lazy().select(on.clone()),
        on.clone(),
        on,
        JoinArgs::new(JoinType::Anti),
    );
    let columns: Vec<Expr> = new_rows.get_column_names().iter().map(|c| col(c.as_str())).collect();
    concat([kept.select(columns), new_rows.lazy()], UnionArgs::default())?.collect()
}
