//! Rendering a model's Jinja into SQL with dbt's context: `ref`, `source`, `config`, `var`,
//! `env_var`, `is_incremental()`, `this` and `target`, and every macro of the project. The
//! template renders with strict undefined, so a misspelt variable is an error, never an empty
//! string. Every `ref` and `source` call is recorded with its line, so the DAG is known (and
//! checked) from the rendering alone.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use minijinja::value::{Kwargs, Serde, Value};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};
use regex::Regex;

use super::TransformError;
use super::project::{Project, SqlFile};

/// What a model depends on, and where it says so.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reference {
    Ref { name: String, line: usize },
    Source { source: String, table: String, line: usize },
}

/// A rendered model.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub sql: String,
    pub references: Vec<Reference>,
    /// `config(...)` calls, in order (later keys win).
    pub config: BTreeMap<String, serde_json::Value>,
}

/// The per-render inputs that differ between parsing and running.
#[derive(Debug, Clone)]
pub struct RenderInputs {
    /// The value of `is_incremental()`.
    pub incremental: bool,
    /// `var()` values: the project's vars overridden by `--vars`.
    pub vars: BTreeMap<String, serde_json::Value>,
}

/// The relation name a model is queried by (also the Polars SQL table name).
pub fn model_relation(name: &str) -> String {
    name.to_string()
}

/// The relation name of a source table.
pub fn source_relation(source: &str, table: &str) -> String {
    format!("{source}__{table}")
}

#[derive(Default)]
struct Recorded {
    references: Vec<(Reference, usize)>,
    config: BTreeMap<String, serde_json::Value>,
}

/// Renders `file` with the project's macros.
pub fn render(project: &Project, file: &SqlFile, inputs: &RenderInputs) -> Result<Rendered, TransformError> {
    let recorded = Arc::new(Mutex::new(Recorded::default()));
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Errors name the undefined variable in release builds too (minijinja keeps that for
    // debug builds by default).
    env.set_debug(true);
    let mut imports = String::new();
    for macro_file in &project.macros {
        env.add_template_owned(macro_file.path.clone(), macro_file.sql.clone())
            .map_err(|e| template_error(&macro_file.path, &e))?;
        let names = macro_names(&macro_file.sql);
        if !names.is_empty() {
            // On the model's first line, so the model's line numbers stay its own.
            let _ = write!(imports, "{{% from {:?} import {} %}}", macro_file.path, names.join(", "));
        }
    }
    let calls = Arc::clone(&recorded);
    env.add_function("ref", move |name: String| -> Result<Value, Error> {
        lock(&calls).references.push((
            Reference::Ref {
                name: name.clone(),
                line: 0,
            },
            0,
        ));
        Ok(Value::from(model_relation(&name)))
    });
    let calls = Arc::clone(&recorded);
    env.add_function("source", move |source: String, table: String| -> Result<Value, Error> {
        let relation = source_relation(&source, &table);
        lock(&calls).references.push((Reference::Source { source, table, line: 0 }, 0));
        Ok(Value::from(relation))
    });
    let calls = Arc::clone(&recorded);
    env.add_function("config", move |kwargs: Kwargs| -> Result<Value, Error> {
        let mut recorded = lock(&calls);
        for key in kwargs.args() {
            let value: Value = kwargs.get(key)?;
            let json = serde_json::to_value(&value).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
            recorded.config.insert(key.to_string(), json);
        }
        Ok(Value::from(""))
    });
    let vars = inputs.vars.clone();
    env.add_function("var", move |name: String, default: Option<Value>| -> Result<Value, Error> {
        match (vars.get(&name), default) {
            (Some(value), _) => Ok(Value::from(Serde(value))),
            (None, Some(default)) => Ok(default),
            (None, None) => Err(Error::new(
                ErrorKind::UndefinedError,
                format!("var('{name}') is not defined in dbt_project.yml vars or --vars, and has no default"),
            )),
        }
    });
    env.add_function("env_var", |name: String, default: Option<String>| -> Result<Value, Error> {
        std::env::var(&name).ok().or(default).map(Value::from).ok_or_else(|| {
            Error::new(
                ErrorKind::UndefinedError,
                format!("env_var('{name}') is not set and has no default"),
            )
        })
    });
    let incremental = inputs.incremental;
    env.add_function("is_incremental", move || incremental);
    env.add_global("this", Value::from(model_relation(&file.name)));
    env.add_global(
        "target",
        Value::from(Serde(serde_json::json!({"name": "rats", "type": "polars", "schema": "gold"}))),
    );

    let source = format!("{imports}{}", file.sql);
    let sql = env
        .render_named_str(&file.path, &source, ())
        .map_err(|e| template_error(&file.path, &e))?;
    let recorded = std::mem::take(&mut *lock(&recorded));
    Ok(Rendered {
        sql,
        references: with_lines(&file.sql, recorded.references.into_iter().map(|(r, _)| r).collect()),
        config: recorded.config,
    })
}

fn lock(recorded: &Mutex<Recorded>) -> std::sync::MutexGuard<'_, Recorded> {
    recorded.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A template error as the user needs it: the file and line, what went wrong.
fn template_error(path: &str, error: &Error) -> TransformError {
    let file = error.name().unwrap_or(path).to_string();
    let mut message = error.detail().map_or_else(|| error.kind().to_string(), ToString::to_string);
    if error.kind() == ErrorKind::UndefinedError && error.detail().is_none() {
        message = "undefined value (templates render with strict undefined)".into();
    }
    TransformError::Template {
        path: file,
        line: error.line().unwrap_or(0),
        message,
    }
}

/// The names of the macros a file defines.
fn macro_names(text: &str) -> Vec<String> {
    let pattern = Regex::new(r"\{%-?\s*macro\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(").expect("valid regex");
    pattern.captures_iter(text).map(|c| c[1].to_string()).collect()
}

/// Gives each recorded call the line of its first unclaimed occurrence in the raw template
/// (rendering does not report where a function was called from).
fn with_lines(text: &str, references: Vec<Reference>) -> Vec<Reference> {
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut claimed: Vec<usize> = Vec::new();
    let mut find = |pattern: &Regex| -> usize {
        for m in pattern.find_iter(text) {
            if !claimed.contains(&m.start()) {
                claimed.push(m.start());
                return line_of(m.start());
            }
        }
        0
    };
    let quoted = |s: &str| format!(r#"['"]{}['"]"#, regex::escape(s));
    references
        .into_iter()
        .map(|reference| match reference {
            Reference::Ref { name, .. } => {
                let pattern = Regex::new(&format!(r"\bref\s*\(\s*{}\s*\)", quoted(&name))).expect("escaped regex");
                let line = find(&pattern);
                Reference::Ref { name, line }
            }
            Reference::Source { source, table, .. } => {
                let pattern =
                    Regex::new(&format!(r"\bsource\s*\(\s*{}\s*,\s*{}\s*\)", quoted(&source), quoted(&table))).expect("escaped regex");
                let line = find(&pattern);
                Reference::Source { source, table, line }
            }
        })
        .collect()
}
