//! Job titles: a clean display title, the seniority it (or the board's level) states, and the
//! years of experience the description asks for.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use regex_automata::Input;

use super::text::tidy_whitespace;

static WORK_MODE_NOISE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\s*[\(\[]\s*(remote|hybrid|on-?site|in-?office)[^\)\]]*[\)\]]|\s+[-–|]\s*(remote|hybrid|on-?site)\s*$")
        .expect("valid regex")
});

/// Trims, collapses whitespace and drops work-mode decorations such as "(Remote)" or
/// "- Hybrid", which belong to `remote_type`, not to the title.
pub fn clean_title(raw: &str) -> String {
    let single_line = tidy_whitespace(&super::text::decode_entities(raw)).replace('\n', " ");
    let without_mode = WORK_MODE_NOISE.replace_all(&single_line, "");
    without_mode
        .trim_matches(|c: char| c.is_whitespace() || matches!(c, '-' | '–' | '|' | ',' | '*'))
        .to_string()
}

/// Career level, ordered from least to most senior (also a flag's values: `--seniority senior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Seniority {
    Intern,
    Entry,
    Mid,
    Senior,
    Lead,
    Manager,
    Director,
    Executive,
}

impl Seniority {
    pub fn as_str(self) -> &'static str {
        match self {
            Seniority::Intern => "intern",
            Seniority::Entry => "entry",
            Seniority::Mid => "mid",
            Seniority::Senior => "senior",
            Seniority::Lead => "lead",
            Seniority::Manager => "manager",
            Seniority::Director => "director",
            Seniority::Executive => "executive",
        }
    }

    /// Reads a board's level field: our names, `LinkedIn`'s ("mid-senior level", "entry
    /// level", "internship") and the ds-salaries codes (EN, MI, SE, EX).
    pub fn from_level(level: &str) -> Option<Self> {
        let l = level.trim().to_ascii_lowercase();
        let l = l.trim_end_matches(" level");
        Some(match l {
            "intern" | "internship" => Seniority::Intern,
            "entry" | "en" | "junior" | "associate" | "entry-level" => Seniority::Entry,
            "mid" | "mi" | "mid-level" | "intermediate" | "mid-senior" => Seniority::Mid,
            "senior" | "se" => Seniority::Senior,
            "lead" | "principal" | "staff" => Seniority::Lead,
            "manager" => Seniority::Manager,
            "director" => Seniority::Director,
            "executive" | "ex" | "c-level" => Seniority::Executive,
            _ => return None,
        })
    }

    /// Reads the title's own words, most senior first, so "Senior Manager" is a manager and
    /// "Associate Director" a director.
    pub fn from_title(title: &str) -> Option<Self> {
        let words: Vec<String> = title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        let has = |options: &[&str]| words.iter().any(|w| options.contains(&w.as_str()));
        let phrase = |p: &str| words.join(" ").contains(p);
        if has(&[
            "chief",
            "ceo",
            "cto",
            "cfo",
            "coo",
            "cmo",
            "cio",
            "ciso",
            "cdo",
            "evp",
            "svp",
            "president",
        ]) || phrase("vice president")
        {
            Some(Seniority::Executive)
        } else if has(&["director", "vp", "head"]) {
            Some(Seniority::Director)
        } else if has(&["manager", "mgr"]) {
            Some(Seniority::Manager)
        } else if has(&["lead", "principal", "staff", "architect"]) {
            Some(Seniority::Lead)
        } else if has(&["senior", "sr", "iii", "iv", "expert"]) {
            Some(Seniority::Senior)
        } else if has(&["intern", "internship", "trainee", "apprentice", "co-op"]) {
            Some(Seniority::Intern)
        } else if has(&["junior", "jr", "entry", "graduate", "i"]) {
            Some(Seniority::Entry)
        } else if has(&["ii", "intermediate", "mid"]) {
            Some(Seniority::Mid)
        } else {
            None
        }
    }
}

/// A phrase stating years: a number (digits or a word), maybe a range or a "+", then the unit.
/// Before its unit a phrase holds only the number word and white space, digits, `+ - – ( )`
/// and "to", never a year word, which is what lets [`phrase_window`] bound its search.
static YEARS: LazyLock<regex_automata::meta::Regex> = LazyLock::new(|| {
    regex_automata::meta::Regex::new(r"(?i)(?-u:\b)(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen)\s*\+?\s*(?:(?:-|–|to)\s*(\d{1,2})\s*\+?\s*)?(?:\(\d{1,2}\)\s*)?(?:years?|yrs?)(?-u:\b)")
        .expect("valid regex")
});

/// Characters after a phrase of [`YEARS`] that may say it is about experience.
const AFTER_CONTEXT: usize = 60;

/// The unit every phrase of [`YEARS`] ends with, under the same case folding.
static YEAR_WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)y(?:ea)?r").expect("valid regex"));

/// Bytes of the longest number word [`YEARS`] knows ("fifteen"; an `ſ` folding to s takes
/// two), with room to spare: a longer walk only widens the search.
const NUMBER_WORD_BYTES: usize = 16;

/// The minimum years of experience a description asks for ("3+ years", "5-7 years of
/// experience", "at least five years"): the largest lower bound stated in an experience
/// context, since a posting's requirements all apply at once. `None` without such a phrase.
pub fn min_years_experience(description: &str) -> Option<u8> {
    let mut best: Option<u8> = None;
    let mut from = 0;
    let mut caps = YEARS.create_captures();
    // A phrase holds no year word before its unit, so the leftmost phrase from `from` either
    // ends with the first year word after `from` or starts after it: each year word is tried
    // in the window a phrase ending with it could start in. The year word's search skips
    // ahead to its letters; the phrase's, which starts with any digit or number word in any
    // case, walked every byte of the text instead: 4.5 times as long on the descriptions
    // `scripts/bench-input.py` writes, with the same answer for every one of them.
    while let Some(unit) = YEAR_WORD.find_at(description, from) {
        let window = phrase_window(description.as_bytes(), from, unit.start(), unit.end());
        YEARS.search_captures(&Input::new(description).span(window), &mut caps);
        let (Some(whole), Some(number)) = (caps.get_match(), caps.get_group(1)) else {
            from = unit.start() + 1;
            continue;
        };
        // The 60 characters after the phrase (up to a line's end) are searched for context and
        // skipped as the phrase's own, as `(.{0,60})` at the pattern's end did; taken by hand,
        // the regex engine's share of consume's samples fell from 5.7 % to 4.7 % (BENCHMARKS.md).
        let after = &description[whole.end()..];
        let after = &after[..after
            .char_indices()
            .take_while(|&(_, c)| c != '\n')
            .nth(AFTER_CONTEXT)
            .map_or_else(|| after.find('\n').unwrap_or(after.len()), |(i, _)| i)];
        from = whole.end() + after.len();
        let before = &description[description[..whole.start()].char_indices().rev().nth(40).map_or(0, |(i, _)| i)..whole.start()];
        let context = format!("{before} {after}").to_ascii_lowercase();
        if !(context.contains("experience") || context.contains("exp.") || context.contains("background in")) {
            continue;
        }
        let Some(low) = number_word(&description[number.range()]) else {
            continue;
        };
        if low == 0 || low > 30 {
            continue;
        }
        best = Some(best.map_or(low, |b| b.max(low)));
    }
    best
}

/// The span a phrase of [`YEARS`] ending with the year word at `unit_start..unit_end` can lie
/// in, never starting before `from`. It starts where a walk back from the unit stops: first
/// over what may stand between number and unit (white space, digits, `+ - ( )`, the letters of
/// "to", and every non-ASCII byte, which covers Unicode's spaces and digits, '–' and `ſ`),
/// then over a number word's letters. It ends past the unit's plural s; the search still
/// sees the bytes around the span, so `\b` at either end is judged on the whole text.
fn phrase_window(bytes: &[u8], from: usize, unit_start: usize, unit_end: usize) -> Range<usize> {
    let between =
        |b: u8| matches!(b, b'\t'..=b'\r' | b' ' | b'0'..=b'9' | b'+' | b'-' | b'(' | b')' | b't' | b'T' | b'o' | b'O') || !b.is_ascii();
    let mut start = unit_start;
    while start > from && between(bytes[start - 1]) {
        start -= 1;
    }
    let floor = start.saturating_sub(NUMBER_WORD_BYTES).max(from);
    while start > floor && (bytes[start - 1].is_ascii_alphabetic() || !bytes[start - 1].is_ascii()) {
        start -= 1;
    }
    let rest = &bytes[unit_end..];
    let plural = if rest.first().is_some_and(|b| b.eq_ignore_ascii_case(&b's')) {
        1
    } else if rest.starts_with("ſ".as_bytes()) {
        "ſ".len()
    } else {
        0
    };
    start..unit_end + plural
}

fn number_word(word: &str) -> Option<u8> {
    if let Ok(n) = word.parse() {
        return Some(n);
    }
    let n = match word.to_ascii_lowercase().as_str() {
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "twelve" => 12,
        "fifteen" => 15,
        _ => return None,
    };
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_lose_work_mode_and_clutter() {
        assert_eq!(clean_title("  Senior  Data Engineer (Remote) "), "Senior Data Engineer");
        assert_eq!(clean_title("Data Analyst - Hybrid"), "Data Analyst");
        assert_eq!(clean_title("Remote Math Teacher (Pre-K to K)"), "Remote Math Teacher (Pre-K to K)");
    }

    #[test]
    fn seniority_from_titles() {
        let cases = [
            ("Sr. Data Scientist", Some(Seniority::Senior)),
            ("Senior Manager, Analytics", Some(Seniority::Manager)),
            ("Associate Director of Data", Some(Seniority::Director)),
            ("Chief Marketing Officer (CMO)", Some(Seniority::Executive)),
            ("Data Science Intern", Some(Seniority::Intern)),
            ("Junior Analyst", Some(Seniority::Entry)),
            ("Staff Engineer", Some(Seniority::Lead)),
            ("Data Engineer II", Some(Seniority::Mid)),
            ("Data Scientist", None),
        ];
        for (title, expected) in cases {
            assert_eq!(Seniority::from_title(title), expected, "{title}");
        }
        assert_eq!(Seniority::from_level("Mid-Senior level"), Some(Seniority::Mid));
        assert_eq!(Seniority::from_level("SE"), Some(Seniority::Senior));
    }

    #[test]
    fn years_of_experience() {
        assert_eq!(min_years_experience("3+ years of experience with SQL"), Some(3));
        assert_eq!(min_years_experience("5-7 years experience; 2+ years of Python experience"), Some(5));
        assert_eq!(min_years_experience("At least five years of professional experience"), Some(5));
        assert_eq!(min_years_experience("Founded 10 years ago, we have grown"), None);
        // The short unit in any case gets past the quick check for a year word.
        assert_eq!(min_years_experience("Minimum 4 YRS experience"), Some(4));
        assert_eq!(min_years_experience("2 Yr experience in retail"), Some(2));
        // The context after a phrase is its next 60 characters on the same line.
        let (fits, too_far) = ("x".repeat(49), "x".repeat(50));
        assert_eq!(min_years_experience(&format!("Team of 3 years {fits}experience")), Some(3));
        assert_eq!(min_years_experience(&format!("Team of 3 years {too_far}experience")), None);
        assert_eq!(min_years_experience("Team of 3 years\nexperience welcome"), None);
        // ... and is the phrase's own: a number in it starts no phrase of its own.
        assert_eq!(min_years_experience("Over 2 years, sometimes 4 years of experience"), Some(2));
    }

    #[test]
    fn a_phrase_is_found_however_far_its_number_stands_from_its_unit() {
        // Each year word is searched for in the window a phrase ending with it could start in
        // (`phrase_window`): these phrases reach back over "to", a long number word, Unicode
        // spaces and digits, and follow year words that end no phrase.
        assert_eq!(min_years_experience("Ten to 12 years of experience"), Some(10));
        assert_eq!(min_years_experience("Fifteen  years of experience"), Some(15));
        assert_eq!(min_years_experience("5\u{2003}+\u{a0}years of experience"), Some(5));
        assert_eq!(min_years_experience("3 to \u{665} years of experience"), Some(3));
        assert_eq!(min_years_experience("3 – 5 (4) yrs of exp. required"), Some(3));
        assert_eq!(min_years_experience("Yearly bonus; a multi-year plan. 4 years experience"), Some(4));
        assert_eq!(min_years_experience("years: 6 years experience"), Some(6));
        // The number must still start a word, as `\b` judges on the whole text.
        assert_eq!(min_years_experience("Fivefive years of experience"), None);
        assert_eq!(min_years_experience("x5 years of experience"), None);
        assert_eq!(min_years_experience("5 yearsx of experience"), None);
    }
}
