//! Normalisation: one contract record in, one silver posting out. Each step lives in its own
//! module as a plain function with its own tests; this module only composes them.

pub mod company;
pub mod currency;
pub mod dates;
pub mod education;
pub mod location;
pub mod salary;
pub mod text;
pub mod title;

use std::sync::{Arc, LazyLock};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::contract::JobListing;
use crate::dedup::minhash::Signature;
use crate::ingest::reject::{ErrorCode, Reject};
use crate::skills::tagger::Label;
use crate::skills::{Extractor, Taxonomy};
use currency::Currencies;
use salary::Salary;
use text::non_empty;

/// A posting as silver stores it (without lake bookkeeping such as source coordinates).
#[derive(Debug, Clone, PartialEq)]
pub struct Posting {
    pub posting_key: String,
    pub source_site: String,
    pub source_job_id: Option<String>,
    pub job_url: Option<String>,
    pub title: String,
    pub company: Option<String>,
    pub company_key: Option<String>,
    pub location_city: Option<String>,
    pub location_state: Option<String>,
    pub location_country: Option<String>,
    pub remote_type: Option<&'static str>,
    pub seniority: Option<&'static str>,
    pub min_years_experience: Option<u8>,
    pub job_type: Option<String>,
    pub education_level: Option<&'static str>,
    pub company_size_band: Option<&'static str>,
    pub company_industry: Option<String>,
    pub salary: Option<Salary>,
    pub description: Option<String>,
    pub date_posted: Option<NaiveDate>,
    pub scraped_at: Option<String>,
    pub content_hash: String,
    /// `MinHash` of the description, for near-duplicate detection.
    pub signature: Option<Signature>,
    /// Skills mentioned in the title and the description.
    pub skills: Vec<PostingSkill>,
}

/// A skill mention in one of a posting's text fields, as silver stores it: the surface is
/// the field's text between the offsets, the name and category are the taxonomy's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostingSkill {
    /// `title` or `description`; offsets are characters into that field.
    pub field: &'static str,
    /// The taxonomy id; none for an emerging skill (a learned span the taxonomy lacks).
    #[serde(serialize_with = "shared_str")]
    pub id: Option<Arc<str>>,
    pub start: usize,
    pub end: usize,
    /// The SkillSpan layer of a learned span; absent for taxonomy matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
}

#[allow(clippy::ref_option, reason = "serde's serialize_with hands over a reference to the field")]
fn shared_str<S: serde::Serializer>(value: &Option<Arc<str>>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(text) => serializer.serialize_some(&**text),
        None => serializer.serialize_none(),
    }
}

impl Posting {
    /// The distinct taxonomy ids mentioned, in order of first mention.
    pub fn skill_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        for id in self.skills.iter().filter_map(|s| s.id.as_deref()) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }
}

impl Posting {
    /// The partition value: the posting month (`2020-05`) or `unknown`.
    pub fn posting_month(&self) -> String {
        self.date_posted
            .map_or_else(|| "unknown".to_string(), |d| format!("{:04}-{:02}", d.year(), d.month()))
    }
}

/// The built-in taxonomy's extractor, built once for every normaliser that is not given one.
static BUILT_IN_SKILLS: LazyLock<Arc<Extractor>> = LazyLock::new(|| {
    let taxonomy = Taxonomy::built_in().expect("the built-in taxonomy is valid (checked by a unit test)");
    Arc::new(Extractor::new(taxonomy, None).expect("the built-in taxonomy compiles (checked by a unit test)"))
});

/// Turns contract records into silver postings.
#[derive(Clone)]
pub struct Normaliser {
    currencies: Currencies,
    skills: Arc<Extractor>,
}

impl Normaliser {
    /// A normaliser finding skills with the built-in taxonomy.
    pub fn new(currencies: Currencies) -> Self {
        Normaliser {
            currencies,
            skills: Arc::clone(&BUILT_IN_SKILLS),
        }
    }

    /// The extractor skills are found with.
    pub fn skills(&self) -> &Extractor {
        &self.skills
    }

    /// The same, finding skills with `skills` instead (another taxonomy, a span model).
    #[must_use]
    pub fn with_skills(mut self, skills: Arc<Extractor>) -> Self {
        self.skills = skills;
        self
    }

    /// Normalises one listing; a record without a title cannot be a posting and is rejected.
    pub fn normalise(&self, listing: &JobListing) -> Result<Posting, Reject> {
        let job = listing.job();
        let raw_title = non_empty(job.title.as_deref())
            .ok_or_else(|| Reject::new(ErrorCode::MissingField, Some("job.title"), "a posting needs a title"))?;
        let title = title::clean_title(&raw_title);
        if title.is_empty() {
            return Err(Reject::new(
                ErrorCode::InvalidField,
                Some("job.title"),
                format!("title {raw_title:?} is empty once cleaned"),
            ));
        }
        let details = listing.company_details();
        let company = job.company.as_deref().and_then(company::clean_company);
        let company_key = company.as_deref().map(company::company_key);
        let location = job.location.as_deref().map(location::parse_location).unwrap_or_default();
        let description = job.description.as_deref().map(text::html_to_text).filter(|d| !d.is_empty());
        let date_posted = job.date_posted.as_deref().and_then(dates::parse_date);
        let salary = salary::normalise(listing, description.as_deref(), date_posted, &self.currencies);
        let remote_type = remote_type(listing, &raw_title, location.remote_type);
        let seniority = job
            .job_level
            .as_deref()
            .and_then(title::Seniority::from_level)
            .or_else(|| title::Seniority::from_title(&title))
            .map(title::Seniority::as_str);
        let source_site = non_empty(listing.site.as_deref()).map_or_else(|| "unknown".to_string(), |s| s.to_lowercase());
        let source_job_id = non_empty(listing.job_id.as_deref());
        let job_url = non_empty(job.job_url.as_deref()).or_else(|| non_empty(job.job_url_direct.as_deref()));

        let mut posting = Posting {
            posting_key: String::new(),
            source_site,
            source_job_id,
            job_url,
            min_years_experience: None,
            education_level: None,
            company_size_band: details.company_num_employees.as_deref().and_then(company::size_band),
            company_industry: non_empty(details.company_industry.as_deref()).filter(|i| i != "-1"),
            job_type: job.job_type.as_deref().and_then(job_type),
            title,
            company,
            company_key,
            location_city: location.city,
            location_state: location.state,
            location_country: location.country,
            remote_type,
            seniority,
            salary,
            description,
            date_posted,
            scraped_at: non_empty(listing.scraped_at.as_deref()),
            content_hash: String::new(),
            signature: None,
            skills: Vec::new(),
        };
        let folded_description = posting.description.as_deref().map(text::fold_key);
        posting.content_hash = content_hash(&posting, folded_description.as_deref());
        posting.signature = folded_description.as_deref().and_then(Signature::of_folded);
        posting.posting_key = posting_key(&posting);
        Ok(posting)
    }
}

impl Normaliser {
    /// Fills what is read from the posting's text and stored only for kept postings: its
    /// skill mentions (title and description), the minimum years of experience and the
    /// education level it asks for (description). A separate step from `normalise` because
    /// consume runs it only on postings deduplication keeps, since a duplicate's are never
    /// stored; deduplication does not need them. Only a learned span model can fail (an
    /// encoder error); the record is then quarantined as an internal error naming the field.
    pub fn add_details(&self, posting: &mut Posting) -> Result<(), Reject> {
        posting.skills = self.skills_of(posting)?;
        let description = posting.description.as_deref();
        posting.min_years_experience = description.and_then(title::min_years_experience);
        posting.education_level = description.and_then(education::education_level);
        Ok(())
    }

    fn skills_of(&self, posting: &Posting) -> Result<Vec<PostingSkill>, Reject> {
        let fields = [
            ("title", Some(posting.title.as_str())),
            ("description", posting.description.as_deref()),
        ];
        let mut skills = Vec::new();
        for (field, text) in fields.into_iter().filter_map(|(field, text)| text.map(|t| (field, t))) {
            let hits = self
                .skills
                .hits(text)
                .map_err(|e| Reject::new(ErrorCode::InternalError, Some(field), e.to_string()))?;
            skills.extend(hits.into_iter().map(|hit| PostingSkill {
                field,
                id: hit.skill.map(|i| Arc::clone(self.skills.id(i))),
                start: hit.start,
                end: hit.end,
                label: hit.label,
            }));
        }
        Ok(skills)
    }
}

/// Remote, hybrid or on-site: what the location or title states, then the board's flags.
fn remote_type(listing: &JobListing, title: &str, from_location: Option<&'static str>) -> Option<&'static str> {
    let job = listing.job();
    let stated = job.work_arrangement.as_deref().and_then(location::work_mode);
    stated
        .or(from_location)
        .or_else(|| location::work_mode(title))
        .or(match job.is_remote {
            Some(true) => Some("remote"),
            Some(false) => Some("on-site"),
            None => None,
        })
}

/// Employment type in `JobSpy`'s vocabulary: fulltime, parttime, contract, internship,
/// temporary.
pub fn job_type(raw: &str) -> Option<String> {
    let folded: String = raw.to_lowercase().chars().filter(char::is_ascii_alphabetic).collect();
    let value = match folded.as_str() {
        "fulltime" | "ft" | "permanent" | "fulltimeemployee" => "fulltime",
        "parttime" | "pt" => "parttime",
        "contract" | "contractor" | "ct" | "freelance" | "fl" | "fulltimecontract" => "contract",
        "internship" | "intern" => "internship",
        "temporary" | "temp" | "seasonal" => "temporary",
        _ => return None,
    };
    Some(value.to_string())
}

/// A hash of what a reader sees: company, title, place, pay and description, case-folded.
/// Two records with the same content hash are the same posting whatever their ids say.
fn content_hash(p: &Posting, folded_description: Option<&str>) -> String {
    let salary = p
        .salary
        .as_ref()
        .map(|s| format!("{:?}|{:?}|{:?}|{}", s.min_annual, s.max_annual, s.currency, s.interval.as_str()))
        .unwrap_or_default();
    let title = text::fold_key(&p.title);
    let city = p.location_city.as_deref().map(text::fold_key).unwrap_or_default();
    let remote_type = p.remote_type.unwrap_or_default().to_string();
    let seniority = p.seniority.unwrap_or_default().to_string();
    let fields = [
        p.company_key.as_deref().unwrap_or_default(),
        &title,
        &city,
        p.location_state.as_deref().unwrap_or_default(),
        p.location_country.as_deref().unwrap_or_default(),
        &remote_type,
        p.job_type.as_deref().unwrap_or_default(),
        &seniority,
        &salary,
        folded_description.unwrap_or_default(),
    ];
    // The fields joined by U+001F, hashed as they are fed rather than copied into one string
    // (the description is most of it).
    let mut hasher = Sha256::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            hasher.update("\u{1f}");
        }
        hasher.update(field);
    }
    hex(&hasher.finalize()[..16])
}

/// The stable identity of a posting: its board id when it has one, else its URL, else its
/// content. The same input always gets the same key, on any machine.
fn posting_key(p: &Posting) -> String {
    let identity = match (&p.source_job_id, &p.job_url) {
        (Some(id), _) => format!("id\u{1f}{}\u{1f}{id}", p.source_site),
        (None, Some(url)) => format!("url\u{1f}{url}"),
        (None, None) => format!("content\u{1f}{}", p.content_hash),
    };
    short_hash(&identity)
}

/// The first 16 bytes of SHA-256, hex: collision-free in practice for any lake this size.
pub fn short_hash(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes())[..16])
}

/// Lower-case hex of some bytes. Two table look-ups a byte: every posting's content hash and
/// key come through here, and `write!` with `{:02x}` per byte took 0.9 % of a Kafka consume's
/// samples (BENCHMARKS.md).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Exactly `N` bytes from lowercase hex (as [`hex`] writes them); `None` for any other text.
/// One pass over the digit pairs: deduplication reads every posting's key and content hash
/// back through here, and checking the text first and then parsing each pair as a string was
/// 0.6 % of a Kafka consume's samples (BENCHMARKS.md).
pub fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    const fn digit(d: u8) -> Option<u8> {
        match d {
            b'0'..=b'9' => Some(d - b'0'),
            b'a'..=b'f' => Some(d - b'a' + 10),
            _ => None,
        }
    }
    let digits = text.as_bytes();
    if digits.len() != N * 2 {
        return None;
    }
    let mut bytes = [0_u8; N];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Compensation, Job};

    fn normaliser() -> Normaliser {
        Normaliser::new(Currencies::builtin())
    }

    /// `from_hex` reads back what `hex` writes, every byte value, and nothing else: upper case,
    /// another length, a non-digit, or a two-byte character where two digits belong.
    #[test]
    fn from_hex_reads_what_hex_writes_and_nothing_else() {
        let all: Vec<u8> = (0..=255).collect();
        for chunk in all.chunks(16) {
            let bytes: [u8; 16] = chunk.try_into().expect("16 bytes");
            assert_eq!(from_hex::<16>(&hex(&bytes)), Some(bytes));
        }
        assert_eq!(from_hex::<2>("00ff"), Some([0, 255]));
        for text in ["00FF", "00f", "00ff0", "00fg", "0 ff", "é0f", ""] {
            assert_eq!(from_hex::<2>(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_full_listing_normalises() {
        let listing = JobListing {
            job_id: Some("42".into()),
            site: Some("LinkedIn".into()),
            job: Some(Job {
                title: Some("Sr. Data Engineer (Remote)".into()),
                company: Some("Acme, Inc.".into()),
                location: Some("Austin, TX".into()),
                job_type: Some("Full-time".into()),
                date_posted: Some("2024-03-05".into()),
                description: Some("<p>5+ years of experience. Bachelor's degree.</p><p>Salary: $120k-$150k</p>".into()),
                ..Job::default()
            }),
            ..JobListing::default()
        };
        let n = normaliser();
        let mut p = n.normalise(&listing).expect("normalises");
        assert_eq!(
            (p.min_years_experience, p.education_level),
            (None, None),
            "read from the description only for kept postings"
        );
        n.add_details(&mut p).expect("details");
        assert_eq!(
            (p.title.as_str(), p.company.as_deref(), p.company_key.as_deref()),
            ("Sr. Data Engineer", Some("Acme"), Some("acme"))
        );
        assert_eq!(
            (
                p.location_city.as_deref(),
                p.location_state.as_deref(),
                p.location_country.as_deref()
            ),
            (Some("Austin"), Some("TX"), Some("US"))
        );
        assert_eq!(
            (p.remote_type, p.seniority, p.min_years_experience, p.education_level),
            (Some("remote"), Some("senior"), Some(5), Some("bachelor"))
        );
        assert_eq!(
            (p.job_type.as_deref(), p.source_site.as_str(), p.posting_month()),
            (Some("fulltime"), "linkedin", "2024-03".to_string())
        );
        let salary = p.salary.expect("salary from text");
        assert_eq!(
            (salary.min_usd, salary.max_usd, salary.source.as_str()),
            (Some(120_000.0), Some(150_000.0), "parsed_from_text")
        );
        // Lakes keep these and later runs deduplicate against them, so they must never change:
        // the values a release build of 2026-12-05 wrote to silver for this listing.
        assert_eq!(
            (p.posting_key.as_str(), p.content_hash.as_str()),
            ("e9f654135727dc8e84b447d58206321d", "6e604c691ed4bb465594b7db59b26080")
        );
    }

    #[test]
    fn missing_title_is_rejected_with_the_field() {
        let err = normaliser().normalise(&JobListing::default()).expect_err("no title");
        assert_eq!((err.code, err.field.as_deref()), (ErrorCode::MissingField, Some("job.title")));
    }

    #[test]
    fn keys_follow_identity_not_order() {
        let listing = |id: Option<&str>, url: Option<&str>| JobListing {
            job_id: id.map(Into::into),
            site: Some("indeed".into()),
            job: Some(Job {
                title: Some("Analyst".into()),
                job_url: url.map(Into::into),
                ..Job::default()
            }),
            compensation: Some(Compensation::default()),
            ..JobListing::default()
        };
        let n = normaliser();
        let key = |l: &JobListing| n.normalise(l).expect("ok").posting_key;
        assert_eq!(key(&listing(Some("1"), Some("u"))), key(&listing(Some("1"), Some("other"))));
        assert_ne!(key(&listing(Some("1"), None)), key(&listing(Some("2"), None)));
        assert_eq!(key(&listing(None, Some("u"))), key(&listing(None, Some("u"))));
    }

    /// Normalisation never panics, whatever the text: random mixes of multi-byte characters,
    /// currency symbols, digits, separators and markup, in every field.
    #[test]
    fn arbitrary_text_never_panics() {
        const PIECES: [&str; 24] = [
            "€",
            "£",
            "$",
            "¥",
            "₹",
            "k",
            "K",
            "m",
            "-",
            "–",
            "/hr",
            " per year",
            "1",
            "23",
            "4,500",
            "60.000",
            "’",
            "期",
            "é",
            "<p>",
            "&amp;",
            "\n",
            " ",
            "years of experience",
        ];
        let n = normaliser();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3_000 {
            let mut text = String::new();
            for _ in 0..(next() % 40) {
                text.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            let listing = JobListing {
                job: Some(Job {
                    title: Some(format!("T{text}")),
                    company: Some(text.clone()),
                    location: Some(text.clone()),
                    description: Some(text.clone()),
                    date_posted: Some(text.clone()),
                    ..Job::default()
                }),
                compensation: Some(Compensation {
                    salary_text: Some(text.clone()),
                    ..Compensation::default()
                }),
                ..JobListing::default()
            };
            let _ = n.normalise(&listing);
        }
    }
}
