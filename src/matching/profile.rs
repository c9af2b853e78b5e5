//! What matching reads out of a résumé and out of a posting: titles, the skill phrases listed
//! under skills headings, taxonomy skills found anywhere, experience by role and years,
//! education and location. Both sides are read the same way so their parts compare.

use std::collections::BTreeSet;

use super::features::content_words;
use super::sections::{self, Section, SectionKind};
use crate::normalize::education::education_level;
use crate::normalize::location::{Location, parse_location};
use crate::normalize::title::min_years_experience;
use crate::skills::Extractor;

/// A role held: its title line and how long.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub title: String,
    pub years: f32,
}

/// A role a posting asks for: "at least 4 years working as a Junior Systems Admin".
#[derive(Debug, Clone, PartialEq)]
pub struct RequiredRole {
    pub text: String,
    pub years: f32,
}

#[derive(Debug, Clone, Default)]
pub struct ResumeProfile {
    pub text: String,
    /// Items listed under skills headings, as written.
    pub skill_phrases: Vec<String>,
    /// Taxonomy skill ids found anywhere in the text.
    pub skills: BTreeSet<String>,
    pub roles: Vec<Role>,
    /// Years covered by the dated roles (overlaps counted once).
    pub total_years: f32,
    pub education: Option<&'static str>,
    pub location: Option<Location>,
    /// Why the reading may be poor: no skills found, no dated roles, little text, another
    /// language than English.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct JobProfile {
    pub title: String,
    /// The skills and requirements a posting lists, each cut to its name ("Networking: TCP/IP
    /// skills" → "Networking").
    pub requirements: Vec<String>,
    /// Taxonomy skill ids found in the posting.
    pub skills: BTreeSet<String>,
    pub roles: Vec<RequiredRole>,
    /// The minimum years of experience the posting asks for.
    pub min_years: Option<f32>,
    /// Title and requirements: what the semantic similarity compares with a résumé.
    pub focus: String,
    /// The distinct content words of the title and text, with how often each occurs.
    pub keywords: Vec<(String, u32)>,
}

/// A list item longer than this many words is a sentence, not a skill name.
const MAX_PHRASE_WORDS: usize = 6;
/// Résumé text shorter than this reads as empty (a scanned page's stray characters).
const MIN_RESUME_CHARS: usize = 80;

fn sections_of(sections: &[Section], kind: SectionKind) -> impl Iterator<Item = &Section> {
    sections.iter().filter(move |s| s.kind == kind)
}

/// A comma-separated list's parts are at most this many words each.
const MAX_LIST_PART_WORDS: usize = 4;

/// Skill phrases of a list item: "Networking: TCP/IP skills" → "Networking"; "Python, SQL |
/// Spark" → three; a sentence ("Proficient in critical thinking, defining problems.") stays
/// whole, since its commas do not separate skills.
fn phrases(item: &str) -> Vec<String> {
    if let Some((name, _)) = item.split_once(':')
        && name.split_whitespace().count() <= MAX_PHRASE_WORDS
    {
        return vec![name.trim().to_string()];
    }
    let parts: Vec<&str> = item.split([',', ';', '|', '•']).map(str::trim).filter(|p| !p.is_empty()).collect();
    let is_list = !item.trim_end().ends_with('.') && parts.iter().all(|p| p.split_whitespace().count() <= MAX_LIST_PART_WORDS);
    if is_list {
        parts.into_iter().map(str::to_string).collect()
    } else {
        vec![item.trim().trim_end_matches('.').to_string()]
    }
}

fn taxonomy_skills(extractor: &Extractor, text: &str) -> BTreeSet<String> {
    extractor
        .gazetteer()
        .find(text)
        .iter()
        .map(|found| extractor.id(found.skill).to_string())
        .collect()
}

/// Reads a résumé's text. `this_year` ends the spans that run to "present".
pub fn read_resume(text: &str, extractor: &Extractor, this_year: i32) -> ResumeProfile {
    let sections = sections::split(text);
    let skill_phrases: Vec<String> = sections_of(&sections, SectionKind::Skills)
        .flat_map(Section::items)
        .flat_map(phrases)
        .collect();
    let mut roles = Vec::new();
    let mut spans = Vec::new();
    // A line with only dates takes its role from the line before ("Data Engineer, Acme" then
    // "2019 – 2023").
    let mut previous: Option<&str> = None;
    for item in sections_of(&sections, SectionKind::Experience).flat_map(Section::items) {
        if let Some((at, span)) = sections::year_span(item, this_year) {
            spans.push(span);
            let own = item[..at].trim().trim_end_matches([',', '-', '–', '|', '(', ':']).trim();
            let title = if own.is_empty() { previous.unwrap_or_default() } else { own };
            roles.push(Role {
                title: title.to_string(),
                years: span.years(),
            });
            previous = None;
        } else {
            previous = Some(item);
        }
    }
    let education_text: String = sections_of(&sections, SectionKind::Education)
        .flat_map(Section::items)
        .collect::<Vec<_>>()
        .join("\n");
    let location = text
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Location:")
                .or_else(|| line.trim().strip_prefix("Address:"))
        })
        .map(|raw| parse_location(raw.trim()));
    let mut profile = ResumeProfile {
        text: text.to_string(),
        skills: taxonomy_skills(extractor, text),
        skill_phrases,
        total_years: covered_years(&mut spans),
        roles,
        education: education_level(if education_text.is_empty() { text } else { &education_text }),
        location,
        warnings: Vec::new(),
    };
    if text.trim().chars().count() < MIN_RESUME_CHARS {
        profile.warnings.push(format!(
            "the résumé has almost no text ({} characters)",
            text.trim().chars().count()
        ));
    }
    if profile.skills.is_empty() && profile.skill_phrases.is_empty() {
        profile
            .warnings
            .push("no skills found (no skills section and no known skill named)".into());
    }
    if profile.roles.is_empty() {
        profile
            .warnings
            .push("no dated roles found, so years of experience are unknown".into());
    }
    if let Some(language) = super::language::other_than_english(text) {
        profile.warnings.push(format!(
            "the résumé reads as {language}: sections, skills and dates are read in English, so matches may miss what it says"
        ));
    }
    profile
}

/// Years covered by `spans`, overlaps counted once.
fn covered_years(spans: &mut [sections::YearSpan]) -> f32 {
    spans.sort_by_key(|s| (s.start, s.end));
    let mut total = 0;
    let mut reach = i32::MIN;
    for span in spans.iter() {
        let start = span.start.max(reach);
        if span.end > start {
            total += span.end - start;
        }
        reach = reach.max(span.end);
    }
    total as f32
}

static YEARS_AS: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"(?i)(\d{1,2})\+?\s*(?:years?|yrs?)").expect("a valid pattern"));

/// Reads a posting: `title` as the board gave it (or the text's own title section when empty),
/// `text` its description.
pub fn read_job(title: &str, text: &str, extractor: &Extractor) -> JobProfile {
    let sections = sections::split(text);
    let title = if title.trim().is_empty() {
        sections_of(&sections, SectionKind::Title)
            .flat_map(Section::items)
            .next()
            .unwrap_or_default()
            .to_string()
    } else {
        title.trim().to_string()
    };
    let mut requirements: Vec<String> = Vec::new();
    for phrase in sections_of(&sections, SectionKind::Skills)
        .flat_map(Section::items)
        .flat_map(phrases)
    {
        if !requirements.iter().any(|r| r.eq_ignore_ascii_case(&phrase)) {
            requirements.push(phrase);
        }
    }
    let roles = sections_of(&sections, SectionKind::Experience)
        .flat_map(Section::items)
        .filter_map(|item| {
            let years: f32 = YEARS_AS.captures(item)?[1].parse().ok()?;
            Some(RequiredRole {
                text: item.to_string(),
                years,
            })
        })
        .collect::<Vec<_>>();
    let min_years = min_years_experience(text)
        .map(f32::from)
        .or_else(|| roles.iter().map(|r| r.years).reduce(f32::max));
    let skills = taxonomy_skills(extractor, &format!("{title}\n{text}"));
    let focus = if requirements.is_empty() {
        format!("{title}. {}", text.chars().take(600).collect::<String>())
    } else {
        format!("{title}. {}", requirements.join(", "))
    };
    let mut counts: std::collections::BTreeMap<String, u32> = std::collections::BTreeMap::new();
    for word in content_words(&format!("{title}\n{text}")) {
        *counts.entry(word).or_default() += 1;
    }
    let keywords = counts.into_iter().collect();
    JobProfile {
        title,
        requirements,
        skills,
        roles,
        min_years,
        focus,
        keywords,
    }
}

impl ResumeProfile {
    /// What the semantic similarity compares with a posting: the roles, then the skills, then
    /// the text (cut by the encoder).
    pub fn focus(&self) -> String {
        let roles: Vec<&str> = self.roles.iter().map(|r| r.title.as_str()).collect();
        format!("{}. {}. {}", roles.join(", "), self.skill_phrases.join(", "), self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skills::Taxonomy;

    fn extractor() -> Extractor {
        Extractor::new(Taxonomy::built_in().expect("taxonomy"), None).expect("extractor")
    }

    #[test]
    fn a_resume_yields_skills_roles_and_years() {
        let text = "Jane Doe\nLocation: Seattle, WA\n\n## Skills\n1. Python\n2. Kubernetes, Terraform\n\n## Experience\n1. Data Engineer - Acme (2019 - 2023)\n2. Analyst, Beta\n2016 - 2020\n\n## Education\nMaster of Science in Statistics\n";
        let profile = read_resume(text, &extractor(), 2026);
        assert_eq!(profile.skill_phrases, ["Python", "Kubernetes", "Terraform"]);
        assert!(profile.skills.contains("python"), "{:?}", profile.skills);
        assert_eq!(profile.roles[0].title, "Data Engineer - Acme");
        assert!((profile.roles[0].years - 4.0).abs() < 1e-6);
        assert_eq!(profile.roles[1].title, "Analyst, Beta", "a dates-only line takes the line before");
        assert!(
            (profile.total_years - 7.0).abs() < 1e-6,
            "overlap counted once: {}",
            profile.total_years
        );
        assert_eq!(profile.education, Some("master"));
        assert_eq!(profile.location.and_then(|l| l.state).as_deref(), Some("WA"));
        assert!(profile.warnings.is_empty(), "{:?}", profile.warnings);
    }

    #[test]
    fn a_posting_yields_requirement_names_and_required_roles() {
        let text = "## Job title\nJunior Systems Admin\n\n## Required Skills\n1. Networking: TCP/IP networking skills.\n2. VMware: managing VMware environments.\n\n## Required Experience\n1. Has spent at least 4 years working as a Junior Systems Admin.\n";
        let job = read_job("", text, &extractor());
        assert_eq!(job.title, "Junior Systems Admin");
        assert_eq!(job.requirements, ["Networking", "VMware"]);
        assert_eq!(phrases("Python, SQL | Apache Spark"), ["Python", "SQL", "Apache Spark"]);
        assert_eq!(
            phrases("Proficient in critical thinking, defining problems, and deriving conclusions."),
            ["Proficient in critical thinking, defining problems, and deriving conclusions"]
        );
        assert_eq!(job.roles.len(), 1);
        assert!((job.roles[0].years - 4.0).abs() < 1e-6);
        assert_eq!(job.min_years, Some(4.0));
    }

    #[test]
    fn an_empty_resume_says_why_it_reads_poorly() {
        let profile = read_resume("   ", &extractor(), 2026);
        assert_eq!(profile.warnings.len(), 3, "{:?}", profile.warnings);
    }
}
