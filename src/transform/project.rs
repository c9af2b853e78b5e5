//! A dbt-style project: `dbt_project.yml` (name, paths, vars, folder-level model configs), the
//! models (`*.sql` under the model paths), macros, singular tests and the YAML property files
//! (`sources:` and `models:` with descriptions, columns and tests). Only what rats uses is
//! read; the rest of a dbt project file is accepted and ignored, so the same folder runs under
//! dbt-core. The project is a folder on disk or the RATS warehouse built into the binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::TransformError;
use crate::bundled;

/// Where a project's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectSource {
    /// A folder holding `dbt_project.yml`.
    Folder(PathBuf),
    /// The RATS warehouse compiled into the binary (`sql-models/` of the repository).
    BuiltIn,
}

impl ProjectSource {
    /// The project a command runs: the folder given, else `./sql-models` when it holds a
    /// `dbt_project.yml` (a checkout, or a project written by `rats transform init`), else the
    /// built-in warehouse.
    pub fn resolve(given: Option<&Path>) -> Self {
        match given {
            Some(dir) => ProjectSource::Folder(dir.to_path_buf()),
            None if Path::new(bundled::WAREHOUSE.name).join("dbt_project.yml").is_file() => {
                ProjectSource::Folder(PathBuf::from(bundled::WAREHOUSE.name))
            }
            None => ProjectSource::BuiltIn,
        }
    }

    /// The path of a project file, for messages (`built-in sql-models/...` for the built-in one).
    pub fn path_of(&self, relative: &str) -> PathBuf {
        match self {
            ProjectSource::Folder(root) => root.join(relative),
            ProjectSource::BuiltIn => PathBuf::from(format!("built-in {}/{relative}", bundled::WAREHOUSE.name)),
        }
    }

    fn read(&self, relative: &str) -> Result<String, TransformError> {
        match self {
            ProjectSource::Folder(root) => read(&root.join(relative)),
            ProjectSource::BuiltIn => bundled::WAREHOUSE
                .get(relative)
                .map(str::to_string)
                .ok_or_else(|| TransformError::Io {
                    path: self.path_of(relative),
                    source: std::io::ErrorKind::NotFound.into(),
                }),
        }
    }

    /// The files under folder `dir` of the project (absent is fine: a project may have no
    /// macros or tests), relative to the project with `/` separators, in folder-walk order.
    fn files_under(&self, dir: &str) -> Vec<String> {
        let mut files: Vec<String> = match self {
            ProjectSource::Folder(root) => {
                let mut found = Vec::new();
                walk(root, &root.join(dir), &mut found);
                found
            }
            ProjectSource::BuiltIn => bundled::WAREHOUSE.files_under(dir).map(str::to_string).collect(),
        };
        files.sort_by(|a, b| a.split('/').cmp(b.split('/')));
        files
    }
}

impl std::fmt::Display for ProjectSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProjectSource::Folder(root) => write!(f, "{}", root.display()),
            ProjectSource::BuiltIn => write!(f, "the built-in warehouse project"),
        }
    }
}

/// Every file under `dir`, relative to `root`; an unreadable or absent folder holds none.
fn walk(root: &Path, dir: &Path, into: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        if path.is_dir() {
            walk(root, &path, into);
        } else if let Ok(relative) = path.strip_prefix(root) {
            into.push(
                relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
}

/// `dbt_project.yml`, the parts rats reads.
#[derive(Debug, Clone, Deserialize)]
pub struct ProjectFile {
    pub name: String,
    #[serde(default = "default_model_paths", rename = "model-paths")]
    pub model_paths: Vec<String>,
    #[serde(default = "default_macro_paths", rename = "macro-paths")]
    pub macro_paths: Vec<String>,
    #[serde(default = "default_test_paths", rename = "test-paths")]
    pub test_paths: Vec<String>,
    #[serde(default = "default_snapshot_paths", rename = "snapshot-paths")]
    pub snapshot_paths: Vec<String>,
    #[serde(default)]
    pub vars: BTreeMap<String, serde_json::Value>,
    /// `models: {project_name: {folder: {+materialized: ..., +tags: [...], subfolder: {...}}}}`
    #[serde(default)]
    pub models: serde_json::Value,
}

fn default_model_paths() -> Vec<String> {
    vec!["models".into()]
}
fn default_macro_paths() -> Vec<String> {
    vec!["macros".into()]
}
fn default_test_paths() -> Vec<String> {
    vec!["tests".into()]
}
fn default_snapshot_paths() -> Vec<String> {
    vec!["snapshots".into()]
}

/// A SQL file of the project: a model, a snapshot or a singular test.
#[derive(Debug, Clone)]
pub struct SqlFile {
    /// The file name without `.sql`: the node's name.
    pub name: String,
    /// Relative to the project root, with `/` separators (for `path:` selectors and messages).
    pub path: String,
    /// Folders between the model path and the file (for folder-level configs).
    pub folders: Vec<String>,
    pub sql: String,
}

/// A column as the YAML describes it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ColumnSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, alias = "data_tests")]
    pub tests: Vec<TestSpec>,
}

/// A generic test as written in YAML: `unique`, `not_null`, or a map such as
/// `accepted_values: {values: [...]}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TestSpec {
    Name(String),
    WithArgs(BTreeMap<String, serde_json::Value>),
}

/// A model's properties from YAML.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ModelSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub columns: Vec<ColumnSpec>,
    #[serde(default, alias = "data_tests")]
    pub tests: Vec<TestSpec>,
}

/// A source table from YAML.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SourceTableSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub columns: Vec<ColumnSpec>,
    /// Where rats reads it, relative to the lake (`silver/postings`); dbt adapters use their
    /// own `meta`/`external_location` and ignore this.
    #[serde(default)]
    pub meta: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SourceSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tables: Vec<SourceTableSpec>,
}

/// One YAML property file.
#[derive(Debug, Clone, Default, Deserialize)]
struct PropertiesFile {
    #[serde(default)]
    sources: Vec<SourceSpec>,
    #[serde(default)]
    models: Vec<ModelSpec>,
    #[serde(default)]
    snapshots: Vec<ModelSpec>,
}

/// Everything the project holds, read from disk.
#[derive(Debug, Clone)]
pub struct Project {
    pub source: ProjectSource,
    pub file: ProjectFile,
    pub models: Vec<SqlFile>,
    pub snapshots: Vec<SqlFile>,
    pub singular_tests: Vec<SqlFile>,
    /// Every macro file's text, in path order (they are global to every model).
    pub macros: Vec<SqlFile>,
    pub sources: Vec<SourceSpec>,
    pub model_specs: BTreeMap<String, ModelSpec>,
}

impl Project {
    /// Reads the project `source` holds.
    pub fn load(source: &ProjectSource) -> Result<Self, TransformError> {
        let text = source.read("dbt_project.yml")?;
        let file: ProjectFile = serde_norway::from_str(&text).map_err(|e| TransformError::Yaml {
            path: source.path_of("dbt_project.yml"),
            message: e.to_string(),
        })?;
        let mut models = Vec::new();
        let mut properties = Vec::new();
        for dir in &file.model_paths {
            collect(source, dir, &mut models, &mut properties)?;
        }
        let mut snapshots = Vec::new();
        for dir in &file.snapshot_paths {
            collect(source, dir, &mut snapshots, &mut properties)?;
        }
        for snapshot in &mut snapshots {
            unwrap_snapshot_block(snapshot);
        }
        let mut macros = Vec::new();
        for dir in &file.macro_paths {
            collect(source, dir, &mut macros, &mut Vec::new())?;
        }
        let mut singular_tests = Vec::new();
        for dir in &file.test_paths {
            collect(source, dir, &mut singular_tests, &mut Vec::new())?;
        }
        let mut sources = Vec::new();
        let mut model_specs = BTreeMap::new();
        for path in properties {
            let text = source.read(&path)?;
            let parsed: PropertiesFile = serde_norway::from_str(&text).map_err(|e| TransformError::Yaml {
                path: source.path_of(&path),
                message: e.to_string(),
            })?;
            sources.extend(parsed.sources);
            for spec in parsed.models.into_iter().chain(parsed.snapshots) {
                model_specs.insert(spec.name.clone(), spec);
            }
        }
        let mut seen = BTreeMap::new();
        for node in models.iter().chain(&snapshots) {
            if let Some(first) = seen.insert(node.name.clone(), node.path.clone()) {
                return Err(TransformError::DuplicateName {
                    name: node.name.clone(),
                    first,
                    second: node.path.clone(),
                });
            }
        }
        Ok(Project {
            source: source.clone(),
            file,
            models,
            snapshots,
            singular_tests,
            macros,
            sources,
            model_specs,
        })
    }

    /// The folder-level configs (`+materialized`, `+tags`, …) that apply to a file in
    /// `folders`, the deepest folder winning; tags accumulate.
    pub fn folder_config(&self, folders: &[String]) -> BTreeMap<String, serde_json::Value> {
        let mut config = BTreeMap::new();
        let mut tags: Vec<serde_json::Value> = Vec::new();
        let mut level = &self.file.models[&self.file.name];
        let mut apply = |level: &serde_json::Value| {
            if let Some(map) = level.as_object() {
                for (key, value) in map {
                    if let Some(name) = key.strip_prefix('+') {
                        if name == "tags" {
                            match value {
                                serde_json::Value::Array(values) => tags.extend(values.iter().cloned()),
                                other => tags.push(other.clone()),
                            }
                        } else {
                            config.insert(name.to_string(), value.clone());
                        }
                    }
                }
            }
        };
        apply(level);
        for folder in folders {
            level = &level[folder.as_str()];
            if level.is_null() {
                break;
            }
            apply(level);
        }
        if !tags.is_empty() {
            config.insert("tags".into(), serde_json::Value::Array(tags));
        }
        config
    }
}

/// dbt writes a snapshot inside `{% snapshot name %} … {% endsnapshot %}`; the block names it.
/// The tags are blanked (lines stay where they are) and the name taken from the block.
fn unwrap_snapshot_block(file: &mut SqlFile) {
    let open = regex::Regex::new(r"\{%-?\s*snapshot\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%\}").expect("valid regex");
    let close = regex::Regex::new(r"\{%-?\s*endsnapshot\s*-?%\}").expect("valid regex");
    if let Some(name) = open.captures(&file.sql).map(|c| c[1].to_string()) {
        file.name = name;
    }
    file.sql = close.replace_all(&open.replace_all(&file.sql, ""), "").into_owned();
}

fn read(path: &Path) -> Result<String, TransformError> {
    std::fs::read_to_string(path).map_err(|source| TransformError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Collects the `.sql` files under project folder `dir` (with the folders between `dir` and
/// each file, for folder-level configs) and the paths of its `.yml`/`.yaml` property files.
fn collect(source: &ProjectSource, dir: &str, sql: &mut Vec<SqlFile>, yaml: &mut Vec<String>) -> Result<(), TransformError> {
    let dir = dir.trim_end_matches('/');
    for path in source.files_under(dir) {
        let inside = path.strip_prefix(dir).unwrap_or(&path).trim_start_matches('/');
        let (folders, file_name) = match inside.rsplit_once('/') {
            Some((folders, file_name)) => (folders.split('/').map(str::to_string).collect(), file_name),
            None => (Vec::new(), inside),
        };
        if let Some(name) = file_name.strip_suffix(".sql") {
            sql.push(SqlFile {
                name: name.to_string(),
                sql: source.read(&path)?,
                path,
                folders,
            });
        } else if Path::new(file_name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
        {
            yaml.push(path);
        }
    }
    Ok(())
}
