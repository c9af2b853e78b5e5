//! The posting filters the jobs, stats and match routes share: title, skills, company, place,
//! work arrangement, seniority, pay range, publication dates and a full-text query.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::market::Job;
use super::problem::Problem;
use super::routes::salary::REMOTE_TYPES;
use crate::normalize::title::Seniority;
use crate::skills::Taxonomy;

/// As the query string (or a match request's JSON) gives them; every field optional. Unknown
/// names are let through (a query string carries paging too); [`JobFilter::FIELDS`] lists the
/// known ones for callers that refuse the rest. Serialised, it holds only the fields given.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct JobFilter {
    /// Words the title contains (case-insensitive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Comma-separated taxonomy skill ids or names, all of which the posting names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skills: Option<String>,
    /// Text the company name contains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Text the city, state or country contains (`Seattle`, `WA`, `GB`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// `remote`, `hybrid` or `on-site`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seniority: Option<String>,
    /// Yearly USD pay the posting's range reaches at least (postings without pay are left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salary_min: Option<f64>,
    /// Yearly USD pay the posting's range starts at or below.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salary_max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posted_since: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posted_until: Option<NaiveDate>,
    /// Words that all appear in the title, company or description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
}

impl JobFilter {
    /// The names of the fields, as the query string and JSON give them.
    pub const FIELDS: &[&str] = &[
        "title",
        "skills",
        "company",
        "location",
        "remote",
        "seniority",
        "salary_min",
        "salary_max",
        "posted_since",
        "posted_until",
        "q",
    ];
}

/// A [`JobFilter`] checked and prepared for matching many postings.
#[derive(Debug, Default)]
pub struct Filter {
    title: Option<String>,
    skills: BTreeSet<String>,
    company: Option<String>,
    location: Option<String>,
    remote: Option<String>,
    seniority: Option<String>,
    salary_min: Option<f64>,
    salary_max: Option<f64>,
    posted_since: Option<NaiveDate>,
    posted_until: Option<NaiveDate>,
    words: Vec<String>,
}

fn lower(text: Option<&String>) -> Option<String> {
    text.map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty())
}

impl Filter {
    /// Checks the values (an unknown skill, remote type or seniority names its field).
    pub fn new(given: &JobFilter, taxonomy: &Taxonomy) -> Result<Self, Problem> {
        let mut skills = BTreeSet::new();
        for wanted in crate::comma_items::comma_items(&given.skills) {
            let wanted = wanted.as_str();
            let id = taxonomy
                .get(wanted)
                .or_else(|| taxonomy.skills.iter().find(|s| s.name.eq_ignore_ascii_case(wanted)))
                .map(|s| s.id.clone())
                .ok_or_else(|| Problem::invalid("skills", format!("{wanted:?} is not a skill id or name of the taxonomy")))?;
            skills.insert(id);
        }
        if let Some(remote) = &given.remote
            && !REMOTE_TYPES.contains(&remote.as_str())
        {
            return Err(Problem::invalid(
                "remote",
                format!("{remote:?} is not one of {}", REMOTE_TYPES.join(", ")),
            ));
        }
        if let Some(level) = &given.seniority
            && !<Seniority as clap::ValueEnum>::value_variants().iter().any(|s| s.as_str() == level)
        {
            return Err(Problem::invalid("seniority", format!("{level:?} is not a seniority level")));
        }
        for (field, value) in [("salary_min", given.salary_min), ("salary_max", given.salary_max)] {
            if value.is_some_and(|v| !v.is_finite() || v < 0.0) {
                return Err(Problem::invalid(field, "give a yearly amount in US dollars, 0 or more"));
            }
        }
        Ok(Filter {
            title: lower(given.title.as_ref()),
            skills,
            company: lower(given.company.as_ref()),
            location: lower(given.location.as_ref()),
            remote: given.remote.clone(),
            seniority: given.seniority.clone(),
            salary_min: given.salary_min,
            salary_max: given.salary_max,
            posted_since: given.posted_since,
            posted_until: given.posted_until,
            words: given.q.iter().flat_map(|q| q.split_whitespace()).map(str::to_lowercase).collect(),
        })
    }

    /// Whether `job` passes; `search_text` is its lower-case title, company and description.
    pub fn keeps(&self, job: &Job, search_text: &str) -> bool {
        let contains = |haystack: Option<&String>, needle: &Option<String>| {
            needle
                .as_ref()
                .is_none_or(|n| haystack.is_some_and(|h| h.to_lowercase().contains(n.as_str())))
        };
        let location = || {
            self.location.as_ref().is_none_or(|wanted| {
                [&job.location_city, &job.location_state, &job.location_country]
                    .into_iter()
                    .flatten()
                    .any(|part| part.to_lowercase().contains(wanted.as_str()))
            })
        };
        let pay = || {
            let (low, high) = (job.salary_min_usd.or(job.salary_max_usd), job.salary_max_usd.or(job.salary_min_usd));
            self.salary_min.is_none_or(|floor| high.is_some_and(|h| h >= floor))
                && self.salary_max.is_none_or(|ceiling| low.is_some_and(|l| l <= ceiling))
        };
        let dates = || {
            self.posted_since.is_none_or(|since| job.date_posted.is_some_and(|d| d >= since))
                && self.posted_until.is_none_or(|until| job.date_posted.is_some_and(|d| d <= until))
        };
        contains(Some(&job.title), &self.title)
            && contains(job.company.as_ref(), &self.company)
            && self.remote.as_ref().is_none_or(|r| job.remote_type.as_ref() == Some(r))
            && self.seniority.as_ref().is_none_or(|s| job.seniority.as_ref() == Some(s))
            && self.skills.iter().all(|id| job.skill_ids.contains(id))
            && location()
            && pay()
            && dates()
            && self.words.iter().all(|w| search_text.contains(w.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_list_names_every_field_of_a_filter() {
        let text = Some("x".to_string());
        let date = NaiveDate::from_ymd_opt(2026, 1, 1);
        let every = JobFilter {
            title: text.clone(),
            skills: text.clone(),
            company: text.clone(),
            location: text.clone(),
            remote: text.clone(),
            seniority: text.clone(),
            salary_min: Some(1.0),
            salary_max: Some(2.0),
            posted_since: date,
            posted_until: date,
            q: text,
        };
        let json = serde_json::to_value(&every).expect("serialises");
        let mut names: Vec<&str> = json.as_object().expect("an object").keys().map(String::as_str).collect();
        let mut listed = JobFilter::FIELDS.to_vec();
        names.sort_unstable();
        listed.sort_unstable();
        assert_eq!(names, listed);
        assert_eq!(
            serde_json::to_value(JobFilter::default()).expect("serialises"),
            serde_json::json!({})
        );
    }
}
