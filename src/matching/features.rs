//! The signals a match score combines, each in [0, 1] (the cosine in [−1, 1]), computed for
//! one résumé against one posting.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::embed::dot;
use super::profile::{JobProfile, ResumeProfile};
use crate::ml::features::tokens;
use crate::skills::Taxonomy;

/// The features in the order the scorer's weights follow.
pub const NAMES: [&str; 6] = ["semantic", "requirements", "skills", "keywords", "title", "experience"];
pub type Features = [f32; NAMES.len()];

/// A coverage measured on few items is weak evidence: a posting naming one skill the résumé has
/// is not a better fit than one naming nine it has eight of. Coverages are shrunk towards 0 by
/// n / (n + k), k items' worth of doubt.
fn shrunk(coverage: f32, items: usize, doubt: f32) -> f32 {
    coverage * items as f32 / (items as f32 + doubt)
}
const SKILL_DOUBT: f32 = 2.0;
const KEYWORD_DOUBT: f32 = 20.0;

/// Credit for a required skill the résumé lacks but has a close relative of (`PostgreSQL` for
/// `MySQL`: both are kinds of SQL database).
pub const RELATED_CREDIT: f32 = 0.5;

/// Words that carry no requirement ("experience with", "ability to").
const STOPWORDS: &[&str] = &[
    "a",
    "an",
    "and",
    "as",
    "at",
    "be",
    "by",
    "for",
    "from",
    "in",
    "is",
    "of",
    "on",
    "or",
    "the",
    "to",
    "with",
    "skills",
    "skill",
    "ability",
    "knowledge",
    "experience",
    "proficiency",
    "strong",
    "good",
    "excellent",
    "years",
    "year",
    "work",
    "working",
];

/// The content words of `text`, lower-cased, numbers left out and a plural's `s` dropped
/// ("Paramedics" is "paramedic").
pub fn content_words(text: &str) -> Vec<String> {
    tokens(text)
        .into_iter()
        .filter(|t| !STOPWORDS.contains(&t.as_str()) && !t.chars().all(|c| c.is_ascii_digit()))
        .map(|mut t| {
            if t.len() > 3 && t.ends_with('s') && !t.ends_with("ss") {
                t.pop();
            }
            t
        })
        .collect()
}

/// A résumé prepared for scoring against many postings.
pub struct ResumeSide<'a> {
    pub profile: &'a ResumeProfile,
    pub vector: &'a [f32],
    words: HashSet<String>,
    phrases: HashSet<String>,
    role_words: Vec<(Vec<String>, f32)>,
}

impl<'a> ResumeSide<'a> {
    pub fn new(profile: &'a ResumeProfile, vector: &'a [f32]) -> Self {
        Self {
            profile,
            vector,
            words: content_words(&profile.text).into_iter().collect(),
            phrases: profile.skill_phrases.iter().map(|p| p.to_lowercase()).collect(),
            role_words: profile.roles.iter().map(|r| (content_words(&r.title), r.years)).collect(),
        }
    }

    pub fn has_word(&self, word: &str) -> bool {
        self.words.contains(word)
    }

    /// How much of a requirement phrase the résumé shows: 1 when it lists the phrase, else the
    /// share of its words it has.
    /// `phrase` is lower-cased, `words` its content words.
    fn requirement_credit(&self, phrase: &str, words: &[String]) -> f32 {
        if self.phrases.contains(phrase) {
            return 1.0;
        }
        if words.is_empty() {
            return 1.0;
        }
        words.iter().filter(|w| self.words.contains(*w)).count() as f32 / words.len() as f32
    }
}

/// What scoring knows about the postings being matched as a whole: the skills' parents, for
/// related-skill credit, and how much a skill or a word matters when a posting names it — its
/// inverse document frequency over those postings (rare, specific skills weigh more than
/// "communication").
pub struct SkillContext<'a> {
    pub taxonomy: &'a Taxonomy,
    pub weights: HashMap<String, f32>,
    pub word_weights: HashMap<String, f32>,
}

impl SkillContext<'_> {
    pub fn weight(&self, id: &str) -> f32 {
        self.weights.get(id).copied().unwrap_or(1.0)
    }

    /// Whether two skills are one's parent or share a parent.
    pub fn related(&self, a: &str, b: &str) -> bool {
        let parents = |id: &str| self.taxonomy.get(id).map_or(&[][..], |s| s.parents.as_slice());
        let (pa, pb) = (parents(a), parents(b));
        pa.iter().any(|p| p == b) || pb.iter().any(|p| p == a) || pa.iter().any(|p| pb.contains(p))
    }

    /// A skill of `have` related to `wanted`, if any.
    pub fn relative<'h>(&self, wanted: &str, have: &'h BTreeSet<String>) -> Option<&'h str> {
        have.iter().map(String::as_str).find(|h| self.related(wanted, h))
    }

    /// Inverse document frequencies of the skills (or words) in `postings`.
    pub fn idf<'s, S: IntoIterator<Item = &'s String>>(postings: impl Iterator<Item = S>) -> HashMap<String, f32> {
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut total = 0usize;
        for skills in postings {
            total += 1;
            for id in skills {
                *counts.entry(id.clone()).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .map(|(id, n)| (id, ((1.0 + total as f32) / (1.0 + n as f32)).ln() + 1.0))
            .collect()
    }
}

/// Share of the posting's taxonomy skills the résumé has, weighted by how much each matters,
/// with partial credit for a related skill. A posting without known skills scores 0.
pub fn skill_coverage(job: &JobProfile, resume: &ResumeProfile, context: &SkillContext) -> f32 {
    let mut total = 0.0;
    let mut got = 0.0;
    for id in &job.skills {
        let weight = context.weight(id);
        total += weight;
        if resume.skills.contains(id) {
            got += weight;
        } else if context.relative(id, &resume.skills).is_some() {
            got += weight * RELATED_CREDIT;
        }
    }
    if total > 0.0 {
        shrunk(got / total, job.skills.len(), SKILL_DOUBT)
    } else {
        0.0
    }
}

/// Weighted share of the posting's distinct content words that the résumé contains: a word
/// weighs its inverse document frequency times 1 + ln(its count in the posting), so the words a
/// posting repeats (its core skills) and the rare ones count most, as in BM25.
fn keyword_coverage(job: &JobSide, resume: &ResumeSide) -> f32 {
    let total: f32 = job.keyword_weights.iter().sum();
    let got: f32 = job
        .profile
        .keywords
        .iter()
        .zip(&job.keyword_weights)
        .filter(|((word, _), _)| resume.words.contains(word))
        .map(|(_, weight)| weight)
        .sum();
    if total > 0.0 {
        shrunk(got / total, job.profile.keywords.len(), KEYWORD_DOUBT)
    } else {
        0.0
    }
}

/// Dice overlap of two word lists.
fn dice(a: &[String], b: &[String]) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = a.iter().filter(|w| b.contains(w)).count();
    2.0 * shared as f32 / (a.len() + b.len()) as f32
}

/// A résumé role counts towards a required role when this share of the shorter of the two
/// word lists appears in the other ("Neurologist – integrated practice" meets "1 year as a
/// neurologist").
const ROLE_MATCH: f32 = 0.6;

/// How far the résumé meets the years asked for: per required role, the years in résumé roles
/// whose titles the requirement names against the years asked, and the worst of those (every
/// requirement applies at once); else total years against the posting's minimum; 1 when the
/// posting asks for no years.
fn experience_fit(job: &JobSide, resume: &ResumeSide) -> f32 {
    if !job.profile.roles.is_empty() {
        return job
            .profile
            .roles
            .iter()
            .zip(&job.role_words)
            .map(|(required, wanted)| {
                let years: f32 = resume
                    .role_words
                    .iter()
                    .filter(|(words, _)| {
                        let shorter = words.len().min(wanted.len());
                        shorter > 0 && words.iter().filter(|w| wanted.contains(w)).count() as f32 / shorter as f32 >= ROLE_MATCH
                    })
                    .map(|(_, years)| years)
                    .sum();
                (years / required.years.max(1.0)).min(1.0)
            })
            .fold(1.0, f32::min);
    }
    match job.profile.min_years {
        Some(min) if min > 0.0 => (resume.profile.total_years / min).min(1.0),
        _ => 1.0,
    }
}

/// Every feature of one résumé against one posting (the posting's words precomputed).
pub fn compute(resume: &ResumeSide, job: &JobSide, context: &SkillContext) -> Features {
    let requirements = if job.profile.requirements.is_empty() {
        skill_coverage(job.profile, resume.profile, context)
    } else {
        let count = job.profile.requirements.len();
        let covered = job
            .requirement_words
            .iter()
            .map(|(phrase, words)| resume.requirement_credit(phrase, words))
            .sum::<f32>()
            / count as f32;
        shrunk(covered, count, SKILL_DOUBT)
    };
    let title = resume
        .role_words
        .iter()
        .map(|(words, _)| dice(words, &job.title_words))
        .fold(0.0, f32::max);
    [
        dot(resume.vector, job.vector),
        requirements,
        skill_coverage(job.profile, resume.profile, context),
        keyword_coverage(job, resume),
        title,
        experience_fit(job, resume),
    ]
}

/// A posting prepared for scoring against many résumés.
pub struct JobSide<'a> {
    pub profile: &'a JobProfile,
    pub vector: &'a [f32],
    title_words: Vec<String>,
    role_words: Vec<Vec<String>>,
    /// Each requirement lower-cased, with its content words.
    requirement_words: Vec<(String, Vec<String>)>,
    /// The weight of each of the profile's keywords, in their order.
    keyword_weights: Vec<f32>,
}

impl<'a> JobSide<'a> {
    /// Everything about the posting that does not depend on the résumé, computed once.
    pub fn new(profile: &'a JobProfile, vector: &'a [f32], context: &SkillContext) -> Self {
        Self {
            profile,
            vector,
            title_words: content_words(&profile.title),
            role_words: profile.roles.iter().map(|r| content_words(&r.text)).collect(),
            requirement_words: profile.requirements.iter().map(|r| (r.to_lowercase(), content_words(r))).collect(),
            keyword_weights: profile
                .keywords
                .iter()
                .map(|(word, count)| context.word_weights.get(word).copied().unwrap_or(1.0) * (1.0 + (*count as f32).ln()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::profile::{read_job, read_resume};
    use crate::skills::{Extractor, Taxonomy};

    fn extractor() -> Extractor {
        Extractor::new(Taxonomy::built_in().expect("taxonomy"), None).expect("extractor")
    }

    fn signals(resume: &str, posting: &str) -> Features {
        let extractor = extractor();
        let resume = read_resume(resume, &extractor, 2026);
        let job = read_job("", posting, &extractor);
        let context = SkillContext {
            taxonomy: extractor.taxonomy(),
            weights: HashMap::new(),
            word_weights: HashMap::new(),
        };
        let vector = [1.0f32];
        compute(&ResumeSide::new(&resume, &vector), &JobSide::new(&job, &vector, &context), &context)
    }

    const POSTING: &str = "## Job title\nData Engineer\n\n## Required Skills\n1. MySQL\n2. Python\n\n## Required Experience\n1. At least 4 years as a Data Engineer.\n";

    #[test]
    fn a_related_skill_earns_half_the_credit_of_the_skill() {
        let exact = signals("## Skills\nMySQL, Python\n", POSTING);
        let related = signals("## Skills\nPostgreSQL, Python\n", POSTING);
        let unrelated = signals("## Skills\nPhotoshop, Python\n", POSTING);
        let skills = NAMES.iter().position(|n| *n == "skills").expect("skills");
        assert!(
            exact[skills] > related[skills] && related[skills] > unrelated[skills],
            "{exact:?} {related:?} {unrelated:?}"
        );
        assert!((related[skills] - f32::midpoint(exact[skills], unrelated[skills])).abs() < 1e-6);
    }

    #[test]
    fn fewer_years_in_the_role_asked_for_lower_the_experience_fit() {
        let experience = NAMES.iter().position(|n| *n == "experience").expect("experience");
        let enough = signals("## Experience\nData Engineer, Acme (2019 - 2023)\n", POSTING);
        let short = signals("## Experience\nData Engineer, Acme (2021 - 2023)\n", POSTING);
        let other_role = signals("## Experience\nNurse, St. Anne (2015 - 2023)\n", POSTING);
        assert!((enough[experience] - 1.0).abs() < 1e-6, "{enough:?}");
        assert!((short[experience] - 0.5).abs() < 1e-6, "{short:?}");
        assert!(other_role[experience].abs() < 1e-6, "{other_role:?}");
    }
}
