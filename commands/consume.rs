//! `rats consume`: files into the lake, then the summary.

use anyhow::Context;
use rats::exit::Outcome;
use rats::ingest::summary::ConsumeSummary;
use rats::ingest::{ConsumeOptions, consume_files};
use rats::normalize::Normaliser;
use rats::normalize::currency::Currencies;
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Overrides, Settings};

use crate::cli::ConsumeArgs;
use crate::progress::TerminalProgress;

pub fn apply_overrides(args: &ConsumeArgs, overrides: &mut Overrides) {
    overrides.lake.clone_from(&args.lake);
    overrides.batch_size = args.batch_size;
    overrides.max_quarantine = args.max_quarantine;
    overrides.fx_fed_csv.clone_from(&args.fx_fed_csv);
}

pub fn run(args: &ConsumeArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let currencies = match &settings.fx_fed_csv.value {
        Some(path) => Currencies::with_fed_csv(path)?,
        None => Currencies::builtin(),
    };
    let options = ConsumeOptions {
        inputs: args.input.from.clone(),
        format: args.input.input_format,
        mapping: args.input.mapping.clone(),
        batch_size: settings.batch_size.value,
    };
    let progress = TerminalProgress::new(quiet);
    let result = consume_files(&settings.lake.value, &options, &Normaliser::new(currencies), &progress);
    progress.finish();
    let summary = result.with_context(|| {
        format!(
            "consume into {} stopped; what was committed stays, and a re-run resumes",
            settings.lake.value.display()
        )
    })?;

    if !(quiet && settings.format.value == OutputFormat::Table) {
        output::write(
            &mut std::io::stdout().lock(),
            settings.format.value,
            &report(&summary, settings.format.value == OutputFormat::Table),
        )?;
    }
    let threshold = settings.max_quarantine.value;
    if summary.quarantine_percent > threshold {
        tracing::warn!(
            percent = format!("{:.2}", summary.quarantine_percent),
            threshold,
            "quarantined records above the threshold (exit 1)"
        );
        return Ok(Outcome::Problems);
    }
    Ok(Outcome::Success)
}

/// The summary rows: one per input and the total; on a terminal table also the duplicates by
/// kind and quarantine by reason (CSV keeps one shape for scripts; JSON has them as maps).
fn report(summary: &ConsumeSummary, breakdown: bool) -> Report {
    let header = [
        "input",
        "format",
        "mapping",
        "read",
        "written",
        "duplicates",
        "quarantined",
        "skipped",
    ]
    .map(String::from)
    .to_vec();
    let mut rows: Vec<Vec<String>> = summary
        .files
        .iter()
        .map(|f| {
            let c = &f.counts;
            vec![
                f.path.clone(),
                f.format.clone(),
                f.mapping.clone().unwrap_or_default(),
                c.read.to_string(),
                c.written.to_string(),
                c.duplicates.to_string(),
                c.quarantined.to_string(),
                c.skipped.to_string(),
            ]
        })
        .collect();
    let t = &summary.totals;
    rows.push(vec![
        "total".into(),
        String::new(),
        String::new(),
        t.read.to_string(),
        t.written.to_string(),
        t.duplicates.to_string(),
        t.quarantined.to_string(),
        t.skipped.to_string(),
    ]);
    if breakdown {
        // An indented label with the count under its column: duplicates (5) or quarantined (6).
        let detail = |label: String, column: usize, n: u64| {
            let mut row = vec![String::new(); 8];
            row[0] = label;
            row[column] = n.to_string();
            row
        };
        rows.extend(
            t.duplicates_by_kind
                .iter()
                .map(|(kind, n)| detail(format!("  duplicates: {kind}"), 5, *n)),
        );
        rows.extend(
            t.quarantined_by_reason
                .iter()
                .map(|(reason, n)| detail(format!("  quarantined: {reason}"), 6, *n)),
        );
    }
    Report {
        header,
        rows,
        json: serde_json::to_value(summary).unwrap_or_default(),
    }
}
