//! Deduplication against everything silver already holds plus what this run has admitted:
//! exact (same board id, same URL), content (same content hash) and near-duplicate reposts
//! (MinHash/LSH over description shingles, confirmed by company, title and place). The index
//! is rebuilt from silver at start, so it survives restarts.

pub mod minhash;

use std::collections::HashMap;

use minhash::{BANDS, Signature};

use crate::normalize::Posting;
use crate::normalize::text::fold_key;

/// Estimated description similarity from which a posting counts as a repost.
pub const NEAR_SIMILARITY: f64 = 0.85;
/// Title word overlap (Jaccard, years ignored) a repost needs besides a near-identical
/// description: "Teacher - Math - Middle School" and "... High School" share boilerplate but are
/// two jobs; "Teacher 2024-2025" and "Teacher 2025-2026" are one job posted again.
pub const NEAR_TITLE_OVERLAP: f64 = 0.8;

/// How a duplicate was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatchKind {
    /// The same board and board id (or the same row of an id-less dataset).
    SourceId,
    /// The same job URL.
    Url,
    /// The same normalised company, title, place, pay and description.
    Content,
    /// A near-identical description from the same company, with a similar title and place.
    Near,
}

impl MatchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::SourceId => "source_id",
            MatchKind::Url => "url",
            MatchKind::Content => "content",
            MatchKind::Near => "near",
        }
    }
}

/// A duplicate's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    /// The `posting_key` of the posting kept in silver.
    pub of: String,
    pub kind: MatchKind,
    /// Estimated description similarity (1.0 for exact kinds).
    pub similarity: f64,
}

/// What the index remembers of a kept posting for near-duplicate checks.
#[derive(Debug, Clone)]
pub struct NearEntry {
    pub posting_key: String,
    pub company_key: Option<String>,
    pub title_key: String,
    pub place: (Option<String>, Option<String>, Option<String>),
    pub signature: Signature,
}

impl NearEntry {
    pub fn of(posting: &Posting, signature: Signature) -> Self {
        NearEntry {
            posting_key: posting.posting_key.clone(),
            company_key: posting.company_key.clone(),
            title_key: fold_key(&posting.title),
            place: (
                posting.location_city.clone(),
                posting.location_state.clone(),
                posting.location_country.clone(),
            ),
            signature,
        }
    }
}

/// The identities of every kept posting.
#[derive(Debug, Default)]
pub struct DedupIndex {
    /// `posting_key` → the key of the posting kept for it (itself, for kept postings).
    keys: HashMap<String, String>,
    urls: HashMap<String, String>,
    content: HashMap<String, String>,
    entries: Vec<NearEntry>,
    /// Per band, the newest entry with each band key; older ones follow `chain`. A head per
    /// key plus a fixed-size link per entry keeps the index small at millions of postings.
    heads: Vec<HashMap<u64, u32>>,
    /// `chain[entry][band]`: the next older entry with the same band key, or `END`.
    chain: Vec<[u32; BANDS]>,
}

const END: u32 = u32::MAX;

impl DedupIndex {
    pub fn new() -> Self {
        DedupIndex {
            heads: vec![HashMap::new(); BANDS],
            ..DedupIndex::default()
        }
    }

    /// Postings indexed so far.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Remembers a kept posting.
    pub fn insert(&mut self, posting_key: &str, job_url: Option<&str>, content_hash: &str, near: Option<NearEntry>) {
        self.keys.insert(posting_key.to_string(), posting_key.to_string());
        if let Some(url) = job_url {
            self.urls.entry(url.to_string()).or_insert_with(|| posting_key.to_string());
        }
        self.content
            .entry(content_hash.to_string())
            .or_insert_with(|| posting_key.to_string());
        if let Some(entry) = near {
            let id = self.entries.len() as u32;
            let mut links = [END; BANDS];
            for (band, key) in entry.signature.bands() {
                links[band] = self.heads[band].insert(key, id).unwrap_or(END);
            }
            self.chain.push(links);
            self.entries.push(entry);
        }
    }

    /// Whether `posting_key` is a kept posting (not an alias of one).
    pub fn is_kept(&self, posting_key: &str) -> bool {
        self.keys.get(posting_key).is_some_and(|k| k == posting_key)
    }

    /// Remembers that `posting_key` repeats the kept posting `of`, so a later record with the
    /// same identity names the same kept posting.
    pub fn alias(&mut self, posting_key: &str, of: &str) {
        self.keys.entry(posting_key.to_string()).or_insert_with(|| of.to_string());
    }

    /// The verdict for a new posting, checking the cheapest identities first.
    pub fn check(&self, posting: &Posting, signature: Option<&Signature>) -> Option<Duplicate> {
        let exact = |of: &str, kind| {
            Some(Duplicate {
                of: of.to_string(),
                kind,
                similarity: 1.0,
            })
        };
        if let Some(of) = self.keys.get(&posting.posting_key) {
            return exact(of, MatchKind::SourceId);
        }
        if let Some(of) = posting.job_url.as_deref().and_then(|u| self.urls.get(u)) {
            return exact(of, MatchKind::Url);
        }
        if let Some(of) = self.content.get(&posting.content_hash) {
            return exact(of, MatchKind::Content);
        }
        let signature = signature?;
        let candidate = NearEntry::of(posting, signature.clone());
        // The most similar wins; ties go to the smallest key, so the verdict never depends on
        // the order the index was filled in (a resumed run loads silver sorted, a clean run
        // fills it in input order).
        let mut best: Option<(f64, &str)> = None;
        for (band, key) in signature.bands() {
            let mut next = self.heads[band].get(&key).copied().unwrap_or(END);
            while next != END {
                let id = next;
                next = self.chain[id as usize][band];
                let entry = &self.entries[id as usize];
                let similarity = entry.signature.similarity(signature);
                let better = best.is_none_or(|(s, k)| similarity.total_cmp(&s).then_with(|| k.cmp(entry.posting_key.as_str())).is_gt());
                if similarity >= NEAR_SIMILARITY && better && is_same_job(entry, &candidate) {
                    best = Some((similarity, &entry.posting_key));
                }
            }
        }
        best.map(|(similarity, of)| Duplicate {
            of: of.to_string(),
            kind: MatchKind::Near,
            similarity,
        })
    }
}

/// A repost: the same company, a similar title and no conflicting place.
fn is_same_job(a: &NearEntry, b: &NearEntry) -> bool {
    if a.company_key.is_none() || a.company_key != b.company_key {
        return false;
    }
    let conflict = |x: &Option<String>, y: &Option<String>| matches!((x, y), (Some(x), Some(y)) if x != y);
    if conflict(&a.place.0, &b.place.0) || conflict(&a.place.1, &b.place.1) || conflict(&a.place.2, &b.place.2) {
        return false;
    }
    word_overlap(&a.title_key, &b.title_key) >= NEAR_TITLE_OVERLAP
}

/// Title words without years: "2024 2025" marks a posting season, not a different job, while
/// other numbers ("Store 082", "Scientist 3") tell jobs apart.
fn title_words(title: &str) -> std::collections::HashSet<&str> {
    let is_year = |w: &str| w.len() == 4 && (w.starts_with("19") || w.starts_with("20")) && w.bytes().all(|c| c.is_ascii_digit());
    title.split(' ').filter(|w| !w.is_empty() && !is_year(w)).collect()
}

fn word_overlap(a: &str, b: &str) -> f64 {
    let (a, b) = (title_words(a), title_words(b));
    let union = a.union(&b).count();
    if union == 0 {
        0.0
    } else {
        a.intersection(&b).count() as f64 / union as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Job, JobListing};
    use crate::normalize::Normaliser;
    use crate::normalize::currency::Currencies;

    const DESCRIPTION: &str = "Join our analytics team to design dashboards, model revenue data in SQL, automate reports \
        with Python, present findings to leadership every month and help the company decide where to invest next year";

    fn posting(id: &str, company: &str, title: &str, description: &str) -> Posting {
        let listing = JobListing {
            job_id: Some(id.into()),
            site: Some("board".into()),
            job: Some(Job {
                title: Some(title.into()),
                company: Some(company.into()),
                location: Some("Austin, TX".into()),
                description: Some(description.into()),
                ..Job::default()
            }),
            ..JobListing::default()
        };
        Normaliser::new(Currencies::builtin()).normalise(&listing).expect("valid")
    }

    fn admit(index: &mut DedupIndex, p: &Posting) {
        let sig = p.description.as_deref().and_then(Signature::of_text);
        index.insert(
            &p.posting_key,
            p.job_url.as_deref(),
            &p.content_hash,
            sig.map(|s| NearEntry::of(p, s)),
        );
    }

    fn verdict(index: &DedupIndex, p: &Posting) -> Option<(MatchKind, String)> {
        let sig = p.description.as_deref().and_then(Signature::of_text);
        index.check(p, sig.as_ref()).map(|d| (d.kind, d.of))
    }

    #[test]
    fn each_kind_is_recognised() {
        let mut index = DedupIndex::new();
        let original = posting("1", "Acme", "Data Analyst", DESCRIPTION);
        admit(&mut index, &original);
        assert_eq!(
            verdict(&index, &original),
            Some((MatchKind::SourceId, original.posting_key.clone()))
        );
        let same_content = posting("2", "Acme Inc.", "Data Analyst", DESCRIPTION);
        assert_eq!(
            verdict(&index, &same_content),
            Some((MatchKind::Content, original.posting_key.clone()))
        );
        let repost = posting(
            "3",
            "Acme",
            "Data Analyst (Remote)",
            &DESCRIPTION.replace("next year", "next quarter"),
        );
        let other_role = posting(
            "6",
            "Acme",
            "Senior Marketing Analyst",
            &DESCRIPTION.replace("next year", "next quarter"),
        );
        assert_eq!(
            verdict(&index, &other_role),
            None,
            "a different role with the same boilerplate is not a repost"
        );
        assert_eq!(verdict(&index, &repost).map(|v| v.0), Some(MatchKind::Near));
        let other_company = posting("4", "Globex", "Data Analyst", &DESCRIPTION.replace("next year", "next quarter"));
        assert_eq!(verdict(&index, &other_company), None);
        let other_school = posting("7", "Acme", "Teacher - Reading - High School 2025-2026", DESCRIPTION);
        let mut schools = DedupIndex::new();
        admit(
            &mut schools,
            &posting("8", "Acme", "Teacher - Reading - Middle School 2025-2026", DESCRIPTION),
        );
        assert_eq!(verdict(&schools, &other_school), None, "another school level is another job");
        let next_year = posting(
            "9",
            "Acme",
            "Teacher - Reading - Middle School 2026-2027",
            &DESCRIPTION.replace("next year", "next quarter"),
        );
        assert_eq!(
            verdict(&schools, &next_year).map(|v| v.0),
            Some(MatchKind::Near),
            "the same job posted for the next year is a repost"
        );
        let other_job = posting(
            "5",
            "Acme",
            "Data Analyst",
            "A completely different description about nursing care for patients in hospital wards at night with families and doctors",
        );
        assert_eq!(verdict(&index, &other_job), None);
    }
}
