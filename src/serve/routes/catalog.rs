//! `GET /v1/skills`, `GET /v1/skills/{id}` and `GET /v1/companies`: the taxonomy's skills and
//! the market's companies, each with what the lake says about them (demand, pay, neighbours,
//! reposts).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::companies::{self, CompanySort};
use super::super::extract::ApiQuery;
use super::super::filter::{Filter, JobFilter};
use super::super::market::{Job, Market};
use super::super::problem::Problem;
use super::super::state::AppState;
use super::stats::{kept, pay_summary};
use super::{cached_json, checked_limit};
use crate::skills::Taxonomy;

#[derive(Debug, Deserialize)]
pub struct SkillsQuery {
    /// Text the skill's id or name contains.
    q: Option<String>,
    category: Option<String>,
    limit: Option<usize>,
}

/// Postings naming each skill id.
fn demand(market: &Market) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for job in &market.jobs {
        for id in &job.skill_ids {
            *counts.entry(id.as_str()).or_default() += 1;
        }
    }
    counts
}

/// `GET /v1/skills`: the taxonomy's skills, most demanded first.
pub async fn skills(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<SkillsQuery>,
) -> Result<Response, Problem> {
    let limit = checked_limit(query.limit, 100, 5_000)?;
    let key = format!("skills?{}", uri.query().unwrap_or_default());
    cached_json(&state, "catalog", key, &headers, move |state, market| {
        let taxonomy = state.extractor.taxonomy();
        let counts = demand(market);
        let wanted = query.q.as_deref().map(str::to_lowercase);
        let mut rows: Vec<(&crate::skills::Skill, usize)> = taxonomy
            .skills
            .iter()
            .filter(|s| query.category.as_ref().is_none_or(|c| &s.category == c))
            .filter(|s| {
                wanted
                    .as_ref()
                    .is_none_or(|w| s.id.contains(w.as_str()) || s.name.to_lowercase().contains(w.as_str()))
            })
            .map(|s| (s, counts.get(s.id.as_str()).copied().unwrap_or(0)))
            .collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.id.cmp(&b.0.id)));
        let total = rows.len();
        let skills: Vec<Value> = rows
            .into_iter()
            .take(limit)
            .map(|(s, postings)| {
                json!({"skill_id": s.id, "skill": s.name, "category": s.category, "parents": s.parents, "postings": postings,
                       "premium_usd_median": market.premiums.get(&s.id)})
            })
            .collect();
        Ok(json!({"lake_version": market.lake_version, "total": total, "skills": skills}))
    })
    .await
}

/// `GET /v1/skills/{id}`: one skill with its taxonomy neighbours (parents, children), the
/// skills most often named beside it, its demand per month, the pay of postings naming it and
/// the salary model's premium for it.
pub async fn skill(State(state): State<Arc<AppState>>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, Problem> {
    let key = format!("skill/{id}");
    cached_json(&state, "catalog", key, &headers, move |state, market| {
        skill_detail(state.extractor.taxonomy(), market, &id)
    })
    .await
}

/// The answer of `GET /v1/skills/{id}` (the dashboard's skill page shows the same).
pub fn skill_detail(taxonomy: &Taxonomy, market: &Market, id: &str) -> Result<Value, Problem> {
    let skill = taxonomy
        .get(id)
        .ok_or_else(|| Problem::not_found(format!("no skill {id:?} in the taxonomy (GET /v1/skills lists them)")))?;
    let naming: Vec<&Job> = market.jobs.iter().filter(|j| j.skill_ids.iter().any(|s| s == id)).collect();
    let mut beside: HashMap<&str, usize> = HashMap::new();
    let mut by_month: BTreeMap<String, usize> = BTreeMap::new();
    for job in &naming {
        for other in job.skill_ids.iter().filter(|o| *o != id) {
            *beside.entry(other.as_str()).or_default() += 1;
        }
        if let Some(date) = job.date_posted {
            *by_month.entry(date.format("%Y-%m").to_string()).or_default() += 1;
        }
    }
    let mut beside: Vec<(&str, usize)> = beside.into_iter().collect();
    beside.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let name = |id: &str| taxonomy.get(id).map(|s| s.name.clone());
    Ok(json!({
        "lake_version": market.lake_version,
        "skill_id": skill.id,
        "skill": skill.name,
        "category": skill.category,
        "aliases": skill.aliases,
        "parents": skill.parents.iter().map(|p| json!({"skill_id": p, "skill": name(p)})).collect::<Vec<_>>(),
        "children": taxonomy.skills.iter().filter(|s| s.parents.iter().any(|p| p == id)).map(|s| json!({"skill_id": s.id, "skill": s.name})).collect::<Vec<_>>(),
        "named_with": beside.iter().take(10).map(|(other, n)| json!({"skill_id": other, "skill": name(other), "postings": n})).collect::<Vec<_>>(),
        "postings": naming.len(),
        "share": naming.len() as f64 / market.jobs.len().max(1) as f64,
        "postings_by_month": by_month,
        "salary_usd": pay_summary(naming.iter().filter_map(|j| j.salary_mid_usd()).collect()),
        "premium_usd_median": market.premiums.get(id),
    }))
}

#[derive(Debug, Deserialize)]
pub struct CompaniesQuery {
    /// Text the company's name contains (as the filter's `company`).
    q: Option<String>,
    #[serde(default)]
    sort: CompanySort,
    limit: Option<usize>,
    /// Companies skipped before the first shown, in `sort`'s order.
    #[serde(default)]
    offset: usize,
}

/// `GET /v1/companies`: companies over the postings the filters keep — postings, pay, places,
/// titles, newest posting, reposts and postings open for months — in the order asked.
pub async fn companies(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
    ApiQuery(filter): ApiQuery<JobFilter>,
    ApiQuery(query): ApiQuery<CompaniesQuery>,
) -> Result<Response, Problem> {
    let limit = checked_limit(query.limit, 50, 5_000)?;
    let filter = Filter::new(&filter, state.extractor.taxonomy())?;
    let key = format!("companies?{}", uri.query().unwrap_or_default());
    cached_json(&state, "catalog", key, &headers, move |_, market| {
        let wanted = query.q.as_deref().map(str::to_lowercase);
        let named = |job: &&Job| {
            wanted
                .as_ref()
                .is_none_or(|w| job.company.as_ref().is_some_and(|name| name.to_lowercase().contains(w.as_str())))
        };
        let rows = companies::companies(market, kept(market, &filter).filter(named), query.sort);
        let total = rows.len();
        let shown: Vec<_> = rows.into_iter().skip(query.offset).take(limit).collect();
        Ok(json!({"lake_version": market.lake_version, "total": total, "companies": shown}))
    })
    .await
}
