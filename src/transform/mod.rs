//! `rats transform`: a dbt-style project (SQL + Jinja models, YAML properties and tests) run
//! by Polars SQL over the lake. Models read silver through `source()` and each other through
//! `ref()`; table, incremental and snapshot models land as Delta tables under `LAKE/gold/`.

pub mod dag;
pub mod datatests;
pub mod delta;
mod docs;
pub mod engine;
pub mod project;
pub mod render;
pub mod select;
pub mod snapshot;

use std::path::PathBuf;

pub use engine::{ModelResult, Transform, TransformOptions};

use crate::lake::LakeError;

#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Yaml { path: PathBuf, message: String },
    #[error("{path}:{line}: {message}")]
    Template { path: String, line: usize, message: String },
    #[error("{path}:{line}: ref('{name}') names no model of the project")]
    UnknownRef { path: String, line: usize, name: String },
    #[error("{path}:{line}: source('{source_name}', '{table}') is not declared under sources: in the project's YAML")]
    UnknownSource {
        path: String,
        line: usize,
        source_name: String,
        table: String,
    },
    #[error("the models form a cycle: {path}")]
    Cycle { path: String },
    #[error("{path}: {message}")]
    Config { path: String, message: String },
    #[error("two models are named {name}: {first} and {second}")]
    DuplicateName { name: String, first: String, second: String },
    #[error("selector {selector}: {message}")]
    Selector { selector: String, message: String },
    #[error("model {model}: {message}")]
    Engine { model: String, message: String },
    #[error(transparent)]
    Lake(LakeError),
}
