//! The postings a résumé is matched against: silver's (optionally filtered by a SQL condition
//! over its columns) or any postings file's, read by consume's readers and normaliser.

use std::path::Path;

use polars::prelude::*;
use polars::sql::SQLContext;

use super::MatchError;
use super::profile::{JobProfile, read_job};
use crate::lake;
use crate::normalize::Posting;
use crate::skills::Extractor;
use crate::transform::delta::DeltaIo;

#[derive(Debug, Clone, Default)]
pub struct Candidate {
    pub posting_key: String,
    pub source_job_id: Option<String>,
    pub title: String,
    pub company: Option<String>,
    /// City, state, country as known.
    pub location: Option<String>,
    pub remote_type: Option<String>,
    /// The yearly pay range in US dollars, when stated or estimated.
    pub salary_usd: Option<(f64, f64)>,
    pub description: String,
    /// Skills consume found in the posting.
    pub skill_ids: Vec<String>,
    pub min_years: Option<f32>,
}

impl Candidate {
    pub fn from_posting(posting: &Posting) -> Self {
        let location = [&posting.location_city, &posting.location_state, &posting.location_country]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        Self {
            posting_key: posting.posting_key.clone(),
            source_job_id: posting.source_job_id.clone(),
            title: posting.title.clone(),
            company: posting.company.clone(),
            location: (!location.is_empty()).then_some(location),
            remote_type: posting.remote_type.map(str::to_string),
            salary_usd: posting.salary.as_ref().and_then(|s| Some((s.min_usd?, s.max_usd.or(s.min_usd)?))),
            description: posting.description.clone().unwrap_or_default(),
            skill_ids: posting.skill_ids().into_iter().map(str::to_string).collect(),
            min_years: posting.min_years_experience.map(f32::from),
        }
    }

    /// The posting read for matching; the skills consume stored count with those found here.
    pub fn profile(&self, extractor: &Extractor) -> JobProfile {
        let mut profile = read_job(&self.title, &self.description, extractor);
        profile.skills.extend(self.skill_ids.iter().cloned());
        if self.min_years.is_some() {
            profile.min_years = self.min_years;
        }
        profile
    }
}

const COLUMNS: &str = "posting_key, source_job_id, title, company, location_city, location_state, location_country, \
remote_type, min_years_experience, salary_min_usd, salary_max_usd, description, skill_ids";

/// Silver's postings (those where `condition` holds, a SQL boolean expression over silver's
/// columns), in posting-key order, and the silver version read.
pub fn from_silver(lake_root: &Path, condition: Option<&str>) -> Result<(i64, Vec<Candidate>), MatchError> {
    let path = lake_root.join(lake::SILVER);
    let version = lake::table_version(&path)?;
    let io = DeltaIo::new().map_err(|e| MatchError::Invalid(e.to_string()))?;
    let frame = io.scan(&path).map_err(|e| MatchError::Invalid(e.to_string()))?;
    let mut context = SQLContext::new();
    context.register("silver", frame);
    let filter = condition.map_or_else(String::new, crate::transform::engine::where_clause);
    let sql = format!("SELECT {COLUMNS} FROM silver{filter} ORDER BY posting_key");
    let sql_error = |e: PolarsError| match condition {
        Some(c) => MatchError::Invalid(format!("--where {c:?}: {}", crate::transform::engine::built_query_message(&e))),
        None => MatchError::file(&path, e),
    };
    let frame = context.execute(&sql).and_then(LazyFrame::collect).map_err(sql_error)?;
    let read = |e: PolarsError| MatchError::file(&path, e);
    let text = |name: &str| -> Result<Vec<Option<String>>, MatchError> {
        Ok(frame
            .column(name)
            .and_then(|c| c.str().cloned())
            .map_err(read)?
            .iter()
            .map(|v| v.map(str::to_string))
            .collect())
    };
    let number = |name: &str| -> Result<Vec<Option<f64>>, MatchError> {
        let column = frame.column(name).map_err(read)?.cast(&DataType::Float64).map_err(read)?;
        Ok(column.f64().map_err(read)?.iter().collect())
    };
    let keys = text("posting_key")?;
    let ids = text("source_job_id")?;
    let titles = text("title")?;
    let companies = text("company")?;
    let (cities, states, countries) = (text("location_city")?, text("location_state")?, text("location_country")?);
    let remote = text("remote_type")?;
    let years = number("min_years_experience")?;
    let (low, high) = (number("salary_min_usd")?, number("salary_max_usd")?);
    let descriptions = text("description")?;
    let skills = frame.column("skill_ids").and_then(|c| c.list().cloned()).map_err(read)?;
    let mut candidates = Vec::with_capacity(frame.height());
    for (i, list) in skills.amortized_iter().enumerate() {
        let skill_ids = match list {
            Some(series) => series.as_ref().str().map_err(read)?.iter().flatten().map(str::to_string).collect(),
            None => Vec::new(),
        };
        let location = [&cities[i], &states[i], &countries[i]]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        candidates.push(Candidate {
            posting_key: keys[i].clone().unwrap_or_default(),
            source_job_id: ids[i].clone(),
            title: titles[i].clone().unwrap_or_default(),
            company: companies[i].clone(),
            location: (!location.is_empty()).then_some(location),
            remote_type: remote[i].clone(),
            salary_usd: low[i].zip(high[i].or(low[i])),
            description: descriptions[i].clone().unwrap_or_default(),
            skill_ids,
            min_years: years[i].map(|y| y as f32),
        });
    }
    Ok((version, candidates))
}
