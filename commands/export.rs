//! `rats export`: a lake table or a query's answer to a file or stdout (see `rats::export`).

use std::io::BufWriter;
use std::path::Path;

use rats::chart;
use rats::exit::Outcome;
use rats::export::log::ExportRecord;
use rats::export::{self, About, ExportError, ExportFormat, Selection};
use rats::output::{self, Report};
use rats::report::Catalog;
use rats::settings::{OutputFormat, Settings, Source};

use crate::cli::{ChartFormat, ExportArgs, ExportChartArgs, ExportCommand};

pub fn run(args: &ExportArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    if let Some(ExportCommand::Chart(chart)) = &args.command {
        return export_chart(chart, settings, quiet);
    }
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
        columns: rats::comma_items::comma_items(&args.columns),
        filter: args.filter.clone(),
        order_by: rats::comma_items::comma_items(&args.order_by),
        limit: args.limit,
    };
    let to_stdout = args.out.as_deref().is_none_or(|p| p == Path::new("-"));
    // On stdout without --to, an output format the user set (flag, RATS_FORMAT, settings file)
    // is honoured; rats' default there is CSV, not the table other commands print.
    let asked = (to_stdout && args.to.is_none() && settings.format.source != Source::Default).then_some(settings.format.value);
    let as_table = asked == Some(OutputFormat::Table);
    let format = args
        .to
        .or_else(|| args.out.as_deref().filter(|_| !to_stdout).and_then(ExportFormat::of_path))
        .unwrap_or(match asked {
            Some(OutputFormat::Json) => ExportFormat::Json,
            _ => ExportFormat::Csv,
        });
    // Refused before any work: an existing file without --force.
    if let Some(out) = args.out.as_deref().filter(|_| !to_stdout)
        && out.exists()
        && !args.force
    {
        return Err(ExportError::Exists { path: out.to_path_buf() }.into());
    }
    let planned = export::plan(lake, &selection)?;
    let (what, statement, read) = (planned.what.clone(), planned.statement.clone(), planned.read.clone());
    let frames = planned.frames();
    let exported_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let about = About {
        what: &what,
        statement: &statement,
        exported_at: &exported_at,
    };
    let (rows, target) = if as_table {
        let table = export::table::table_of(frames)?;
        if !quiet {
            output::write(&mut std::io::stdout().lock(), OutputFormat::Table, &table)?;
        }
        (table.rows.len(), "stdout".to_string())
    } else if to_stdout {
        let stdout = std::io::stdout();
        match export::write_frames(frames, format, BufWriter::new(stdout), Path::new("stdout"), &about) {
            Ok(written) => (written.rows, "stdout".to_string()),
            // The reader went away (`| head`): what it wanted was written.
            Err(ExportError::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Outcome::Success),
            Err(error) => return Err(error.into()),
        }
    } else {
        let out = args.out.clone().unwrap_or_default();
        let rows = write_file(frames, format, &out, &about)?;
        let target = std::path::absolute(&out).unwrap_or(out);
        let record = ExportRecord {
            exported_at: exported_at.clone(),
            what: what.clone(),
            statement: statement.clone(),
            format: format.as_str().to_string(),
            target: target.display().to_string(),
            rows: rows as u64,
            read,
        };
        // The file is written either way: a lake this user cannot write to costs the lineage
        // this export, not the export.
        if let Err(error) = export::log::append(lake, &record) {
            tracing::warn!("the export is written but not logged in {}: {error}", export::log::TABLE);
        }
        (rows, target.display().to_string())
    };
    if !quiet {
        note!(
            "rats export: {rows} row{} of {what} to {target} ({})",
            if rows == 1 { "" } else { "s" },
            if as_table { "table" } else { format.as_str() }
        );
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
    let partial = output::partial_path(out);
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

/// `rats export chart`: a named chart drawn from the lake, as SVG or PNG.
fn export_chart(args: &ExportChartArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let charts = Catalog::resolve(args.reports.as_deref()).charts()?;
    if args.list {
        let report = Report {
            header: ["chart", "kind", "table", "title"].map(String::from).to_vec(),
            rows: charts
                .iter()
                .map(|c| {
                    vec![
                        c.name.clone(),
                        format!("{:?}", c.kind).to_lowercase(),
                        c.table.clone(),
                        c.title.clone(),
                    ]
                })
                .collect(),
            json: serde_json::json!(
                charts
                    .iter()
                    .map(|c| serde_json::json!({
                        "chart": c.name,
                        "kind": format!("{:?}", c.kind).to_lowercase(),
                        "table": c.table,
                        "title": c.title,
                        "description": c.description,
                    }))
                    .collect::<Vec<_>>()
            ),
        };
        if !(quiet && settings.format.value == OutputFormat::Table) {
            output::write(&mut std::io::stdout().lock(), settings.format.value, &report)?;
        }
        return Ok(Outcome::Success);
    }
    let name = args.name.as_deref().unwrap_or_default();
    let spec = chart::find(&charts, name)?;
    let to_stdout = args.out.as_deref().is_none_or(|p| p == Path::new("-"));
    let format = match (args.to, args.out.as_deref().filter(|_| !to_stdout)) {
        (Some(format), _) => format,
        (None, Some(out)) if out.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) => ChartFormat::Png,
        (None, Some(out)) if !out.extension().is_some_and(|e| e.eq_ignore_ascii_case("svg")) => {
            anyhow::bail!("--out {}: name a .svg or .png file, or give --to", out.display())
        }
        _ => ChartFormat::Svg,
    };
    if let Some(out) = args.out.as_deref().filter(|_| !to_stdout)
        && out.exists()
        && !args.force
    {
        return Err(ExportError::Exists { path: out.to_path_buf() }.into());
    }
    if !(args.scale > 0.0 && args.scale <= 8.0) {
        anyhow::bail!("--scale {}: give a factor above 0 and at most 8", args.scale);
    }
    let note = args.filter.as_deref().map(|filter| format!("where {filter}"));
    let drawn = chart::draw_from_lake(&settings.lake.value, spec, args.filter.as_deref(), note.as_deref())?;
    let bytes = match format {
        ChartFormat::Svg => chart::render::outlined_svg(&drawn.svg)?.into_bytes(),
        ChartFormat::Png => chart::render::png(&drawn.svg, args.scale)?,
    };
    let target = if to_stdout {
        use std::io::Write;
        match std::io::stdout().lock().write_all(&bytes) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Outcome::Success),
            other => other?,
        }
        "stdout".to_string()
    } else {
        let out = args.out.clone().unwrap_or_default();
        output::write_whole(&out, &bytes).map_err(|source| ExportError::Io { path: out.clone(), source })?;
        out.display().to_string()
    };
    if !quiet {
        note!("rats export: chart {} ({} bytes) to {target}", drawn.name, bytes.len());
    }
    Ok(Outcome::Success)
}
