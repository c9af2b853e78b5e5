//! The lowest education level a description names: postings list what is required before
//! what is preferred, and the lowest level mentioned is the bar to clear.

use std::sync::LazyLock;

use regex::Regex;

/// Case-insensitive patterns, lowest level first. Scraped descriptions often glue words
/// together ("RequirementsPh.D. in", "preferredBachelor's"), so a leading word boundary is
/// required only where a pattern is also the tail of ordinary words: "ged" ends "managed",
/// "ms"/"ba" end many words, "phd" sits inside "graphdb" and e-mail addresses, and "master"
/// names a role ("Scrum Master in Austin") unless a degree word follows. "High school" alone is
/// often the workplace ("High School English Teacher"), so a diploma word must follow it.
const LEVELS: [(&str, &str); 5] = [
    (
        "high_school",
        r"(high|secondary) school\s*(diploma|grad|education|degree|certificate|equivalen|or (its |an )?equivalen|/\s*ged|or ged)|(?-u:\b)ged(?-u:\b)|(?-u:\b)hs diploma",
    ),
    ("associate", r"associate'?s?'? degree"),
    (
        "bachelor",
        r"bachelor|(?-u:\b)b\.s\.|(?-u:\b)b\.a\.|(?-u:\b)(bs|ba|bsc)\s+(in|degree)(?-u:\b)|(?-u:\b)bsc(?-u:\b)|undergraduate degree|(?-u:\b)bs/(ms|ba)(?-u:\b)",
    ),
    (
        "master",
        r"master(?:'s|s'?)\s+(degree|in|of)(?-u:\b)|(?-u:\b)master\s+(degree|of\s+(science|arts|business|engineering|education|public|fine|computer|information|social|library))(?-u:\b)|(?-u:\b)m\.s\.|(?-u:\b)(ms|msc)\s+(in|degree|or)(?-u:\b)|(?-u:\b)msc(?-u:\b)|(?-u:\b)mba(?-u:\b)|(?-u:\b)graduate degree",
    ),
    ("doctorate", r"(?-i:Ph\.? ?D|PHD)|(?-u:\b)phd(?-u:\b)|doctorate|doctoral"),
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

    #[test]
    fn every_level_is_found_where_postings_name_it() {
        let cases = [
            ("High school diploma/GED required.", "high_school"),
            ("HS diploma or GED and 15+ years of experience", "high_school"),
            ("GED or equivalent", "high_school"),
            ("Secondary school certificate", "high_school"),
            ("High school graduate or equivalent", "high_school"),
            ("Associate's degree in nursing", "associate"),
            ("Associates degree or equivalent", "associate"),
            ("preferredBachelor's in Computer Science", "bachelor"),
            ("B.S. in Engineering", "bachelor"),
            ("BS in Statistics", "bachelor"),
            ("BSc or equivalent", "bachelor"),
            ("Undergraduate degree in a related field", "bachelor"),
            ("Master's degree required", "master"),
            ("Masters in Data Science", "master"),
            ("Master of Science in Statistics", "master"),
            ("M.S. in Physics", "master"),
            ("MSc in Economics", "master"),
            ("MBA preferred", "master"),
            ("Graduate degree in economics", "master"),
            ("RequirementsPh.D. in Computational Biology", "doctorate"),
            ("Ph. D. degree or equivalent", "doctorate"),
            ("a PHD in Chemistry", "doctorate"),
            ("phd in biostatistics", "doctorate"),
            ("Doctorate in Pharmacy", "doctorate"),
            ("postdoctoral research experience", "doctorate"),
        ];
        for (text, level) in cases {
            assert_eq!(education_level(text), Some(level), "{text}");
        }
    }

    /// Words that contain a level's pattern without naming an education level (the leading
    /// boundary on "ged" was missing once, and 387 of 3,324 Glassdoor descriptions became
    /// `high_school` through "managed" and "engaged").
    #[test]
    fn ordinary_words_name_no_level() {
        let texts = [
            "You managed teams, engaged stakeholders and leveraged data; changed roles.",
            "We are encouraged and challenged; a privileged, obliged, aged team.",
            "Our secondary schedule; highly schooled in SQL.",
            "High School English Teacher at Henrico County secondary schools; high school students.",
            "Our associates deliver; associate director of sales.",
            "Jobs in Seattle; scuba in Hawaii; ms office or google docs expertise; abs degree",
            "Scrum Master in Austin; master data management; master of ceremonies; mastering Excel.",
            "Graph databases: GraphDB and Neo4j. Email sreichphdjd@aol.com.",
        ];
        for text in texts {
            assert_eq!(education_level(text), None, "{text}");
        }
    }
}
