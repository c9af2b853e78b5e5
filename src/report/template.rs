//! A report template: a minijinja body (Markdown, or HTML for full control of the page) after a
//! YAML front matter that names the report and declares the queries it needs — so a user adds
//! a report by writing one file, without touching Rust:
//!
//! ```text
//! ---
//! title: Weekly market summary
//! description: What changed on the job boards this week.
//! period_days: 7
//! queries:
//!   totals: select count(*) as postings from fct_postings
//!     where date_posted between {{ period.start }} and {{ period.end }}
//! ---
//! # {{ report.title }}
//! {{ totals[0].postings | count }} postings. {{ chart("postings_over_time") }}
//! ```
//!
//! A query is itself a minijinja template over `period`, `previous` and `as_of` (dates appear
//! as SQL date literals) with the same `in_period`, `in_previous` and `within` helpers as the
//! body; its rows reach the body under its name. A query written as `{sql: …, requires:
//! [layer/name]}` runs only when those tables exist (its name holds `none` otherwise).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ReportError;

/// How a template's body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// Markdown: renders to Markdown, HTML, PDF and mail.
    Markdown,
    /// A page's HTML: renders to HTML, PDF and mail, not to Markdown.
    Html,
}

impl BodyKind {
    /// The kind a template file's extension names (`.md` or `.html`), if any.
    pub fn of_file(file: &str) -> Option<(&str, Self)> {
        if let Some(name) = file.strip_suffix(".md") {
            Some((name, BodyKind::Markdown))
        } else {
            file.strip_suffix(".html").map(|name| (name, BodyKind::Html))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BodyKind::Markdown => "markdown",
            BodyKind::Html => "html",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: String,
    #[serde(default)]
    description: Option<String>,
    /// The days the report covers, ending on the day it is made for.
    #[serde(default = "default_period_days")]
    period_days: u32,
    #[serde(default)]
    queries: BTreeMap<String, Query>,
}

/// A query of a template: its SQL, and the lake tables it needs. Without one of them, the
/// query does not run and its name holds `none`, so the body can say what is missing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Query {
    Sql(String),
    Needing {
        sql: String,
        #[serde(default)]
        requires: Vec<String>,
    },
}

impl Query {
    pub fn sql(&self) -> &str {
        match self {
            Query::Sql(sql) | Query::Needing { sql, .. } => sql,
        }
    }

    /// The lake tables (`layer/name`) the query needs.
    pub fn requires(&self) -> &[String] {
        match self {
            Query::Sql(_) => &[],
            Query::Needing { requires, .. } => requires,
        }
    }
}

fn default_period_days() -> u32 {
    7
}

/// One report template, read.
#[derive(Debug, Clone)]
pub struct Template {
    /// The file's name without its extension (`weekly-market`).
    pub name: String,
    /// Where it was read from (a path, or `built-in reports/…`), for messages.
    pub origin: String,
    pub kind: BodyKind,
    pub title: String,
    pub description: Option<String>,
    pub period_days: u32,
    /// The queries by name, as written (minijinja over `period` and `as_of`).
    pub queries: BTreeMap<String, Query>,
    /// The body (minijinja), front matter removed.
    pub body: String,
    /// The line of the file the body starts on, so template errors point into the file.
    pub body_line: usize,
}

impl Template {
    /// The template covering `days` days instead of its own `period_days`, when given.
    #[must_use]
    pub fn covering(mut self, days: Option<u32>) -> Self {
        if let Some(days) = days {
            self.period_days = days;
        }
        self
    }
}

/// Reads a template file's text.
pub fn parse(name: &str, kind: BodyKind, origin: &str, text: &str) -> Result<Template, ReportError> {
    let malformed = |message: String| ReportError::Template {
        origin: origin.to_string(),
        message,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n")) else {
        return Err(malformed(
            "a report starts with a front matter between two --- lines (title, queries)".into(),
        ));
    };
    let end = rest
        .match_indices("\n---")
        .map(|(at, _)| at)
        .find(|at| matches!(rest[at + 4..].chars().next(), None | Some('\n' | '\r')))
        .ok_or_else(|| malformed("the front matter has no closing --- line".into()))?;
    let yaml = &rest[..=end];
    let body = rest[end + 4..]
        .trim_start_matches('\r')
        .strip_prefix('\n')
        .unwrap_or(&rest[end + 4..]);
    let front: FrontMatter = serde_path_to_error::deserialize(serde_norway::Deserializer::from_str(yaml))
        .map_err(|e| malformed(format!("front matter: {e}")))?;
    if front.period_days == 0 {
        return Err(malformed("front matter: period_days must be at least 1".into()));
    }
    for query in front.queries.keys() {
        if matches!(query.as_str(), "report" | "period" | "previous" | "as_of" | "generated_at") {
            return Err(malformed(format!(
                "front matter: the query name {query:?} is taken by a variable of the template"
            )));
        }
    }
    Ok(Template {
        name: name.to_string(),
        origin: origin.to_string(),
        kind,
        title: front.title,
        description: front.description,
        period_days: front.period_days,
        queries: front.queries,
        body: body.to_string(),
        body_line: text[..text.len() - body.len()].lines().count() + 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_matter_is_read_and_the_body_kept() {
        let text = "---\ntitle: Weekly\nqueries:\n  totals: select 1 as n\n---\n# {{ report.title }}\n";
        let template = parse("weekly", BodyKind::Markdown, "reports/weekly.md", text).expect("test input is valid");
        assert_eq!(template.title, "Weekly");
        assert_eq!(template.period_days, 7);
        assert_eq!(template.queries["totals"].sql(), "select 1 as n");
        assert_eq!(template.body, "# {{ report.title }}\n");
        assert_eq!(template.body_line, 6);
        let needing = "---\ntitle: T\nqueries:\n  q:\n    sql: select 1\n    requires: [gold/x]\n---\n";
        let needing_template = parse("t", BodyKind::Markdown, "t.md", needing).expect("test input is valid");
        assert_eq!(needing_template.queries["q"].requires(), ["gold/x"]);
    }

    #[test]
    fn mistakes_name_the_file() {
        let no_front = parse("x", BodyKind::Markdown, "reports/x.md", "# x\n").expect_err("refused");
        assert!(no_front.to_string().starts_with("reports/x.md: a report starts"), "{no_front}");
        let unclosed = parse("x", BodyKind::Markdown, "reports/x.md", "---\ntitle: x\n# x\n").expect_err("refused");
        assert!(unclosed.to_string().contains("no closing ---"), "{unclosed}");
        let misspelt = parse("x", BodyKind::Markdown, "reports/x.md", "---\ntitle: x\nquerys: {}\n---\n").expect_err("refused");
        assert!(misspelt.to_string().contains("querys"), "{misspelt}");
        let taken = parse(
            "x",
            BodyKind::Markdown,
            "reports/x.md",
            "---\ntitle: x\nqueries:\n  period: select 1\n---\n",
        )
        .expect_err("refused");
        assert!(taken.to_string().contains("\"period\""), "{taken}");
    }
}
