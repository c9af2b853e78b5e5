//! The printer: every command's results go through here, as a table on a terminal, or as
//! JSON or CSV for scripts, so formats stay consistent across subcommands.

use std::io::{self, Write};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};

use crate::settings::OutputFormat;

/// A printable result: rows of cells under a header, plus the JSON form scripts read.
pub struct Report {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub json: serde_json::Value,
}

/// Writes `report` in `format` to `out`. Numbers are right-aligned in tables.
pub fn write(out: &mut dyn Write, format: OutputFormat, report: &Report) -> io::Result<()> {
    match format {
        OutputFormat::Json => {
            serde_json::to_writer(&mut *out, &report.json)?;
            writeln!(out)
        }
        OutputFormat::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record(&report.header)?;
            for row in &report.rows {
                writer.write_record(row)?;
            }
            writer.flush()
        }
        OutputFormat::Table => {
            let mut table = Table::new();
            table.load_style(UTF8_FULL_CONDENSED).set_header(&report.header);
            for row in &report.rows {
                table.add_row(row.iter().map(|cell| {
                    let numeric = !cell.is_empty() && cell.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',' || c == '%');
                    Cell::new(cell).set_alignment(if numeric { CellAlignment::Right } else { CellAlignment::Left })
                }));
            }
            writeln!(out, "{table}")
        }
    }
}

/// Where a file is written before it is renamed to `path`: beside it, named for this process.
pub fn partial_path(path: &std::path::Path) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("{}.partial-{}", path.display(), std::process::id()))
}

/// Writes `bytes` beside `path` and renames, so the file is whole or absent (a failed write
/// leaves nothing behind).
pub fn write_whole(path: &std::path::Path, bytes: &[u8]) -> io::Result<()> {
    let partial = partial_path(path);
    let written = std::fs::write(&partial, bytes).and_then(|()| std::fs::rename(&partial, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// Text made safe inside XML and HTML, in element content and in double-quoted attributes
/// (the docs site and GraphML).
pub fn escape_markup(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            header: vec!["name".into(), "count".into()],
            rows: vec![vec!["read".into(), "3".into()]],
            json: serde_json::json!({"read": 3}),
        }
    }

    #[test]
    fn each_format_prints_the_same_facts() {
        let render = |format| {
            let mut out = Vec::new();
            write(&mut out, format, &report()).expect("writes");
            String::from_utf8(out).expect("utf8")
        };
        assert_eq!(render(OutputFormat::Json), "{\"read\":3}\n");
        assert_eq!(render(OutputFormat::Csv), "name,count\nread,3\n");
        let table = render(OutputFormat::Table);
        assert!(table.contains("read") && table.contains('3'), "{table}");
    }
}
