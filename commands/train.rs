//! `rats train skills`: the span model from SkillSpan's train files, epochs chosen on dev.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rats::exit::Outcome;
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};
use rats::skills::conll::{self, Sentence};
use rats::skills::extract::marks;
use rats::skills::gazetteer::Gazetteer;
use rats::skills::tagger::{self, Corpus, Example, Label, SpanModel};
use rats::skills::{Taxonomy, tokens};

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
    let train = corpus(&or_default(&args.train, "train"), &taxonomy, &gazetteer)?;
    let dev = corpus(&or_default(&args.dev, "dev"), &taxonomy, &gazetteer)?;
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

/// Both layers' training examples from CoNLL files.
fn corpus(paths: &[PathBuf], taxonomy: &Taxonomy, gazetteer: &Gazetteer) -> anyhow::Result<Corpus> {
    let mut examples: BTreeMap<Label, Vec<Example>> = BTreeMap::new();
    for path in paths {
        let sentences = conll::read(path).with_context(|| format!("cannot load training data {}", path.display()))?;
        for sentence in &sentences {
            add(sentence, taxonomy, gazetteer, &mut examples);
        }
    }
    Ok(Corpus {
        files: paths.iter().map(|p| file_name(p)).collect(),
        examples,
    })
}

fn add(sentence: &Sentence, taxonomy: &Taxonomy, gazetteer: &Gazetteer, examples: &mut BTreeMap<Label, Vec<Example>>) {
    let (text, toks) = tokens::join(&sentence.words);
    let found = gazetteer.find(&text);
    let features = tagger::features(&text, &toks, &marks(taxonomy, &toks, &found));
    for label in Label::ALL {
        examples.entry(label).or_default().push(Example {
            features: features.clone(),
            gold: tagger::tags_from_spans(toks.len(), sentence.spans(label)),
        });
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}
