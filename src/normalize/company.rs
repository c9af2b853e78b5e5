//! Company names: the display name without glued ratings ("Acme\n4.3") or legal suffixes, and
//! a case-folded key that groups spellings of one company; plus the company-size band.

use std::sync::LazyLock;

use regex::Regex;

use super::text::fold_key;

static GLUED_RATING: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s*\n\s*\d(?:\.\d)?\s*$").expect("valid regex"));
static LEGAL_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[,\s]+(inc|incorporated|llc|l\.l\.c|ltd|limited|corp|corporation|co|company|plc|llp|lp|gmbh|ag|sa|s\.a|nv|bv|pty|pvt|srl|sas|ab|oy|as)\.?$").expect("valid regex")
});

/// The display name: no glued rating, no legal suffix, single spaces.
pub fn clean_company(raw: &str) -> Option<String> {
    let decoded = super::text::decode_entities(raw.trim());
    let without_rating = GLUED_RATING.replace(&decoded, "");
    let mut name = without_rating.split_whitespace().collect::<Vec<_>>().join(" ");
    // "Acme Holdings, Inc., LLC" sheds every trailing suffix, but a name is never emptied.
    while let Some(m) = LEGAL_SUFFIX.find(&name) {
        if m.start() == 0 {
            break;
        }
        name.truncate(m.start());
    }
    let name = name.trim_end_matches([',', ' ', '-']).to_string();
    (!name.is_empty()).then_some(name)
}

/// The grouping key: the cleaned name case-folded to letters and digits.
pub fn company_key(clean_name: &str) -> String {
    fold_key(clean_name)
}

/// Headcount bands used across sources.
pub const SIZE_BANDS: [(u64, &str); 7] = [
    (10, "1-10"),
    (50, "11-50"),
    (200, "51-200"),
    (1_000, "201-1000"),
    (5_000, "1001-5000"),
    (10_000, "5001-10000"),
    (u64::MAX, "10001+"),
];

static HEADCOUNT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d[\d,]*)\s*(\+)?(?:\s*(?:-|–|to)\s*(\d[\d,]*))?").expect("valid regex"));

/// The band of a headcount statement ("51 to 200 employees", "10000+ employees", "1,001-5,000"):
/// the band holding the upper end of the stated range. `None` for "Unknown" or "-1".
pub fn size_band(raw: &str) -> Option<&'static str> {
    let caps = HEADCOUNT.captures(raw.trim())?;
    if raw.trim_start().starts_with('-') {
        return None;
    }
    let number = |m: Option<regex::Match<'_>>| m.and_then(|m| m.as_str().replace(',', "").parse::<u64>().ok());
    let low = number(caps.get(1))?;
    let upper = number(caps.get(3)).unwrap_or(if caps.get(2).is_some() { low + 1 } else { low });
    if upper == 0 {
        return None;
    }
    SIZE_BANDS.iter().find(|(limit, _)| upper <= *limit).map(|(_, band)| *band)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_and_suffixes_go() {
        assert_eq!(
            clean_company("National NeuroMonitoring\n4.3").as_deref(),
            Some("National NeuroMonitoring")
        );
        assert_eq!(clean_company("Acme Holdings, Inc.").as_deref(), Some("Acme Holdings"));
        assert_eq!(clean_company("Foo Ltd, LLC").as_deref(), Some("Foo"));
        assert_eq!(clean_company("PG&amp;amp;E").as_deref(), Some("PG&E"));
        assert_eq!(clean_company("Inc.").as_deref(), Some("Inc."));
        assert_eq!(clean_company("  ").as_deref(), None);
        assert_eq!(company_key("GEICO"), company_key("Geico"));
    }

    #[test]
    fn size_bands() {
        assert_eq!(size_band("51 to 200 employees"), Some("51-200"));
        assert_eq!(size_band("10000+ employees"), Some("10001+"));
        assert_eq!(size_band("1,001-5,000"), Some("1001-5000"));
        assert_eq!(size_band("Unknown"), None);
        assert_eq!(size_band("-1"), None);
    }
}
