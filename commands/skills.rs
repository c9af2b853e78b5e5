//! `rats skills extract|eval|graph|import`: arguments in, library calls, reports out.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context;
use rats::exit::Outcome;
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Overrides, Settings};
use rats::skills::{self, conll, eval, graph, import};

use crate::cli::{SkillsCommand, SkillsEvalArgs, SkillsExtractArgs, SkillsGraphArgs, SkillsImportArgs};

/// The flags that are settings: taxonomy, model, lake.
pub fn apply_overrides(command: &SkillsCommand, overrides: &mut Overrides) {
    let models = match command {
        SkillsCommand::Extract(args) => Some(&args.models),
        SkillsCommand::Eval(args) => Some(&args.models),
        SkillsCommand::Graph(args) => {
            overrides.lake.clone_from(&args.lake);
            overrides.skills_taxonomy.clone_from(&args.taxonomy);
            None
        }
        SkillsCommand::Import(args) => {
            overrides.skills_taxonomy.clone_from(&args.taxonomy);
            None
        }
    };
    if let Some(models) = models {
        overrides.skills_taxonomy.clone_from(&models.taxonomy);
        overrides.skills_model.clone_from(&models.model);
    }
}

pub fn run(command: &SkillsCommand, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let print = |report: &Report| -> anyhow::Result<()> {
        if !(quiet && settings.format.value == OutputFormat::Table) {
            output::write(&mut std::io::stdout().lock(), settings.format.value, report)?;
        }
        Ok(())
    };
    match command {
        SkillsCommand::Extract(args) => extract(args, settings)?.map_or(Ok(()), |report| print(&report)),
        SkillsCommand::Eval(args) => print(&evaluate(args, settings)?),
        SkillsCommand::Graph(args) => print(&write_graph(args, settings)?),
        SkillsCommand::Import(args) => print(&import(args, settings)?),
    }?;
    Ok(Outcome::Success)
}

fn extractor(settings: &Settings) -> anyhow::Result<skills::Extractor> {
    Ok(skills::load(
        settings.skills_taxonomy.value.as_deref(),
        settings.skills_model.value.as_deref(),
    )?)
}

/// The report to print, or `None` when the lines were already written.
fn extract(args: &SkillsExtractArgs, settings: &Settings) -> anyhow::Result<Option<Report>> {
    let text = match (&args.text, &args.file) {
        (Some(text), _) => text.clone(),
        (None, Some(path)) if path == Path::new("-") => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).context("cannot read standard input")?;
            text
        }
        (None, Some(path)) => std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
        (None, None) => anyhow::bail!("give --text TEXT, a FILE or - for standard input"),
    };
    let extractor = extractor(settings)?;
    let row = |m: &skills::Mention| {
        vec![
            m.id.clone().unwrap_or_default(),
            m.name.clone(),
            m.category.clone().unwrap_or_default(),
            m.surface.clone(),
            m.start.to_string(),
            m.end.to_string(),
        ]
    };
    let header = ["id", "name", "category", "surface", "start", "end"].map(String::from).to_vec();
    if !args.per_line {
        let mentions = extractor.extract(&text)?;
        return Ok(Some(Report {
            header,
            rows: mentions.iter().map(row).collect(),
            json: serde_json::to_value(&mentions)?,
        }));
    }
    if settings.format.value == OutputFormat::Json {
        // One JSON array per input line, written as it goes: inputs can be large.
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for line in text.lines() {
            serde_json::to_writer(&mut out, &extractor.extract(line)?)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        return Ok(None);
    }
    let mut rows = Vec::new();
    for (number, line) in text.lines().enumerate() {
        rows.extend(extractor.extract(line)?.iter().map(|m| {
            let mut r = vec![(number + 1).to_string()];
            r.extend(row(m));
            r
        }));
    }
    Ok(Some(Report {
        header: std::iter::once("line".to_string()).chain(header).collect(),
        rows,
        json: serde_json::Value::Null,
    }))
}

fn evaluate(args: &SkillsEvalArgs, settings: &Settings) -> anyhow::Result<Report> {
    let extractor = extractor(settings)?;
    let sentences = conll::read_all(&args.data)?;
    let files = args.data.iter().map(|p| p.display().to_string()).collect();
    let report = eval::evaluate(&extractor, files, &sentences)?;
    let mut rows = Vec::new();
    for system in &report.systems {
        for (label, scores) in &system.labels {
            let name = serde_json::to_value(system.system)?.as_str().unwrap_or_default().to_string();
            let f = |x: f64| format!("{x:.3}");
            rows.push(vec![
                name,
                label.name().to_string(),
                f(scores.strict.precision),
                f(scores.strict.recall),
                f(scores.strict.f1),
                f(scores.partial.precision),
                f(scores.partial.recall),
                f(scores.partial.f1),
                scores.strict.gold.to_string(),
            ]);
        }
    }
    Ok(Report {
        header: [
            "system",
            "label",
            "strict_p",
            "strict_r",
            "strict_f1",
            "partial_p",
            "partial_r",
            "partial_f1",
            "gold",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        json: serde_json::to_value(&report)?,
    })
}

fn write_graph(args: &SkillsGraphArgs, settings: &Settings) -> anyhow::Result<Report> {
    let taxonomy = skills::Taxonomy::load(settings.skills_taxonomy.value.as_deref())?;
    let lake = &settings.lake.value;
    let postings = rats::lake::read_silver_skill_ids(lake).with_context(|| format!("cannot read silver's skills in {}", lake.display()))?;
    let graph = graph::build(
        &taxonomy,
        postings.iter().map(|ids| ids.iter().map(String::as_str).collect()),
        args.min_cooccurrence,
    );
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&graph)?).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.graphml {
        std::fs::write(path, graph.to_graphml()).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut co: Vec<&graph::Edge> = graph.edges.iter().filter(|e| e.kind == graph::EdgeKind::CoOccurs).collect();
    co.sort_by(|a, b| {
        b.weight
            .cmp(&a.weight)
            .then_with(|| (&a.source, &a.target).cmp(&(&b.source, &b.target)))
    });
    let parents = graph.edges.len() - co.len();
    let mut rows = vec![
        vec!["postings".into(), graph.postings.to_string()],
        vec!["skills".into(), graph.nodes.len().to_string()],
        vec![
            "skills mentioned".into(),
            graph.nodes.iter().filter(|n| n.postings > 0).count().to_string(),
        ],
        vec!["parent edges".into(), parents.to_string()],
        vec!["co-occurrence edges".into(), co.len().to_string()],
    ];
    rows.extend(
        co.iter()
            .take(10)
            .map(|e| vec![format!("{} + {}", e.source, e.target), e.weight.to_string()]),
    );
    // JSON on stdout is the whole graph unless it went to a file.
    let json = if args.json.is_some() {
        serde_json::json!({"postings": graph.postings, "nodes": graph.nodes.len(), "parent_edges": parents, "cooccurrence_edges": co.len()})
    } else {
        serde_json::to_value(&graph)?
    };
    Ok(Report {
        header: vec!["graph".into(), "value".into()],
        rows,
        json,
    })
}

fn import(args: &SkillsImportArgs, settings: &Settings) -> anyhow::Result<Report> {
    let taxonomy_path = settings.skills_taxonomy.value.as_deref();
    let taxonomy = skills::Taxonomy::load(taxonomy_path)?;
    let candidates = import::read(args.source, &args.file, args.hot_only)?;
    let report = import::compare(args.source, &args.file, &taxonomy, candidates);
    let mut merged = 0;
    if args.merge {
        let path = taxonomy_path.context("--merge needs the taxonomy file to write: give --taxonomy FILE")?;
        let original = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let (text, added) = import::merged_text(&original, &path.display().to_string(), &report)?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        merged = added;
    }
    let mut rows = vec![
        vec!["read".into(), report.read.to_string(), String::new()],
        vec!["known".into(), report.known.to_string(), String::new()],
        vec![
            "new".into(),
            report.new.len().to_string(),
            sample(report.new.iter().map(|c| c.name.as_str())),
        ],
        vec![
            "contradictions".into(),
            report.contradictions.len().to_string(),
            sample(report.contradictions.iter().map(|c| c.detail.as_str())),
        ],
    ];
    if args.merge {
        rows.push(vec!["merged".into(), merged.to_string(), String::new()]);
    }
    let mut json = serde_json::to_value(&report)?;
    json["merged"] = serde_json::json!(merged);
    Ok(Report {
        header: vec!["finding".into(), "count".into(), "examples".into()],
        rows,
        json,
    })
}

/// The first few items, for a table cell; the JSON output has them all.
fn sample<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    let mut shown = items.iter().take(5).copied().collect::<Vec<_>>().join("; ");
    if items.len() > 5 {
        let _ = write!(shown, "; … {} more (--format json lists all)", items.len() - 5);
    }
    shown
}
