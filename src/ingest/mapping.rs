//! CSV column mappings: a YAML file says which CSV layout it reads (by header), which column
//! holds the board's id, and how columns fill contract fields. The mappings for every layout
//! the project knows ship inside the binary (from `fixtures/mappings/`), and `--mapping FILE`
//! adds one.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::reject::{ErrorCode, Reject};
use crate::contract::JobListing;
use crate::normalize::short_hash;

/// The mappings built into the binary.
pub const BUILTIN: [(&str, &str); 9] = [
    ("jobspy.yaml", include_str!("../../fixtures/mappings/jobspy.yaml")),
    (
        "glassdoor-2020-metros.yaml",
        include_str!("../../fixtures/mappings/glassdoor-2020-metros.yaml"),
    ),
    (
        "glassdoor-ds-salary-proj.yaml",
        include_str!("../../fixtures/mappings/glassdoor-ds-salary-proj.yaml"),
    ),
    (
        "glassdoor-data-analyst.yaml",
        include_str!("../../fixtures/mappings/glassdoor-data-analyst.yaml"),
    ),
    ("nyc-jobs.yaml", include_str!("../../fixtures/mappings/nyc-jobs.yaml")),
    (
        "linkedin-richmond.yaml",
        include_str!("../../fixtures/mappings/linkedin-richmond.yaml"),
    ),
    ("ds-salaries.yaml", include_str!("../../fixtures/mappings/ds-salaries.yaml")),
    ("adzuna-uk.yaml", include_str!("../../fixtures/mappings/adzuna-uk.yaml")),
    ("nofluffjobs-pl.yaml", include_str!("../../fixtures/mappings/nofluffjobs-pl.yaml")),
];

#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("cannot read mapping {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("mapping {path} is not valid: {source}")]
    Parse { path: String, source: serde_norway::Error },
    #[error("mapping {path}: {message}")]
    Invalid { path: String, message: String },
}

/// One CSV layout.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The `site` every row gets.
    pub site: String,
    /// The columns that identify the layout; all must be present.
    pub header: Vec<String>,
    /// Cell values that mean "no value" (besides the empty cell).
    #[serde(default)]
    pub null_values: Vec<String>,
    pub source_id: SourceId,
    /// The `salary_source` every row gets, when the dataset says how its pay was obtained.
    #[serde(default)]
    pub salary_source: Option<String>,
    /// Contract field (dotted path) to rule.
    pub fields: BTreeMap<String, FieldRule>,
}

/// Where the board's id comes from: `{column: NAME}`, a column holding the board's own id
/// (rows with it empty fall back to the row hash), or `{row_hash: true, exclude: [..]}` when
/// the data has no id: a hash of the row's cells minus the listed columns (such as a row
/// number), so identical rows get identical ids.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceId {
    pub column: Option<String>,
    #[serde(default)]
    pub row_hash: bool,
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// How one contract field is filled: a column name, or a rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FieldRule {
    Column(String),
    Rule(Rule),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Read this column.
    pub column: Option<String>,
    /// Fill `{Column Name}` placeholders; absent when every referenced cell is empty.
    pub template: Option<String>,
    /// A constant.
    pub value: Option<String>,
    /// Translate cell values (after the column or template is read); unlisted values pass.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
}

impl Mapping {
    /// Parses a mapping and checks its field paths.
    pub fn parse(path: &str, text: &str) -> Result<Self, MappingError> {
        let mapping: Mapping = serde_norway::from_str(text).map_err(|source| MappingError::Parse {
            path: path.to_string(),
            source,
        })?;
        if mapping.source_id.column.is_some() == mapping.source_id.row_hash {
            return Err(MappingError::Invalid {
                path: path.to_string(),
                message: "source_id needs exactly one of column or row_hash: true".into(),
            });
        }
        for (field, rule) in &mapping.fields {
            let mut probe = JobListing::default();
            if set_field(&mut probe, field, "1".to_string()).is_err() && set_field(&mut probe, field, "true".to_string()).is_err() {
                return Err(MappingError::Invalid {
                    path: path.to_string(),
                    message: format!("unknown contract field {field:?}"),
                });
            }
            if let FieldRule::Rule(r) = rule
                && [r.column.is_some(), r.template.is_some(), r.value.is_some()]
                    .iter()
                    .filter(|x| **x)
                    .count()
                    != 1
            {
                return Err(MappingError::Invalid {
                    path: path.to_string(),
                    message: format!("field {field}: give exactly one of column, template, value"),
                });
            }
        }
        Ok(mapping)
    }

    /// Reads a mapping file.
    pub fn from_file(path: &Path) -> Result<Self, MappingError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Read {
            path: display.clone(),
            source,
        })?;
        Self::parse(&display, &text)
    }

    /// The built-in mappings.
    pub fn builtin() -> Vec<Mapping> {
        BUILTIN
            .iter()
            .map(|(name, text)| Self::parse(name, text).expect("built-in mappings are valid (checked by a unit test)"))
            .collect()
    }

    /// Picks the mapping for a header: every identifying column present, most columns wins.
    pub fn detect<'a>(mappings: &'a [Mapping], header: &[String]) -> Option<&'a Mapping> {
        mappings
            .iter()
            .filter(|m| m.header.iter().all(|c| header.contains(c)))
            .max_by_key(|m| m.header.len())
    }

    /// Binds the mapping to a file's header, checking every referenced column exists.
    pub fn bind(&self, header: &[String]) -> Result<BoundMapping, String> {
        let index = |column: &str| {
            header
                .iter()
                .position(|h| h == column)
                .ok_or_else(|| format!("mapping {} uses column {column:?}, which the header lacks", self.name))
        };
        let mut fields = Vec::new();
        for (field, rule) in &self.fields {
            let bound = match rule {
                FieldRule::Column(column) => BoundRule::Column(index(column)?, BTreeMap::new()),
                FieldRule::Rule(Rule {
                    column: Some(column), map, ..
                }) => BoundRule::Column(index(column)?, map.clone()),
                FieldRule::Rule(Rule {
                    template: Some(template),
                    map,
                    ..
                }) => BoundRule::Template(parse_template(template, &index)?, map.clone()),
                FieldRule::Rule(Rule { value: Some(value), .. }) => BoundRule::Value(value.clone()),
                FieldRule::Rule(_) => {
                    return Err(format!("mapping {}: field {field} has no source", self.name));
                }
            };
            fields.push((field.clone(), bound));
        }
        let source_id = match &self.source_id.column {
            Some(column) => BoundId::Column(index(column)?),
            None => BoundId::Hash(self.source_id.exclude.iter().map(|c| index(c)).collect::<Result<_, _>>()?),
        };
        Ok(BoundMapping {
            mapping: self.clone(),
            fields,
            source_id,
        })
    }
}

#[derive(Debug)]
enum BoundRule {
    Column(usize, BTreeMap<String, String>),
    Template(Vec<TemplatePart>, BTreeMap<String, String>),
    Value(String),
}

#[derive(Debug)]
enum TemplatePart {
    Text(String),
    Cell(usize),
}

#[derive(Debug)]
enum BoundId {
    Column(usize),
    Hash(Vec<usize>),
}

fn parse_template(template: &str, index: &dyn Fn(&str) -> Result<usize, String>) -> Result<Vec<TemplatePart>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("template {template:?} has an unclosed {{"))?
            + open;
        if open > 0 {
            parts.push(TemplatePart::Text(rest[..open].to_string()));
        }
        parts.push(TemplatePart::Cell(index(&rest[open + 1..close])?));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Text(rest.to_string()));
    }
    Ok(parts)
}

/// A mapping bound to one file's header.
#[derive(Debug)]
pub struct BoundMapping {
    pub mapping: Mapping,
    fields: Vec<(String, BoundRule)>,
    source_id: BoundId,
}

impl BoundMapping {
    /// Builds the contract record of one row.
    pub fn listing(&self, header: &[String], cells: &[&str]) -> Result<JobListing, Reject> {
        let cell = |i: usize| -> Option<&str> {
            let value = cells.get(i)?.trim();
            (!value.is_empty() && !self.mapping.null_values.iter().any(|n| n == value)).then_some(value)
        };
        let mut listing = JobListing {
            site: Some(self.mapping.site.clone()),
            salary_source: self.mapping.salary_source.clone(),
            ..JobListing::default()
        };
        for (field, rule) in &self.fields {
            let (value, map) = match rule {
                BoundRule::Column(i, map) => (cell(*i).map(str::to_string), Some(map)),
                BoundRule::Template(parts, map) => (fill_template(parts, &cell), Some(map)),
                BoundRule::Value(v) => (Some(v.clone()), None),
            };
            let Some(value) = value else { continue };
            let value = map.and_then(|m| m.get(&value).cloned()).unwrap_or(value);
            set_field(&mut listing, field, value).map_err(|message| {
                let column = match rule {
                    BoundRule::Column(i, _) => header.get(*i).cloned(),
                    _ => None,
                };
                let named = column.map_or_else(|| field.clone(), |c| format!("{field} (column {c:?})"));
                Reject::new(ErrorCode::InvalidField, Some(&named), message)
            })?;
        }
        listing.job_id = match &self.source_id {
            BoundId::Column(i) => cell(*i).map(str::to_string),
            BoundId::Hash(_) => None,
        }
        .or_else(|| Some(self.row_hash(cells)));
        Ok(listing)
    }

    fn row_hash(&self, cells: &[&str]) -> String {
        let excluded: &[usize] = match &self.source_id {
            BoundId::Hash(excluded) => excluded,
            BoundId::Column(_) => &[],
        };
        let kept: Vec<&str> = cells
            .iter()
            .enumerate()
            .filter(|(i, _)| !excluded.contains(i))
            .map(|(_, c)| *c)
            .collect();
        format!("row:{}", short_hash(&kept.join("\u{1f}")))
    }
}

fn fill_template<'a>(parts: &[TemplatePart], cell: &dyn Fn(usize) -> Option<&'a str>) -> Option<String> {
    let mut out = String::new();
    let mut any = false;
    for part in parts {
        match part {
            TemplatePart::Text(t) => out.push_str(t),
            TemplatePart::Cell(i) => {
                if let Some(v) = cell(*i) {
                    any = true;
                    out.push_str(v);
                }
            }
        }
    }
    any.then_some(out)
}

/// Sets one contract field from text; the error says why the value does not fit.
pub fn set_field(listing: &mut JobListing, path: &str, value: String) -> Result<(), String> {
    let number = |v: &str| -> Result<Option<f64>, String> {
        let cleaned: String = v.chars().filter(|c| !matches!(c, '$' | ',' | ' ')).collect();
        cleaned.parse::<f64>().map(Some).map_err(|_| format!("{v:?} is not a number"))
    };
    let boolean = |v: &str| -> Result<Option<bool>, String> {
        match v.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "t" => Ok(Some(true)),
            "false" | "no" | "n" | "0" | "f" => Ok(Some(false)),
            _ => Err(format!("{v:?} is not true or false")),
        }
    };
    if let Some(field) = path.strip_prefix("job.") {
        let job = listing.job.get_or_insert_with(Default::default);
        let slot = match field {
            "job_url" => &mut job.job_url,
            "job_url_direct" => &mut job.job_url_direct,
            "title" => &mut job.title,
            "company" => &mut job.company,
            "location" => &mut job.location,
            "job_type" => &mut job.job_type,
            "date_posted" => &mut job.date_posted,
            "job_level" => &mut job.job_level,
            "job_function" => &mut job.job_function,
            "listing_type" => &mut job.listing_type,
            "emails" => &mut job.emails,
            "description" => &mut job.description,
            "work_arrangement" => &mut job.work_arrangement,
            "is_remote" => {
                job.is_remote = boolean(&value)?;
                return Ok(());
            }
            _ => return Err(format!("unknown field {path}")),
        };
        *slot = Some(value);
        return Ok(());
    }
    if let Some(field) = path.strip_prefix("compensation.") {
        let comp = listing.compensation.get_or_insert_with(Default::default);
        match field {
            "interval" => comp.interval = Some(value),
            "currency" => comp.currency = Some(value),
            "salary_text" => comp.salary_text = Some(value),
            "min_amount" => comp.min_amount = number(&value)?,
            "max_amount" => comp.max_amount = number(&value)?,
            _ => return Err(format!("unknown field {path}")),
        }
        return Ok(());
    }
    if let Some(field) = path.strip_prefix("company_details.") {
        let d = listing.company_details.get_or_insert_with(Default::default);
        let slot = match field {
            "company_industry" => &mut d.company_industry,
            "company_url" => &mut d.company_url,
            "company_url_direct" => &mut d.company_url_direct,
            "company_addresses" => &mut d.company_addresses,
            "company_num_employees" => &mut d.company_num_employees,
            "company_revenue" => &mut d.company_revenue,
            "company_description" => &mut d.company_description,
            "logo_photo_url" => &mut d.logo_photo_url,
            "banner_photo_url" => &mut d.banner_photo_url,
            "ceo_name" => &mut d.ceo_name,
            "ceo_photo_url" => &mut d.ceo_photo_url,
            _ => return Err(format!("unknown field {path}")),
        };
        *slot = Some(value);
        return Ok(());
    }
    let slot = match path {
        "job_id" => &mut listing.job_id,
        "site" => &mut listing.site,
        "search_term" => &mut listing.search_term,
        "scraped_at" => &mut listing.scraped_at,
        "salary_source" => &mut listing.salary_source,
        _ => return Err(format!("unknown field {path}")),
    };
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_mappings_parse() {
        assert_eq!(Mapping::builtin().len(), BUILTIN.len());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let text = "name: x\nsite: s\nheader: [a]\nsource_id: {column: a}\nfields:\n  job.titel: a\n";
        let err = Mapping::parse("x.yaml", text).expect_err("typo").to_string();
        assert!(err.contains("job.titel"), "{err}");
    }

    #[test]
    fn rows_become_listings() {
        let text = "name: x\nsite: board\nheader: [id, t, c, s]\nnull_values: ['-1']\nsource_id: {column: id}\nfields:\n  job.title: t\n  job.location: {template: '{c}, {s}'}\n  job.job_level: {column: t, map: {Boss: director}}\n  compensation.min_amount: s\n";
        let mapping = Mapping::parse("x.yaml", text).expect("valid");
        let header: Vec<String> = ["id", "t", "c", "s"].iter().map(|s| (*s).to_string()).collect();
        let bound = mapping.bind(&header).expect("binds");
        let listing = bound.listing(&header, &["7", "Boss", "Austin", "-1"]).expect("row");
        assert_eq!(listing.job_id.as_deref(), Some("7"));
        assert_eq!(listing.job().location.as_deref(), Some("Austin, "));
        assert_eq!(listing.job().job_level.as_deref(), Some("director"));
        assert_eq!(listing.compensation, None);
        let err = bound.listing(&header, &["8", "Boss", "Austin", "lots"]).expect_err("bad number");
        assert_eq!(err.field.as_deref(), Some("compensation.min_amount (column \"s\")"));
    }

    #[test]
    fn detection_prefers_the_most_specific_layout() {
        let mappings = Mapping::builtin();
        let header: Vec<String> =
            "Job_title,Company,State,City,Min_Salary,Max_Salary,Job_Desc,Industry,Rating,Date_Posted,Valid_until,Job_Type"
                .split(',')
                .map(str::to_string)
                .collect();
        assert_eq!(
            Mapping::detect(&mappings, &header).map(|m| m.name.as_str()),
            Some("glassdoor-2020-metros")
        );
        assert!(Mapping::detect(&mappings, &["nothing".to_string()]).is_none());
    }
}
