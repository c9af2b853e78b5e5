//! `rats match`: postings ranked for a résumé (with explanations and skill-gap advice),
//! résumés ranked for a posting, and `rats match eval` on labelled pairs — all through the
//! registry's match model (production, else the newest).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use chrono::Datelike;
use rats::exit::Outcome;
use rats::ingest::readers;
use rats::matching::candidates::{self, Candidate};
use rats::matching::eval::Prepared;
use rats::matching::features::JobIndex;
use rats::matching::model::{KIND, MatchModel};
use rats::matching::profile::{ResumeProfile, read_resume};
use rats::matching::rank::{self, Inputs, RankedJob, Ranking};
use rats::matching::vectors::VectorCache;
use rats::matching::{document, rjdb};
use rats::ml::registry::{Chosen, Registry};
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};
use rats::skills::Extractor;

use crate::cli::{MatchArgs, MatchCommand, MatchModelArgs};
use crate::normaliser;
use crate::train_match::{EVALUATION_HEADER, evaluation_row, taxonomy_extractor};

pub fn run(args: &MatchArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let this_year = chrono::Utc::now().year();
    if let Some(MatchCommand::Eval(eval)) = &args.command {
        return evaluate(&eval.data, &eval.model, settings, quiet, this_year);
    }
    let (chosen, model) = load_model(&args.model, settings)?;
    let extractor = taxonomy_extractor(settings)?;
    if let (Some(posting), Some(dir)) = (&args.job, &args.resumes) {
        return rank_resumes(posting, dir, args.top, &chosen, &model, &extractor, settings, quiet, this_year);
    }
    let path = args
        .resume
        .as_deref()
        .context("give --resume FILE, or --job POSTING with --resumes DIR")?;
    let (format, text) = document::read(path)?;
    let resume = read_resume(&text, &extractor, this_year);
    if !quiet {
        for warning in &resume.warnings {
            note!("warning: {}: {warning}", path.display());
        }
    }
    let (candidates, lake_version) = if args.jobs.is_empty() {
        let lake = &settings.lake.value;
        let (version, candidates) = candidates::from_silver(lake, args.where_.as_deref())
            .with_context(|| format!("reading the postings of the lake {}", lake.display()))?;
        (candidates, Some(version))
    } else {
        (postings_from_files(args, settings, quiet)?, None)
    };
    if candidates.is_empty() {
        anyhow::bail!("no postings to match against (does the --where condition select any?)");
    }
    let profiles: Vec<_> = candidates.iter().map(|c| c.profile(&extractor)).collect();
    let focus: Vec<&str> = profiles.iter().map(|p| p.focus.as_str()).collect();
    let (vectors, embedded_now) = if lake_version.is_some() {
        let mut cache = VectorCache::open(&settings.lake.value, &model.encoder)?;
        let mut said = std::time::Instant::now();
        let mut progress = |embedded: usize, to_embed: usize| {
            // A lake never matched against before takes minutes: say how far it got now and then.
            if !quiet && to_embed > 0 && (embedded == to_embed || said.elapsed().as_secs() >= 10) {
                note!("embedding the lake's postings (once, kept beside the lake): {embedded} of {to_embed}");
                said = std::time::Instant::now();
            }
        };
        let vectors = cache.vectors(&model.encoder, &focus, &mut progress)?;
        cache.save()?;
        (vectors, cache.added())
    } else {
        (model.encoder.embed(&focus)?, focus.len())
    };
    let resume_vector = model.encoder.embed(&[resume.focus().as_str()])?.remove(0);
    let premiums = if lake_version.is_some() {
        rank::market_premiums(&settings.lake.value)?
    } else {
        HashMap::default()
    };
    let ranking = rank::rank(
        &Inputs {
            scorer: &model.scorer,
            taxonomy: extractor.taxonomy(),
            resume: &resume,
            resume_vector: &resume_vector,
            candidates: &candidates,
            profiles: &profiles,
            index: &JobIndex::new(&profiles, &vectors),
            premiums: &premiums,
            only: None,
        },
        args.top,
    );
    if quiet && settings.format.value == OutputFormat::Table {
        return Ok(Outcome::Success);
    }
    let json = serde_json::json!({
        "resume": {
            "file": path,
            "format": format.name(),
            "skills": resume.skills,
            "skill_phrases": resume.skill_phrases,
            "years_of_experience": resume.total_years,
            "roles": resume.roles.iter().map(|r| serde_json::json!({"title": r.title, "years": r.years})).collect::<Vec<_>>(),
            "education": resume.education,
            "warnings": resume.warnings,
        },
        "model": {"kind": KIND, "version": chosen.version, "chosen_because": chosen.because},
        "lake_version": lake_version,
        "embedded_now": embedded_now,
        "considered": ranking.considered,
        "fits": ranking.fits,
        "jobs": ranking.jobs,
        "advice": ranking.advice,
    });
    print_ranking(settings, &ranking, json)?;
    if settings.format.value == OutputFormat::Table {
        writeln!(
            std::io::stdout(),
            "{} of {} postings fit (score ≥ {}); match model {} ({})",
            ranking.fits,
            ranking.considered,
            rank::FIT,
            chosen.version,
            chosen.because
        )?;
    }
    Ok(Outcome::Success)
}

fn load_model(args: &MatchModelArgs, settings: &Settings) -> anyhow::Result<(Chosen, MatchModel)> {
    let registry = Registry::new(&settings.models_dir.value, KIND);
    let chosen = registry.choose(args.model_version.as_deref())?;
    let model = MatchModel::load(&chosen.path).with_context(|| format!("loading the match model {}", chosen.path.display()))?;
    Ok((chosen, model))
}

/// Postings read from files as consume reads them; records consume would quarantine are
/// skipped with a warning naming them.
fn postings_from_files(args: &MatchArgs, settings: &Settings, quiet: bool) -> anyhow::Result<Vec<Candidate>> {
    let normaliser = normaliser::from_settings(settings)?;
    let inputs = readers::open_all(&args.jobs, args.format.input_format, args.format.mapping.as_deref())?;
    let mut candidates = Vec::new();
    for input in inputs {
        for record in input.records {
            let record = record?;
            let posting = record.listing().and_then(|listing| {
                let mut posting = normaliser.normalise(&listing)?;
                normaliser.add_details(&mut posting)?;
                Ok(posting)
            });
            match posting {
                Ok(posting) => candidates.push(Candidate::from_posting(&posting)),
                Err(reject) if !quiet => note!(
                    "warning: {} record {}: skipped, {}: {}",
                    record.coordinates.file,
                    record.coordinates.record,
                    reject.field.as_deref().unwrap_or("posting"),
                    reject.message
                ),
                Err(_) => {}
            }
        }
    }
    Ok(candidates)
}

fn print_ranking(settings: &Settings, ranking: &Ranking, json: serde_json::Value) -> anyhow::Result<()> {
    let rows = ranking
        .jobs
        .iter()
        .map(|job| {
            vec![
                job.rank.to_string(),
                format!("{:.0}", job.score),
                job.title.clone(),
                job.company.clone().unwrap_or_default(),
                job.location.clone().unwrap_or_default(),
                job.posting_key.clone(),
                job.explanation.clone(),
            ]
        })
        .collect();
    let mut out = std::io::stdout().lock();
    output::write(
        &mut out,
        settings.format.value,
        &Report {
            header: ["rank", "score", "title", "company", "location", "posting_key", "why"]
                .map(String::from)
                .to_vec(),
            rows,
            json,
        },
    )?;
    if settings.format.value == OutputFormat::Table {
        use std::io::Write;
        for advice in &ranking.advice {
            writeln!(out, "advice: {}", advice.sentence)?;
        }
    }
    Ok(())
}

/// The silver posting `id` names: its `posting_key`, else the board's `source_job_id` when that
/// names one posting (two boards may use the same id; then the keys are listed to choose from).
fn one_posting(lake: &Path, id: &str) -> anyhow::Result<Candidate> {
    let quoted = id.replace('\'', "''");
    let condition = format!("posting_key = '{quoted}' OR source_job_id = '{quoted}'");
    let (_, mut found) = candidates::from_silver(lake, Some(&condition))?;
    if let Some(by_key) = found.iter().position(|c| c.posting_key == id) {
        return Ok(found.swap_remove(by_key));
    }
    match found.len() {
        0 => anyhow::bail!(
            "no posting {id} in the lake {} (neither a posting_key nor a source_job_id)",
            lake.display()
        ),
        1 => Ok(found.remove(0)),
        n => {
            let keys: Vec<String> = found
                .iter()
                .map(|c| {
                    format!(
                        "{} ({}{})",
                        c.posting_key,
                        c.title,
                        c.company.as_ref().map_or_else(String::new, |co| format!(", {co}"))
                    )
                })
                .collect();
            anyhow::bail!(
                "the source_job_id {id} names {n} postings in the lake {}; give --job one of their posting keys: {}",
                lake.display(),
                keys.join("; ")
            )
        }
    }
}

#[allow(clippy::too_many_arguments, reason = "one call site; the pieces are what the ranking reads")]
fn rank_resumes(
    posting: &str,
    dir: &Path,
    top: usize,
    chosen: &Chosen,
    model: &MatchModel,
    extractor: &Extractor,
    settings: &Settings,
    quiet: bool,
    this_year: i32,
) -> anyhow::Result<Outcome> {
    let candidate = one_posting(&settings.lake.value, posting)?;
    let job = candidate.profile(extractor);
    let job_vector = model.encoder.embed(&[job.focus.as_str()])?.remove(0);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the résumé folder {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    let mut resumes: Vec<(String, ResumeProfile)> = Vec::new();
    let mut skipped = Vec::new();
    for path in &files {
        match document::read(path) {
            Ok((_, text)) => resumes.push((path.display().to_string(), read_resume(&text, extractor, this_year))),
            Err(e) => skipped.push(serde_json::json!({"file": path, "error": e.to_string()})),
        }
    }
    if !quiet {
        for skip in &skipped {
            note!("warning: skipped {}", skip["error"].as_str().unwrap_or_default());
        }
    }
    if resumes.is_empty() {
        anyhow::bail!(
            "no résumé in {} could be read ({} files, {} skipped)",
            dir.display(),
            files.len(),
            skipped.len()
        );
    }
    let focus: Vec<String> = resumes.iter().map(|(_, r)| r.focus()).collect();
    let vectors = model.encoder.embed(&focus.iter().map(String::as_str).collect::<Vec<_>>())?;
    // One posting: every skill and word weighs the same. Each résumé is scored and explained
    // as `rats match --resume` explains a posting, so the two directions agree.
    let candidates = std::slice::from_ref(&candidate);
    let profiles = std::slice::from_ref(&job);
    let index = JobIndex::new(profiles, &[job_vector]);
    let no_premiums = HashMap::new();
    let mut ranked: Vec<(RankedJob, &str, &ResumeProfile)> = resumes
        .iter()
        .zip(&vectors)
        .map(|((file, resume), vector)| {
            let inputs = Inputs {
                scorer: &model.scorer,
                taxonomy: extractor.taxonomy(),
                resume,
                resume_vector: vector,
                candidates,
                profiles,
                index: &index,
                premiums: &no_premiums,
                only: None,
            };
            let fit = rank::explain_posting(&inputs, 0);
            (fit, file.as_str(), resume)
        })
        .collect();
    ranked.sort_by(|a, b| b.0.score.total_cmp(&a.0.score).then(a.1.cmp(b.1)));
    let fits = ranked.iter().filter(|(fit, _, _)| fit.score >= rank::FIT).count();
    if quiet && settings.format.value == OutputFormat::Table {
        return Ok(Outcome::Success);
    }
    let shown = &ranked[..top.min(ranked.len())];
    let rows = shown
        .iter()
        .enumerate()
        .map(|(i, (fit, file, resume))| {
            vec![
                (i + 1).to_string(),
                format!("{:.0}", fit.score),
                (*file).to_string(),
                format!("{:.1}", resume.total_years),
                fit.explanation.clone(),
            ]
        })
        .collect();
    let json_rows: Vec<serde_json::Value> = shown
        .iter()
        .enumerate()
        .map(|(i, (fit, file, resume))| {
            serde_json::json!({
                "rank": i + 1,
                "score": fit.score,
                "file": file,
                "years_of_experience": resume.total_years,
                "matched_skills": fit.matched_skills,
                "missing_skills": fit.missing_skills,
                "related_skills": fit.related_skills,
                "would_fit_with": fit.would_fit_with,
                "signals": fit.signals,
                "explanation": fit.explanation,
                "warnings": resume.warnings,
            })
        })
        .collect();
    output::write(
        &mut std::io::stdout().lock(),
        settings.format.value,
        &Report {
            header: ["rank", "score", "resume", "years", "why"].map(String::from).to_vec(),
            rows,
            json: serde_json::json!({
                "posting_key": candidate.posting_key,
                "source_job_id": candidate.source_job_id,
                "title": candidate.title,
                "model": {"kind": KIND, "version": chosen.version, "chosen_because": chosen.because},
                "considered": ranked.len(),
                "fits": fits,
                "resumes": json_rows,
                "skipped": skipped,
            }),
        },
    )?;
    if settings.format.value == OutputFormat::Table {
        writeln!(
            std::io::stdout(),
            "{} of {} résumés fit {} (score ≥ {}); match model {} ({})",
            fits,
            ranked.len(),
            candidate.title,
            rank::FIT,
            chosen.version,
            chosen.because
        )?;
    }
    Ok(Outcome::Success)
}

fn evaluate(data: &Path, model_args: &MatchModelArgs, settings: &Settings, quiet: bool, this_year: i32) -> anyhow::Result<Outcome> {
    let (chosen, model) = load_model(model_args, settings)?;
    let extractor = taxonomy_extractor(settings)?;
    let pairs = rjdb::read(data)?;
    let prepared = Prepared::new(&pairs, &extractor, &model.encoder, this_year)?;
    let evaluation = prepared.evaluate_scorer(&model.scorer);
    let baselines = prepared.baselines();
    if quiet && settings.format.value == OutputFormat::Table {
        return Ok(Outcome::Success);
    }
    let mut rows = vec![evaluation_row(&format!("match {}", chosen.version), &evaluation)];
    rows.extend(baselines.iter().map(|(name, e)| evaluation_row(name, e)));
    let mut json = serde_json::to_value(&evaluation)?;
    json["model"] = serde_json::json!({"kind": KIND, "version": chosen.version, "chosen_because": chosen.because});
    json["baselines"] = serde_json::to_value(&baselines)?;
    output::write(
        &mut std::io::stdout().lock(),
        settings.format.value,
        &Report {
            header: EVALUATION_HEADER.map(String::from).to_vec(),
            rows,
            json,
        },
    )?;
    Ok(Outcome::Success)
}
