//! The salary model's report as Markdown: what `rats train salary` prints, the version's
//! `card.md`, and (with the evaluation) `docs/models/salary.md`.

use std::fmt::Write;

use super::evaluate::Evaluation;
use super::premiums::{self, SkillPremium};
use super::train::{CvReport, Scores};
use crate::ml::card::ModelCard;

/// The cross-validation report, and the evaluation when there is one.
pub fn markdown(card: &ModelCard, cv: &CvReport, evaluation: Option<&Evaluation>, premiums: &[SkillPremium]) -> String {
    let mut out = String::new();
    let data = &card.training_data;
    let _ = writeln!(out, "# Salary model {} \u{2014} yearly pay in US dollars\n", card.version);
    let _ = writeln!(
        out,
        "Trained by {} at {} on the lake `{}` (silver version {}): {} postings with pay stated or estimated by the board, of {} in silver. Seed {}.\n",
        card.code_version, card.created_at, data.lake, data.silver_version, data.examples, data.silver_rows, card.seed
    );
    let _ = writeln!(out, "| dataset | postings used |\n|---|---:|");
    for (name, count) in &data.by_dataset {
        let _ = writeln!(out, "| {name} | {count} |");
    }
    let _ = writeln!(out, "\nLeft out:\n");
    for (reason, count) in &data.excluded {
        let _ = writeln!(out, "- {reason}: {count}");
    }
    let _ = writeln!(
        out,
        "\n## Grouped {}-fold cross-validation\n\nPostings of one company (else of one title and place) are never on both sides of a split ({} groups). R² is of log pay; MAE is in US dollars a year.\n",
        cv.folds, cv.groups
    );
    let _ = writeln!(out, "| candidate | R² (log) | MAE (USD) |\n|---|---:|---:|");
    for candidate in &cv.candidates {
        let p = &candidate.params;
        let chosen = if *p == cv.chosen { " **(chosen)**" } else { "" };
        let _ = writeln!(
            out,
            "| depth {}, eta {}, {} rounds, min child weight {}, subsample {}, columns {}, lambda {}{chosen} | {:.3} | {:.0} |",
            p.max_depth,
            p.eta,
            p.rounds,
            p.min_child_weight,
            p.subsample,
            p.colsample_bytree,
            p.lambda,
            candidate.scores.r2_log,
            candidate.scores.mae_usd
        );
    }
    let _ = writeln!(
        out,
        "\n| slice | postings | R² (log) | MAE (USD) | in 80 % interval |\n|---|---:|---:|---:|---:|"
    );
    row(&mut out, "**all (out of fold)**", &cv.overall);
    for (i, scores) in cv.per_fold.iter().enumerate() {
        row(&mut out, &format!("fold {}", i + 1), scores);
    }
    for (name, scores) in &cv.per_dataset {
        row(&mut out, name, scores);
    }
    let _ = writeln!(
        out,
        "\nThe same held-out postings described as a question describes a job (title, place, work mode, seniority, years and skills; no description, job type, industry, company size or education), which is what `rats predict salary --title …` answers:\n\n| slice | postings | R² (log) | MAE (USD) | in 80 % interval |\n|---|---:|---:|---:|---:|"
    );
    for (name, scores) in &cv.as_query {
        row(&mut out, name, scores);
    }
    let c = &cv.calibration;
    let _ = writeln!(
        out,
        "\nInterval: the quantile models' P10\u{2013}P90 held {:.1} % of out-of-fold postings; conformal calibration widens it by {:.3} in log pay (\u{00d7}{:.2} either side), and then {:.1} % of each fold's postings fall inside (offset computed from the other folds only; nominal {:.0} %).",
        c.raw_coverage * 100.0,
        c.offset,
        c.offset.exp(),
        c.calibrated_coverage * 100.0,
        c.nominal_coverage * 100.0
    );
    skill_premiums(&mut out, premiums);
    if let Some(evaluation) = evaluation {
        let _ = writeln!(
            out,
            "\n## Baselines and ablations on the same folds\n\n| model | R² (log) | MAE (USD) |\n|---|---:|---:|"
        );
        for named in &evaluation.on_folds {
            let _ = writeln!(out, "| {} | {:.3} | {:.0} |", named.name, named.scores.r2_log, named.scores.mae_usd);
        }
        let _ = writeln!(
            out,
            "\n## Leave one dataset out\n\nTrained on every other dataset, tested on the one named (the Glassdoor metro files one state at a time; slices with fewer than 100 postings with pay, such as Data_Job_NY, are not held out on their own). R² is against the held-out dataset's own mean, so a model that gets the order right but the level wrong (a country or board it never saw) scores below zero. The interval's offset comes from the training postings' out-of-fold scores.\n\n| held out | postings | R² (log) | MAE (USD) | in 80 % interval | ridge TF-IDF R² (log) |\n|---|---:|---:|---:|---:|---:|"
        );
        for held in &evaluation.leave_one_dataset_out {
            let m = &held.model;
            let _ = writeln!(
                out,
                "| {} | {} | {:.3} | {:.0} | {} | {:.3} |",
                held.slice,
                m.postings,
                m.r2_log,
                m.mae_usd,
                percent(m.coverage),
                held.ridge.r2_log
            );
        }
    }
    out
}

/// The market-wide premiums: the largest and the most negative.
fn skill_premiums(out: &mut String, all: &[SkillPremium]) {
    let market: Vec<&SkillPremium> = all.iter().filter(|p| p.family_uri.is_none()).collect();
    let families = all
        .iter()
        .filter_map(|p| p.family_uri.as_deref())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let _ = writeln!(
        out,
        "\n## Skill premiums\n\nWhat a skill adds to the estimate of a posting that asks for it (its SHAP value in dollars, averaged over the postings that mention it; at least {} postings). {} market-wide premiums and {} within {} title families are in the lake table `{}`. The largest and the lowest across the market:\n\n| skill | postings | mean (USD) | median (USD) |\n|---|---:|---:|---:|",
        premiums::MIN_POSTINGS,
        market.len(),
        all.len() - market.len(),
        families,
        premiums::TABLE
    );
    let mut shown: Vec<&SkillPremium> = market.iter().take(12).copied().collect();
    shown.extend(
        market
            .iter()
            .rev()
            .take(5)
            .rev()
            .filter(|p| !shown.contains(p))
            .copied()
            .collect::<Vec<_>>(),
    );
    for p in shown {
        let _ = writeln!(out, "| {} | {} | {:.0} | {:.0} |", p.skill_id, p.postings, p.mean_usd, p.median_usd);
    }
}

fn row(out: &mut String, name: &str, s: &Scores) {
    let _ = writeln!(
        out,
        "| {name} | {} | {:.3} | {:.0} | {} |",
        s.postings,
        s.r2_log,
        s.mae_usd,
        percent(s.coverage)
    );
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(String::new, |v| format!("{:.1} %", v * 100.0))
}
