//! Deduplication against everything silver already holds plus what this run has admitted:
//! exact (same board id, same URL), content (same content hash) and near-duplicate reposts
//! (MinHash/LSH over description shingles, confirmed by company, title and place). The index
//! is rebuilt from silver at start, so it survives restarts.

pub mod minhash;

use std::collections::HashMap;

use minhash::{BANDS, Signature};
use sha2::{Digest as _, Sha256};

use crate::normalize::text::fold_key;
use crate::normalize::{Posting, from_hex};

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

/// What is kept of a posting that repeats another: its own key and when it was posted and
/// collected (the duplicates table's columns). The rest of it, the description above all, is
/// let go as soon as the repeat is recognised, so batches waiting to be committed stay small.
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    pub posting_key: String,
    pub date_posted: Option<chrono::NaiveDate>,
    pub scraped_at: Option<String>,
}

impl Repeat {
    pub fn of(posting: Posting) -> Self {
        Repeat {
            posting_key: posting.posting_key,
            date_posted: posting.date_posted,
            scraped_at: posting.scraped_at,
        }
    }
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

/// The identities of every kept posting, held compactly: it is rebuilt from all of silver at
/// start and lives for the whole run, so its size per posting is most of consume's memory
/// that grows with the lake. Keys, URLs and content hashes are held as 16-byte digests, each
/// kept posting's key text once, and companies and places as numbers.
#[derive(Debug, Default)]
pub struct DedupIndex {
    /// Each kept posting's key, in the order they were kept; the maps point into it.
    kept_keys: Vec<Box<str>>,
    /// `posting_key` → the kept posting it names (itself, for kept postings).
    keys: HashMap<Digest, u32>,
    urls: HashMap<Digest, u32>,
    content: HashMap<Digest, u32>,
    /// Company keys and place names, numbered: near-duplicate checks only compare them.
    names: HashMap<Box<str>, u32>,
    entries: Vec<Near>,
    /// Per band, the newest entry whose band key starts with each 32 bits; older ones follow
    /// `chain`, and a walk skips those whose whole key differs. A head per key plus a
    /// fixed-size link per entry keeps the index small at millions of postings.
    heads: Vec<HashMap<u32, u32>>,
    /// `chain[entry][band]`: the next older entry with the same head, or `END`.
    chain: Vec<[u32; BANDS]>,
}

const END: u32 = u32::MAX;

/// 16 bytes standing for a posting key, URL or content hash.
type Digest = [u8; 16];

/// Posting keys and content hashes are the hex of 16 bytes (`short_hash`) and are read back;
/// any other text (URLs) is hashed to 16 bytes like them.
fn digest(text: &str) -> Digest {
    from_hex(text).unwrap_or_else(|| {
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&Sha256::digest(text.as_bytes())[..16]);
        bytes
    })
}

/// What the index keeps of a kept posting for near-duplicate checks.
#[derive(Debug)]
struct Near {
    /// Index into `kept_keys`.
    kept: u32,
    company: Option<u32>,
    title_key: Box<str>,
    place: [Option<u32>; 3],
    signature: Signature,
}

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
        let kept = u32::try_from(self.kept_keys.len()).expect("fewer than 4 billion kept postings");
        self.kept_keys.push(posting_key.into());
        self.keys.insert(digest(posting_key), kept);
        if let Some(url) = job_url {
            self.urls.entry(digest(url)).or_insert(kept);
        }
        self.content.entry(digest(content_hash)).or_insert(kept);
        if let Some(entry) = near {
            let id = self.entries.len() as u32;
            let mut links = [END; BANDS];
            for (band, key) in entry.signature.bands() {
                links[band] = self.heads[band].insert(head(key), id).unwrap_or(END);
            }
            self.chain.push(links);
            let [city, state, country] = [entry.place.0, entry.place.1, entry.place.2].map(|name| name.map(|n| self.number(n)));
            let company = entry.company_key.map(|c| self.number(c));
            self.entries.push(Near {
                kept,
                company,
                title_key: entry.title_key.into(),
                place: [city, state, country],
                signature: entry.signature,
            });
        }
    }

    /// The number of a company key or place name, given it if new.
    fn number(&mut self, name: String) -> u32 {
        let next = self.names.len() as u32;
        *self.names.entry(name.into()).or_insert(next)
    }

    /// Whether `posting_key` is a kept posting (not an alias of one).
    pub fn is_kept(&self, posting_key: &str) -> bool {
        self.keys
            .get(&digest(posting_key))
            .is_some_and(|&kept| *self.kept_keys[kept as usize] == *posting_key)
    }

    /// Remembers that `posting_key` repeats the kept posting `of`, so a later record with the
    /// same identity names the same kept posting. Nothing when the index does not know `of`.
    pub fn alias(&mut self, posting_key: &str, of: &str) {
        let Some(&kept) = self.keys.get(&digest(of)) else {
            return;
        };
        self.keys.entry(digest(posting_key)).or_insert(kept);
    }

    /// The verdict for a new posting, checking the cheapest identities first.
    pub fn check(&self, posting: &Posting, signature: Option<&Signature>) -> Option<Duplicate> {
        let exact = |kept: &u32, kind| {
            Some(Duplicate {
                of: self.kept_keys[*kept as usize].to_string(),
                kind,
                similarity: 1.0,
            })
        };
        if let Some(kept) = self.keys.get(&digest(&posting.posting_key)) {
            return exact(kept, MatchKind::SourceId);
        }
        if let Some(kept) = posting.job_url.as_deref().and_then(|u| self.urls.get(&digest(u))) {
            return exact(kept, MatchKind::Url);
        }
        if let Some(kept) = self.content.get(&digest(&posting.content_hash)) {
            return exact(kept, MatchKind::Content);
        }
        let signature = signature?;
        // A repost shares the company: a company no kept posting with a description has, or
        // none at all, rules every entry out.
        let company = self.names.get(posting.company_key.as_deref()?)?;
        let place = [&posting.location_city, &posting.location_state, &posting.location_country].map(|name| match name {
            None => Place::Absent,
            Some(name) => self.names.get(name.as_str()).map_or(Place::Unseen, |&n| Place::Numbered(n)),
        });
        let title_key = fold_key(&posting.title);
        let new_words = title_words(&title_key);
        // The most similar wins; ties go to the smallest key, so the verdict never depends on
        // the order the index was filled in (a resumed run loads silver sorted, a clean run
        // fills it in input order).
        let mut best: Option<(f64, &str)> = None;
        for (band, key) in signature.bands() {
            let mut next = self.heads[band].get(&head(key)).copied().unwrap_or(END);
            while next != END {
                let id = next;
                next = self.chain[id as usize][band];
                let entry = &self.entries[id as usize];
                // Only the same company's posting can be a repost ([`is_same_job`]): one number
                // compared before the band key and the similarity are worked out.
                if entry.company != Some(*company) || entry.signature.band(band) != key {
                    continue;
                }
                let similarity = entry.signature.similarity(signature);
                let entry_key = &*self.kept_keys[entry.kept as usize];
                let better = best.is_none_or(|(s, k)| similarity.total_cmp(&s).then_with(|| k.cmp(entry_key)).is_gt());
                if similarity >= NEAR_SIMILARITY && better && is_same_job(entry, *company, &place, &new_words) {
                    best = Some((similarity, entry_key));
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

/// A part of a new posting's place (city, state, country) as the index knows it.
#[derive(Debug, Clone, Copy)]
enum Place {
    Absent,
    Numbered(u32),
    /// Named, but by no kept posting: it differs from every entry's.
    Unseen,
}

/// The part of a band key the index's heads are keyed by.
fn head(band_key: u64) -> u32 {
    band_key as u32
}

/// A repost: the same company, a similar title and no conflicting place (a place both
/// name, differently). `new_words` are the new posting's title words ([`title_words`]).
fn is_same_job(entry: &Near, company: u32, place: &[Place; 3], new_words: &[&str]) -> bool {
    if entry.company != Some(company) {
        return false;
    }
    let conflict = |kept: Option<u32>, new: Place| match (kept, new) {
        (Some(kept), Place::Numbered(new)) => kept != new,
        (Some(_), Place::Unseen) => true,
        (None, _) | (Some(_), Place::Absent) => false,
    };
    if entry.place.iter().zip(place).any(|(kept, new)| conflict(*kept, *new)) {
        return false;
    }
    word_overlap(&title_words(&entry.title_key), new_words) >= NEAR_TITLE_OVERLAP
}

/// A title's distinct words without years, sorted: "2024 2025" marks a posting season, not a
/// different job, while other numbers ("Store 082", "Scientist 3") tell jobs apart. A sorted
/// list of a title's few words rather than a hash set: the sets of both titles were built for
/// every candidate repost, hashing every word, on the thread that deduplicates in input order
/// (2.4 % of a Kafka consume's instructions by callgrind, BENCHMARKS.md).
fn title_words(title: &str) -> Vec<&str> {
    let is_year = |w: &str| w.len() == 4 && (w.starts_with("19") || w.starts_with("20")) && w.bytes().all(|c| c.is_ascii_digit());
    let mut words: Vec<&str> = title.split(' ').filter(|w| !w.is_empty() && !is_year(w)).collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// The Jaccard overlap of two titles' [`title_words`]: shared words over all distinct words.
fn word_overlap(a: &[&str], b: &[&str]) -> f64 {
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - shared;
    if union == 0 { 0.0 } else { shared as f64 / union as f64 }
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
    fn urls_and_aliases_name_the_kept_posting() {
        let mut index = DedupIndex::new();
        let mut original = posting("1", "Acme", "Data Analyst", DESCRIPTION);
        original.job_url = Some("https://jobs.example/acme/1".into());
        admit(&mut index, &original);
        let mut same_url = posting(
            "2",
            "Globex",
            "Nurse",
            "Night shifts on a hospital ward with a friendly team of carers",
        );
        same_url.job_url = original.job_url.clone();
        assert_eq!(verdict(&index, &same_url), Some((MatchKind::Url, original.posting_key.clone())));
        assert!(index.is_kept(&original.posting_key));
        assert!(!index.is_kept(&same_url.posting_key));
        index.alias(&same_url.posting_key, &original.posting_key);
        assert!(!index.is_kept(&same_url.posting_key), "an alias is not a kept posting");
        assert_eq!(
            verdict(&index, &same_url),
            Some((MatchKind::SourceId, original.posting_key.clone()))
        );
        index.alias("not-a-hex-key", "0123456789abcdef0123456789abcdef");
        assert_eq!(index.len(), 2, "an alias of a posting never kept is not remembered");
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
