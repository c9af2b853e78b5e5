//! What `rats predict salary` asks about: a posting described on the command line, or any
//! record of a postings file. Both go through consume's normaliser (title cleanup, seniority,
//! years of experience, place, skills), so a prediction sees what training saw.

use crate::contract::{Job, JobListing};
use crate::ingest::reject::{ErrorCode, Reject};
use crate::ml::facts::PostingFacts;
use crate::ml::features::tokens;
use crate::normalize::Normaliser;
use crate::skills::Taxonomy;

/// A posting described by hand. Stated pay, if a file carries it, is never read.
#[derive(Debug, Clone, Default)]
pub struct SalaryQuery {
    pub title: String,
    pub location: Option<String>,
    pub description: Option<String>,
    /// Skills the posting asks for, besides those found in the title and description: taxonomy
    /// ids or names.
    pub skills: Vec<String>,
    pub seniority: Option<String>,
    pub years_experience: Option<u8>,
    pub remote: Option<String>,
}

/// The facts of a hand-described posting; an unknown skill or an unusable title is an error
/// naming it.
pub fn facts_of_query(normaliser: &Normaliser, taxonomy: &Taxonomy, query: &SalaryQuery) -> Result<PostingFacts, Reject> {
    let listing = JobListing {
        job: Some(Job {
            title: Some(query.title.clone()),
            location: query.location.clone(),
            description: query.description.clone(),
            job_level: query.seniority.clone(),
            work_arrangement: query.remote.clone(),
            ..Job::default()
        }),
        ..JobListing::default()
    };
    let mut facts = facts_of_listing(normaliser, &listing)?;
    for skill in &query.skills {
        let id = skill_id(taxonomy, skill).ok_or_else(|| {
            Reject::new(
                ErrorCode::InvalidField,
                Some("skills"),
                format!("{skill:?} is not a skill of the taxonomy (`rats skills extract --text {skill:?}` shows what it finds)"),
            )
        })?;
        if !facts.skill_ids.contains(&id) {
            facts.skill_ids.push(id);
        }
    }
    if let Some(years) = query.years_experience {
        facts.min_years_experience = Some(i32::from(years));
    }
    Ok(facts)
}

/// The facts of one contract record (a file's record for `predict salary --from`).
pub fn facts_of_listing(normaliser: &Normaliser, listing: &JobListing) -> Result<PostingFacts, Reject> {
    let mut posting = normaliser.normalise(listing)?;
    if tokens(&posting.title).is_empty() {
        return Err(Reject::new(
            ErrorCode::InvalidField,
            Some("job.title"),
            format!("the title {:?} has no words to estimate from", posting.title),
        ));
    }
    normaliser.add_details(&mut posting)?;
    Ok(PostingFacts::from_posting(&posting))
}

/// A taxonomy id from an id or a skill's name or spelling, case-insensitively.
fn skill_id(taxonomy: &Taxonomy, given: &str) -> Option<String> {
    let wanted = given.trim().to_lowercase();
    if taxonomy.get(&wanted).is_some() {
        return Some(wanted);
    }
    taxonomy
        .skills
        .iter()
        .find(|s| s.name.to_lowercase() == wanted || s.spellings().any(|sp| sp.to_lowercase() == wanted))
        .map(|s| s.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::currency::Currencies;

    #[test]
    fn a_query_is_normalised_like_a_posting_and_skills_are_checked() {
        let normaliser = Normaliser::new(Currencies::builtin());
        let taxonomy = Taxonomy::built_in().expect("built-in taxonomy");
        let query = SalaryQuery {
            title: "Senior Data Engineer (Remote)".into(),
            location: Some("Seattle, WA".into()),
            description: Some("5+ years of experience with Python and Spark.".into()),
            skills: vec!["Kubernetes".into()],
            ..SalaryQuery::default()
        };
        let facts = facts_of_query(&normaliser, &taxonomy, &query).expect("facts");
        assert_eq!(facts.title, "Senior Data Engineer");
        assert_eq!(facts.seniority.as_deref(), Some("senior"));
        assert_eq!(facts.min_years_experience, Some(5));
        assert_eq!(facts.state.as_deref(), Some("WA"));
        assert!(facts.skill_ids.iter().any(|s| s == "python"), "{:?}", facts.skill_ids);
        assert!(facts.skill_ids.iter().any(|s| s == "kubernetes"), "{:?}", facts.skill_ids);
        let unknown = SalaryQuery {
            skills: vec!["underwater basket weaving".into()],
            ..query.clone()
        };
        let error = facts_of_query(&normaliser, &taxonomy, &unknown).expect_err("unknown skill");
        assert!(error.message.contains("underwater basket weaving"), "{}", error.message);
        let symbols = SalaryQuery {
            title: "!!! ### ***".into(),
            ..SalaryQuery::default()
        };
        let error = facts_of_query(&normaliser, &taxonomy, &symbols).expect_err("no words");
        assert!(error.message.contains("has no words"), "{}", error.message);
    }
}
