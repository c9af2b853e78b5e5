//! A rendered report as a mail: the Markdown (or the page's text) as the plain-text part, the
//! HTML page as its alternative with each chart a PNG shown inline by content id (mail clients
//! do not show inline SVG), and the PDF attached when there is one.

use std::path::Path;

use super::page::{ChartImages, html_page, plain_text};
use super::render::Rendered;
use super::{ReportError, pdf};
use crate::chart::render::png;
use crate::mail::{Mail, Mailer, Part};

/// Charts in mail are drawn at twice their size, for sharp text on high-density screens.
const CHART_SCALE: f32 = 2.0;

/// What a report's mail holds.
pub struct ReportMail {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub inline: Vec<Part>,
    pub attached: Vec<Part>,
}

/// The content id of chart `index` of report `name`.
fn content_id(name: &str, index: usize) -> String {
    format!("chart-{index}.{name}@rats")
}

/// Composes the mail of `report`, with its PDF printed by `browser` attached when one is given.
pub fn compose(report: &Rendered, browser: Option<&Path>) -> Result<ReportMail, ReportError> {
    let pdf = match browser {
        Some(browser) => Some(pdf::print(browser, &html_page(report, &ChartImages::Inline)?)?),
        None => None,
    };
    let name = report.name.clone();
    let cid = move |index: usize| content_id(&name, index);
    let html = html_page(report, &ChartImages::ContentIds(&cid))?;
    let mut inline = Vec::with_capacity(report.charts.len());
    for (index, drawn) in report.charts.iter().enumerate() {
        inline.push(Part {
            name: content_id(&report.name, index),
            content_type: "image/png".to_string(),
            bytes: png(&drawn.svg, CHART_SCALE)?,
        });
    }
    let attached = pdf
        .map(|bytes| Part {
            name: format!("{}-{}.pdf", report.name, report.period.end),
            content_type: "application/pdf".to_string(),
            bytes,
        })
        .into_iter()
        .collect();
    Ok(ReportMail {
        subject: format!("{} — {} to {}", report.title, report.period.start, report.period.end),
        text: plain_text(report),
        html,
        inline,
        attached,
    })
}

/// Sends `mail` to `to` through `mailer` (which retries with backoff).
pub fn send(mailer: &Mailer, to: &[String], mail: &ReportMail) -> Result<(), ReportError> {
    mailer.send(&Mail {
        to,
        subject: &mail.subject,
        text: &mail.text,
        html: Some(&mail.html),
        inline: &mail.inline,
        attached: &mail.attached,
    })?;
    Ok(())
}
