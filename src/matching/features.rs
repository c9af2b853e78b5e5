//! The signals a match score combines, each in [0, 1] (the cosine in [−1, 1]), computed for
//! one résumé against one posting.

use std::collections::{BTreeSet, HashMap};

use super::embed::dot;
use super::profile::{JobProfile, ResumeProfile};
use crate::ml::features::tokens;
use crate::skills::Taxonomy;

/// The features in the order the scorer's weights follow.
pub const NAMES: [&str; 6] = ["semantic", "requirements", "skills", "keywords", "title", "experience"];
pub type Features = [f32; NAMES.len()];
/// The position of the sentence encoder's signal (the cosine) in [`Features`].
pub const SEMANTIC: usize = 0;

/// `features` without the sentence encoder's signal: what the skills-only fallback scorer is
/// fitted on. Fitted so, its weight for the signal stays exactly 0 (gradient descent from 0
/// with an input that is always 0), so it scores a résumé that was never embedded the same
/// as one that was.
pub fn without_semantic(features: &Features) -> Features {
    let mut out = *features;
    out[SEMANTIC] = 0.0;
    out
}

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

/// Dense ids for the strings a set of postings uses, so scoring one résumé against many
/// postings compares integers, not strings.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
}

impl Interner {
    fn intern(&mut self, text: &str) -> u32 {
        let next = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        *self.ids.entry(text.to_string()).or_insert(next)
    }

    /// The ids of `text`'s content words.
    fn intern_words(&mut self, text: &str) -> Vec<u32> {
        content_words(text).iter().map(|w| self.intern(w)).collect()
    }

    fn get(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// The id of a résumé word no posting uses: it matches nothing.
const UNUSED: u32 = u32::MAX;

/// A posting prepared for scoring: everything that does not depend on the résumé, interned.
struct JobSide {
    title_words: Vec<u32>,
    /// Each required role's words and the years it asks.
    roles: Vec<(Vec<u32>, f32)>,
    /// Each listed requirement, lower-cased, with its content words.
    requirements: Vec<(u32, Vec<u32>)>,
    /// Each distinct keyword with its weight, and their sum.
    keywords: Vec<(u32, f32)>,
    keyword_total: f32,
    /// Each taxonomy skill with its weight (in the profile's order), and their sum.
    skills: Vec<(u32, f32)>,
    skill_total: f32,
    min_years: Option<f32>,
}

/// The postings being matched, prepared once for any number of résumés: each posting's words,
/// requirement phrases and skills interned, their weights — inverse document frequencies over
/// these postings, so rare, specific skills and words weigh more than "communication" — and
/// the posting vectors side by side.
pub struct JobIndex {
    words: Interner,
    phrases: Interner,
    skills: Interner,
    skill_weights: HashMap<String, f32>,
    jobs: Vec<JobSide>,
    /// For each interned skill, the postings naming it (ascending): the skill-gap advice asks
    /// this of up to ten skills per résumé, and scanning every posting's skills for each took
    /// 15 % of a match request's CPU samples (BENCHMARKS.md, serve).
    postings_by_skill: Vec<Vec<u32>>,
    vectors: Vec<f32>,
    dimensions: usize,
}

impl JobIndex {
    /// `vectors[i]` is the embedding of `profiles[i]`.
    pub fn new(profiles: &[JobProfile], vectors: &[Vec<f32>]) -> Self {
        let skill_weights = idf(profiles.iter().map(|p| &p.skills));
        let word_weights = idf(profiles.iter().map(|p| p.keywords.iter().map(|(word, _)| word)));
        let (mut words, mut phrases, mut skills) = (Interner::default(), Interner::default(), Interner::default());
        let mut jobs = Vec::with_capacity(profiles.len());
        let mut postings_by_skill: Vec<Vec<u32>> = Vec::new();
        for (position, profile) in profiles.iter().enumerate() {
            let title_words = words.intern_words(&profile.title);
            let roles = profile.roles.iter().map(|r| (words.intern_words(&r.text), r.years)).collect();
            let requirements = profile
                .requirements
                .iter()
                .map(|r| (phrases.intern(&r.to_lowercase()), words.intern_words(r)))
                .collect();
            let keywords: Vec<(u32, f32)> = profile
                .keywords
                .iter()
                .map(|(word, count)| {
                    let weight = word_weights.get(word).copied().unwrap_or(1.0) * (1.0 + (*count as f32).ln());
                    (words.intern(word), weight)
                })
                .collect();
            let job_skills: Vec<(u32, f32)> = profile
                .skills
                .iter()
                .map(|id| (skills.intern(id), skill_weights.get(id).copied().unwrap_or(1.0)))
                .collect();
            postings_by_skill.resize_with(skills.len(), Vec::new);
            for &(skill, _) in &job_skills {
                postings_by_skill[skill as usize].push(u32::try_from(position).unwrap_or(u32::MAX));
            }
            jobs.push(JobSide {
                title_words,
                roles,
                requirements,
                keyword_total: keywords.iter().map(|(_, w)| w).sum(),
                keywords,
                skill_total: job_skills.iter().map(|(_, w)| w).sum(),
                skills: job_skills,
                min_years: profile.min_years,
            });
        }
        let dimensions = vectors.first().map_or(0, Vec::len);
        Self {
            words,
            phrases,
            skills,
            skill_weights,
            jobs,
            postings_by_skill,
            vectors: vectors.concat(),
            dimensions,
        }
    }

    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// How much a skill matters when a posting names it (1 for a skill no posting names).
    pub fn weight(&self, skill_id: &str) -> f32 {
        self.skill_weights.get(skill_id).copied().unwrap_or(1.0)
    }

    /// The postings that name `skill_id`, in index order.
    pub fn postings_naming(&self, skill_id: &str) -> &[u32] {
        self.skills
            .get(skill_id)
            .and_then(|id| self.postings_by_skill.get(id as usize))
            .map_or(&[], Vec::as_slice)
    }

    /// The résumé `resume` was prepared from with one skill more — `skill_id` found in it and
    /// its name `skill_name` added as a line of its own under its skills — as [`Self::resume`]
    /// prepares that résumé: only what the added line changes is computed (the skill-gap advice
    /// asks this for several skills per request).
    pub fn with_skill(&self, resume: &ResumeQuery, skill_id: &str, skill_name: &str, taxonomy: &Taxonomy) -> ResumeQuery {
        let mut query = resume.clone();
        // The line's words join the text's: a line break separates words.
        for word in content_words(skill_name) {
            if let Some(id) = self.words.get(&word) {
                query.has_word[id as usize] = true;
            }
        }
        if let Some(id) = self.phrases.get(&skill_name.to_lowercase()) {
            query.has_phrase[id as usize] = true;
        }
        // Credit only grows: the skill itself is had, its relatives earn partial credit.
        for (skill, &id) in &self.skills.ids {
            let credit = &mut query.skill_credit[id as usize];
            if skill == skill_id {
                *credit = 1.0;
            } else if *credit < RELATED_CREDIT && related(taxonomy, skill, skill_id) {
                *credit = RELATED_CREDIT;
            }
        }
        query
    }

    /// A résumé prepared for scoring against these postings.
    pub fn resume(&self, profile: &ResumeProfile, vector: &[f32], taxonomy: &Taxonomy) -> ResumeQuery {
        let mut has_word = vec![false; self.words.len()];
        for word in content_words(&profile.text) {
            if let Some(id) = self.words.get(&word) {
                has_word[id as usize] = true;
            }
        }
        let mut has_phrase = vec![false; self.phrases.len()];
        for phrase in &profile.skill_phrases {
            if let Some(id) = self.phrases.get(&phrase.to_lowercase()) {
                has_phrase[id as usize] = true;
            }
        }
        let mut skill_credit = vec![0.0; self.skills.len()];
        for (skill, &id) in &self.skills.ids {
            skill_credit[id as usize] = if profile.skills.contains(skill) {
                1.0
            } else if relative(taxonomy, skill, &profile.skills).is_some() {
                RELATED_CREDIT
            } else {
                0.0
            };
        }
        let roles = profile
            .roles
            .iter()
            .map(|r| {
                let words = content_words(&r.title)
                    .iter()
                    .map(|w| self.words.get(w).unwrap_or(UNUSED))
                    .collect();
                (words, r.years)
            })
            .collect();
        ResumeQuery {
            vector: vector.to_vec(),
            has_word,
            has_phrase,
            skill_credit,
            roles,
            total_years: profile.total_years,
        }
    }

    /// Every feature of `resume` against posting `job`.
    pub fn features(&self, resume: &ResumeQuery, job: usize) -> Features {
        let side = &self.jobs[job];
        let skills = skill_coverage(side, resume);
        let requirements = if side.requirements.is_empty() {
            skills
        } else {
            let count = side.requirements.len();
            let covered = side
                .requirements
                .iter()
                .map(|(phrase, words)| resume.requirement_credit(*phrase, words))
                .sum::<f32>()
                / count as f32;
            shrunk(covered, count, SKILL_DOUBT)
        };
        let title = resume
            .roles
            .iter()
            .map(|(words, _)| dice(words, &side.title_words))
            .fold(0.0, f32::max);
        let vector = &self.vectors[job * self.dimensions..(job + 1) * self.dimensions];
        [
            dot(&resume.vector, vector),
            requirements,
            skills,
            keyword_coverage(side, resume),
            title,
            experience_fit(side, resume),
        ]
    }
}

/// A résumé prepared for one [`JobIndex`]: which of the postings' words, phrases and skills it
/// has.
#[derive(Debug, Clone, PartialEq)]
pub struct ResumeQuery {
    vector: Vec<f32>,
    has_word: Vec<bool>,
    has_phrase: Vec<bool>,
    /// Per skill of the index: 1 when the résumé has it, [`RELATED_CREDIT`] when it has a
    /// relative, else 0.
    skill_credit: Vec<f32>,
    /// Each role's title words and years.
    roles: Vec<(Vec<u32>, f32)>,
    total_years: f32,
}

impl ResumeQuery {
    fn has(&self, word: u32) -> bool {
        self.has_word.get(word as usize).copied().unwrap_or(false)
    }

    /// How much of a requirement phrase the résumé shows: 1 when it lists the phrase, else the
    /// share of its words it has.
    fn requirement_credit(&self, phrase: u32, words: &[u32]) -> f32 {
        if self.has_phrase[phrase as usize] || words.is_empty() {
            return 1.0;
        }
        words.iter().filter(|&&w| self.has(w)).count() as f32 / words.len() as f32
    }
}

/// Whether two skills are one's parent or share a parent.
pub fn related(taxonomy: &Taxonomy, a: &str, b: &str) -> bool {
    let parents = |id: &str| taxonomy.get(id).map_or(&[][..], |s| s.parents.as_slice());
    let (pa, pb) = (parents(a), parents(b));
    pa.iter().any(|p| p == b) || pb.iter().any(|p| p == a) || pa.iter().any(|p| pb.contains(p))
}

/// A skill of `have` related to `wanted`, if any.
pub fn relative<'h>(taxonomy: &Taxonomy, wanted: &str, have: &'h BTreeSet<String>) -> Option<&'h str> {
    have.iter().map(String::as_str).find(|h| related(taxonomy, wanted, h))
}

/// Inverse document frequencies of the skills (or words) in `postings`.
fn idf<'s, S: IntoIterator<Item = &'s String>>(postings: impl Iterator<Item = S>) -> HashMap<String, f32> {
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

/// Share of the posting's taxonomy skills the résumé has, weighted by how much each matters,
/// with partial credit for a related skill. A posting without known skills scores 0.
fn skill_coverage(job: &JobSide, resume: &ResumeQuery) -> f32 {
    let got: f32 = job
        .skills
        .iter()
        .map(|&(id, weight)| weight * resume.skill_credit[id as usize])
        .sum();
    if job.skill_total > 0.0 {
        shrunk(got / job.skill_total, job.skills.len(), SKILL_DOUBT)
    } else {
        0.0
    }
}

/// Weighted share of the posting's distinct content words that the résumé contains: a word
/// weighs its inverse document frequency times 1 + ln(its count in the posting), so the words a
/// posting repeats (its core skills) and the rare ones count most, as in BM25.
fn keyword_coverage(job: &JobSide, resume: &ResumeQuery) -> f32 {
    let got: f32 = job
        .keywords
        .iter()
        .filter(|&&(word, _)| resume.has(word))
        // From +0.0: an empty float `sum()` is -0.0, which the signal would show.
        .fold(0.0, |sum, (_, weight)| sum + weight);
    if job.keyword_total > 0.0 {
        shrunk(got / job.keyword_total, job.keywords.len(), KEYWORD_DOUBT)
    } else {
        0.0
    }
}

/// Dice overlap of two word lists.
fn dice(a: &[u32], b: &[u32]) -> f32 {
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
fn experience_fit(job: &JobSide, resume: &ResumeQuery) -> f32 {
    if !job.roles.is_empty() {
        return job
            .roles
            .iter()
            .map(|(wanted, years_asked)| {
                let years: f32 = resume
                    .roles
                    .iter()
                    .filter(|(words, _)| {
                        let shorter = words.len().min(wanted.len());
                        shorter > 0 && words.iter().filter(|w| wanted.contains(w)).count() as f32 / shorter as f32 >= ROLE_MATCH
                    })
                    // From +0.0, as in `keyword_coverage`.
                    .fold(0.0, |sum, (_, years)| sum + years);
                (years / years_asked.max(1.0)).min(1.0)
            })
            .fold(1.0, f32::min);
    }
    match job.min_years {
        Some(min) if min > 0.0 => (resume.total_years / min).min(1.0),
        _ => 1.0,
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
        let index = JobIndex::new(&[job], &[vec![1.0]]);
        index.features(&index.resume(&resume, &[1.0], extractor.taxonomy()), 0)
    }

    const POSTING: &str = "## Job title\nData Engineer\n\n## Required Skills\n1. MySQL\n2. Python\n\n## Required Experience\n1. At least 4 years as a Data Engineer.\n";

    #[test]
    fn a_skill_added_to_a_prepared_resume_prepares_it_as_a_resume_listing_the_skill() {
        let extractor = extractor();
        let taxonomy = extractor.taxonomy();
        let postings = [
            POSTING,
            "## Job title\nPlatform Engineer\n\n## Required Skills\n1. Kubernetes\n2. Terraform\n3. PostgreSQL\n",
            "## Job title\nAnalyst\n\n## Required Skills\n1. Excel\n2. Tableau\n3. Python\n",
        ];
        let jobs: Vec<JobProfile> = postings.iter().map(|p| read_job("", p, &extractor)).collect();
        let index = JobIndex::new(&jobs, &vec![vec![1.0]; jobs.len()]);
        let resume = read_resume(
            "## Skills\nPython, Excel\n\n## Experience\nData Engineer, Acme (2019 - 2023)\n",
            &extractor,
            2026,
        );
        let base = index.resume(&resume, &[1.0], taxonomy);
        let named: BTreeSet<&String> = jobs.iter().flat_map(|j| &j.skills).collect();
        assert!(named.len() >= 6, "{named:?}");
        // Skills whose addition gives another skill of the postings partial credit (MySQL's
        // for PostgreSQL's and the other way round).
        let mut relatives_credited = 0;
        for id in named.into_iter().filter(|id| !resume.skills.contains(*id)) {
            let name = taxonomy.get(id).map_or_else(|| id.clone(), |s| s.name.clone());
            let mut listed = resume.clone();
            listed.skills.insert(id.clone());
            listed.skill_phrases.push(name.clone());
            listed.text.push('\n');
            listed.text.push_str(&name);
            let added = index.with_skill(&base, id, &name, taxonomy);
            assert_eq!(added, index.resume(&listed, &[1.0], taxonomy), "{id}");
            let partial = |q: &ResumeQuery| q.skill_credit.iter().filter(|&&c| c == RELATED_CREDIT).count();
            relatives_credited += usize::from(partial(&added) > partial(&base));
            let naming: Vec<u32> = (0..jobs.len()).filter(|&j| jobs[j].skills.contains(id)).map(|j| j as u32).collect();
            assert_eq!(index.postings_naming(id), naming.as_slice(), "{id}");
        }
        assert!(relatives_credited >= 2, "{relatives_credited}");
    }

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
