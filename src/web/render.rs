//! Rendering: the templates compiled into the binary, their number filters, and the headers
//! every page carries (a policy that allows nothing from elsewhere, no caching of pages that
//! show a person's data).

use std::sync::LazyLock;

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, context};
use serde::Serialize;

use super::assets::VERSIONED;
use crate::chart::draw::format_value;
use crate::chart::spec::Unit;
use crate::serve::access::Caller;

/// No script, style or image from anywhere but this server; no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The templates, by name.
const TEMPLATE_SOURCES: [(&str, &str); 22] = [
    ("base.html", include_str!("templates/base.html")),
    ("form.html", include_str!("templates/form.html")),
    ("charts.html", include_str!("templates/charts.html")),
    ("boxplot.html", include_str!("templates/boxplot.html")),
    ("login.html", include_str!("templates/login.html")),
    ("register.html", include_str!("templates/register.html")),
    ("overview.html", include_str!("templates/overview.html")),
    ("jobs.html", include_str!("templates/jobs.html")),
    ("posting.html", include_str!("templates/posting.html")),
    ("salary.html", include_str!("templates/salary.html")),
    ("estimate.html", include_str!("templates/estimate.html")),
    ("skills.html", include_str!("templates/skills.html")),
    ("skill.html", include_str!("templates/skill.html")),
    ("trends.html", include_str!("templates/trends.html")),
    ("companies.html", include_str!("templates/companies.html")),
    ("company.html", include_str!("templates/company.html")),
    ("match.html", include_str!("templates/match.html")),
    ("admin.html", include_str!("templates/admin.html")),
    ("health.html", include_str!("templates/health.html")),
    ("live.html", include_str!("templates/live.html")),
    ("alerts.txt", include_str!("templates/alerts.txt")),
    ("alerts.html", include_str!("templates/alerts.html")),
];

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in TEMPLATE_SOURCES {
        environment
            .add_template(name, source)
            .unwrap_or_else(|e| panic!("the built-in template {name} does not parse: {e}"));
    }
    for (name, unit) in [("count", Unit::Count), ("usd", Unit::Usd)] {
        environment.add_filter(name, move |value: Option<f64>| {
            value.map_or_else(|| "–".to_string(), |v| format_value(v, unit))
        });
    }
    // Unix seconds as a UTC time to the minute.
    environment.add_filter("when", |seconds: Option<i64>| {
        seconds
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
            .map_or_else(|| "–".to_string(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
    });
    // A value for one segment of a path (`/companies/{key}`): spaces as %20, not `+`.
    environment.add_filter("segment", |text: &str| {
        form_urlencoded::byte_serialize(text.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    });
    // A value for a query string (`/jobs?skills=…`).
    environment.add_filter("query", |text: &str| {
        form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
    });
    // A signed change in percent, or nothing to show.
    environment.add_filter("change", |value: Option<f64>| {
        value.map_or_else(String::new, |v| format!("{v:+.1}%"))
    });
    // The page's query with one field set or (for none) removed: links that switch one part
    // of the view and keep the rest.
    environment.add_function("with", |query: &str, name: &str, value: Option<&str>| {
        super::query::with(query, name, value)
    });
    environment
});

/// A Rust value as a template value.
pub fn value<T: Serialize>(of: &T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(of))
}

/// A refusal as the pages show it (`form.problem`): every field present, `field` null when the
/// problem names none — an absent one would be an error in the templates, whose undefined
/// values are errors.
pub fn problem(refusal: &crate::serve::problem::Problem) -> minijinja::Value {
    value(&serde_json::json!({
        "status": refusal.status,
        "code": refusal.code,
        "detail": refusal.detail,
        "field": refusal.field,
    }))
}

/// The signed-in person as the page header shows them.
pub fn user(caller: &Caller) -> minijinja::Value {
    value(&caller.user)
}

/// A mail body from `template` with `values`: `.txt` as written, `.html` escaped.
pub fn mail(template: &str, values: minijinja::Value) -> Result<String, minijinja::Error> {
    TEMPLATES.get_template(template)?.render(values)
}

/// A page from `template` with `values`, with the headers every page carries.
pub fn page(status: StatusCode, template: &str, values: minijinja::Value) -> Response {
    let rendered = TEMPLATES
        .get_template(template)
        .and_then(|t| t.render(context! { assets => &*VERSIONED, ..values }));
    match rendered {
        Ok(html) => (
            status,
            [
                (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
                (header::CACHE_CONTROL, "no-store"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::REFERRER_POLICY, "same-origin"),
            ],
            Html(html),
        )
            .into_response(),
        Err(error) => {
            tracing::error!("rendering {template}: {error:#}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered; see the server's log",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for (name, _) in TEMPLATE_SOURCES {
            assert!(TEMPLATES.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn a_problem_naming_no_field_is_shown_as_one_naming_a_field_is() {
        use crate::serve::problem::Problem;
        let shown = |refusal: &Problem| {
            TEMPLATES.render_str(
                r#"{% import "form.html" as form %}{{ form.problem(error) }}"#,
                context! { error => problem(refusal) },
            )
        };
        let plain = shown(&Problem::not_found("no such key among yours")).expect("renders");
        assert!(plain.contains(">no such key among yours</p>"), "{plain}");
        let named = shown(&Problem::invalid("tier", "free or premium")).expect("renders");
        assert!(named.contains(">tier: free or premium</p>"), "{named}");
    }
}
