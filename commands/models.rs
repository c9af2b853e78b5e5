//! `rats models list|show|promote|rollback`: the model registry from the shell.

use std::io::Write;

use rats::exit::Outcome;
use rats::ml::card::ModelCard;
use rats::ml::registry::Registry;
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};

use crate::cli::{ModelKind, ModelsCommand, ModelsDirArgs, StageArg};

impl ModelsCommand {
    /// The models directory flag every models subcommand takes.
    pub fn dir(&self) -> &ModelsDirArgs {
        match self {
            ModelsCommand::List(args) => &args.dir,
            ModelsCommand::Show(args) => &args.dir,
            ModelsCommand::Promote(args) => &args.dir,
            ModelsCommand::Rollback(args) => &args.dir,
        }
    }
}

fn kind_name(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Salary => "salary",
        ModelKind::Match => rats::matching::model::KIND,
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn run(command: &ModelsCommand, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let dir = &settings.models_dir.value;
    let report = match command {
        ModelsCommand::List(args) => {
            // Still an empty list for scripts, but a mistyped --models is worth a word.
            if !dir.is_dir() && !quiet {
                note!("no models directory at {} (`rats train` makes it)", dir.display());
            }
            list(settings, args.kind)?
        }
        ModelsCommand::Show(args) => {
            let registry = Registry::new(dir, kind_name(args.kind));
            let chosen = registry.choose(args.model_version.as_deref())?;
            let card: ModelCard = read_card(&chosen.path)?;
            let markdown = std::fs::read_to_string(chosen.path.join("card.md")).unwrap_or_default();
            if settings.format.value == OutputFormat::Table {
                if !quiet {
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "{} ({}, {})", chosen.path.display(), chosen.version, chosen.because)?;
                    write!(out, "{markdown}")?;
                }
                return Ok(Outcome::Success);
            }
            Report {
                header: vec!["field".into(), "value".into()],
                rows: vec![
                    vec!["version".into(), card.version.clone()],
                    vec!["created_at".into(), card.created_at.clone()],
                    vec!["code_version".into(), card.code_version.clone()],
                ],
                json: serde_json::to_value(&card)?,
            }
        }
        ModelsCommand::Promote(args) => {
            let stage = match args.stage {
                StageArg::Production => "production",
                StageArg::Staging => "staging",
                StageArg::Archived => "archived",
            };
            let change = Registry::new(dir, kind_name(args.kind)).promote(&args.model_version, stage, &now())?;
            change_report(kind_name(args.kind), &change)
        }
        ModelsCommand::Rollback(args) => {
            let change = Registry::new(dir, kind_name(args.kind)).rollback(&now())?;
            change_report(kind_name(args.kind), &change)
        }
    };
    if !(quiet && settings.format.value == OutputFormat::Table) {
        output::write(&mut std::io::stdout().lock(), settings.format.value, &report)?;
    }
    Ok(Outcome::Success)
}

fn read_card(path: &std::path::Path) -> anyhow::Result<ModelCard> {
    let file = path.join("model.json");
    let bytes = std::fs::read(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| anyhow::anyhow!("{}: not a model card: {e}", file.display()))
}

fn list(settings: &Settings, only: Option<ModelKind>) -> anyhow::Result<Report> {
    let mut rows = Vec::new();
    let mut json = Vec::new();
    for kind in [ModelKind::Salary, ModelKind::Match]
        .into_iter()
        .filter(|k| only.is_none_or(|o| o == *k))
    {
        let registry = Registry::new(&settings.models_dir.value, kind_name(kind));
        let stages = registry.stages()?;
        let in_use = registry.choose(None).ok().map(|c| c.version);
        for version in registry.versions()? {
            let card = read_card(&registry.path_of(&version))?;
            let stage = stages.stages.get(&version).cloned().unwrap_or_default();
            let headline = headline(&card);
            rows.push(vec![
                card.kind.clone(),
                version.clone(),
                stage.clone(),
                if in_use.as_deref() == Some(version.as_str()) {
                    "yes".into()
                } else {
                    String::new()
                },
                card.created_at.clone(),
                card.training_data.examples.to_string(),
                headline.clone(),
            ]);
            json.push(serde_json::json!({
                "kind": card.kind, "version": version, "stage": (!stage.is_empty()).then_some(stage),
                "in_use": in_use.as_deref() == Some(version.as_str()), "created_at": card.created_at,
                "examples": card.training_data.examples, "metrics": card.metrics,
                "path": registry.path_of(&version).display().to_string(),
            }));
        }
    }
    Ok(Report {
        header: ["kind", "version", "stage", "in_use", "created_at", "examples", "metrics"]
            .map(String::from)
            .to_vec(),
        rows,
        json: serde_json::Value::Array(json),
    })
}

/// A kind's headline numbers for the list.
fn headline(card: &ModelCard) -> String {
    let cross_validated = &card.metrics["cross_validated"];
    if let (Some(pairwise), Some(top1)) = (
        cross_validated["pairwise_accuracy"].as_f64(),
        cross_validated["job_to_resume"]["top1"].as_f64(),
    ) {
        return format!("pairwise accuracy {pairwise:.3}, job→résumé top-1 {top1:.3} (CV)");
    }
    let overall = &card.metrics["overall"];
    match (
        overall["r2_log"].as_f64(),
        overall["mae_usd"].as_f64(),
        overall["coverage"].as_f64(),
    ) {
        (Some(r2), Some(mae), Some(coverage)) => format!("R² {r2:.3}, MAE ${mae:.0}, 80% interval holds {:.1}%", coverage * 100.0),
        _ => String::new(),
    }
}

fn change_report(kind: &str, change: &rats::ml::registry::StageChange) -> Report {
    Report {
        header: ["kind", "version", "stage", "replaced"].map(String::from).to_vec(),
        rows: vec![vec![
            kind.into(),
            change.version.clone(),
            change.stage.clone(),
            change.replaced.clone().unwrap_or_default(),
        ]],
        json: serde_json::json!({"kind": kind, "version": change.version, "stage": change.stage, "replaced": change.replaced, "at": change.at}),
    }
}
