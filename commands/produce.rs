//! `rats produce`: files into Kafka, then the delivery summary.

use anyhow::Context;
use rats::exit::Outcome;
use rats::output::{self, Report};
use rats::produce::{ProduceOptions, produce_files};
use rats::settings::{OutputFormat, Overrides, Settings};

use crate::cli::ProduceArgs;

pub fn apply_overrides(args: &ProduceArgs, overrides: &mut Overrides) {
    crate::consume::apply_kafka_overrides(&args.kafka, overrides);
}

pub fn run(args: &ProduceArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let options = ProduceOptions {
        inputs: args.from.clone(),
        format: args.format.input_format,
        mapping: args.format.mapping.clone(),
        brokers: settings.kafka_brokers.value.clone(),
        topic: settings.kafka_topic.value.clone(),
        registry: settings.registry_url.value.clone(),
    };
    let summary = produce_files(&options).with_context(|| format!("produce to {} on {} stopped", options.topic, options.brokers))?;
    if !(quiet && settings.format.value == OutputFormat::Table) {
        let counts = [
            ("read", summary.read),
            ("sent", summary.sent),
            ("failed", summary.failed),
            ("unreadable", summary.unreadable),
        ];
        let report = Report {
            header: vec!["topic".into(), "read".into(), "sent".into(), "failed".into(), "unreadable".into()],
            rows: vec![
                std::iter::once(summary.topic.clone())
                    .chain(counts.iter().map(|(_, n)| n.to_string()))
                    .collect(),
            ],
            json: serde_json::to_value(&summary).unwrap_or_default(),
        };
        crate::unless_reader_stopped(output::write(&mut std::io::stdout().lock(), settings.format.value, &report))?;
    }
    if summary.failed > 0 || summary.unreadable > 0 {
        tracing::warn!(
            failed = summary.failed,
            unreadable = summary.unreadable,
            "not every record was delivered (exit 1)"
        );
        return Ok(Outcome::Problems);
    }
    Ok(Outcome::Success)
}
