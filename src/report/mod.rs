//! `rats report`: reports over the lake from minijinja templates — each declares its queries in
//! a front matter (`template`), its body is Markdown or HTML with charts from `reports/charts.yml`
//! (`crate::chart`) — made into Markdown, a styled HTML page or a PDF (`page`, `pdf`), or a mail
//! with the charts inline and the PDF attached (`mail`). The built-in reports (`reports/` of the
//! repository) are compiled into the binary; a folder of the user's adds reports and charts or
//! replaces built-in ones of the same name.

pub mod cron;
pub mod due;
pub mod mail;
pub mod page;
pub mod pdf;
pub mod reads;
pub mod render;
pub mod schedule;
pub mod template;

use std::path::{Path, PathBuf};

use crate::bundled;
use crate::chart::{self, ChartError, ChartSpec};
use template::{BodyKind, Template};

/// The charts file of a reports folder.
pub const CHARTS_FILE: &str = "charts.yml";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{origin}: {message}")]
    Template { origin: String, message: String },
    #[error("no report {name:?}; the reports: {known}")]
    Unknown { name: String, known: String },
    #[error("{origin}: query {query}: {message}")]
    Query { origin: String, query: String, message: String },
    #[error("{0}")]
    Output(String),
    #[error("{path} exists; give --force to replace it")]
    Exists { path: PathBuf },
    #[error(transparent)]
    Chart(#[from] ChartError),
    #[error(transparent)]
    Lake(#[from] crate::export::ExportError),
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
}

/// Where a report comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    User,
    BuiltIn,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::User => "user",
            Origin::BuiltIn => "built-in",
        }
    }
}

/// The reports a command can use: the user's folder (when there is one) over the built-in set.
#[derive(Debug, Clone)]
pub struct Catalog {
    folder: Option<PathBuf>,
}

/// A report the catalog holds, with where it comes from.
#[derive(Debug, Clone)]
pub struct Listed {
    pub template: Template,
    pub origin: Origin,
}

impl Catalog {
    /// The folder given, else `./reports` when it exists, over the built-in reports.
    pub fn resolve(given: Option<&Path>) -> Self {
        let folder = match given {
            Some(dir) => Some(dir.to_path_buf()),
            None => Some(PathBuf::from(bundled::REPORTS.name)).filter(|dir| dir.is_dir()),
        };
        Catalog { folder }
    }

    /// The user's folder, when there is one.
    pub fn folder(&self) -> Option<&Path> {
        self.folder.as_deref()
    }

    /// Every report, the user's first, each name once, in name order.
    pub fn list(&self) -> Result<Vec<Listed>, ReportError> {
        let mut listed: Vec<Listed> = Vec::new();
        if let Some(folder) = &self.folder {
            let entries = std::fs::read_dir(folder).map_err(|source| ReportError::Io {
                path: folder.clone(),
                source,
            })?;
            let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
            paths.sort();
            for path in paths {
                let file = path.file_name().and_then(|f| f.to_str()).unwrap_or_default().to_string();
                let Some((name, kind)) = BodyKind::of_file(&file) else { continue };
                if file.eq_ignore_ascii_case("README.md") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).map_err(|source| ReportError::Io {
                    path: path.clone(),
                    source,
                })?;
                let template = template::parse(name, kind, &path.display().to_string(), &text)?;
                if listed.iter().any(|l| l.template.name == template.name) {
                    return Err(ReportError::Template {
                        origin: path.display().to_string(),
                        message: format!("a second report named {name} (one .md and one .html?)"),
                    });
                }
                listed.push(Listed {
                    template,
                    origin: Origin::User,
                });
            }
        }
        for (file, text) in bundled::REPORTS.files {
            let Some((name, kind)) = BodyKind::of_file(file) else { continue };
            if *file == "README.md" || listed.iter().any(|l| l.template.name == name) {
                continue;
            }
            let template = template::parse(name, kind, &format!("built-in reports/{file}"), text)?;
            listed.push(Listed {
                template,
                origin: Origin::BuiltIn,
            });
        }
        listed.sort_by(|a, b| a.template.name.cmp(&b.template.name));
        Ok(listed)
    }

    /// The report named `name`.
    pub fn template(&self, name: &str) -> Result<Template, ReportError> {
        let mut listed = self.list()?;
        match listed.iter().position(|l| l.template.name == name) {
            Some(at) => Ok(listed.swap_remove(at).template),
            None => Err(ReportError::Unknown {
                name: name.to_string(),
                known: listed.iter().map(|l| l.template.name.as_str()).collect::<Vec<_>>().join(", "),
            }),
        }
    }

    /// The charts: the built-in `charts.yml`, with the user's folder's `charts.yml` over it.
    pub fn charts(&self) -> Result<Vec<ChartSpec>, ReportError> {
        let mut files = Vec::new();
        if let Some(text) = bundled::REPORTS.get(CHARTS_FILE) {
            files.push((format!("built-in reports/{CHARTS_FILE}"), text.to_string()));
        }
        if let Some(path) = self.folder.as_ref().map(|f| f.join(CHARTS_FILE)).filter(|p| p.is_file()) {
            let text = std::fs::read_to_string(&path).map_err(|source| ReportError::Io {
                path: path.clone(),
                source,
            })?;
            files.push((path.display().to_string(), text));
        }
        Ok(chart::merge(&files)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_folder_adds_reports_and_replaces_built_in_ones_of_the_same_name() {
        let dir = tempfile::tempdir().expect("test input is valid");
        let built_in = Catalog { folder: None }.list().expect("the built-in reports parse");
        assert!(built_in.iter().all(|l| l.origin == Origin::BuiltIn) && built_in.len() >= 5);
        let replaced = &built_in[0].template.name;
        std::fs::write(dir.path().join(format!("{replaced}.html")), "---\ntitle: Mine\n---\n<p>mine</p>\n").expect("test input is valid");
        std::fs::write(dir.path().join("extra.md"), "---\ntitle: Extra\n---\n# extra\n").expect("test input is valid");
        std::fs::write(dir.path().join("notes.txt"), "not a report").expect("test input is valid");
        let catalog = Catalog {
            folder: Some(dir.path().to_path_buf()),
        };
        let listed = catalog.list().expect("test input is valid");
        assert_eq!(listed.len(), built_in.len() + 1);
        let mine = catalog.template(replaced).expect("test input is valid");
        assert_eq!((mine.title.as_str(), mine.kind), ("Mine", BodyKind::Html));
        let unknown = catalog.template("nope").expect_err("no such report");
        assert!(unknown.to_string().contains("extra"), "{unknown}");
    }

    #[test]
    fn the_built_in_charts_parse_and_a_users_chart_replaces_one() {
        let dir = tempfile::tempdir().expect("test input is valid");
        let catalog = Catalog {
            folder: Some(dir.path().to_path_buf()),
        };
        let charts = catalog.charts().expect("the built-in charts parse");
        let first = charts[0].name.clone();
        std::fs::write(
            dir.path().join(CHARTS_FILE),
            format!("{first}:\n  title: Mine\n  kind: bars\n  table: t\n  sql: select 1\n  label: a\n  value: b\n"),
        )
        .expect("test input is valid");
        let charts_after = catalog.charts().expect("test input is valid");
        assert_eq!(charts_after.len(), charts.len());
        assert_eq!(chart::find(&charts_after, &first).expect("kept").title, "Mine");
    }
}
