//! The lowest education level a description names: postings list what is required before
//! what is preferred, and the lowest level mentioned is the bar to clear.

use std::sync::LazyLock;

use regex::Regex;

const LEVELS: [(&str, &str); 5] = [
    ("high_school", r"high school|ged(?-u:\b)|secondary school"),
    ("associate", r"associate'?s? degree"),
    (
        "bachelor",
        r"bachelor|(?-u:\b)b\.s\.|(?-u:\b)b\.a\.|(?-u:\b)(bs|ba|bsc)\s+(in|degree)(?-u:\b)|(?-u:\b)bsc(?-u:\b)|undergraduate degree|(?-u:\b)bs/(ms|ba)(?-u:\b)",
    ),
    (
        "master",
        r"master'?s?\s+(degree|in|of)(?-u:\b)|(?-u:\b)m\.s\.|(?-u:\b)(ms|msc)\s+(in|degree|or)(?-u:\b)|(?-u:\b)msc(?-u:\b)|(?-u:\b)mba(?-u:\b)|graduate degree",
    ),
    ("doctorate", r"ph\.?d|doctorate|doctoral"),
];

static PATTERNS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    LEVELS
        .iter()
        .map(|(name, pattern)| (*name, Regex::new(&format!(r"(?i){pattern}")).expect("valid regex")))
        .collect()
});

/// One of `high_school`, `associate`, `bachelor`, `master`, `doctorate`, or `None`.
pub fn education_level(description: &str) -> Option<&'static str> {
    PATTERNS.iter().find(|(_, re)| re.is_match(description)).map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_named_level_wins() {
        assert_eq!(
            education_level("Bachelor's degree required; Master's or PhD preferred"),
            Some("bachelor")
        );
        assert_eq!(education_level("MS or PhD in Statistics"), Some("master"));
        assert_eq!(education_level("PhD in physics"), Some("doctorate"));
        assert_eq!(education_level("We ship fast."), None);
    }
}
