//! A rendered report as one self-contained HTML page — styles inline, charts as inline SVG with
//! their text outlined, nothing fetched from anywhere (the page's content security policy says
//! so) — which is also what Chromium prints to PDF; and as Markdown with the charts as SVG files
//! beside it.

use std::fmt::Write as _;

use pulldown_cmark::{Options, Parser, html};

use super::ReportError;
use super::render::{Rendered, marker};
use super::template::BodyKind;
use crate::chart::{Drawn, render::outlined_svg};
use crate::output::escape_markup;

const STYLE: &str = include_str!("page.css");

/// How a page shows its charts.
pub enum ChartImages<'a> {
    /// Inline SVG (files, PDF).
    Inline,
    /// `<img src="cid:…">` of the mail's inline parts, by chart index.
    ContentIds(&'a dyn Fn(usize) -> String),
}

/// The report as a whole HTML page.
pub fn html_page(report: &Rendered, images: &ChartImages<'_>) -> Result<String, ReportError> {
    let mut figures = Vec::with_capacity(report.charts.len());
    for (index, drawn) in report.charts.iter().enumerate() {
        let image = match images {
            ChartImages::Inline => outlined_svg(&drawn.svg)?,
            ChartImages::ContentIds(content_id) => format!(
                r#"<img src="cid:{}" alt="{}" width="760">"#,
                content_id(index),
                escape_markup(&drawn.title)
            ),
        };
        figures.push(figure(drawn, &image));
    }
    let body = match report.kind {
        BodyKind::Html => report.body.clone(),
        BodyKind::Markdown => markdown_to_html(&report.body),
    };
    let mut body = body;
    for (index, figure) in figures.iter().enumerate() {
        // A chart on a line of its own became a paragraph of its own; one inside text did not.
        body = body
            .replace(&format!("<p>{}</p>", marker(index)), figure)
            .replace(&marker(index), figure);
    }
    let mut page = String::new();
    let _ = write!(
        page,
        concat!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data: cid:\">\n",
            "<title>{title}</title>\n<style>\n{style}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n",
            "<footer>{name} · {start} to {end} · made {made} by rats</footer>\n</body>\n</html>\n"
        ),
        title = escape_markup(&report.title),
        style = STYLE,
        body = body,
        name = escape_markup(&report.name),
        start = report.period.start,
        end = report.period.end,
        made = report.generated_at.format("%Y-%m-%d %H:%M UTC"),
    );
    Ok(page)
}

fn figure(drawn: &Drawn, image: &str) -> String {
    format!(
        "<figure role=\"img\" aria-label=\"{title}\">\n{image}\n<figcaption>{title}</figcaption>\n</figure>",
        title = escape_markup(&drawn.title)
    )
}

/// CommonMark with tables, as HTML. Raw HTML in a template's own text passes through (the
/// template's author wrote it); values from the lake were escaped when the body was rendered.
pub fn markdown_to_html(markdown: &str) -> String {
    let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let mut out = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut out, parser);
    out
}

/// The report as Markdown, each chart an image link made by `link(index, chart)`; refused for a
/// report whose template is HTML.
pub fn markdown(report: &Rendered, link: impl Fn(usize, &Drawn) -> String) -> Result<String, ReportError> {
    if report.kind == BodyKind::Html {
        return Err(ReportError::Output(format!(
            "report {} is an HTML template: render it to .html or .pdf",
            report.name
        )));
    }
    Ok(report.body_with(|index, drawn| format!("![{}]({})", drawn.title.replace(['[', ']'], ""), link(index, drawn))))
}

/// The report as plain text for a mail's text part: Markdown as written, charts named.
pub fn plain_text(report: &Rendered) -> String {
    let body = report.body_with(|_, drawn| format!("[chart: {}]", drawn.title));
    match report.kind {
        BodyKind::Markdown => body,
        BodyKind::Html => strip_tags(&body),
    }
}

/// The text of an HTML body, tags removed and blank runs collapsed.
fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&amp;", "&");
    let mut lines: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim) {
        if !(line.is_empty() && lines.last().is_none_or(|l| l.is_empty())) {
            lines.push(line);
        }
    }
    lines.join("\n").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::draw::{Bar, ChartData, svg};
    use crate::chart::spec::Unit;
    use crate::report::render::Period;

    fn rendered(kind: BodyKind, body: &str) -> Rendered {
        let data = ChartData::Bars(vec![Bar {
            label: "SQL".into(),
            value: 3.0,
            range: None,
        }]);
        Rendered {
            name: "weekly".into(),
            title: "Weekly <market>".into(),
            kind,
            period: Period::ending(chrono::NaiveDate::from_ymd_opt(2024, 3, 7).expect("a date"), 7),
            generated_at: chrono::Utc::now(),
            body: body.into(),
            charts: vec![Drawn {
                name: "skills".into(),
                title: "Skill demand".into(),
                svg: svg("Skill demand", None, &data, Unit::Count),
                data,
            }],
        }
    }

    #[test]
    fn the_page_holds_its_charts_inline_and_fetches_nothing() {
        let report = rendered(
            BodyKind::Markdown,
            &format!("# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n{}\n", marker(0)),
        );
        let page = html_page(&report, &ChartImages::Inline).expect("test input is valid");
        assert!(page.contains("<table>") && page.contains("<h1>Title</h1>"), "{page}");
        assert!(page.contains("<figure role=\"img\" aria-label=\"Skill demand\">\n<svg"), "{page}");
        assert!(!page.contains("@@rats-chart") && !page.contains("<p><figure"), "{page}");
        assert!(page.contains("<title>Weekly &lt;market&gt;</title>"), "{page}");
        assert!(
            !page.contains("http://") || page.matches("http://").count() == page.matches("http://www.w3.org").count(),
            "no fetches"
        );
        let mailed = html_page(&report, &ChartImages::ContentIds(&|i| format!("chart-{i}@rats"))).expect("test input is valid");
        assert!(mailed.contains(r#"<img src="cid:chart-0@rats" alt="Skill demand""#), "{mailed}");
    }

    #[test]
    fn markdown_links_its_charts_and_html_templates_refuse_markdown() {
        let report = rendered(BodyKind::Markdown, &format!("Intro {}\n", marker(0)));
        let text = markdown(&report, |_, d| format!("weekly.charts/{}.svg", d.name)).expect("test input is valid");
        assert_eq!(text, "Intro ![Skill demand](weekly.charts/skills.svg)\n");
        let html_report = rendered(BodyKind::Html, &format!("<h1>T</h1>\n<p>{}</p>\n<p>a &amp; b</p>", marker(0)));
        assert!(markdown(&html_report, |_, _| String::new()).is_err());
        assert_eq!(plain_text(&html_report), "T\n[chart: Skill demand]\na & b");
    }
}
