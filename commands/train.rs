//! `rats train skills`: the span model from SkillSpan's train files, epochs chosen on dev.

use std::path::PathBuf;

use anyhow::Context;
use rats::exit::Outcome;
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};
use rats::skills::gazetteer::Gazetteer;
use rats::skills::tagger::{Label, SpanModel};
use rats::skills::{Taxonomy, training};

use crate::cli::{TrainCommand, TrainSkillsArgs};

pub fn run(command: &TrainCommand, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    match command {
        TrainCommand::Skills(args) => train_skills(args, settings, quiet),
    }
}

fn train_skills(args: &TrainSkillsArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let skillspan = settings.datasets.value.join("skills/skillspan");
    let or_default = |given: &[PathBuf], split: &str| -> Vec<PathBuf> {
        if given.is_empty() {
            ["house", "tech"]
                .iter()
                .map(|source| skillspan.join(format!("skillspan_{source}_{split}.conll")))
                .collect()
        } else {
            given.to_vec()
        }
    };
    let taxonomy = Taxonomy::load(settings.skills_taxonomy.value.as_deref())?;
    let gazetteer = Gazetteer::new(&taxonomy)?;
    let load = |paths: &[PathBuf]| training::corpus(paths, &taxonomy, &gazetteer).context("cannot load the training data");
    let train = load(&or_default(&args.train, "train"))?;
    let dev = load(&or_default(&args.dev, "dev"))?;
    let started = std::time::Instant::now();
    let (model, report) = SpanModel::train(&train, &dev, usize::from(args.epochs));
    let seconds = started.elapsed().as_secs_f64();
    model.save(&args.out)?;
    tracing::info!(model = %args.out.display(), seconds, "span model written");
    let rows = Label::ALL
        .iter()
        .map(|label| {
            let curve = report.history[label]
                .iter()
                .map(|e| format!("{:.3}", e.dev_strict_f1))
                .collect::<Vec<_>>()
                .join(" ");
            vec![
                label.name().to_string(),
                model.info.epochs[label].to_string(),
                format!("{:.3}", model.info.dev_strict_f1[label]),
                curve,
            ]
        })
        .collect();
    let json = serde_json::json!({
        "model": args.out,
        "info": model.info,
        "history": report.history,
        "seconds": seconds,
    });
    if !(quiet && settings.format.value == OutputFormat::Table) {
        output::write(
            &mut std::io::stdout().lock(),
            settings.format.value,
            &Report {
                header: ["label", "epoch", "dev_strict_f1", "dev_f1_by_epoch"].map(String::from).to_vec(),
                rows,
                json,
            },
        )?;
    }
    Ok(Outcome::Success)
}
