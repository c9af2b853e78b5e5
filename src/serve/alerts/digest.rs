//! One person's alert mail: for each of their searches that found new postings, the first few
//! (title, company, place, pay, a link to the posting's page) and a link to the rest on the
//! jobs page; plain text with an HTML alternative, both from the templates the pages use.

use std::sync::Arc;

use serde::Serialize;

use crate::mail::{Mail, MailError, Mailer};
use crate::skills::Taxonomy;
use crate::web::render;

use super::super::ServeError;
use super::super::live::posting::LivePosting;
use super::Found;

/// Postings listed per search; the mail links to the rest.
pub const SHOWN_PER_SEARCH: usize = 10;

/// A composed message, ready to send.
pub struct Digest {
    subject: String,
    text: String,
    html: String,
}

#[derive(Serialize)]
struct SearchView<'a> {
    id: i64,
    name: &'a str,
    total: usize,
    more: usize,
    /// The jobs page with the search's filters.
    all_url: String,
    postings: Vec<PostingView<'a>>,
}

#[derive(Serialize)]
struct PostingView<'a> {
    title: &'a str,
    company: Option<&'a str>,
    place: Option<String>,
    remote_type: Option<&'a str>,
    salary_min_usd: Option<f64>,
    salary_max_usd: Option<f64>,
    skills: Vec<&'a str>,
    url: String,
}

impl Digest {
    /// The mail for `found` (searches with at least one posting), linking to `public_url`.
    pub fn new(found: &[Found], public_url: &str, lake_version: i64, taxonomy: &Taxonomy) -> Result<Self, ServeError> {
        let base = public_url.trim_end_matches('/');
        let searches: Vec<SearchView<'_>> = found
            .iter()
            .map(|f| SearchView {
                id: f.search_id,
                name: &f.name,
                total: f.total,
                more: f.total - f.shown.len(),
                all_url: format!("{base}/jobs?{}", f.query),
                postings: f.shown.iter().map(|p| posting_view(p, base, taxonomy)).collect(),
            })
            .collect();
        let total: usize = found.iter().map(|f| f.total).sum();
        let plural = if total == 1 { "" } else { "s" };
        let subject = match found {
            [one] => format!("rats: {total} new posting{plural} for “{}”", one.name),
            _ => format!("rats: {total} new posting{plural} for {} saved searches", found.len()),
        };
        let values = render::value(&serde_json::json!({
            "searches": searches,
            "total": total,
            "base": base,
            "lake_version": lake_version,
        }));
        let rendered = |template: &str| {
            render::mail(template, values.clone()).map_err(|e| ServeError::Io(format!("rendering the mail template {template}: {e:#}")))
        };
        Ok(Digest {
            subject,
            text: rendered("alerts.txt")?,
            html: rendered("alerts.html")?,
        })
    }

    pub fn send(&self, mailer: &Mailer, to: &[String]) -> Result<(), MailError> {
        mailer.send(&Mail {
            to,
            subject: &self.subject,
            text: &self.text,
            html: Some(&self.html),
            inline: &[],
            attached: &[],
        })
    }
}

fn posting_view<'a>(posting: &'a Arc<LivePosting>, base: &str, taxonomy: &'a Taxonomy) -> PostingView<'a> {
    let job = &posting.job;
    PostingView {
        title: &job.title,
        company: job.company.as_deref(),
        place: job.place(),
        remote_type: job.remote_type.as_deref(),
        salary_min_usd: job.salary_min_usd,
        salary_max_usd: job.salary_max_usd,
        skills: job
            .skill_ids
            .iter()
            .take(6)
            .map(|id| taxonomy.get(id).map_or(id.as_str(), |skill| skill.name.as_str()))
            .collect(),
        url: format!(
            "{base}/jobs/{}",
            form_urlencoded::byte_serialize(job.posting_key.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        ),
    }
}
