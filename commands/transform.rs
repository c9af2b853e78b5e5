//! `rats transform run|test|build|compile|ls`: the project and selection from the flags, the
//! lake from the settings, results as a table like dbt's.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use anyhow::Context;
use rats::bundled;
use rats::exit::Outcome;
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};
use rats::transform::datatests::{self, TestResult};
use rats::transform::project::ProjectSource;
use rats::transform::{ModelResult, Transform, TransformOptions};

use crate::cli::{TransformArgs, TransformCommand};

impl TransformCommand {
    /// The lake and project flags; `init` has none.
    pub fn args(&self) -> Option<&TransformArgs> {
        match self {
            TransformCommand::Run(a)
            | TransformCommand::Test(a)
            | TransformCommand::Build(a)
            | TransformCommand::Compile(a)
            | TransformCommand::Ls(a)
            | TransformCommand::Docs(a) => Some(a),
            TransformCommand::Init(_) => None,
        }
    }
}

pub fn run(command: &TransformCommand, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let print = |report: &Report| -> anyhow::Result<()> {
        if !(quiet && settings.format.value == OutputFormat::Table) {
            output::write(&mut std::io::stdout().lock(), settings.format.value, report)?;
        }
        Ok(())
    };
    let load = |args: &TransformArgs| -> anyhow::Result<Transform> {
        let vars: BTreeMap<String, serde_json::Value> = match &args.vars {
            Some(text) => serde_norway::from_str(text).with_context(|| format!("--vars is not a YAML map: {text}"))?,
            None => BTreeMap::new(),
        };
        let project = ProjectSource::resolve(args.project.as_deref());
        tracing::debug!(%project, "warehouse project");
        let options = TransformOptions {
            project: project.clone(),
            lake: settings.lake.value.clone(),
            select: args.select.clone(),
            exclude: args.exclude.clone(),
            full_refresh: args.full_refresh,
            vars,
        };
        Transform::load(options).with_context(|| match &project {
            ProjectSource::Folder(dir) => format!("cannot load the project in {}", dir.display()),
            ProjectSource::BuiltIn => format!("cannot load {project}"),
        })
    };
    match command {
        TransformCommand::Init(init) => {
            let written = bundled::WAREHOUSE.write_to(&init.dir, init.force)?;
            print(&Report {
                header: vec!["written".into()],
                rows: written.iter().map(|p| vec![p.display().to_string()]).collect(),
                json: serde_json::json!({"project": init.dir, "written": written}),
            })?;
            Ok(Outcome::Success)
        }
        TransformCommand::Ls(args) => {
            let transform = load(args)?;
            print(&list(&transform)?)?;
            Ok(Outcome::Success)
        }
        TransformCommand::Docs(args) => {
            let transform = load(args)?;
            let page = transform.docs()?;
            print(&Report {
                header: vec!["docs".into()],
                rows: vec![vec![page.display().to_string()]],
                json: serde_json::json!({"docs": page}),
            })?;
            Ok(Outcome::Success)
        }
        TransformCommand::Compile(args) => {
            let transform = load(args)?;
            let compiled = transform.compile()?;
            let rows = compiled
                .iter()
                .map(|c| vec![c.model.clone(), c.materialization.to_string(), c.path.clone()])
                .collect();
            print(&Report {
                header: vec!["model".into(), "materialized".into(), "path".into()],
                rows,
                json: serde_json::to_value(&compiled)?,
            })?;
            Ok(Outcome::Success)
        }
        TransformCommand::Run(args) => {
            let mut transform = load(args)?;
            let results = run_models(&mut transform, quiet)?;
            crate::unless_reader_stopped(print(&models_report(&results)))?;
            Ok(models_outcome(&results))
        }
        TransformCommand::Test(args) => {
            let mut transform = load(args)?;
            transform.register_all()?;
            let tests = datatests::collect(&transform)?;
            let results = datatests::run(&mut transform, &tests);
            crate::unless_reader_stopped(print(&tests_report(&results)))?;
            Ok(tests_outcome(&results))
        }
        TransformCommand::Build(args) => {
            let mut transform = load(args)?;
            let models = run_models(&mut transform, quiet)?;
            let tests = datatests::collect(&transform)?;
            let results = datatests::run(&mut transform, &tests);
            let printed = if settings.format.value == OutputFormat::Json {
                print(&Report {
                    header: Vec::new(),
                    rows: Vec::new(),
                    json: serde_json::json!({"models": models, "tests": results}),
                })
            } else {
                print(&models_report(&models)).and_then(|()| print(&tests_report(&results)))
            };
            crate::unless_reader_stopped(printed)?;
            Ok(match models_outcome(&models) {
                Outcome::Success => tests_outcome(&results),
                other => other,
            })
        }
    }
}

/// Runs the models; on a terminal (without --quiet) each finished model gets a line on stderr,
/// as dbt prints them, before the result table.
fn run_models(transform: &mut Transform, quiet: bool) -> anyhow::Result<Vec<ModelResult>> {
    let total = transform.selected()?.len();
    let live = !quiet && std::io::stderr().is_terminal();
    let mut done = 0;
    Ok(transform.run(|result| {
        done += 1;
        let rows = result.rows.map_or_else(|| "-".to_string(), |r| r.to_string());
        if live {
            note!(
                "{done:>3} of {total} {:<7} {:<11} {:<40} {rows:>9} rows {:>7.2}s",
                result.status.to_uppercase(),
                result.materialization,
                result.model,
                result.seconds
            );
        }
        tracing::info!(model = %result.model, materialized = result.materialization, rows, seconds = format!("{:.2}", result.seconds), status = result.status, "model finished");
        if let Some(message) = &result.message {
            tracing::error!(model = %result.model, "{message}");
        }
    })?)
}

/// A failed model is an error (2); skipped ones follow from it.
fn models_outcome(results: &[ModelResult]) -> Outcome {
    if results.iter().any(|r| r.status == "error") {
        Outcome::Error
    } else {
        Outcome::Success
    }
}

/// Failing tests are problems found (1); a test that could not run is an error (2).
fn tests_outcome(results: &[TestResult]) -> Outcome {
    if results.iter().any(|r| r.status == "error") {
        Outcome::Error
    } else if results.iter().any(|r| r.status == "fail") {
        Outcome::Problems
    } else {
        Outcome::Success
    }
}

fn models_report(results: &[ModelResult]) -> Report {
    let rows = results
        .iter()
        .map(|r| {
            vec![
                r.model.clone(),
                r.materialization.to_string(),
                r.rows.map_or_else(String::new, |n| n.to_string()),
                format!("{:.2}", r.seconds),
                r.status.to_string(),
            ]
        })
        .collect();
    Report {
        header: ["model", "materialized", "rows", "seconds", "status"].map(String::from).to_vec(),
        rows,
        json: serde_json::to_value(results).unwrap_or_default(),
    }
}

fn tests_report(results: &[TestResult]) -> Report {
    let rows = results
        .iter()
        .map(|r| vec![r.test.clone(), r.on.clone(), r.failures.to_string(), r.status.to_string()])
        .collect();
    Report {
        header: ["test", "on", "failures", "status"].map(String::from).to_vec(),
        rows,
        json: serde_json::to_value(results).unwrap_or_default(),
    }
}

fn list(transform: &Transform) -> anyhow::Result<Report> {
    let nodes = transform.selected()?;
    let rows = nodes
        .iter()
        .map(|n| {
            vec![
                n.name().to_string(),
                n.materialization.as_str().to_string(),
                n.tags.iter().cloned().collect::<Vec<_>>().join(" "),
                n.depends_on
                    .iter()
                    .cloned()
                    .chain(n.sources.iter().map(|(s, t)| format!("source:{s}.{t}")))
                    .collect::<Vec<_>>()
                    .join(" "),
                n.file.path.clone(),
            ]
        })
        .collect();
    let json: Vec<serde_json::Value> = nodes
        .iter()
        .map(|n| {
            serde_json::json!({
                "model": n.name(),
                "materialized": n.materialization.as_str(),
                "tags": n.tags,
                "depends_on": n.depends_on,
                "sources": n.sources.iter().map(|(s, t)| format!("{s}.{t}")).collect::<Vec<_>>(),
                "path": n.file.path,
            })
        })
        .collect();
    Ok(Report {
        header: ["model", "materialized", "tags", "depends on", "path"].map(String::from).to_vec(),
        rows,
        json: serde_json::Value::Array(json),
    })
}
