//! `rats consume`: files (with --from) or a Kafka topic into the lake, then the summary.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context;
use rats::exit::Outcome;
use rats::ingest::kafka::{KafkaOptions, KafkaSummary, consume_kafka};
use rats::ingest::summary::{ConsumeSummary, Counts};
use rats::ingest::{ConsumeError, ConsumeOptions, consume_files};
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Overrides, Settings};

use crate::cli::{ConsumeArgs, KafkaArgs};
use crate::normaliser;
use crate::progress::TerminalProgress;

/// The longest a partly filled Kafka batch waits for more messages.
const KAFKA_LINGER: Duration = Duration::from_secs(1);

pub fn apply_overrides(args: &ConsumeArgs, overrides: &mut Overrides) {
    overrides.lake.clone_from(&args.lake);
    overrides.batch_size = args.batch_size;
    overrides.max_quarantine = args.max_quarantine;
    overrides.fx_fed_csv.clone_from(&args.fx_fed_csv);
    overrides.kafka_group.clone_from(&args.group);
    apply_kafka_overrides(&args.kafka, overrides);
}

pub fn apply_kafka_overrides(args: &KafkaArgs, overrides: &mut Overrides) {
    overrides.kafka_brokers.clone_from(&args.brokers);
    overrides.kafka_topic.clone_from(&args.topic);
    overrides.registry_url.clone_from(&args.registry);
}

pub fn run(args: &ConsumeArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let normaliser = normaliser::from_settings(settings)?;
    let lake = &settings.lake.value;
    let progress = TerminalProgress::new(quiet);
    let stopped = || {
        format!(
            "consume into {} stopped; what was committed stays, and a re-run resumes",
            lake.display()
        )
    };
    let (report, totals, quarantine_percent) = if args.from.is_empty() {
        let options = KafkaOptions {
            brokers: settings.kafka_brokers.value.clone(),
            topic: settings.kafka_topic.value.clone(),
            group: settings.kafka_group.value.clone(),
            registry: settings.registry_url.value.clone(),
            batch_size: settings.batch_size.value,
            once: args.once,
            linger: KAFKA_LINGER,
        };
        let stop = stop_on_signals()?;
        let result = consume_kafka(lake, &options, &normaliser, &stop, &progress);
        progress.finish();
        let summary = result.with_context(stopped)?;
        tracing::info!(
            stopped_by = summary.stopped_by.as_str(),
            seconds = format!("{:.1}", summary.seconds),
            records_per_second = summary.records_per_second.round(),
            "consume from Kafka finished"
        );
        (kafka_report(&summary), summary.totals, summary.quarantine_percent)
    } else {
        let options = ConsumeOptions {
            inputs: args.from.clone(),
            format: args.format.input_format,
            mapping: args.format.mapping.clone(),
            batch_size: settings.batch_size.value,
        };
        let result = consume_files(lake, &options, &normaliser, &progress);
        progress.finish();
        // Inputs that cannot be opened (a missing file, an unknown layout, a bad mapping) stop
        // the run before the lake is touched: there is nothing to resume.
        let summary = result.map_err(|error| {
            let before_the_lake = matches!(error, ConsumeError::Open(_) | ConsumeError::NoInputs);
            anyhow::Error::new(error).context(if before_the_lake {
                format!("consume into {} did not start; nothing was written", lake.display())
            } else {
                stopped()
            })
        })?;
        (file_report(&summary), summary.totals, summary.quarantine_percent)
    };
    if !(quiet && settings.format.value == OutputFormat::Table) {
        let breakdown = settings.format.value == OutputFormat::Table;
        crate::unless_reader_stopped(output::write(
            &mut std::io::stdout().lock(),
            settings.format.value,
            &with_breakdown(report, &totals, breakdown),
        ))?;
    }
    let threshold = settings.max_quarantine.value;
    if quarantine_percent > threshold {
        tracing::warn!(
            percent = format!("{quarantine_percent:.2}"),
            threshold,
            "quarantined records above the threshold (exit 1)"
        );
        return Ok(Outcome::Problems);
    }
    Ok(Outcome::Success)
}

/// A flag set by the first SIGINT or SIGTERM, so the run finishes its batch and stops; a
/// second signal exits at once (130 or 143, as a shell reports a signal death).
fn stop_on_signals() -> anyhow::Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::flag;
    let stop = Arc::new(AtomicBool::new(false));
    for (signal, code) in [(SIGINT, 130), (SIGTERM, 143)] {
        flag::register_conditional_shutdown(signal, code, Arc::clone(&stop)).context("cannot install the signal handlers")?;
        flag::register(signal, Arc::clone(&stop)).context("cannot install the signal handlers")?;
    }
    Ok(stop)
}

const COUNT_HEADER: [&str; 5] = ["read", "written", "duplicates", "quarantined", "skipped"];

fn header_with_counts(leading: &[&str]) -> Vec<String> {
    leading.iter().copied().chain(COUNT_HEADER).map(String::from).collect()
}

fn count_cells(c: &Counts) -> Vec<String> {
    [c.read, c.written, c.duplicates, c.quarantined, c.skipped]
        .iter()
        .map(u64::to_string)
        .collect()
}

/// The file summary rows: one per input and the total.
fn file_report(summary: &ConsumeSummary) -> Report {
    let header = header_with_counts(&["input", "format", "mapping"]);
    let rows: Vec<Vec<String>> = summary
        .files
        .iter()
        .map(|f| {
            let mut row = vec![f.path.clone(), f.format.clone(), f.mapping.clone().unwrap_or_default()];
            row.extend(count_cells(&f.counts));
            row
        })
        .collect();
    let total = vec!["total".to_string(), String::new(), String::new()];
    with_total(
        header,
        rows,
        total,
        &summary.totals,
        serde_json::to_value(summary).unwrap_or_default(),
    )
}

/// The Kafka summary rows: one per partition (with its offsets and lag) and the total.
fn kafka_report(summary: &KafkaSummary) -> Report {
    let header = header_with_counts(&["topic", "partition", "from offset", "next offset", "lag"]);
    let rows: Vec<Vec<String>> = summary
        .partitions
        .iter()
        .map(|p| {
            vec![
                summary.topic.clone(),
                p.partition.to_string(),
                p.from_offset.to_string(),
                p.next_offset.to_string(),
                p.lag.to_string(),
            ]
        })
        .map(|mut row| {
            // Counts are per run, not per partition: the partition rows leave them empty.
            row.extend(std::iter::repeat_n(String::new(), COUNT_HEADER.len()));
            row
        })
        .collect();
    let lag: i64 = summary.partitions.iter().map(|p| p.lag).sum();
    let total = vec!["total".to_string(), String::new(), String::new(), String::new(), lag.to_string()];
    with_total(
        header,
        rows,
        total,
        &summary.totals,
        serde_json::to_value(summary).unwrap_or_default(),
    )
}

/// The report: `rows`, then the total row (its leading cells and the run's counts).
fn with_total(header: Vec<String>, mut rows: Vec<Vec<String>>, mut total: Vec<String>, totals: &Counts, json: serde_json::Value) -> Report {
    total.extend(count_cells(totals));
    rows.push(total);
    Report { header, rows, json }
}

/// On a terminal table, adds the duplicates by kind and quarantine by reason under their
/// columns (CSV keeps one shape for scripts; JSON has them as maps).
fn with_breakdown(mut report: Report, totals: &Counts, breakdown: bool) -> Report {
    if !breakdown {
        return report;
    }
    let width = report.header.len();
    let column = |name: &str| report.header.iter().position(|h| h == name).unwrap_or(0);
    let (duplicates, quarantined) = (column("duplicates"), column("quarantined"));
    let detail = |label: String, column: usize, n: u64| {
        let mut row = vec![String::new(); width];
        row[0] = label;
        row[column] = n.to_string();
        row
    };
    let mut extra: Vec<Vec<String>> = totals
        .duplicates_by_kind
        .iter()
        .map(|(kind, n)| detail(format!("  duplicates: {kind}"), duplicates, *n))
        .collect();
    extra.extend(
        totals
            .quarantined_by_reason
            .iter()
            .map(|(reason, n)| detail(format!("  quarantined: {reason}"), quarantined, *n)),
    );
    report.rows.extend(extra);
    report
}
