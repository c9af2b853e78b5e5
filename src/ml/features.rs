//! The salary model's feature matrix: a fixed, documented encoding of [`PostingFacts`] into
//! numbers, fitted on training data (its vocabularies) and saved beside the booster as JSON so
//! another reader (Python `xgboost`, `serve`) builds the same matrix.
//!
//! Columns, in order: ordinal seniority, minimum years of experience, ordinal education,
//! ordinal company size, the metro's and the state's cost-of-living index, one-hot remote type,
//! job type, country, state, industry and title family (the title's ESCO occupation), binary
//! title words
//! (unigrams and bigrams), binary skills (taxonomy ids) and hashed title + description n-grams.
//! Missing values are NaN, which XGBoost treats as missing; so is an indicator or n-gram bucket
//! the posting does not have (see [`Absent`]).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::facts::PostingFacts;
use super::occupation::Occupation;

/// Seniority levels, lowest first: the ordinal seniority column counts along them.
pub const SENIORITY: &[&str] = &["intern", "entry", "mid", "senior", "lead", "manager", "director", "executive"];
const EDUCATION: &[&str] = &["high_school", "associate", "bachelor", "master", "doctorate"];
const SIZE_BANDS: &[&str] = &["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5001-10000", "10001+"];
const REMOTE: &[&str] = &["remote", "hybrid", "on-site"];
const JOB_TYPES: &[&str] = &["fulltime", "parttime", "contract", "internship", "temporary"];

/// How much of the posting the model may see (the report's ablations switch parts off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureOptions {
    pub skills: bool,
    /// One-hot title families (the title's ESCO occupation).
    pub families: bool,
    /// Hashed title + description n-gram buckets; 0 switches text features off.
    pub text_buckets: usize,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        FeatureOptions {
            skills: true,
            families: true,
            text_buckets: 256,
        }
    }
}

/// What an indicator column (one-hot value, title word, skill, n-gram bucket) holds when the
/// posting lacks it. XGBoost's `hist` builds its histograms over present values only, and a
/// row has about 5 % of the ~1,100 columns: with absent values missing instead of 0, a depth-9
/// booster trained in 3.1 s instead of 6.8 s (fold 1 of the demo lake's examples, Python
/// `xgboost` on the matrix rats built, 2026-12-04) with the same splits available — a tree
/// sends "has it" one way and "has it not" the other either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Absent {
    /// 0, as specs saved before `absent` existed were trained on (the default when reading
    /// one, so their models keep predicting what they were trained to).
    #[default]
    Zero,
    /// NaN: missing to XGBoost. What [`FeatureSpec::fit`] chooses.
    Missing,
}

impl Absent {
    fn value(self) -> f32 {
        match self {
            Absent::Zero => 0.0,
            Absent::Missing => f32::NAN,
        }
    }
}

/// One column: its name (as XGBoost and Python see it) and the group explanations roll it
/// into (`seniority`, `experience`, `location`, `title`, `skill:<id>`, `text`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub group: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub options: FeatureOptions,
    #[serde(default)]
    pub absent: Absent,
    pub title_words: Vec<String>,
    pub skills: Vec<String>,
    pub countries: Vec<String>,
    pub states: Vec<String>,
    pub industries: Vec<String>,
    /// Frequent title families (ESCO occupation URIs), one-hot.
    pub occupations: Vec<String>,
    /// Cost-of-living index by `city|ST` (city lower-cased) and by state (the mean of its metros).
    pub cost_of_living: BTreeMap<String, f32>,
    pub state_cost_of_living: BTreeMap<String, f32>,
    /// The ESCO occupations a title is mapped to its family among (empty: no families).
    pub occupation_index: Vec<Occupation>,
    /// Every column, in matrix order.
    pub columns: Vec<Column>,
}

/// A metro cost-of-living table: `(city, state code, index)`.
pub type CostOfLiving = Vec<(String, String, f32)>;

/// Reference data a spec carries so predictions need nothing else: the metro cost-of-living
/// table and the ESCO occupations titles are mapped to (the title family).
#[derive(Debug, Clone, Default)]
pub struct Reference {
    pub cost_of_living: CostOfLiving,
    pub occupations: Vec<Occupation>,
}

impl FeatureSpec {
    /// Learns the vocabularies from `facts` (training rows only, so a held-out fold's words
    /// never shape its own encoding).
    pub fn fit(facts: &[&PostingFacts], options: FeatureOptions, reference: &Reference) -> Self {
        let title_words = frequent(facts.iter().map(|f| title_terms(&f.title)), 5, 400);
        let skills = if options.skills {
            frequent(facts.iter().map(|f| f.skill_ids.clone()), 10, 300)
        } else {
            Vec::new()
        };
        let countries = frequent(facts.iter().map(|f| f.country.iter().cloned().collect()), 5, 40);
        let states = frequent(facts.iter().map(|f| f.state.iter().cloned().collect()), 5, 60);
        let industries = frequent(facts.iter().map(|f| f.company_industry.iter().cloned().collect()), 10, 60);
        let families = if options.families {
            frequent(facts.iter().map(|f| f.occupation.iter().cloned().collect()), 10, 150)
        } else {
            Vec::new()
        };
        let mut metro = BTreeMap::new();
        let mut by_state: BTreeMap<String, (f32, u32)> = BTreeMap::new();
        for (city, state, index) in &reference.cost_of_living {
            metro.insert(metro_key(city, state), *index);
            let entry = by_state.entry(state.clone()).or_default();
            entry.0 += index;
            entry.1 += 1;
        }
        let state_cost_of_living = by_state.into_iter().map(|(s, (sum, n))| (s, sum / n as f32)).collect();
        let mut spec = FeatureSpec {
            options,
            absent: Absent::Missing,
            title_words,
            skills,
            countries,
            states,
            industries,
            occupations: families,
            cost_of_living: metro,
            state_cost_of_living,
            occupation_index: reference.occupations.clone(),
            columns: Vec::new(),
        };
        spec.columns = spec.layout();
        spec
    }

    pub fn width(&self) -> usize {
        self.columns.len()
    }

    fn layout(&self) -> Vec<Column> {
        let mut columns = Vec::new();
        let mut add = |name: String, group: &str| {
            columns.push(Column {
                name,
                group: group.to_string(),
            });
        };
        add("seniority".into(), "seniority");
        add("min_years_experience".into(), "experience");
        add("education".into(), "education");
        add("company_size".into(), "company size");
        add("metro_cost_of_living".into(), "location");
        add("state_cost_of_living".into(), "location");
        for value in REMOTE {
            add(format!("remote={value}"), "remote");
        }
        for value in JOB_TYPES {
            add(format!("job_type={value}"), "job type");
        }
        for value in &self.countries {
            add(format!("country={value}"), "location");
        }
        for value in &self.states {
            add(format!("state={value}"), "location");
        }
        for value in &self.industries {
            add(format!("industry={value}"), "industry");
        }
        for value in &self.occupations {
            add(format!("occupation={value}"), "occupation");
        }
        for word in &self.title_words {
            add(format!("title:{word}"), "title");
        }
        for skill in &self.skills {
            columns.push(Column {
                name: format!("skill:{skill}"),
                group: format!("skill:{skill}"),
            });
        }
        for bucket in 0..self.options.text_buckets {
            columns.push(Column {
                name: format!("text#{bucket}"),
                group: "text".into(),
            });
        }
        columns
    }

    /// Appends one row for `facts` to `out`.
    pub fn encode(&self, facts: &PostingFacts, out: &mut Vec<f32>) {
        let start = out.len();
        let ordinal = |value: Option<&str>, scale: &[&str]| {
            value
                .and_then(|v| scale.iter().position(|s| *s == v))
                .map_or(f32::NAN, |i| i as f32)
        };
        out.push(ordinal(facts.seniority.as_deref(), SENIORITY));
        out.push(facts.min_years_experience.map_or(f32::NAN, |y| y as f32));
        out.push(ordinal(facts.education_level.as_deref(), EDUCATION));
        out.push(ordinal(facts.company_size_band.as_deref(), SIZE_BANDS));
        let state = facts.state.as_deref().unwrap_or_default();
        let city = facts.city.as_deref().unwrap_or_default();
        out.push(self.cost_of_living.get(&metro_key(city, state)).copied().unwrap_or(f32::NAN));
        out.push(self.state_cost_of_living.get(state).copied().unwrap_or(f32::NAN));
        let absent = self.absent.value();
        let present = |has: bool| if has { 1.0 } else { absent };
        one_hot(out, REMOTE.iter().copied(), facts.remote_type.as_deref(), absent);
        one_hot(out, JOB_TYPES.iter().copied(), facts.job_type.as_deref(), absent);
        one_hot(out, self.countries.iter().map(String::as_str), facts.country.as_deref(), absent);
        one_hot(out, self.states.iter().map(String::as_str), facts.state.as_deref(), absent);
        one_hot(
            out,
            self.industries.iter().map(String::as_str),
            facts.company_industry.as_deref(),
            absent,
        );
        one_hot(
            out,
            self.occupations.iter().map(String::as_str),
            facts.occupation.as_deref(),
            absent,
        );
        let terms = title_terms(&facts.title);
        out.extend(self.title_words.iter().map(|w| present(terms.contains(w))));
        out.extend(self.skills.iter().map(|s| present(facts.skill_ids.contains(s))));
        if self.options.text_buckets > 0 {
            let base = out.len();
            out.resize(base + self.options.text_buckets, 0.0);
            let text = format!("{} {}", facts.title, facts.description.as_deref().unwrap_or_default());
            for term in word_ngrams(&tokens(&text)) {
                out[base + (crate::fnv1a::hash(term.bytes()) % self.options.text_buckets as u64) as usize] += 1.0;
            }
            for value in &mut out[base..] {
                *value = if *value > 0.0 { value.ln_1p() } else { absent };
            }
        }
        debug_assert_eq!(out.len() - start, self.width());
    }
}

fn one_hot<'a>(out: &mut Vec<f32>, values: impl Iterator<Item = &'a str>, actual: Option<&str>, absent: f32) {
    out.extend(values.map(|v| if Some(v) == actual { 1.0 } else { absent }));
}

fn metro_key(city: &str, state: &str) -> String {
    format!("{}|{}", city.to_lowercase(), state.to_uppercase())
}

/// Lower-cased word tokens with a letter or digit; `+`, `#` and `.` stay inside words (C++, C#,
/// .NET, Node.js).
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '+' | '#' | '.')))
        .map(|t| t.trim_matches('.').to_lowercase())
        .filter(|t| t.chars().any(char::is_alphanumeric))
        .collect()
}

/// A title's distinct unigrams and bigrams.
pub fn title_terms(title: &str) -> Vec<String> {
    let mut terms = word_ngrams(&tokens(title));
    terms.sort();
    terms.dedup();
    terms
}

/// The bigrams of `words`, then the words themselves.
pub fn word_ngrams(words: &[String]) -> Vec<String> {
    let mut terms: Vec<String> = words.windows(2).map(|w| format!("{} {}", w[0], w[1])).collect();
    terms.extend(words.iter().cloned());
    terms
}

/// The values appearing in at least `min_count` rows, most frequent first (ties by name), at
/// most `limit` of them.
fn frequent(rows: impl Iterator<Item = Vec<String>>, min_count: usize, limit: usize) -> Vec<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for mut row in rows {
        row.sort();
        row.dedup();
        for value in row {
            *counts.entry(value).or_default() += 1;
        }
    }
    let mut kept: Vec<(String, usize)> = counts.into_iter().filter(|(_, n)| *n >= min_count).collect();
    kept.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    kept.truncate(limit);
    kept.into_iter().map(|(v, _)| v).collect()
}

/// Reads the `City,State,Cost of Living Index` CSV (AdvisorSmith's layout).
pub fn read_cost_of_living(path: &std::path::Path) -> Result<CostOfLiving, super::MlError> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| super::MlError::file(path, e))?;
    let mut table = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| super::MlError::file(path, e))?;
        let index = record
            .get(2)
            .and_then(|v| v.trim().parse::<f32>().ok())
            .ok_or_else(|| super::MlError::file(path, format!("line {}: column 3 (Cost of Living Index) is not a number", line + 2)))?;
        table.push((
            record.get(0).unwrap_or_default().to_string(),
            record.get(1).unwrap_or_default().to_string(),
            index,
        ));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(title: &str, skills: &[&str]) -> PostingFacts {
        PostingFacts {
            title: title.into(),
            seniority: Some("senior".into()),
            city: Some("Seattle".into()),
            state: Some("WA".into()),
            country: Some("US".into()),
            skill_ids: skills.iter().map(|s| (*s).to_string()).collect(),
            description: Some("Build data pipelines in Python".into()),
            ..PostingFacts::default()
        }
    }

    #[test]
    fn a_row_has_one_value_per_column_and_names_what_it_saw() {
        let rows: Vec<PostingFacts> = (0..12).map(|_| facts("Senior Data Engineer", &["python", "sql"])).collect();
        let refs: Vec<&PostingFacts> = rows.iter().collect();
        let reference = Reference {
            cost_of_living: vec![
                ("Seattle".to_string(), "WA".to_string(), 121.4_f32),
                ("Spokane".into(), "WA".into(), 90.0),
            ],
            occupations: Vec::new(),
        };
        let spec = FeatureSpec::fit(&refs, FeatureOptions::default(), &reference);
        let mut row = Vec::new();
        spec.encode(&rows[0], &mut row);
        assert_eq!(row.len(), spec.width());
        let value = |name: &str| row[spec.columns.iter().position(|c| c.name == name).expect(name)];
        assert!((value("seniority") - 3.0).abs() < f32::EPSILON);
        assert!(value("min_years_experience").is_nan());
        assert!((value("metro_cost_of_living") - 121.4).abs() < 1e-4);
        assert!((value("state_cost_of_living") - 105.7).abs() < 1e-4);
        assert!((value("title:data engineer") - 1.0).abs() < f32::EPSILON);
        assert!((value("skill:python") - 1.0).abs() < f32::EPSILON);
        assert!((value("state=WA") - 1.0).abs() < f32::EPSILON);
        let mut other = Vec::new();
        spec.encode(&facts("Nurse", &[]), &mut other);
        let value = |name: &str| other[spec.columns.iter().position(|c| c.name == name).expect(name)];
        assert!(value("skill:python").is_nan(), "an absent skill is missing to XGBoost");
        assert!(value("title:data engineer").is_nan());
    }

    #[test]
    fn a_spec_saved_before_absent_existed_still_encodes_absence_as_zero() {
        let rows: Vec<PostingFacts> = (0..12).map(|_| facts("Senior Data Engineer", &["python", "sql"])).collect();
        let refs: Vec<&PostingFacts> = rows.iter().collect();
        let spec = FeatureSpec::fit(&refs, FeatureOptions::default(), &Reference::default());
        let mut saved = serde_json::to_value(&spec).expect("json");
        saved.as_object_mut().expect("object").remove("absent");
        let old: FeatureSpec = serde_json::from_value(saved).expect("an older spec reads");
        assert_eq!(old.absent, Absent::Zero);
        let (mut new_row, mut old_row) = (Vec::new(), Vec::new());
        spec.encode(&facts("Nurse", &[]), &mut new_row);
        old.encode(&facts("Nurse", &[]), &mut old_row);
        let missing = |row: &[f32]| row.iter().filter(|v| v.is_nan()).count();
        assert!(
            missing(&new_row) > missing(&old_row) + 10,
            "absent indicators are missing in new specs only"
        );
        for (new, old) in new_row.iter().zip(&old_row) {
            assert!(new.to_bits() == old.to_bits() || (new.is_nan() && *old == 0.0), "{new} vs {old}");
        }
    }

    #[test]
    fn switched_off_parts_have_no_columns() {
        let rows = [facts("Data Engineer", &["python"])];
        let refs: Vec<&PostingFacts> = rows.iter().collect();
        let spec = FeatureSpec::fit(
            &refs,
            FeatureOptions {
                skills: false,
                families: false,
                text_buckets: 0,
            },
            &Reference::default(),
        );
        assert!(
            spec.columns
                .iter()
                .all(|c| !c.name.starts_with("skill:") && !c.name.starts_with("text#"))
        );
    }

    #[test]
    fn tokens_keep_language_names_whole() {
        assert_eq!(tokens("Sr. C++/C# dev (Node.js)"), ["sr", "c++", "c#", "dev", "node.js"]);
    }
}
