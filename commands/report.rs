//! `rats report`: list the report templates, render one to Markdown, HTML or PDF, mail one, or
//! write the built-in ones out (see `rats::report`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use rats::bundled;
use rats::chart::render::outlined_svg;
use rats::exit::Outcome;
use rats::mail::Mailer;
use rats::output::{self, Report};
use rats::report::due::{self, DueConfig, DueStatus};
use rats::report::render::{self, Rendered};
use rats::report::template::BodyKind;
use rats::report::{Catalog, ReportError, mail, page, pdf};
use rats::settings::{OutputFormat, Settings};

use crate::cli::{ReportCommand, ReportDueArgs, ReportSourceArgs};

pub fn run(command: &ReportCommand, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let print = |report: &Report| -> anyhow::Result<()> {
        if !(quiet && settings.format.value == OutputFormat::Table) {
            output::write(&mut std::io::stdout().lock(), settings.format.value, report)?;
        }
        Ok(())
    };
    match command {
        ReportCommand::List(args) => {
            let listed = Catalog::resolve(args.reports.as_deref()).list()?;
            print(&Report {
                header: ["report", "format", "from", "days", "queries", "title"].map(String::from).to_vec(),
                rows: listed
                    .iter()
                    .map(|l| {
                        let t = &l.template;
                        vec![
                            t.name.clone(),
                            t.kind.as_str().to_string(),
                            l.origin.as_str().to_string(),
                            t.period_days.to_string(),
                            t.queries.len().to_string(),
                            t.title.clone(),
                        ]
                    })
                    .collect(),
                json: serde_json::json!(
                    listed
                        .iter()
                        .map(|l| serde_json::json!({
                            "report": l.template.name,
                            "format": l.template.kind.as_str(),
                            "from": l.origin.as_str(),
                            "path": l.template.origin,
                            "title": l.template.title,
                            "description": l.template.description,
                            "period_days": l.template.period_days,
                            "queries": l.template.queries.keys().collect::<Vec<_>>(),
                        }))
                        .collect::<Vec<_>>()
                ),
            })?;
        }
        ReportCommand::Init(init) => {
            let written = bundled::REPORTS.write_to(&init.dir, init.force)?;
            print(&Report {
                header: vec!["written".into()],
                rows: written.iter().map(|p| vec![p.display().to_string()]).collect(),
                json: serde_json::json!({"reports": init.dir, "written": written}),
            })?;
        }
        ReportCommand::Render(args) => {
            let target = args.out.as_deref().filter(|p| *p != Path::new("-"));
            // Chromium is looked for before the lake is read: a missing browser fails at once.
            let output = match target {
                Some(path) => Output::of_path(path, settings)?,
                None => Output::Stdout,
            };
            if let Some(path) = target
                && path.exists()
                && !args.force
            {
                return Err(ReportError::Exists { path: path.to_path_buf() }.into());
            }
            let report = make(&args.source, settings)?;
            match output {
                Output::Stdout => print_report(&report)?,
                Output::Markdown(path) => write_markdown(&report, path, args.force)?,
                Output::Html(path) => write_atomically(path, page::html_page(&report, &page::ChartImages::Inline)?.as_bytes())?,
                Output::Pdf { path, browser } => {
                    let html = page::html_page(&report, &page::ChartImages::Inline)?;
                    write_atomically(path, &pdf::print(&browser, &html)?)?;
                }
            }
            if !quiet {
                let target = target.map_or_else(|| "stdout".to_string(), |p| p.display().to_string());
                note!(
                    "rats report: {} ({} to {}, {} charts) to {target}",
                    report.name,
                    report.period.start,
                    report.period.end,
                    report.charts.len()
                );
            }
        }
        ReportCommand::Due(args) => return due(args, settings, &print),
        ReportCommand::Send(args) => {
            let recipients = rats::comma_items::comma_items(&args.to);
            anyhow::ensure!(!recipients.is_empty(), "--to {:?} names no address", args.to.join(","));
            let url = settings
                .smtp_url
                .value
                .as_deref()
                .context("no mail server: set smtp.url in rats.yaml or RATS_SMTP_URL")?;
            let mailer = Mailer::new(url, &settings.smtp_from.value)?;
            let browser = if args.no_pdf {
                None
            } else {
                Some(pdf::find_browser(settings.report_chromium.value.as_deref()).context("attaching the PDF (or give --no-pdf)")?)
            };
            let report = make(&args.source, settings)?;
            let composed = mail::compose(&report, browser.as_deref())?;
            mail::send(&mailer, &recipients, &composed)?;
            let to = recipients.join(", ");
            print(&Report {
                header: ["report", "to", "subject", "charts", "pdf"].map(String::from).to_vec(),
                rows: vec![vec![
                    report.name.clone(),
                    to.clone(),
                    composed.subject.clone(),
                    composed.inline.len().to_string(),
                    (!composed.attached.is_empty()).to_string(),
                ]],
                json: serde_json::json!({
                    "report": report.name,
                    "to": recipients,
                    "subject": composed.subject,
                    "period": report.period,
                    "charts": composed.inline.len(),
                    "pdf": !composed.attached.is_empty(),
                }),
            })?;
        }
    }
    Ok(Outcome::Success)
}

/// `rats report due`: each schedule judged at `--at`, what is due sent and recorded.
fn due(args: &ReportDueArgs, settings: &Settings, print: &dyn Fn(&Report) -> anyhow::Result<()>) -> anyhow::Result<Outcome> {
    let now = args.at.unwrap_or_else(chrono::Utc::now);
    let rows = due::run(&DueConfig::from_settings(settings, args.reports.clone()), now, args.dry_run)?;
    let stamp = |slot: Option<chrono::DateTime<chrono::Utc>>| slot.map(|s| s.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    crate::unless_reader_stopped(print(&Report {
        header: ["schedule", "report", "period starts", "status", "to"].map(String::from).to_vec(),
        rows: rows
            .iter()
            .map(|row| {
                vec![
                    row.schedule.id().to_string(),
                    row.schedule.name.clone(),
                    stamp(row.slot).unwrap_or_default(),
                    row.status.text(),
                    row.schedule.to.join(", "),
                ]
            })
            .collect(),
        json: serde_json::json!({
            "at": stamp(Some(now)),
            "schedules": rows
                .iter()
                .map(|row| serde_json::json!({
                    "schedule": row.schedule.id(),
                    "report": row.schedule.name,
                    "period_starts_at": stamp(row.slot),
                    "status": row.status.text(),
                    "to": row.schedule.to,
                }))
                .collect::<Vec<_>>(),
        }),
    }))?;
    // A report that could not be sent is retried by the next run; this one says so.
    if rows.iter().any(|row| matches!(row.status, DueStatus::Failed(_))) {
        return Ok(Outcome::Error);
    }
    Ok(Outcome::Success)
}

/// Where a rendered report goes.
#[derive(Debug)]
enum Output<'a> {
    Stdout,
    Markdown(&'a Path),
    Html(&'a Path),
    /// A PDF, printed by this browser.
    Pdf {
        path: &'a Path,
        browser: PathBuf,
    },
}

impl<'a> Output<'a> {
    /// The output `path`'s extension names; for a PDF, with the browser the settings give.
    fn of_path(path: &'a Path, settings: &Settings) -> Result<Self, ReportError> {
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("md" | "markdown") => Ok(Output::Markdown(path)),
            Some("html" | "htm") => Ok(Output::Html(path)),
            Some("pdf") => Ok(Output::Pdf {
                path,
                browser: pdf::find_browser(settings.report_chromium.value.as_deref())?,
            }),
            _ => Err(ReportError::Output(format!(
                "--out {}: name a .md, .html or .pdf file",
                path.display()
            ))),
        }
    }
}

/// Renders the report the arguments name, over the lake of the settings.
fn make(source: &ReportSourceArgs, settings: &Settings) -> anyhow::Result<Rendered> {
    let catalog = Catalog::resolve(source.reports.as_deref());
    let template = catalog.template(&source.name)?.covering(source.days);
    let charts = catalog.charts()?;
    let as_of = source.as_of.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let lake = &settings.lake.value;
    if !lake.is_dir() {
        anyhow::bail!(
            "the lake {} does not exist (run rats consume first, or give --lake)",
            lake.display()
        );
    }
    Ok(render::render(&template, lake, as_of, &charts)?)
}

/// The Markdown on stdout, each chart named where it stands (an HTML template's page, its
/// charts inline).
fn print_report(report: &Rendered) -> anyhow::Result<()> {
    use std::io::Write;
    let text = match report.kind {
        BodyKind::Markdown => page::plain_text(report),
        BodyKind::Html => page::html_page(report, &page::ChartImages::Inline)?,
    };
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Markdown at `path`, its charts as SVG files in `NAME.charts/` beside it.
fn write_markdown(report: &Rendered, path: &Path, force: bool) -> anyhow::Result<()> {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("report");
    let folder_name = format!("{stem}.charts");
    let folder = path.with_file_name(&folder_name);
    if !report.charts.is_empty() {
        if folder.exists() && !force {
            return Err(ReportError::Exists { path: folder }.into());
        }
        // The folder is this report's own: charts of an earlier render go, so none is stale.
        if folder.is_dir() {
            std::fs::remove_dir_all(&folder).with_context(|| format!("cannot replace {}", folder.display()))?;
        }
        std::fs::create_dir_all(&folder).with_context(|| format!("cannot make {}", folder.display()))?;
    }
    let file_of = |index: usize, name: &str| format!("{:02}-{name}.svg", index + 1);
    for (index, drawn) in report.charts.iter().enumerate() {
        write_atomically(&folder.join(file_of(index, &drawn.name)), outlined_svg(&drawn.svg)?.as_bytes())?;
    }
    let markdown = page::markdown(report, |index, drawn| format!("{folder_name}/{}", file_of(index, &drawn.name)))?;
    write_atomically(path, markdown.as_bytes())
}

/// Writes the whole file or nothing (`output::write_whole`), naming it when that fails.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    output::write_whole(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
