//! Per-prediction explanations: XGBoost's SHAP values (additive in log-dollars) rolled up from
//! columns into the things a person reads — "Kubernetes +$6.1k", "Seattle, WA +$14k".

use std::collections::BTreeMap;

use serde::Serialize;

use super::facts::PostingFacts;
use super::features::FeatureSpec;

/// One reason the estimate is what it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    /// What it is about: a skill's name, the place, "3 years' experience", …
    pub label: String,
    /// The columns' group (`skill:kubernetes`, `location`, `title`, …).
    pub group: String,
    /// How much lower the estimate would be without it, in US dollars a year (negative: it
    /// lowers the estimate): `estimate × (1 − e^−effect)`.
    pub usd: f64,
    /// The additive effect on log pay (the SHAP values of its columns, summed).
    pub log_effect: f64,
}

/// Rolls one row's contributions (`columns + 1` values, bias last) into labelled groups,
/// largest dollar effect first. Columns of skills the posting does not mention are summed into
/// one "skills not mentioned" group; `skill_name` turns an id into its display name.
pub fn explain(
    spec: &FeatureSpec,
    facts: &PostingFacts,
    contributions: &[f32],
    estimate_usd: f64,
    skill_name: &dyn Fn(&str) -> String,
) -> Vec<Contribution> {
    let mut groups: BTreeMap<&str, f64> = BTreeMap::new();
    // Most of the ~1,100 columns have no effect on a given row (no tree splits on them); adding
    // their zeros would not change a sum, and a group of zeros is left out below anyway.
    for (column, value) in spec.columns.iter().zip(contributions).filter(|(_, value)| **value != 0.0) {
        let group = match column.group.strip_prefix("skill:") {
            Some(id) if !facts.skill_ids.iter().any(|s| s == id) => "skills not mentioned",
            _ => column.group.as_str(),
        };
        *groups.entry(group).or_default() += f64::from(*value);
    }
    let mut out: Vec<Contribution> = groups
        .into_iter()
        .filter(|(_, effect)| effect.abs() > 1e-6)
        .map(|(group, effect)| Contribution {
            label: label(group, spec, facts, skill_name),
            usd: estimate_usd * (1.0 - (-effect).exp()),
            log_effect: effect,
            group: group.to_string(),
        })
        .collect();
    out.sort_by(|a, b| b.usd.abs().total_cmp(&a.usd.abs()).then_with(|| a.group.cmp(&b.group)));
    out
}

fn label(group: &str, spec: &FeatureSpec, facts: &PostingFacts, skill_name: &dyn Fn(&str) -> String) -> String {
    let or_unstated = |value: Option<String>, what: &str| value.unwrap_or_else(|| format!("{what} not stated"));
    match group {
        "seniority" => or_unstated(facts.seniority.as_ref().map(|s| format!("{s} level")), "seniority"),
        "experience" => or_unstated(
            facts
                .min_years_experience
                .map(|y| format!("{y} year{}' experience", if y == 1 { "" } else { "s" })),
            "experience",
        ),
        "education" => or_unstated(
            facts.education_level.as_ref().map(|e| format!("{} degree", e.replace('_', " "))),
            "education",
        ),
        "company size" => or_unstated(
            facts.company_size_band.as_ref().map(|b| format!("company of {b} people")),
            "company size",
        ),
        "location" => or_unstated(facts.place(), "location"),
        "remote" => or_unstated(facts.remote_type.clone(), "work mode"),
        "job type" => or_unstated(facts.job_type.clone(), "job type"),
        "industry" => or_unstated(facts.company_industry.clone(), "industry"),
        "title" => format!("title \u{ab}{}\u{bb}", facts.title),
        "occupation" => or_unstated(
            facts
                .occupation
                .as_ref()
                .map(|uri| {
                    spec.occupation_index
                        .iter()
                        .find(|o| &o.uri == uri)
                        .map_or_else(|| uri.clone(), |o| o.name.clone())
                })
                .map(|name| format!("occupation: {name}")),
            "occupation",
        ),
        "text" => "description wording".to_string(),
        "skills not mentioned" => "skills not mentioned".to_string(),
        other => other.strip_prefix("skill:").map_or_else(|| other.to_string(), skill_name),
    }
}

/// "+$6.1k", "−$14k", "+$420".
pub fn dollars(usd: f64) -> String {
    let sign = if usd < 0.0 { "\u{2212}" } else { "+" };
    let magnitude = usd.abs();
    if magnitude >= 10_000.0 {
        format!("{sign}${:.0}k", magnitude / 1000.0)
    } else if magnitude >= 1_000.0 {
        format!("{sign}${:.1}k", magnitude / 1000.0)
    } else {
        format!("{sign}${magnitude:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::features::FeatureOptions;

    #[test]
    fn columns_roll_up_into_readable_groups() {
        let facts = PostingFacts {
            title: "Data Engineer".into(),
            min_years_experience: Some(3),
            city: Some("Seattle".into()),
            state: Some("WA".into()),
            skill_ids: vec!["kubernetes".into()],
            ..PostingFacts::default()
        };
        let rows: Vec<PostingFacts> = (0..12)
            .map(|_| PostingFacts {
                skill_ids: vec!["kubernetes".into(), "java".into()],
                ..facts.clone()
            })
            .collect();
        let refs: Vec<&PostingFacts> = rows.iter().collect();
        let spec = FeatureSpec::fit(
            &refs,
            FeatureOptions {
                skills: true,
                families: true,
                text_buckets: 0,
            },
            &crate::ml::features::Reference::default(),
        );
        let mut contributions = vec![0.0f32; spec.width() + 1];
        let at = |name: &str| spec.columns.iter().position(|c| c.name == name).expect(name);
        contributions[at("skill:kubernetes")] = 0.05;
        contributions[at("skill:java")] = -0.01;
        contributions[at("min_years_experience")] = -0.1;
        contributions[at("state=WA")] = 0.2;
        let out = explain(&spec, &facts, &contributions, 100_000.0, &|id| id.to_uppercase());
        let find = |label: &str| {
            out.iter()
                .find(|c| c.label == label)
                .unwrap_or_else(|| panic!("{label} in {out:?}"))
        };
        assert!((find("KUBERNETES").usd - 100_000.0 * (1.0 - (-0.05f64).exp())).abs() < 1.0);
        assert!(find("skills not mentioned").usd < 0.0);
        assert!(find("3 years' experience").usd < -9_000.0);
        assert_eq!(out[0].label, "Seattle, WA");
        assert_eq!(dollars(6_100.0), "+$6.1k");
        assert_eq!(dollars(-14_200.0), "\u{2212}$14k");
    }
}
