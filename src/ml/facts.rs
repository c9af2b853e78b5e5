//! The facts about a posting the salary model may use: silver's normalised fields without
//! its pay. Built from a silver row (training) or from a freshly normalised posting
//! (`rats predict salary`), so both go through the same encoding.

use crate::normalize::Posting;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PostingFacts {
    pub title: String,
    pub seniority: Option<String>,
    pub min_years_experience: Option<i32>,
    pub education_level: Option<String>,
    pub company_size_band: Option<String>,
    pub company_industry: Option<String>,
    pub remote_type: Option<String>,
    pub job_type: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    /// Taxonomy skill ids mentioned in the title and description.
    pub skill_ids: Vec<String>,
    pub description: Option<String>,
    /// The ESCO occupation URI the title maps to (the title family), when one does.
    pub occupation: Option<String>,
}

impl PostingFacts {
    pub fn from_posting(posting: &Posting) -> Self {
        PostingFacts {
            title: posting.title.clone(),
            seniority: posting.seniority.map(str::to_string),
            min_years_experience: posting.min_years_experience.map(i32::from),
            education_level: posting.education_level.map(str::to_string),
            company_size_band: posting.company_size_band.map(str::to_string),
            company_industry: posting.company_industry.clone(),
            remote_type: posting.remote_type.map(str::to_string),
            job_type: posting.job_type.clone(),
            city: posting.location_city.clone(),
            state: posting.location_state.clone(),
            country: posting.location_country.clone(),
            skill_ids: posting.skill_ids().into_iter().map(str::to_string).collect(),
            description: posting.description.clone(),
            occupation: None,
        }
    }

    /// The posting as a person asking about it would describe it: title (and its occupation),
    /// place, work mode, seniority, years and skills, without the description, job type, industry, company size
    /// or education a board's posting carries. Training sees every posting in this form too, so
    /// a short question is not mistaken for a dataset whose postings lack those fields.
    #[must_use]
    pub fn as_query(&self) -> PostingFacts {
        PostingFacts {
            title: self.title.clone(),
            seniority: self.seniority.clone(),
            min_years_experience: self.min_years_experience,
            remote_type: self.remote_type.clone(),
            city: self.city.clone(),
            state: self.state.clone(),
            country: self.country.clone(),
            skill_ids: self.skill_ids.clone(),
            occupation: self.occupation.clone(),
            ..PostingFacts::default()
        }
    }

    /// The place as a person writes it: "Seattle, WA", "London, GB", "US".
    pub fn place(&self) -> Option<String> {
        let region = self.state.as_deref().or(self.country.as_deref());
        match (self.city.as_deref(), region) {
            (Some(city), Some(region)) => Some(format!("{city}, {region}")),
            (Some(city), None) => Some(city.to_string()),
            (None, Some(region)) => Some(region.to_string()),
            (None, None) => None,
        }
    }
}
