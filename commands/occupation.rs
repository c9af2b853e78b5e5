//! `rats occupation --text TITLE` and `rats occupation eval --data FILE`: job titles to ESCO
//! occupations.

use std::path::PathBuf;

use anyhow::Context;
use rats::exit::Outcome;
use rats::ml::occupation::{self, OccupationIndex};
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};

use crate::cli::{EscoArgs, OccupationArgs, OccupationCommand};

const ESCO: &str = "taxonomies/esco/occupations.csv";

fn index(args: &EscoArgs, settings: &Settings) -> anyhow::Result<OccupationIndex> {
    let path: PathBuf = args.esco.clone().unwrap_or_else(|| settings.datasets.value.join(ESCO));
    OccupationIndex::from_esco_csv(&path).with_context(|| format!("reading the ESCO occupations {} (--esco FILE)", path.display()))
}

pub fn run(args: &OccupationArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let report = match &args.command {
        Some(OccupationCommand::Eval(eval)) => {
            let index = index(&eval.esco, settings)?;
            let labelled = occupation::read_labelled(&eval.data)?;
            let scores = occupation::evaluate(&index, &labelled);
            Report {
                header: ["titles", "accuracy_at_1", "accuracy_at_5", "mrr"].map(String::from).to_vec(),
                rows: vec![vec![
                    scores.titles.to_string(),
                    format!("{:.3}", scores.accuracy_at_1),
                    format!("{:.3}", scores.accuracy_at_5),
                    format!("{:.3}", scores.mrr),
                ]],
                json: serde_json::to_value(&scores)?,
            }
        }
        Some(OccupationCommand::Assign(assign)) => {
            let index = index(&assign.esco, settings)?;
            let lake = &settings.lake.value;
            let rows = occupation::assign(&index, lake)?;
            let mut metadata = serde_json::Map::new();
            metadata.insert("rats.occupations".into(), format!("{} ESCO occupations", index.len()).into());
            let wrote = rats::lake::replace_table(
                &lake.join(occupation::ASSIGNMENTS_TABLE),
                "posting_occupations",
                occupation::assignments_batch(&rows),
                metadata,
            )?;
            let families = rows
                .iter()
                .map(|r| r.2.uri.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            Report {
                header: ["table", "postings", "occupations", "written"].map(String::from).to_vec(),
                rows: vec![vec![
                    occupation::ASSIGNMENTS_TABLE.to_string(),
                    rows.len().to_string(),
                    families.to_string(),
                    if wrote { "yes".into() } else { "no (unchanged)".into() },
                ]],
                json: serde_json::json!({"table": occupation::ASSIGNMENTS_TABLE, "postings": rows.len(), "occupations": families, "written": wrote}),
            }
        }
        None => {
            let title = args.text.as_deref().unwrap_or_default();
            let matches = index(&args.esco, settings)?.rank(title, args.top);
            if matches.is_empty() {
                anyhow::bail!("no ESCO occupation shares a word or word part with {title:?}");
            }
            // A best match below what a title family needs is a guess from word parts (a title in
            // another language, or an unusual one): said, not hidden behind a ranked list.
            let best = matches[0].score;
            let mut notes = Vec::new();
            if best < occupation::MIN_FAMILY_SCORE {
                notes.push(format!(
                    "low confidence: the best match scores {best:.3}, below the {:.1} a posting's title needs for a title family (is the title in English?)",
                    occupation::MIN_FAMILY_SCORE
                ));
            }
            if settings.format.value == OutputFormat::Table && !quiet {
                for line in &notes {
                    note!("{line}");
                }
            }
            Report {
                header: ["rank", "occupation", "score", "uri"].map(String::from).to_vec(),
                rows: matches
                    .iter()
                    .enumerate()
                    .map(|(i, m)| vec![(i + 1).to_string(), m.name.clone(), format!("{:.3}", m.score), m.uri.clone()])
                    .collect(),
                json: serde_json::json!({"title": title, "occupations": matches, "notes": notes}),
            }
        }
    };
    if !(quiet && settings.format.value == OutputFormat::Table) {
        output::write(&mut std::io::stdout().lock(), settings.format.value, &report)?;
    }
    Ok(Outcome::Success)
}
