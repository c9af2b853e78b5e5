//! Makes a report: the period it covers, its queries run over the lake, its body rendered with
//! their rows, its charts drawn. What comes out (`Rendered`) is still independent of the output
//! format: each chart sits in the body as a marker that `page`, `mail` or the Markdown writer
//! replaces with what their reader can show.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use minijinja::value::{Kwargs, Value};
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use polars::prelude::*;
use serde::Serialize;

use super::ReportError;
use super::template::{BodyKind, Template};
use crate::chart::{self, ChartSpec, Drawn, Unit, draw::format_value};
use crate::export::{LakeTable, lake_tables, tables::sql_context};
use crate::transform::delta::DeltaIo;

/// The days a report covers, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub days: u32,
}

impl Period {
    /// The `days` days ending on `as_of`.
    pub fn ending(as_of: NaiveDate, days: u32) -> Self {
        Period {
            start: as_of - Duration::days(i64::from(days.max(1)) - 1),
            end: as_of,
            days,
        }
    }

    /// The period of the same length just before this one.
    #[must_use]
    pub fn previous(&self) -> Self {
        Period::ending(self.start - Duration::days(1), self.days)
    }

    /// SQL that holds when `column` (a date) falls in the period.
    fn condition(&self, column: &str) -> String {
        format!("{column} BETWEEN {} AND {}", sql_date(self.start), sql_date(self.end))
    }

    fn as_value(&self) -> Value {
        value_of(serde_json::json!({
            "start": self.start.to_string(),
            "end": self.end.to_string(),
            "days": self.days,
        }))
    }
}

/// The helpers queries and bodies share: `in_period(column)`, `in_previous(column)` and
/// `within(column, days)` (the `days` days ending on the report's day) give SQL conditions on a
/// date column, for a query's `where` or a chart's `where=`.
fn add_period_helpers(env: &mut Environment<'static>, period: Period) {
    env.add_function("in_period", move |column: String| {
        Value::from_safe_string(period.condition(&column))
    });
    env.add_function("in_previous", move |column: String| {
        Value::from_safe_string(period.previous().condition(&column))
    });
    env.add_function("within", move |column: String, days: u32| {
        Value::from_safe_string(Period::ending(period.end, days).condition(&column))
    });
}

/// A report made, before it is written in a format.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub name: String,
    pub title: String,
    pub kind: BodyKind,
    pub period: Period,
    pub generated_at: DateTime<Utc>,
    /// The body, with [`marker`]s where the charts go.
    pub body: String,
    /// The charts, in the order the markers number them.
    pub charts: Vec<Drawn>,
}

/// The text standing for chart `index` in a rendered body until a format replaces it.
pub fn marker(index: usize) -> String {
    format!("@@rats-chart-{index}@@")
}

impl Rendered {
    /// The body with each chart marker replaced by `show(index, chart)`.
    pub fn body_with(&self, show: impl Fn(usize, &Drawn) -> String) -> String {
        let mut body = self.body.clone();
        for (index, drawn) in self.charts.iter().enumerate() {
            body = body.replace(&marker(index), &show(index, drawn));
        }
        body
    }
}

/// Renders `template` over the lake at `lake` for the period ending on `as_of`, drawing its
/// charts from `charts`.
pub fn render(template: &Template, lake: &Path, as_of: NaiveDate, charts: &[ChartSpec]) -> Result<Rendered, ReportError> {
    let period = Period::ending(as_of, template.period_days);
    let tables: Vec<LakeTable> = if lake.is_dir() { lake_tables(lake)? } else { Vec::new() };
    let results = run_queries(template, lake, &tables, period)?;
    let drawn: Arc<Mutex<Vec<Drawn>>> = Arc::default();
    let mut env = body_environment(template.kind);
    add_period_helpers(&mut env, period);
    env.add_function("has_table", move |name: String| {
        tables.iter().any(|t| t.name == name || t.model_name() == Some(name.as_str()))
    });
    {
        let (drawn, charts, lake) = (Arc::clone(&drawn), charts.to_vec(), lake.to_path_buf());
        env.add_function("chart", move |name: String, kwargs: Kwargs| -> Result<Value, minijinja::Error> {
            let filter: Option<String> = kwargs.get("where")?;
            kwargs.assert_all_used()?;
            let spec = chart::find(&charts, &name).map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
            let chart = chart::draw_from_lake(&lake, spec, filter.as_deref(), None)
                .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
            let mut drawn = drawn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            drawn.push(chart);
            Ok(Value::from_safe_string(marker(drawn.len() - 1)))
        });
    }
    let generated_at = Utc::now();
    let mut context: BTreeMap<&str, Value> = BTreeMap::new();
    context.insert(
        "report",
        value_of(serde_json::json!({
            "name": template.name,
            "title": template.title,
            "description": template.description,
        })),
    );
    context.insert("period", period.as_value());
    context.insert("previous", period.previous().as_value());
    context.insert("as_of", Value::from(as_of.to_string()));
    context.insert("generated_at", Value::from(generated_at.format("%Y-%m-%d %H:%M UTC").to_string()));
    for (name, rows) in &results {
        context.insert(name.as_str(), rows.as_ref().map_or(Value::from(()), value_of));
    }
    let body = env.render_str(&template.body, context).map_err(|e| template_error(template, &e))?;
    let body = match template.kind {
        BodyKind::Markdown => single_blank_lines(&body),
        BodyKind::Html => body,
    };
    let charts = std::mem::take(&mut *drawn.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    Ok(Rendered {
        name: template.name.clone(),
        title: template.title.clone(),
        kind: template.kind,
        period,
        generated_at,
        body,
        charts,
    })
}

/// Anything serialisable as a template value.
fn value_of<T: Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// One query's rows (column name → value).
type Rows = Vec<BTreeMap<String, serde_json::Value>>;

/// Each query's rows by query name; `None` for a query whose tables the lake lacks.
fn run_queries(
    template: &Template,
    lake: &Path,
    tables: &[LakeTable],
    period: Period,
) -> Result<BTreeMap<String, Option<Rows>>, ReportError> {
    let mut results = BTreeMap::new();
    if template.queries.is_empty() {
        return Ok(results);
    }
    if tables.is_empty() {
        return Err(crate::export::ExportError::EmptyLake(lake.to_path_buf()).into());
    }
    let io = DeltaIo::new().map_err(crate::export::ExportError::from)?;
    let mut context = sql_context(&io, tables)?;
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    add_period_helpers(&mut env, period);
    let date = |d: NaiveDate| Value::from_safe_string(sql_date(d));
    let previous = period.previous();
    let variables = minijinja::context! {
        period => minijinja::context! { start => date(period.start), end => date(period.end), days => period.days },
        previous => minijinja::context! { start => date(previous.start), end => date(previous.end), days => previous.days },
        as_of => date(period.end),
    };
    for (name, query) in &template.queries {
        let failed = |message: String| ReportError::Query {
            origin: template.origin.clone(),
            query: name.clone(),
            message,
        };
        if !query.requires().iter().all(|needed| tables.iter().any(|t| t.name == *needed)) {
            results.insert(name.clone(), None);
            continue;
        }
        let statement = env.render_str(query.sql(), &variables).map_err(|e| failed(e.to_string()))?;
        let frame = context
            .execute(&statement)
            .and_then(LazyFrame::collect)
            .map_err(|e| failed(crate::export::tables::user_query_message(&e, tables)))?;
        results.insert(name.clone(), Some(frame_rows(&frame)));
    }
    Ok(results)
}

/// A date as a SQL date literal Polars (and dbt's engines) read.
fn sql_date(date: NaiveDate) -> String {
    format!("DATE('{date}')")
}

/// A frame's rows as JSON objects, for the template.
fn frame_rows(frame: &DataFrame) -> Vec<BTreeMap<String, serde_json::Value>> {
    let columns = frame.columns();
    (0..frame.height())
        .map(|row| {
            columns
                .iter()
                .map(|column| (column.name().to_string(), json_of(column.get(row).unwrap_or(AnyValue::Null))))
                .collect()
        })
        .collect()
}

fn json_of(value: AnyValue<'_>) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        AnyValue::Null => Json::Null,
        AnyValue::Boolean(b) => Json::Bool(b),
        AnyValue::String(s) => Json::String(s.to_string()),
        AnyValue::StringOwned(s) => Json::String(s.to_string()),
        AnyValue::Int8(_) | AnyValue::Int16(_) | AnyValue::Int32(_) | AnyValue::Int64(_) => {
            value.extract::<i64>().map_or(Json::Null, Json::from)
        }
        AnyValue::UInt8(_) | AnyValue::UInt16(_) | AnyValue::UInt32(_) | AnyValue::UInt64(_) => {
            value.extract::<u64>().map_or(Json::Null, Json::from)
        }
        AnyValue::Float32(_) | AnyValue::Float64(_) => value.extract::<f64>().filter(|v| v.is_finite()).map_or(Json::Null, Json::from),
        AnyValue::List(series) => Json::Array(series.iter().map(json_of).collect()),
        other => Json::String(other.to_string().trim_matches('"').to_string()),
    }
}

/// The body's environment: strict about unknown variables, with the number filters, escaping
/// each value for the body's language so data never becomes markup.
fn body_environment(kind: BodyKind) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    match kind {
        BodyKind::Html => env.set_auto_escape_callback(|_| AutoEscape::Html),
        BodyKind::Markdown => {
            env.set_auto_escape_callback(|_| AutoEscape::None);
            env.set_formatter(|out, state, value| {
                if value.is_safe() || value.is_number() {
                    return minijinja::escape_formatter(out, state, value);
                }
                if value.is_none() {
                    return Ok(());
                }
                out.write_str(&escape_markdown(&value.to_string())).map_err(minijinja::Error::from)
            });
        }
    }
    for (name, unit) in [
        ("count", Unit::Count),
        ("usd", Unit::Usd),
        ("pct", Unit::Percent),
        ("num", Unit::Number),
    ] {
        env.add_filter(name, move |value: Value| -> String {
            match f64::try_from(value.clone()) {
                Ok(number) => format_value(number, unit),
                Err(_) if value.is_none() || value.is_undefined() => "–".to_string(),
                Err(_) => value.to_string(),
            }
        });
    }
    // `new | change(old)`: the relative change in percent, signed; a dash without both.
    env.add_filter("change", |new: Value, old: Value| -> String {
        match (f64::try_from(new), f64::try_from(old)) {
            (Ok(new), Ok(old)) if old != 0.0 => format!("{:+.1}%", (new - old) / old.abs() * 100.0),
            _ => "–".to_string(),
        }
    });
    env
}

/// `text` as Markdown that shows it literally: the characters that start emphasis, links, code,
/// tables or HTML are backslash-escaped (an underscore only where it could start or end
/// emphasis, so `parsed_from_text` stays readable), and line breaks become spaces (a value stays
/// in its table cell or sentence).
pub fn escape_markdown(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut escaped = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let inside_word = |at: Option<&char>| at.is_some_and(|c| c.is_alphanumeric());
        match c {
            '_' if inside_word(i.checked_sub(1).and_then(|p| chars.get(p))) && inside_word(chars.get(i + 1)) => escaped.push(c),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '#' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '\n' | '\r' => escaped.push(' '),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// Markdown with each run of blank lines (left by template tags on lines of their own) made
/// one, outside fenced code; the Markdown means the same, and reads better as text and in mail.
fn single_blank_lines(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let (mut in_fence, mut blank_before) = (false, true);
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        let blank = line.trim().is_empty();
        if blank && blank_before && !in_fence {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        blank_before = blank;
    }
    out
}

/// A template error, placed at its line of the file.
fn template_error(template: &Template, error: &minijinja::Error) -> ReportError {
    let mut message = error.detail().map_or_else(|| error.kind().to_string(), str::to_string);
    if let Some(source) = std::error::Error::source(error) {
        message = format!("{message}: {source}");
    }
    let origin = match error.line() {
        Some(line) => format!("{}:{}", template.origin, line + template.body_line - 1),
        None => template.origin.clone(),
    };
    ReportError::Template { origin, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::template;

    #[test]
    fn a_period_ends_on_the_day_asked_for() {
        let period = Period::ending(NaiveDate::from_ymd_opt(2024, 3, 7).expect("a date"), 7);
        assert_eq!(period.start.to_string(), "2024-03-01");
    }

    #[test]
    fn data_never_becomes_markup_in_markdown_or_html() {
        let env = body_environment(BodyKind::Markdown);
        let out = env
            .render_str(
                "{{ t }} {{ n | usd }} {{ missing_ok | default('') }}{{ nothing }}",
                minijinja::context! { t => "<b>*A*</b> | x", n => 123_456, nothing => () },
            )
            .expect("test input is valid");
        assert_eq!(out, "\\<b\\>\\*A\\*\\</b\\> \\| x $123k ");
        assert_eq!(escape_markdown("parsed_from_text _x_"), "parsed_from_text \\_x\\_");
        let env = body_environment(BodyKind::Html);
        let out = env
            .render_str("{{ t }}", minijinja::context! { t => "<script>" })
            .expect("test input is valid");
        assert_eq!(out, "&lt;script&gt;");
    }

    #[test]
    fn runs_of_blank_lines_become_one_outside_code() {
        assert_eq!(
            single_blank_lines("\n\n# T\n\n\n\ntext\n```\na\n\n\nb\n```\n\n"),
            "# T\n\ntext\n```\na\n\n\nb\n```\n\n"
        );
    }

    #[test]
    fn an_unknown_variable_is_an_error_at_its_line_of_the_file() {
        let text = "---\ntitle: T\n---\nline one\n{{ totals }}\n";
        let template = template::parse("t", BodyKind::Markdown, "reports/t.md", text).expect("test input is valid");
        let dir = tempfile::tempdir().expect("test input is valid");
        let error =
            render(&template, dir.path(), NaiveDate::from_ymd_opt(2024, 1, 1).expect("a date"), &[]).expect_err("totals is undefined");
        assert!(error.to_string().starts_with("reports/t.md:5:"), "{error}");
    }
}
