//! A résumé's or a posting's text cut into the sections people write under headings
//! ("Skills", "Work experience", "Required skills", …), with list items and date ranges read
//! out of them. Headings are Markdown (`## Skills`), or a short line of its own that names a
//! known section ("EXPERIENCE", "Skills:"), the way PDF and DOCX résumés come out as text.

/// What a section holds, by its heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    Title,
    Summary,
    Skills,
    Experience,
    Education,
    Responsibilities,
    Contact,
    Other,
}

/// Heading words and the section they open, the most specific first ("required experience"
/// is about experience before "required" makes it a skills list).
const HEADINGS: &[(&str, SectionKind)] = &[
    ("job title", SectionKind::Title),
    ("position", SectionKind::Title),
    ("experience", SectionKind::Experience),
    ("employment", SectionKind::Experience),
    ("work history", SectionKind::Experience),
    ("career", SectionKind::Experience),
    ("skill", SectionKind::Skills),
    ("requirement", SectionKind::Skills),
    ("qualification", SectionKind::Skills),
    ("competenc", SectionKind::Skills),
    ("technolog", SectionKind::Skills),
    ("tools", SectionKind::Skills),
    ("what you bring", SectionKind::Skills),
    ("education", SectionKind::Education),
    ("degree", SectionKind::Education),
    ("certification", SectionKind::Education),
    ("responsibilit", SectionKind::Responsibilities),
    ("duties", SectionKind::Responsibilities),
    ("what you will do", SectionKind::Responsibilities),
    ("summary", SectionKind::Summary),
    ("profile", SectionKind::Summary),
    ("objective", SectionKind::Summary),
    ("about", SectionKind::Summary),
    ("personal information", SectionKind::Contact),
    ("contact", SectionKind::Contact),
];

/// A heading line without Markdown is at most this many words.
const MAX_HEADING_WORDS: usize = 5;

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub kind: SectionKind,
    pub heading: String,
    /// The section's non-empty lines, trimmed.
    pub lines: Vec<String>,
}

impl Section {
    /// The lines with their list markers ("1.", "-", "•", "*") removed.
    pub fn items(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(|line| strip_marker(line)).filter(|item| !item.is_empty())
    }
}

/// The kind a heading names, if it names one.
fn heading_kind(heading: &str) -> Option<SectionKind> {
    let lower = heading.to_lowercase();
    HEADINGS.iter().find(|(word, _)| lower.contains(word)).map(|&(_, kind)| kind)
}

/// A line that opens a section: its heading text and kind.
fn as_heading(line: &str) -> Option<(String, SectionKind)> {
    if let Some(markdown) = line.strip_prefix('#') {
        let text = markdown.trim_start_matches('#').trim();
        return Some((text.to_string(), heading_kind(text).unwrap_or(SectionKind::Other)));
    }
    let text = line.trim().trim_end_matches(':').trim();
    let words = text.split_whitespace().count();
    if words == 0 || words > MAX_HEADING_WORDS || text.ends_with('.') || starts_with_marker(line) {
        return None;
    }
    // A plain line is a heading only when it is set apart the way headings are: upper case, or
    // ending in a colon, or title case with no sentence punctuation.
    let upper = text.chars().any(char::is_alphabetic) && !text.chars().any(char::is_lowercase);
    let colon = line.trim_end().ends_with(':');
    let title_case = text
        .split_whitespace()
        .all(|w| w.chars().next().is_some_and(|c| c.is_uppercase() || !c.is_alphabetic()) || w.len() <= 3);
    if !(upper || colon || title_case) || text.contains(',') {
        return None;
    }
    heading_kind(text).map(|kind| (text.to_string(), kind))
}

fn starts_with_marker(line: &str) -> bool {
    strip_marker(line).len() != line.trim().len()
}

/// `line` without a leading list marker: "1.", "2)", "-", "*", "•", "·", "–".
pub fn strip_marker(line: &str) -> &str {
    let trimmed = line.trim();
    let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits <= 2 {
        let rest = &trimmed[digits..];
        if let Some(rest) = rest.strip_prefix('.').or_else(|| rest.strip_prefix(')'))
            && rest.starts_with(char::is_whitespace)
        {
            return rest.trim();
        }
    }
    for marker in ['-', '*', '•', '·', '–', '▪', '◦', '●'] {
        if let Some(rest) = trimmed.strip_prefix(marker) {
            return rest.trim();
        }
    }
    trimmed
}

/// Cuts `text` into sections. Lines before the first heading form a leading `Other` section
/// (a résumé's name and contact lines, a posting's opening paragraph).
pub fn split(text: &str) -> Vec<Section> {
    let mut sections = vec![Section {
        kind: SectionKind::Other,
        heading: String::new(),
        lines: Vec::new(),
    }];
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some((heading, kind)) = as_heading(line) {
            sections.push(Section {
                kind,
                heading,
                lines: Vec::new(),
            });
        } else if let Some(section) = sections.last_mut() {
            section.lines.push(line.to_string());
        }
    }
    sections.retain(|s| !(s.lines.is_empty() && s.heading.is_empty()));
    sections
}

/// A span of years in a line: "(2019 - 2023)", "Jan 2018 – Present", "2016–2019".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YearSpan {
    pub start: i32,
    pub end: i32,
}

impl YearSpan {
    pub fn years(self) -> f32 {
        (self.end - self.start).max(0) as f32
    }
}

const MONTH: &str = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+";

/// "2019 - 2023", "Jan 2018 – Present", "2016–2019", "2016 to 2019", "between 2013 and 2016",
/// with optional months.
static YEAR_SPAN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    let pattern = format!(
        r"(?i)\(?\b(?:{MONTH})?((?:19[5-9]|20\d)\d)\s*(?:-|–|—|to|and)\s*(?:{MONTH})?((?:19[5-9]|20\d)\d|present|current|now|today)\b"
    );
    regex::Regex::new(&pattern).expect("a valid pattern")
});

/// The first span of years in `line`, with the byte where it starts (the text before it is the
/// role). "present", "current", "now" and "today" end a span in `this_year`.
pub fn year_span(line: &str, this_year: i32) -> Option<(usize, YearSpan)> {
    YEAR_SPAN.captures_iter(line).find_map(|captures| {
        let start: i32 = captures[1].parse().ok()?;
        let end = captures[2].parse().unwrap_or(this_year);
        let whole = captures.get(0)?;
        (end >= start).then_some((whole.start(), YearSpan { start, end }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_and_plain_headings_open_sections() {
        let text = "Jane Doe\njane@example.com\n\nSKILLS\nPython, SQL\n\n## Work Experience\n1. Data Engineer (2019 - 2023)\n\nEducation:\nBSc Computer Science\n";
        let sections = split(text);
        let kinds: Vec<SectionKind> = sections.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                SectionKind::Other,
                SectionKind::Skills,
                SectionKind::Experience,
                SectionKind::Education
            ]
        );
        assert_eq!(sections[2].items().collect::<Vec<_>>(), ["Data Engineer (2019 - 2023)"]);
    }

    #[test]
    fn a_sentence_is_not_a_heading() {
        let sections = split("We value experience.\nExperience with Python is a plus, ideally.\n");
        assert_eq!(sections.len(), 1);
        assert_eq!(sections[0].lines.len(), 2);
    }

    #[test]
    fn year_spans_are_read_in_their_common_spellings() {
        fn span(line: &str) -> Option<(&str, i32, i32)> {
            year_span(line, 2026).map(|(at, span)| (&line[..at], span.start, span.end))
        }
        assert_eq!(span("Data Engineer (2019 - 2023)"), Some(("Data Engineer ", 2019, 2023)));
        assert_eq!(span("Analyst, Acme Jan 2018 – Present"), Some(("Analyst, Acme ", 2018, 2026)));
        assert_eq!(span("Developer 2016–2019"), Some(("Developer ", 2016, 2019)));
        assert_eq!(span("Developer 2016 to 2019"), Some(("Developer ", 2016, 2019)));
        assert_eq!(span("Researcher between 2013 and 2016"), Some(("Researcher between ", 2013, 2016)));
        assert_eq!(span("Won the 2019 award"), None);
        assert_eq!(span("Room 12019 - 12020"), None);
        assert_eq!(span("Back then (2023 - 2019)"), None);
    }
}
