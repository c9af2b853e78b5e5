//! The gazetteer: every spelling in the taxonomy in one Aho-Corasick automaton, with token
//! boundaries, case rules and context checks for spellings that are also ordinary words.
//!
//! Why every match and not only the longest: the longest spelling at a position may fail a
//! boundary or context check ("react.jsx"), and a shorter one must then get its chance. The
//! automaton matches ASCII case-insensitively over the original text, so offsets need no
//! mapping back; case rules are checked on the matched slice.
//!
//! Why the automaton is walked only from some positions: a mention counts only as whole
//! tokens, so it starts where a word starts (or at the punctuation a spelling like `.net`
//! begins with), and its first word is a spelling's first word. A filter of the first words'
//! hashes decides whether to walk, since most words of a description start no spelling, and a
//! table of the first words gives the automaton's state after the word, so a walk starts at
//! the word's end. Scanning every byte with an unanchored automaton (a 50 MB DFA) took about
//! 1.2 times as long on one core (BENCHMARKS.md, "The gazetteer walks from token starts").

use std::collections::{BTreeMap, HashMap};

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchError, MatchKind};
use memchr::memmem::Finder;

use super::taxonomy::Taxonomy;

/// How far (bytes, each side) an ambiguous spelling looks for confirming context.
const CONTEXT_WINDOW: usize = 250;

/// The longest spelling looked up per word rather than searched for.
const SHORT: usize = 3;

/// How far (bytes) `not_before` / `not_after` words are looked for.
const WORD_RULE_REACH: usize = 40;

/// How a spelling may match.
#[derive(Debug, Clone)]
enum Rule {
    /// Any case.
    Plain,
    /// Only in one of these exact forms.
    Exact(Vec<String>),
    /// Only in one of these forms, and only in technical context.
    Ambiguous(Vec<String>),
}

#[derive(Debug, Clone)]
struct Spelling {
    skill: usize,
    rule: Rule,
    /// A separator variant the gazetteer made up rather than one the taxonomy lists.
    generated: bool,
}

/// A skill found in a text: the taxonomy index and the byte range of the surface text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub skill: usize,
    pub start: usize,
    pub end: usize,
}

/// The compiled matcher for one taxonomy.
pub struct Gazetteer {
    /// Every spelling longer than [`SHORT`], walked anchored at candidate starts.
    automaton: NFA,
    anchored_start: StateID,
    /// The spelling each automaton pattern stands for.
    pattern_spelling: Vec<usize>,
    /// The [`word_at`] hash of each automaton spelling's first word, in a filter small enough
    /// for the first level of cache: a word of the text it rules out starts no spelling. A word
    /// it lets through by chance costs a lookup in `first_words`.
    first_word_filter: BitFilter,
    /// The automaton's state after each automaton spelling's first word: a walk from a word
    /// of the text starts there instead of stepping through the word byte by byte.
    first_words: FirstWords,
    /// The bytes other than word bytes some spelling starts with (the `.` of `.net`): the
    /// automaton is walked from each of them too.
    punctuation_starts: [bool; 256],
    /// Spellings of at most [`SHORT`] letters and digits, looked up per word instead: in the
    /// automaton, `r` or `go` would report a match inside every other word.
    /// Keyed by [`short_key`], sorted: a word's lookup allocates nothing.
    short: Vec<(u32, usize)>,
    /// The short keys in a filter asked first: most short words ("a", "to", "the") are no
    /// spelling, and the filter says so without a binary search.
    short_filter: BitFilter,
    spellings: Vec<Spelling>,
    /// Each skill's category index, and its parents.
    category: Vec<usize>,
    parents: Vec<Vec<usize>>,
    /// Each skill's cue words in lower case, as searchers built once: building one per search
    /// was 0.65 % of `rats consume`'s samples.
    cues: Vec<Vec<Finder<'static>>>,
    not_before: Vec<Vec<String>>,
    not_after: Vec<Vec<String>>,
    by_lowercase: HashMap<String, usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot build the skill matcher: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
    #[error("cannot start the skill matcher: {0}")]
    Start(#[from] MatchError),
}

/// Every spelling of the taxonomy's skills in lower case (listed ones, their separator
/// variants, exact-case and ambiguous forms), each once, with how it may match.
fn spellings_of(taxonomy: &Taxonomy) -> (Vec<String>, Vec<Spelling>, HashMap<String, usize>) {
    let mut keys: Vec<String> = Vec::new();
    let mut spellings: Vec<Spelling> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut add = |key: String, skill: usize, rule: Rule, generated: bool| {
        let Some(&at) = by_key.get(&key) else {
            by_key.insert(key.clone(), spellings.len());
            keys.push(key);
            spellings.push(Spelling { skill, rule, generated });
            return;
        };
        let existing = &mut spellings[at];
        if existing.skill != skill {
            // Listed spellings never clash (the taxonomy checks that); a made-up
            // separator variant yields to another skill's listed spelling.
            if existing.generated && !generated {
                *existing = Spelling { skill, rule, generated };
            }
            return;
        }
        existing.generated &= generated;
        existing.rule = match (&existing.rule, rule) {
            (Rule::Plain, _) | (_, Rule::Plain) => Rule::Plain,
            (Rule::Exact(a), Rule::Exact(b)) => Rule::Exact(merged(a, b)),
            (Rule::Ambiguous(a), Rule::Ambiguous(b) | Rule::Exact(b)) | (Rule::Exact(a), Rule::Ambiguous(b)) => {
                Rule::Ambiguous(merged(a, b))
            }
        };
    };
    for (i, skill) in taxonomy.skills.iter().enumerate() {
        for spelling in skill.plain_spellings() {
            let key = spelling.to_lowercase();
            add(key.clone(), i, Rule::Plain, false);
            for variant in separator_variants(&key) {
                add(variant, i, Rule::Plain, true);
            }
        }
        for form in &skill.exact_case {
            add(form.to_lowercase(), i, Rule::Exact(vec![form.clone()]), false);
        }
        for form in &skill.ambiguous {
            let mut forms = vec![form.clone()];
            if form.chars().all(|c| !c.is_uppercase()) {
                forms.push(capitalised(form));
            }
            add(form.to_lowercase(), i, Rule::Ambiguous(forms), false);
        }
    }
    (keys, spellings, by_key)
}

impl Gazetteer {
    pub fn new(taxonomy: &Taxonomy) -> Result<Self, BuildError> {
        let (keys, spellings, by_key) = spellings_of(taxonomy);
        // A spelling that is one short word is looked up per word ([`Gazetteer::candidates`]);
        // every other one is walked.
        let mut short: Vec<(u32, usize)> = Vec::new();
        let mut long_keys = Vec::new();
        for (at, key) in keys.into_iter().enumerate() {
            match short_key(key.as_bytes()) {
                Some(word) => short.push((word, at)),
                None => long_keys.push((at, key)),
            }
        }
        short.sort_unstable();
        let mut short_filter = BitFilter::default();
        for (key, _) in &short {
            short_filter.insert(u64::from(*key));
        }
        // A contiguous NFA: small and quick to build, and an anchored walk rarely goes past a
        // few states, so a DFA's faster steps would not pay for its 50 MB.
        let automaton = NFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(long_keys.iter().map(|(_, key)| key))?;
        let anchored_start = automaton.start_state(Anchored::Yes)?;
        let pattern_spelling = long_keys.iter().map(|(at, _)| *at).collect();
        let mut first_word_filter = BitFilter::default();
        let mut first_words: BTreeMap<&[u8], (u64, StateID)> = BTreeMap::new();
        let mut punctuation_starts = [false; 256];
        for (_, key) in &long_keys {
            let bytes = key.as_bytes();
            match word_at(bytes, 0) {
                (0, _) => punctuation_starts[usize::from(bytes[0])] = true,
                (end, hash) => {
                    first_word_filter.insert(hash);
                    first_words.entry(&bytes[..end]).or_insert_with_key(|word| {
                        let state = word
                            .iter()
                            .fold(anchored_start, |state, &b| automaton.next_state(Anchored::Yes, state, b));
                        (hash, state)
                    });
                }
            }
        }
        let first_words: Vec<(&[u8], u64, StateID)> = first_words.into_iter().map(|(word, (hash, state))| (word, hash, state)).collect();
        let first_words = FirstWords::new(&first_words);
        let lower = |v: &[String]| v.iter().map(|s| s.to_lowercase()).collect::<Vec<_>>();
        let categories: Vec<&String> = taxonomy.categories.keys().collect();
        Ok(Self {
            automaton,
            anchored_start,
            pattern_spelling,
            first_word_filter,
            first_words,
            punctuation_starts,
            short,
            short_filter,
            category: taxonomy
                .skills
                .iter()
                .map(|s| categories.iter().position(|c| **c == s.category).unwrap_or(usize::MAX))
                .collect(),
            parents: taxonomy
                .skills
                .iter()
                .map(|s| s.parents.iter().filter_map(|p| taxonomy.index_of(p)).collect())
                .collect(),
            cues: taxonomy
                .skills
                .iter()
                .map(|s| lower(&s.cues).iter().map(|cue| Finder::new(cue).into_owned()).collect())
                .collect(),
            not_before: taxonomy.skills.iter().map(|s| lower(&s.not_before)).collect(),
            not_after: taxonomy.skills.iter().map(|s| lower(&s.not_after)).collect(),
            by_lowercase: by_key
                .into_iter()
                .filter(|(_, at)| matches!(spellings[*at].rule, Rule::Plain))
                .map(|(k, at)| (k, spellings[at].skill))
                .collect(),
            spellings,
        })
    }

    /// The skill a whole phrase names unconditionally (for linking learned spans), if any.
    pub fn lookup(&self, phrase: &str) -> Option<usize> {
        self.by_lowercase.get(&phrase.trim().to_lowercase()).copied()
    }

    /// Every skill mention in `text`, left to right, never overlapping; at each position the
    /// longest spelling that passes its checks wins.
    pub fn find(&self, text: &str) -> Vec<Found> {
        let bytes = text.as_bytes();
        let links = links(text);
        let mut plain = Vec::new();
        let mut ambiguous = Vec::new();
        for (start, end, spelling) in self.candidates(text) {
            if !on_boundaries(bytes, start, end) || links.iter().any(|&(s, e)| start < e && s < end) {
                continue;
            }
            let spelling = &self.spellings[spelling];
            let surface = &text[start..end];
            let found = Found {
                skill: spelling.skill,
                start,
                end,
            };
            match &spelling.rule {
                Rule::Plain => plain.push(found),
                Rule::Exact(forms) if forms.iter().any(|f| f == surface) => plain.push(found),
                Rule::Ambiguous(forms) if forms.iter().any(|f| f == surface) => ambiguous.push(found),
                Rule::Exact(_) | Rule::Ambiguous(_) => {}
            }
        }
        // ASCII case folding keeps byte offsets, so windows of `lower` line up with `text`.
        let lower = if ambiguous.is_empty() {
            String::new()
        } else {
            text.to_ascii_lowercase()
        };
        let confirmed: Vec<Found> = ambiguous.iter().copied().filter(|f| self.confirmed(&lower, *f, &plain)).collect();
        let mut candidates = plain;
        candidates.extend(confirmed);
        candidates.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
        let mut chosen: Vec<Found> = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            if chosen.last().is_none_or(|last| candidate.start >= last.end) {
                chosen.push(candidate);
            }
        }
        chosen
    }

    /// Every spelling the text spells from a position a whole-token mention can start at:
    /// (start, end, spelling). One pass over the words: a word of at most [`SHORT`] letters is
    /// looked up among the short spellings, a word that is a longer spelling's first word (and
    /// punctuation a spelling starts with) anchors a walk of the automaton. Whether a walked
    /// match ends on a token edge is for the caller to check.
    fn candidates(&self, text: &str) -> Vec<(usize, usize, usize)> {
        let bytes = text.as_bytes();
        let mut found = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            if !is_word_byte(bytes[at]) {
                if self.punctuation_starts[usize::from(bytes[at])] {
                    self.spelled_from(bytes, at, at, self.anchored_start, &mut found);
                }
                at += 1;
                continue;
            }
            let start = at;
            let (end, hash) = word_at(bytes, start);
            // The table and `word_at` class every byte alike (a unit test checks each), so the
            // word has a byte; `max` only makes sure the loop moves on whatever they say.
            at = end.max(start + 1);
            let word = &bytes[start..at];
            if let Some(key) = short_key(word)
                && self.short_filter.may_contain(u64::from(key))
                && let Ok(i) = self.short.binary_search_by_key(&key, |(k, _)| *k)
            {
                found.push((start, at, self.short[i].1));
            }
            if self.first_word_filter.may_contain(hash)
                && let Some(state) = self.first_words.state_after(word, hash)
            {
                self.spelled_from(bytes, start, at, state, &mut found);
            }
        }
        found
    }

    /// The spellings `bytes` holds from `start` on, walking the automaton anchored there from
    /// `state`, the state it is in after `bytes[start..from]`.
    fn spelled_from(&self, bytes: &[u8], start: usize, from: usize, mut state: StateID, found: &mut Vec<(usize, usize, usize)>) {
        if from > start && self.automaton.is_match(state) {
            self.matched(state, start, from, found);
        }
        for (at, &byte) in bytes.iter().enumerate().skip(from) {
            state = self.automaton.next_state(Anchored::Yes, state, byte);
            if !self.automaton.is_special(state) {
                continue;
            }
            if self.automaton.is_dead(state) {
                return;
            }
            self.matched(state, start, at + 1, found);
        }
    }

    /// The spellings that end at `end` in `state`, walked from `start`.
    fn matched(&self, state: StateID, start: usize, end: usize, found: &mut Vec<(usize, usize, usize)>) {
        for i in 0..self.automaton.match_len(state) {
            let pattern = self.automaton.match_pattern(state, i);
            // A state also reports the spellings its path ends with ("native" at the end
            // of "react native"); those are found from their own start.
            if self.automaton.pattern_len(pattern) == end - start {
                found.push((start, end, self.pattern_spelling[pattern.as_usize()]));
            }
        }
    }

    /// Whether an ambiguous mention reads as the skill: not next to a word that gives the
    /// ordinary meaning away, and with a cue word or a skill of the same kind nearby (same
    /// category, a parent or a child: Go next to Java, Spring next to Java, Excel next to
    /// Tableau; not Apex next to "data visualization").
    /// `lower` is the text in ASCII lower case.
    fn confirmed(&self, lower: &str, found: Found, plain: &[Found]) -> bool {
        // The next and previous few words are all the word rules look at.
        let after_end = floor_char_boundary(lower, (found.end + WORD_RULE_REACH).min(lower.len()));
        let after = lower[found.end..after_end].trim_start();
        if self.not_before[found.skill].iter().any(|w| starts_with_word(after, w)) {
            return false;
        }
        let before_start = ceil_char_boundary(lower, found.start.saturating_sub(WORD_RULE_REACH));
        let before = lower[before_start..found.start].trim_end();
        if self.not_after[found.skill].iter().any(|w| ends_with_word(before, w)) {
            return false;
        }
        let from = floor_char_boundary(lower, found.start.saturating_sub(CONTEXT_WINDOW));
        let to = floor_char_boundary(lower, (found.end + CONTEXT_WINDOW).min(lower.len()));
        let near_skill = plain.iter().any(|p| {
            p.skill != found.skill
                && self.same_kind(p.skill, found.skill)
                && p.end > from
                && p.start < to
                && (p.end <= found.start || p.start >= found.end)
        });
        if near_skill {
            return true;
        }
        let (left, right) = (&lower[from..found.start], &lower[found.end..to]);
        self.cues[found.skill]
            .iter()
            .any(|cue| contains_word(left, cue) || contains_word(right, cue))
    }
}

impl Gazetteer {
    fn same_kind(&self, a: usize, b: usize) -> bool {
        self.category[a] == self.category[b] || self.parents[a].contains(&b) || self.parents[b].contains(&a)
    }
}

/// Byte ranges of web and e-mail addresses: `https` in a link is not a skill mention, nor is
/// `python` in `jobs.python.org`. The ranges one regex of both kinds (web first) would find,
/// left to right, found by two: the web addresses' regex skips ahead to its literal starts and
/// the e-mail addresses' to each `@`, where the one regex walked every byte of every text that
/// held an `@`: 515 ms against 68 ms for 200,000 descriptions, the same ranges for each
/// (BENCHMARKS.md). It needs no check for `://`, `www.` or `@` before it either, the check that
/// missed a `WWW.` the regex would have found.
fn links(text: &str) -> Vec<(usize, usize)> {
    static WEB: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"(?i)(?-u:\b)(?:https?://|ftp://|www\.)\S+").expect("valid pattern"));
    static MAIL: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"(?-u:\b)(?-u:[\w.+-])+@(?-u:[\w-])+\.(?-u:[\w.-])+").expect("valid pattern"));
    let mut found = Vec::new();
    let (mut web, mut mail) = (WEB.find(text), MAIL.find(text));
    let mut from = 0;
    loop {
        // Each regex's next address from `from` on; one that began inside the last address
        // taken is looked for again past it, as the one regex would have.
        if web.is_some_and(|m| m.start() < from) {
            web = WEB.find_at(text, from);
        }
        if mail.is_some_and(|m| m.start() < from) {
            mail = MAIL.find_at(text, from);
        }
        let next = match (web, mail) {
            (Some(w), Some(m)) if m.start() < w.start() => m,
            (Some(w), _) => w,
            (None, Some(m)) => m,
            (None, None) => return found,
        };
        found.push((next.start(), next.end()));
        from = next.end();
    }
}

fn merged(a: &[String], b: Vec<String>) -> Vec<String> {
    let mut all = a.to_vec();
    all.extend(b.into_iter().filter(|f| !a.contains(f)));
    all
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// `react.js` → `react js`, `reactjs`, `react-js`: writers join words every way.
pub(crate) fn separator_variants(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let inner = |i: usize| i > 0 && i + 1 < chars.len() && chars[i - 1].is_alphanumeric() && chars[i + 1].is_alphanumeric();
    let positions: Vec<usize> = (0..chars.len())
        .filter(|&i| matches!(chars[i], '.' | '-' | ' ' | '_') && inner(i))
        .collect();
    if positions.is_empty() {
        return Vec::new();
    }
    let mut variants = Vec::new();
    for joiner in ["", " ", "-"] {
        let variant: String = chars
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if positions.contains(&i) {
                    joiner.to_string()
                } else {
                    c.to_string()
                }
            })
            .collect();
        // A joined variant shorter than four letters ("c s" → "cs") would mostly match noise.
        if variant != key && variant.len() >= 4 {
            variants.push(variant);
        }
    }
    variants
}

/// A word of 1 to [`SHORT`] ASCII letters and digits as one number, case folded; `None` for
/// anything else.
fn short_key(word: &[u8]) -> Option<u32> {
    if word.is_empty() || word.len() > SHORT || !word.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    Some(
        word.iter()
            .fold(word.len() as u32, |key, b| (key << 8) | u32::from(b.to_ascii_lowercase())),
    )
}

/// The end of the word that starts at `start` (its first byte that is no word byte, or the
/// end of `bytes`) and a hash of the word in ASCII lower case. Every word of every text comes
/// through here, so it reads eight bytes at a time: which of them are word bytes is worked out
/// for all eight at once, and whole chunks are hashed rather than bytes. With the table of
/// first words, `rats skills extract` of 100,000 postings on one core went from 5.02 to 4.29 s
/// (BENCHMARKS.md, "The gazetteer starts its walks after the first word").
fn word_at(bytes: &[u8], start: usize) -> (usize, u64) {
    let mut hash = 0;
    let mut at = start;
    loop {
        let eight = eight_bytes_at(bytes, at);
        let in_word = (non_word_bytes_8(eight).trailing_zeros() / 8) as usize;
        if in_word < 8 {
            // Only the word's own bytes are hashed. A word holds no zero byte, so the zeros
            // that stand for the rest keep words of different lengths apart.
            if in_word > 0 {
                hash = mixed_in(hash, eight & (u64::MAX >> (64 - 8 * in_word)));
            }
            return (at + in_word, hash);
        }
        hash = mixed_in(hash, eight);
        at += 8;
    }
}

/// The eight bytes from `at` on as one little-endian number, zeros past the end of `bytes`
/// (a zero is no word byte, so a word ends there).
fn eight_bytes_at(bytes: &[u8], at: usize) -> u64 {
    match bytes.get(at..at + 8).and_then(|window| <[u8; 8]>::try_from(window).ok()) {
        Some(window) => u64::from_le_bytes(window),
        None => bytes
            .get(at..)
            .unwrap_or_default()
            .iter()
            .rev()
            .fold(0, |eight, &b| (eight << 8) | u64::from(b)),
    }
}

/// Eight bytes' top bits set where a byte is no word byte ([`WORD_BYTES`]): not an ASCII
/// letter, digit or `_`, and below 0x80.
fn non_word_bytes_8(bytes: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOPS: u64 = ONES * 0x80;
    let low_seven = bytes & (ONES * 0x7f);
    // Per byte of seven-bit values: top bit set where the value is in `from..=to`.
    let within = |values: u64, from: u8, to: u8| (values + ONES * u64::from(0x80 - from)) & !(values + ONES * u64::from(0x7f - to)) & TOPS;
    let folded = low_seven | (ONES * 0x20);
    let word = (bytes & TOPS) | within(folded, b'a', b'z') | within(low_seven, b'0', b'9') | within(low_seven, b'_', b'_');
    !word & TOPS
}

fn mixed_in(hash: u64, eight_bytes: u64) -> u64 {
    let mixed = (hash ^ ascii_lowercase_8(eight_bytes)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    mixed ^ (mixed >> 32)
}

/// Eight bytes with each of `A`-`Z` made lower case, every other byte as it was: per byte,
/// the low seven bits plus 0x3f carry into the top bit from `A` on, plus 0x25 from past `Z`
/// (neither sum leaves its byte), and a byte with its own top bit set is no ASCII letter.
fn ascii_lowercase_8(bytes: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let low_seven = bytes & (ONES * 0x7f);
    let from_a = low_seven + ONES * (0x80 - u64::from(b'A'));
    let past_z = low_seven + ONES * (0x7f - u64::from(b'Z'));
    let upper = from_a & !past_z & !bytes & (ONES * 0x80);
    bytes | (upper >> 2)
}

/// A set of numbers that may answer yes for a number it does not hold (about one in 40 when it
/// holds 6,000) but never no for one it holds: one bit per number in 32 KB.
struct BitFilter(Box<[u64]>);

impl Default for BitFilter {
    fn default() -> Self {
        Self(vec![0; 1 << (BitFilter::BITS - 6)].into_boxed_slice())
    }
}

impl BitFilter {
    const BITS: u32 = 18;

    fn insert(&mut self, value: u64) {
        let bit = Self::bit(value);
        self.0[bit >> 6] |= 1 << (bit & 63);
    }

    fn may_contain(&self, value: u64) -> bool {
        let bit = Self::bit(value);
        self.0[bit >> 6] & (1 << (bit & 63)) != 0
    }

    /// A multiplicative hash's top bits: spreads keys and FNV-1a hashes alike.
    fn bit(value: u64) -> usize {
        (value.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - Self::BITS)) as usize
    }
}

/// The automaton's state after each first word of its spellings, in an open-addressing table
/// keyed by the words' [`word_at`] hashes: one probe and a comparison of the word instead of a
/// step through the automaton per byte of the word (two thirds of a walk's steps were within
/// its first word).
struct FirstWords {
    /// A power of two long, at most half full; an empty slot has a word of length 0.
    slots: Box<[FirstWord]>,
    /// The words in lower case, one after another: each slot's word is a range of it.
    words: Vec<u8>,
}

#[derive(Clone, Copy)]
struct FirstWord {
    hash: u64,
    state: StateID,
    from: u32,
    len: u32,
}

impl FirstWords {
    /// The table of `entries`: distinct words in lower case, each with its hash and the state
    /// after it.
    fn new(entries: &[(&[u8], u64, StateID)]) -> Self {
        let empty = FirstWord {
            hash: 0,
            state: StateID::ZERO,
            from: 0,
            len: 0,
        };
        let mut table = FirstWords {
            slots: vec![empty; (entries.len() * 2).next_power_of_two()].into_boxed_slice(),
            words: Vec::new(),
        };
        for &(word, hash, state) in entries {
            let mut at = table.home(hash);
            while table.slots[at].len > 0 {
                at = table.next(at);
            }
            table.slots[at] = FirstWord {
                hash,
                state,
                from: table.words.len() as u32,
                len: word.len() as u32,
            };
            table.words.extend_from_slice(word);
        }
        table
    }

    /// The state after `word` (in any ASCII case) when it is some spelling's first word.
    fn state_after(&self, word: &[u8], hash: u64) -> Option<StateID> {
        let mut at = self.home(hash);
        loop {
            let slot = self.slots[at];
            if slot.len == 0 {
                return None;
            }
            if slot.hash == hash && self.words[slot.from as usize..(slot.from + slot.len) as usize].eq_ignore_ascii_case(word) {
                return Some(slot.state);
            }
            at = self.next(at);
        }
    }

    fn home(&self, hash: u64) -> usize {
        hash as usize & (self.slots.len() - 1)
    }

    fn next(&self, at: usize) -> usize {
        (at + 1) & (self.slots.len() - 1)
    }
}

/// ASCII letters and digits, `_`, and every byte of a non-ASCII character: a table, since the
/// word loop asks about every byte of every text.
const WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
        byte += 1;
    }
    table
};

fn is_word_byte(b: u8) -> bool {
    WORD_BYTES[usize::from(b)]
}

/// A match counts only as whole tokens: no word character glued to either end (when the
/// spelling itself ends in a word character; `c++` and `.net` carry their own edges).
fn on_boundaries(bytes: &[u8], start: usize, end: usize) -> bool {
    let first = bytes[start];
    let last = bytes[end - 1];
    let left_ok = start == 0 || !is_word_byte(first) || !is_word_byte(bytes[start - 1]);
    let right_ok = end == bytes.len() || !is_word_byte(last) || !is_word_byte(bytes[end]);
    // "C" in "C#" or "C++" where the longer spelling failed must not match either.
    let glued_symbol = end < bytes.len() && matches!(bytes[end], b'#' | b'+') && is_word_byte(last);
    left_ok && right_ok && !glued_symbol
}

fn starts_with_word(text: &str, word: &str) -> bool {
    text.starts_with(word)
        && (word.ends_with(|c: char| !c.is_alphanumeric()) || !text[word.len()..].starts_with(|c: char| c.is_alphanumeric()))
}

fn ends_with_word(text: &str, word: &str) -> bool {
    text.ends_with(word)
        && (word.starts_with(|c: char| !c.is_alphanumeric()) || !text[..text.len() - word.len()].ends_with(|c: char| c.is_alphanumeric()))
}

/// Whether the word `cue` searches for (or its plural in -s) appears as a whole word.
fn contains_word(haystack: &str, cue: &Finder<'_>) -> bool {
    let bytes = haystack.as_bytes();
    let word = cue.needle();
    cue.find_iter(bytes).any(|at| {
        let mut end = at + word.len();
        if bytes.get(end) == Some(&b's') {
            end += 1;
        }
        let left = at == 0 || !is_word_byte(bytes[at - 1]) || !is_word_byte(word[0]);
        let right = end == bytes.len() || !is_word_byte(bytes[end]) || !is_word_byte(word[word.len() - 1]);
        left && right
    })
}

fn ceil_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::LazyLock;

    static GAZETTEER: LazyLock<(Taxonomy, Gazetteer)> = LazyLock::new(|| {
        let taxonomy = Taxonomy::built_in().expect("valid");
        let gazetteer = Gazetteer::new(&taxonomy).expect("builds");
        (taxonomy, gazetteer)
    });

    fn ids(text: &str) -> Vec<String> {
        let (taxonomy, gazetteer) = &*GAZETTEER;
        gazetteer.find(text).iter().map(|f| taxonomy.skills[f.skill].id.clone()).collect()
    }

    /// The anchored walk from word starts and punctuation must find every whole-token match an
    /// unanchored search over all the text finds, and no other.
    #[test]
    fn candidates_are_the_unanchored_matches_a_token_can_start() {
        let (taxonomy, gazetteer) = &*GAZETTEER;
        let (keys, _, _) = spellings_of(taxonomy);
        let long: Vec<(usize, &String)> = keys
            .iter()
            .enumerate()
            .filter(|(_, key)| short_key(key.as_bytes()).is_none())
            .collect();
        let unanchored = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(long.iter().map(|(_, key)| key))
            .expect("builds");
        let whole_tokens = |text: &str, mut found: Vec<(usize, usize, usize)>| {
            found.retain(|&(start, end, _)| on_boundaries(text.as_bytes(), start, end));
            found.sort_unstable();
            found
        };
        let mut checked = 0;
        for (_, key) in &long {
            let upper = key.to_uppercase();
            for text in [
                (*key).clone(),
                format!("Using {key} daily"),
                format!("x{key} and {key}x"),
                format!("({upper}), [{key}]"),
                format!("{key}.{key}/{key}"),
                format!("-{key}- _{key}_"),
                format!("é{key} {key}é"),
                format!("{}, {key}s", capitalised(key)),
                format!("{key}{key} {key} {key}"),
            ] {
                let expected = unanchored
                    .find_overlapping_iter(&text)
                    .map(|m| (m.start(), m.end(), long[m.pattern().as_usize()].0))
                    .collect();
                let actual = gazetteer
                    .candidates(&text)
                    .into_iter()
                    .filter(|&(_, _, spelling)| short_key(keys[spelling].as_bytes()).is_none())
                    .collect();
                assert_eq!(whole_tokens(&text, actual), whole_tokens(&text, expected), "{text:?}");
                checked += 1;
            }
        }
        assert!(checked > 10_000, "only {checked} texts");
    }

    /// Words are split and hashed eight bytes at a time: each byte value, in each place and
    /// between letters, non-ASCII and other bytes, must be classed as the table classes it and
    /// fold as `to_ascii_lowercase` folds it; and a word must end, and hash, the same wherever
    /// it stands (a text's end included) and in any ASCII case.
    #[test]
    fn eight_bytes_split_and_fold_as_each_byte_does() {
        for byte in 0..=u8::MAX {
            assert_eq!(
                is_word_byte(byte),
                byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80,
                "{byte:#x}"
            );
            for place in 0..8 {
                for filler in [b'A', b'z', b'@', b'[', b'_', b'0', b' ', 0x7f, 0x80, 0xc1, 0xff, 0] {
                    let mut bytes = [filler; 8];
                    bytes[place] = byte;
                    let eight = u64::from_le_bytes(bytes);
                    let folded = ascii_lowercase_8(eight).to_le_bytes();
                    assert_eq!(folded, bytes.map(|b| b.to_ascii_lowercase()), "{bytes:?}");
                    let non_word = non_word_bytes_8(eight).to_le_bytes();
                    assert_eq!(non_word, bytes.map(|b| if is_word_byte(b) { 0 } else { 0x80 }), "{bytes:?}");
                }
            }
        }
        let letters = "PostgreSQL_Administration_2024";
        for length in 1..=letters.len() {
            let word = &letters[..length];
            let lower = word.to_ascii_lowercase();
            let (_, hash) = word_at(lower.as_bytes(), 0);
            for (before, after) in [("", ""), ("x ", " y"), ("", "-z"), ("é ", ".net"), ("...", "\0")] {
                let text = format!("{before}{word}{after}");
                assert_eq!(word_at(text.as_bytes(), before.len()), (before.len() + length, hash), "{text:?}");
            }
            if length > 1 {
                assert_ne!(
                    word_at(&letters.as_bytes()[..length - 1], 0).1,
                    word_at(word.as_bytes(), 0).1,
                    "{word}"
                );
            }
        }
    }

    #[test]
    fn every_spelling_resolves_to_its_canonical_id() {
        let (taxonomy, gazetteer) = &*GAZETTEER;
        let mut wrong = Vec::new();
        for skill in &taxonomy.skills {
            for spelling in skill.spellings() {
                // Ambiguous spellings get the context they ask for: their first cue, or a
                // clearly technical neighbour.
                let cue = skill.cues.first().map_or("Kubernetes", String::as_str);
                let text = format!("Requirements: {spelling} ; {cue} experience.");
                let found = gazetteer.find(&text);
                let at = "Requirements: ".len();
                let hit = found.iter().find(|f| f.start == at && f.end == at + spelling.len());
                if hit.map(|f| f.skill) != taxonomy.index_of(&skill.id) {
                    wrong.push(format!(
                        "{spelling:?} → {:?} (want {})",
                        hit.map(|f| &taxonomy.skills[f.skill].id),
                        skill.id
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{} spellings do not resolve:\n{}", wrong.len(), wrong.join("\n"));
    }

    #[test]
    fn ambiguous_names_are_not_taken_from_ordinary_english() {
        for text in [
            "We have a go to market plan and you will go to meetings.",
            "Lead R&D projects across the lab.",
            "You excel at client work and Excel in a fast-paced role.",
            "Internships start in the spring semester; Spring break is paid.",
            "Swift response to customers is key.",
            "Rust prevention coatings for the plant.",
            "Access to our gym, and access control badges.",
            "Chef de partie and sous chef positions; Chef position open.",
            "Puppet show volunteers wanted.",
            "C-level executives and Plan C contingencies.",
            "Apply by email. Go!",
            "We are the backbone of the company; take the rest of the day.",
        ] {
            assert_eq!(ids(text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn a_neighbour_of_another_kind_does_not_confirm_an_ambiguous_name() {
        assert_eq!(ids("Data Visualization Designer (Apex and Chariot)"), ["data-visualization"]);
        assert_eq!(ids("Salesforce developer writing Apex triggers"), ["salesforce", "apex"]);
    }

    #[test]
    fn ambiguous_names_are_found_in_technical_context() {
        assert_eq!(ids("Services in Go and Python"), ["go", "python"]);
        assert_eq!(ids("Statistics in R, SAS or SPSS"), ["statistics", "r", "sas", "spss"]);
        assert_eq!(ids("Drivers written in C for microcontrollers"), ["c", "microcontrollers"]);
        assert_eq!(ids("iOS apps in Swift with Xcode"), ["ios", "swift", "xcode"]);
        assert_eq!(ids("Systems programming in Rust"), ["rust"]);
        assert_eq!(ids("Java with Spring and Hibernate"), ["java", "spring", "hibernate"]);
        assert_eq!(
            ids("Advanced Excel (pivot tables, VLOOKUP)"),
            ["microsoft-excel", "microsoft-excel", "microsoft-excel"]
        );
        assert_eq!(ids("Microsoft Access and SQL"), ["microsoft-access", "sql"]);
        assert_eq!(
            ids("Configuration management with Chef or Puppet"),
            ["configuration-management", "chef", "puppet"]
        );
    }

    #[test]
    fn spellings_match_whole_tokens_and_the_longest_wins() {
        assert_eq!(ids("C++ and C# and .NET"), ["cpp", "csharp", "dotnet"]);
        assert_eq!(
            ids("ReactJS, React.js, react-js, React Native"),
            ["react", "react", "react", "react-native"]
        );
        assert_eq!(ids("NoSQL stores; MySQL"), ["nosql", "mysql"]);
        assert_eq!(ids("Pythonic code"), Vec::<String>::new());
        assert_eq!(ids("Spring Boot microservices"), ["spring-boot", "microservices"]);
        assert_eq!(ids("bi-weekly pay, BI dashboards"), ["business-intelligence", "data-visualization"]);
        assert_eq!(
            ids("See https://jobs.example.com/python or mail sql@example.com; REST APIs, the rest of us"),
            ["apis"]
        );
        assert_eq!(ids("Apply at WWW.PYTHON.ORG/JOBS"), Vec::<String>::new());
    }

    /// The two regexes find the addresses one regex of both kinds finds, overlaps included: an
    /// e-mail address inside a link, a link that starts inside an e-mail address.
    #[test]
    fn links_are_the_addresses_one_regex_finds() {
        let one = regex::Regex::new(r"(?i)(?-u:\b)(?:https?://|ftp://|www\.)\S+|(?-u:\b)(?-u:[\w.+-])+@(?-u:[\w-])+\.(?-u:[\w.-])+")
            .expect("valid pattern");
        for text in [
            "",
            "no address at all",
            "mail jobs@example.com or see https://example.com/jobs today",
            "https://example.com/a@b.com then c@d.org",
            "write to first.last+jobs@www.example.co.uk/python please",
            "x@y, a@b.c, @example.com, www., WWW.EXAMPLE.COM and Ftp://files.example.org",
            "glued:https://a.example.com,b@c.de;www.d.example.com",
            "www.jobs@example.com/python is both kinds at once",
            "ümlaut@exämple.com and señor@example.es",
        ] {
            let expected: Vec<(usize, usize)> = one.find_iter(text).map(|m| (m.start(), m.end())).collect();
            assert_eq!(links(text), expected, "{text:?}");
        }
    }
}
