//! The postings filter form the jobs, salary and skills pages share: its choices, its fields as
//! the address gave them, and the filter checked as the API checks it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::query::fields;
use crate::normalize::title::Seniority;
use crate::serve::extract::from_form;
use crate::serve::filter::{Filter, JobFilter};
use crate::serve::problem::Problem;
use crate::serve::routes::salary::REMOTE_TYPES;
use crate::skills::Taxonomy;

/// The choices the forms offer.
#[derive(Debug, Serialize)]
pub struct Choices {
    pub remote_types: [&'static str; 3],
    pub seniorities: Vec<&'static str>,
}

pub fn choices() -> Choices {
    Choices {
        remote_types: REMOTE_TYPES,
        seniorities: <Seniority as clap::ValueEnum>::value_variants()
            .iter()
            .map(|s| s.as_str())
            .collect(),
    }
}

/// The form's fields as `query` gave them, the filter's and `extra` ones empty when absent (the
/// templates read every field).
pub fn form_values(query: &str, extra: &[&str]) -> BTreeMap<String, String> {
    let mut values = fields(query);
    for name in JobFilter::FIELDS.iter().chain(extra) {
        values.entry((*name).to_string()).or_default();
    }
    values
}

/// Whether `query` sets any of the filter's fields (a page's own fields, such as its sort or
/// split, are not filters): the folded filters open when it does.
pub fn filtering(query: &str) -> bool {
    fields(query).keys().any(|name| JobFilter::FIELDS.contains(&name.as_str()))
}

/// The filter `query` asks for, checked as the API checks it.
pub fn filter_of(query: &str, taxonomy: &Taxonomy) -> Result<Filter, Problem> {
    Filter::new(&from_form::<JobFilter>(query)?, taxonomy)
}
