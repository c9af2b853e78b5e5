//! Skill premiums: what each skill adds to the salary model's estimate, averaged over the
//! postings that ask for it — across the market and within each title family. The per-posting
//! effect is the skill column's SHAP value in dollars (`estimate × (1 − e^−value)`: how much
//! lower the estimate would be without the skill).

use std::collections::BTreeMap;
use std::sync::Arc;

use deltalake::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use serde::Serialize;

use super::SalaryModel;
use crate::ml::MlError;
use crate::ml::facts::PostingFacts;
use crate::ml::metrics;

/// Fewer postings than this asking for a skill (in a family) give no premium.
pub const MIN_POSTINGS: usize = 10;

/// Where the premiums land in the lake.
pub const TABLE: &str = "gold/skill_premiums";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkillPremium {
    /// The title family's ESCO URI; none for the whole market.
    pub family_uri: Option<String>,
    /// The family's name, or "all postings".
    pub family: String,
    pub skill_id: String,
    /// Postings of the family that mention the skill.
    pub postings: usize,
    pub mean_usd: f64,
    pub median_usd: f64,
}

/// Premiums of every skill column over `facts` (stored postings), market-wide and per family.
/// Every posting that asks for one of the model's skills is explained (the others add nothing):
/// call [`SalaryModel::answer_ahead`] first.
pub fn skill_premiums<'f>(model: &SalaryModel, facts: impl IntoIterator<Item = &'f PostingFacts>) -> Result<Vec<SkillPremium>, MlError> {
    let modelled: std::collections::HashSet<&str> = model.spec.skills.iter().map(String::as_str).collect();
    let facts: Vec<&PostingFacts> = facts
        .into_iter()
        .filter(|f| f.skill_ids.iter().any(|s| modelled.contains(s.as_str())))
        .collect();
    let x = model.matrix(facts.iter().copied());
    let width = x.cols + 1;
    let (mean, contributions) = model.estimates_and_contributions(&x)?;
    let skill_columns: Vec<(usize, &str)> = model
        .spec
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.name.strip_prefix("skill:").map(|id| (i, id)))
        .collect();
    let mut effects: BTreeMap<(Option<String>, String), Vec<f64>> = BTreeMap::new();
    for (row, f) in facts.iter().enumerate() {
        let estimate = f64::from(mean[row]).exp();
        for (column, id) in &skill_columns {
            if !f.skill_ids.iter().any(|s| s == id) {
                continue;
            }
            let usd = estimate * (1.0 - (-f64::from(contributions[row * width + column])).exp());
            effects.entry((None, (*id).to_string())).or_default().push(usd);
            if let Some(family) = &f.occupation {
                effects.entry((Some(family.clone()), (*id).to_string())).or_default().push(usd);
            }
        }
    }
    let name_of = |uri: &str| {
        model
            .spec
            .occupation_index
            .iter()
            .find(|o| o.uri == uri)
            .map_or_else(|| uri.to_string(), |o| o.name.clone())
    };
    let mut premiums: Vec<SkillPremium> = effects
        .into_iter()
        .filter(|(_, values)| values.len() >= MIN_POSTINGS)
        .map(|((family_uri, skill_id), values)| SkillPremium {
            family: family_uri.as_deref().map_or_else(|| "all postings".to_string(), name_of),
            family_uri,
            skill_id,
            postings: values.len(),
            mean_usd: values.iter().sum::<f64>() / values.len() as f64,
            median_usd: metrics::median(&values),
        })
        .collect();
    premiums.sort_by(|a, b| {
        a.family_uri
            .cmp(&b.family_uri)
            .then(b.mean_usd.total_cmp(&a.mean_usd))
            .then(a.skill_id.cmp(&b.skill_id))
    });
    Ok(premiums)
}

/// The premiums as the gold table's rows, stamped with the model version they come from.
pub fn batch(premiums: &[SkillPremium], model_version: &str) -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("title_family_uri", DataType::Utf8, true),
        Field::new("title_family", DataType::Utf8, false),
        Field::new("skill_id", DataType::Utf8, false),
        Field::new("postings", DataType::Int64, false),
        Field::new("premium_usd_mean", DataType::Float64, false),
        Field::new("premium_usd_median", DataType::Float64, false),
        Field::new("model_version", DataType::Utf8, false),
    ]);
    let text = |f: &dyn Fn(&SkillPremium) -> String| -> ArrayRef { Arc::new(StringArray::from_iter_values(premiums.iter().map(f))) };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter(premiums.iter().map(|p| p.family_uri.clone()))),
        text(&|p| p.family.clone()),
        text(&|p| p.skill_id.clone()),
        Arc::new(Int64Array::from_iter_values(premiums.iter().map(|p| p.postings as i64))),
        Arc::new(Float64Array::from_iter_values(premiums.iter().map(|p| p.mean_usd))),
        Arc::new(Float64Array::from_iter_values(premiums.iter().map(|p| p.median_usd))),
        text(&|_| model_version.to_string()),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).expect("columns match the schema")
}
