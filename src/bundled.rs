//! Folders of the repository compiled into the binary, so an installed `rats` works from any
//! folder: the warehouse project (`sql-models/`), the data-quality expectations (`checks/`) and the report
//! templates and charts (`reports/`). `build.rs` lists their files; a command
//! uses the copy on disk when the user has one and this one otherwise, and `init`
//! subcommands write it out for users who want to change it.

use std::path::{Path, PathBuf};

mod lists {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

/// One bundled folder: its name in the repository and its files.
#[derive(Debug, Clone, Copy)]
pub struct Bundle {
    /// The folder's name in the repository (`sql-models`), for messages.
    pub name: &'static str,
    /// `(path relative to the folder with / separators, text)`, sorted by path.
    pub files: &'static [(&'static str, &'static str)],
}

/// The RATS warehouse: the dbt-style project `rats transform` runs.
pub const WAREHOUSE: Bundle = Bundle {
    name: "sql-models",
    files: lists::WAREHOUSE_FILES,
};

/// The data-quality expectations `rats check` runs.
pub const CHECKS: Bundle = Bundle {
    name: "checks",
    files: lists::CHECK_FILES,
};

/// The report templates and named charts `rats report` and `rats export chart` use.
pub const REPORTS: Bundle = Bundle {
    name: "reports",
    files: lists::REPORT_FILES,
};

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{path} exists; add --force to overwrite it")]
    Exists { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl Bundle {
    /// The text of the file at `path` (relative, `/`-separated).
    pub fn get(&self, path: &str) -> Option<&'static str> {
        self.files.iter().find(|(p, _)| *p == path).map(|(_, text)| *text)
    }

    /// The paths of the files under folder `dir` (relative, `/`-separated; `""` for all).
    pub fn files_under<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'static str> + 'a {
        let prefix = dir.trim_end_matches('/');
        self.files
            .iter()
            .map(|(path, _)| *path)
            .filter(move |path| prefix.is_empty() || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/')))
    }

    /// Writes every file under `dir`, refusing (before writing anything) when one exists and
    /// `force` is not given. Returns the paths written.
    pub fn write_to(&self, dir: &Path, force: bool) -> Result<Vec<PathBuf>, BundleError> {
        let targets: Vec<(PathBuf, &str)> = self.files.iter().map(|(path, text)| (dir.join(path), *text)).collect();
        if !force && let Some((path, _)) = targets.iter().find(|(path, _)| path.exists()) {
            return Err(BundleError::Exists { path: path.clone() });
        }
        for (path, text) in &targets {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|source| BundleError::Io {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            std::fs::write(path, text).map_err(|source| BundleError::Io {
                path: path.clone(),
                source,
            })?;
        }
        Ok(targets.into_iter().map(|(path, _)| path).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warehouse_bundle_holds_the_repository_project() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql-models");
        let on_disk = std::fs::read_to_string(root.join("dbt_project.yml")).expect("test input is valid");
        assert_eq!(WAREHOUSE.get("dbt_project.yml"), Some(on_disk.as_str()));
        let staging: Vec<_> = WAREHOUSE.files_under("models/staging").collect();
        assert!(staging.contains(&"models/staging/stg_postings.sql"), "{staging:?}");
        assert!(staging.iter().all(|p| p.starts_with("models/staging/")));
        assert!(WAREHOUSE.files_under("models/stag").next().is_none(), "a prefix is not a folder");
        assert!(WAREHOUSE.get(".user.yml").is_none(), "dbt's per-user file is not the project's");
    }

    #[test]
    fn writing_out_refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().expect("test input is valid");
        let written = WAREHOUSE.write_to(dir.path(), false).expect("test input is valid");
        assert_eq!(written.len(), WAREHOUSE.files.len());
        let edited = dir.path().join("dbt_project.yml");
        std::fs::write(&edited, "name: mine\n").expect("test input is valid");
        let refused = WAREHOUSE.write_to(dir.path(), false).expect_err("refused");
        assert!(matches!(refused, BundleError::Exists { .. }), "{refused}");
        assert_eq!(
            std::fs::read_to_string(&edited).expect("test input is valid"),
            "name: mine\n",
            "nothing written on refusal"
        );
        WAREHOUSE.write_to(dir.path(), true).expect("test input is valid");
        assert_eq!(
            std::fs::read_to_string(&edited).expect("test input is valid"),
            WAREHOUSE.get("dbt_project.yml").expect("test input is valid")
        );
    }
}
