//! `rats train skills`: the span model from SkillSpan's train files, epochs chosen on dev —
//! the averaged perceptron, or with `--encoder` a fine-tuned BERT encoder.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rats::exit::Outcome;
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};
use rats::skills::conll;
use rats::skills::encoder_tagger::{EncoderTagger, TrainEvent, TrainSettings};
use rats::skills::gazetteer::Gazetteer;
use rats::skills::tagger::{Label, SpanModel};
use rats::skills::{Taxonomy, training};

use crate::cli::TrainSkillsArgs;

const PERCEPTRON_EPOCHS: u16 = 40;
const PERCEPTRON_OUT: &str = "models/skills/span.bin";
const ENCODER_OUT: &str = "models/skills/encoder";

pub fn run(args: &TrainSkillsArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
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
    let files = Files {
        train: or_default(&args.train, "train"),
        dev: or_default(&args.dev, "dev"),
    };
    let (rows, json) = match &args.encoder {
        Some(base) => train_encoder(args, base, &files, quiet)?,
        None => train_perceptron(args, settings, &files)?,
    };
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

struct Files {
    train: Vec<PathBuf>,
    dev: Vec<PathBuf>,
}

/// Table rows (label, kept epoch, its dev F1, the F1 curve) and the JSON report.
type Trained = (Vec<Vec<String>>, serde_json::Value);

/// One table row per label: the kept epoch, its dev F1 and the dev F1 after every epoch.
fn label_rows(
    kept_epoch: impl Fn(Label) -> String,
    dev_f1: impl Fn(Label) -> f64,
    history: impl Fn(Label) -> Vec<f64>,
) -> Vec<Vec<String>> {
    Label::ALL
        .iter()
        .map(|&label| {
            let curve: Vec<String> = history(label).iter().map(|f| format!("{f:.3}")).collect();
            vec![
                label.name().to_string(),
                kept_epoch(label),
                format!("{:.3}", dev_f1(label)),
                curve.join(" "),
            ]
        })
        .collect()
}

fn train_perceptron(args: &TrainSkillsArgs, settings: &Settings, files: &Files) -> anyhow::Result<Trained> {
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(PERCEPTRON_OUT));
    let taxonomy = Taxonomy::load(settings.skills_taxonomy.value.as_deref())?;
    let gazetteer = Gazetteer::new(&taxonomy)?;
    let load = |paths: &[PathBuf]| training::corpus(paths, &taxonomy, &gazetteer).context("cannot load the training data");
    let train = load(&files.train)?;
    let dev = load(&files.dev)?;
    let started = std::time::Instant::now();
    let epochs = args.epochs.unwrap_or(PERCEPTRON_EPOCHS);
    let (model, report) = SpanModel::train(&train, &dev, usize::from(epochs));
    let seconds = started.elapsed().as_secs_f64();
    model.save(&out)?;
    tracing::info!(model = %out.display(), seconds, "span model written");
    let rows = label_rows(
        |label| model.info.epochs[&label].to_string(),
        |label| model.info.dev_strict_f1[&label],
        |label| report.history[&label].iter().map(|e| e.dev_strict_f1).collect(),
    );
    let json = serde_json::json!({
        "model": out,
        "kind": "perceptron",
        "info": model.info,
        "history": report.history,
        "seconds": seconds,
    });
    Ok((rows, json))
}

fn train_encoder(args: &TrainSkillsArgs, base: &Path, files: &Files, quiet: bool) -> anyhow::Result<Trained> {
    let defaults = TrainSettings::default();
    let learning_rate = args.learning_rate.unwrap_or(defaults.learning_rate);
    anyhow::ensure!(
        learning_rate.is_finite() && learning_rate > 0.0,
        "--learning-rate must be a positive number, not {learning_rate}"
    );
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(ENCODER_OUT));
    let train = conll::read_all(&files.train).context("cannot load the training data")?;
    let dev = conll::read_all(&files.dev).context("cannot load the training data")?;
    let train_settings = TrainSettings {
        epochs: args.epochs.map_or(defaults.epochs, usize::from),
        learning_rate,
        ..defaults
    };
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} batches ({elapsed}, {eta} left)").expect("valid template"));
        bar
    });
    let epochs = train_settings.epochs;
    let progress = |event: TrainEvent| match event {
        TrainEvent::Batch {
            epoch,
            batch,
            batches,
            mean_loss,
        } => {
            if let Some(bar) = &bar {
                bar.set_length(batches as u64);
                bar.set_position(batch as u64);
                bar.set_message(format!("epoch {epoch}/{epochs}, loss {mean_loss:.4}"));
            }
        }
        TrainEvent::Epoch {
            epoch,
            mean_loss,
            dev_strict_f1,
        } => {
            let dev = |label: Label| dev_strict_f1.get(&label).copied().unwrap_or(0.0);
            let (skill, knowledge) = (dev(Label::Skill), dev(Label::Knowledge));
            tracing::info!(
                epoch,
                loss = mean_loss,
                dev_skill_f1 = skill,
                dev_knowledge_f1 = knowledge,
                "epoch trained"
            );
        }
        TrainEvent::Averaged { epochs, dev_strict_f1 } => {
            let dev = |label: Label| dev_strict_f1.get(&label).copied().unwrap_or(0.0);
            tracing::info!(
                epochs = ?epochs,
                dev_skill_f1 = dev(Label::Skill),
                dev_knowledge_f1 = dev(Label::Knowledge),
                "epochs averaged"
            );
        }
    };
    let started = std::time::Instant::now();
    let model = EncoderTagger::train(
        base,
        &train,
        files.train.iter().map(|p| training::file_name(p)).collect(),
        &dev,
        &train_settings,
        &progress,
    )
    .with_context(|| format!("cannot fine-tune {}", base.display()))?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let seconds = started.elapsed().as_secs_f64();
    model.save(&out, base)?;
    tracing::info!(model = %out.display(), seconds, "span encoder written");
    let f1 = |scores: &std::collections::BTreeMap<Label, f64>, label: Label| scores.get(&label).copied().unwrap_or(0.0);
    let kept = match model.info.averaged_epochs.as_slice() {
        [first, .., last] => format!("{first}-{last} averaged"),
        _ => model.info.epoch.to_string(),
    };
    let rows = label_rows(
        |_| kept.clone(),
        |label| f1(&model.info.dev_strict_f1, label),
        |label| model.info.history.iter().map(|h| f1(h, label)).collect(),
    );
    let json = serde_json::json!({
        "model": out,
        "kind": "encoder",
        "info": model.info,
        "seconds": seconds,
    });
    Ok((rows, json))
}
