//! `rats export`: a lake table or a query's answer to a file or stdout (see `rats::export`).

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use rats::exit::Outcome;
use rats::export::{self, About, ExportError, ExportFormat, Selection};
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};

use crate::cli::ExportArgs;

pub fn run(args: &ExportArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let lake = &settings.lake.value;
    if args.list {
        let tables = export::lake_tables(lake)?;
        let report = Report {
            header: vec!["table".into(), "sql".into()],
            rows: tables.iter().map(|t| vec![t.name.clone(), t.relation()]).collect(),
            json: serde_json::json!(
                tables
                    .iter()
                    .map(|t| serde_json::json!({"table": t.name, "sql": t.relation()}))
                    .collect::<Vec<_>>()
            ),
        };
        if !(quiet && settings.format.value == OutputFormat::Table) {
            output::write(&mut std::io::stdout().lock(), settings.format.value, &report)?;
        }
        return Ok(Outcome::Success);
    }
    let selection = Selection {
        table: args.table.clone(),
        sql: args.sql.clone(),
        columns: args.columns.clone(),
        filter: args.filter.clone(),
        order_by: args.order_by.clone(),
        limit: args.limit,
    };
    let to_stdout = args.out.as_deref().is_none_or(|p| p == Path::new("-"));
    let format = args
        .to
        .or_else(|| args.out.as_deref().filter(|_| !to_stdout).and_then(ExportFormat::of_path))
        .unwrap_or(ExportFormat::Csv);
    // Refused before any work: an existing file without --force.
    if let Some(out) = args.out.as_deref().filter(|_| !to_stdout)
        && out.exists()
        && !args.force
    {
        return Err(ExportError::Exists { path: out.to_path_buf() }.into());
    }
    let planned = export::plan(lake, &selection)?;
    let (what, statement) = (planned.what.clone(), planned.statement.clone());
    let frames = planned.frames();
    let exported_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let about = About {
        what: &what,
        statement: &statement,
        exported_at: &exported_at,
    };
    let (rows, target) = if to_stdout {
        let stdout = std::io::stdout();
        match export::write_frames(frames, format, BufWriter::new(stdout), Path::new("stdout"), &about) {
            Ok(written) => (written.rows, "stdout".to_string()),
            // The reader went away (`| head`): what it wanted was written.
            Err(ExportError::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Outcome::Success),
            Err(error) => return Err(error.into()),
        }
    } else {
        let out = args.out.clone().unwrap_or_default();
        (write_file(frames, format, &out, &about)?, out.display().to_string())
    };
    if !quiet {
        eprintln!("rats export: {rows} rows of {what} to {target} ({})", format.as_str());
    }
    Ok(Outcome::Success)
}

/// Writes beside the target and renames, so the file is whole or absent.
fn write_file(
    frames: impl Iterator<Item = Result<polars::prelude::DataFrame, ExportError>>,
    format: ExportFormat,
    out: &Path,
    about: &About,
) -> anyhow::Result<usize> {
    let partial = PathBuf::from(format!("{}.partial-{}", out.display(), std::process::id()));
    let io = |source: std::io::Error, path: &Path| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(&partial).map_err(|e| io(e, out))?;
    let written = export::write_frames(frames, format, BufWriter::new(file), out, about).and_then(|written| {
        std::fs::rename(&partial, out).map_err(|e| io(e, out))?;
        Ok(written)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    Ok(written?.rows)
}
