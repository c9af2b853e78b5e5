//! `rats predict salary`: one posting described by flags, or every record of postings files,
//! through the registry's salary model (production, else the newest).

use std::io::{Read, Write};

use anyhow::Context;
use rats::exit::Outcome;
use rats::ingest::readers;
use rats::ml::explain::dollars;
use rats::ml::facts::PostingFacts;
use rats::ml::registry::{Chosen, Registry};
use rats::ml::salary::query::{SalaryQuery, facts_of_listing, facts_of_query};
use rats::ml::salary::{Estimate, SalaryModel};
use rats::normalize::Normaliser;
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};

use crate::cli::PredictSalaryArgs;
use crate::normaliser;

/// Records predicted together when reading files (one XGBoost call per chunk).
const CHUNK: usize = 512;

pub fn salary(args: &PredictSalaryArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let registry = Registry::new(&settings.models_dir.value, "salary");
    let chosen = registry.choose(args.model_version.as_deref())?;
    let mut model = SalaryModel::load(&chosen.path).with_context(|| format!("loading the salary model {}", chosen.path.display()))?;
    let normaliser = normaliser::from_settings(settings)?;
    let taxonomy = normaliser.skills().taxonomy();
    let skill_name = |id: &str| taxonomy.get(id).map_or_else(|| id.to_string(), |s| s.name.clone());
    if !args.from.is_empty() {
        // Files hold many postings: the explanations' arithmetic is worth doing once. One
        // posting is explained sooner without it.
        model.answer_ahead();
        return predict_files(args, &model, &chosen, &normaliser, &skill_name);
    }
    let description = match &args.description {
        None => None,
        Some(path) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading the description from stdin")?;
            Some(text)
        }
        Some(path) => Some(std::fs::read_to_string(path).with_context(|| format!("reading the description {}", path.display()))?),
    };
    let query = SalaryQuery {
        title: args.title.clone().unwrap_or_default(),
        location: args.location.clone(),
        description,
        skills: rats::comma_items::comma_items(&args.skills),
        seniority: args.seniority.map(|s| s.as_str().to_string()),
        years_experience: args.years,
        remote: args.remote.map(|r| value_name(&r)),
    };
    let facts = facts_of_query(&normaliser, taxonomy, &query)
        .map_err(|reject| anyhow::anyhow!("{}: {}", reject.field.as_deref().unwrap_or("posting"), reject.message))?;
    let estimate = model.predict(std::slice::from_ref(&facts), &skill_name)?.remove(0);
    let features = args.with_features.then(|| feature_row(&model, &facts));
    print_one(settings, quiet, &facts, &estimate, &chosen, args.top, features)
}

fn value_name(value: &impl clap::ValueEnum) -> String {
    value.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
}

fn model_json(chosen: &Chosen) -> serde_json::Value {
    serde_json::json!({"kind": "salary", "version": chosen.version, "chosen_because": chosen.because})
}

fn estimate_json(estimate: &Estimate, top: usize) -> serde_json::Value {
    let mut value = serde_json::to_value(estimate).unwrap_or_default();
    if let Some(list) = value.get_mut("contributions").and_then(serde_json::Value::as_array_mut) {
        list.truncate(top);
    }
    value
}

/// The row the model saw, null for missing values (JSON has no NaN).
fn feature_row(model: &SalaryModel, facts: &PostingFacts) -> serde_json::Value {
    let row = model.matrix(std::slice::from_ref(facts)).data;
    serde_json::Value::Array(
        row.into_iter()
            .map(|v| {
                if v.is_nan() {
                    serde_json::Value::Null
                } else {
                    serde_json::json!(v)
                }
            })
            .collect(),
    )
}

fn print_one(
    settings: &Settings,
    quiet: bool,
    facts: &PostingFacts,
    estimate: &Estimate,
    chosen: &Chosen,
    top: usize,
    features: Option<serde_json::Value>,
) -> anyhow::Result<Outcome> {
    if quiet && settings.format.value == OutputFormat::Table {
        return Ok(Outcome::Success);
    }
    let whole = |usd: f64| format!("${}", thousands(usd));
    let mut rows = vec![
        vec!["estimate (yearly, USD)".to_string(), whole(estimate.estimate)],
        vec![
            format!("{:.0}% interval", estimate.interval_coverage * 100.0),
            format!("{} \u{2013} {}", whole(estimate.low), whole(estimate.high)),
        ],
    ];
    rows.extend(
        estimate
            .contributions
            .iter()
            .take(top)
            .map(|c| vec![c.label.clone(), dollars(c.usd)]),
    );
    let mut json = estimate_json(estimate, top);
    json["model"] = model_json(chosen);
    json["title"] = serde_json::Value::String(facts.title.clone());
    json["skill_ids"] = serde_json::json!(facts.skill_ids);
    if let Some(features) = features {
        json["features"] = features;
    }
    let mut out = std::io::stdout().lock();
    output::write(
        &mut out,
        settings.format.value,
        &Report {
            header: vec!["salary".into(), "usd".into()],
            rows,
            json,
        },
    )?;
    if settings.format.value == OutputFormat::Table {
        writeln!(out, "model: salary {} ({})", chosen.version, chosen.because)?;
        for note in &estimate.notes {
            writeln!(out, "note: {note}")?;
        }
    }
    Ok(Outcome::Success)
}

/// `1234567.8` → `1,234,568`.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One JSON line per record of every input: the prediction, or the reason there is none.
fn predict_files(
    args: &PredictSalaryArgs,
    model: &SalaryModel,
    chosen: &Chosen,
    normaliser: &Normaliser,
    skill_name: &dyn Fn(&str) -> String,
) -> anyhow::Result<Outcome> {
    let inputs = readers::open_all(&args.from, args.format.input_format, args.format.mapping.as_deref())?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    // The lines waiting for their predictions, and the postings those are made from.
    let mut pending: (Vec<serde_json::Value>, Vec<PostingFacts>) = (Vec::new(), Vec::new());
    let flush = |(lines, facts): &mut (Vec<serde_json::Value>, Vec<PostingFacts>), out: &mut dyn Write| -> anyhow::Result<()> {
        let estimates = model.predict(facts, skill_name)?;
        facts.clear();
        for (mut line, estimate) in lines.drain(..).zip(estimates) {
            line["prediction"] = estimate_json(&estimate, args.top);
            serde_json::to_writer(&mut *out, &line)?;
            writeln!(out)?;
        }
        Ok(())
    };
    for input in inputs {
        for record in input.records {
            let record = record?;
            let mut line = serde_json::json!({
                "source_file": record.coordinates.file,
                "source_record": record.coordinates.record,
                "model": model_json(chosen),
            });
            match record.listing().and_then(|listing| facts_of_listing(normaliser, &listing)) {
                Ok(facts) => {
                    line["title"] = serde_json::Value::String(facts.title.clone());
                    if args.with_features {
                        line["features"] = feature_row(model, &facts);
                    }
                    pending.0.push(line);
                    pending.1.push(facts);
                    if pending.0.len() == CHUNK {
                        flush(&mut pending, &mut out)?;
                    }
                }
                Err(reject) => {
                    flush(&mut pending, &mut out)?;
                    line["error"] = serde_json::json!({"code": reject.code.as_str(), "field": reject.field, "message": reject.message});
                    serde_json::to_writer(&mut out, &line)?;
                    writeln!(out)?;
                }
            }
        }
    }
    flush(&mut pending, &mut out)?;
    out.flush()?;
    Ok(Outcome::Success)
}
