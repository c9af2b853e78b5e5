//! The lake as the server holds it: silver's postings at one Delta version, read once into
//! memory with everything the routes search, count and match against, and replaced whole when
//! the lake's version moves. Answers name the version they used.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use chrono::NaiveDate;
use deltalake::arrow::array::{Array, AsArray, RecordBatch};
use deltalake::arrow::datatypes::{Date32Type, Float64Type, Int32Type, Int64Type};
use serde::Serialize;

use crate::lake;
use crate::matching::rank;

use super::ServeError;
use super::matching_side::MatchingSlot;

/// One silver posting as the jobs routes answer with it (the description only in the detail).
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub posting_key: String,
    pub source_site: String,
    pub source_job_id: Option<String>,
    pub job_url: Option<String>,
    pub title: String,
    pub company: Option<String>,
    pub company_key: Option<String>,
    pub location_city: Option<String>,
    pub location_state: Option<String>,
    pub location_country: Option<String>,
    pub remote_type: Option<String>,
    pub seniority: Option<String>,
    pub min_years_experience: Option<i32>,
    pub job_type: Option<String>,
    pub salary_min_usd: Option<f64>,
    pub salary_max_usd: Option<f64>,
    pub salary_source: Option<String>,
    pub date_posted: Option<NaiveDate>,
    pub skill_ids: Vec<String>,
    /// The ESCO occupation `rats occupation assign` gave the title (`gold/posting_occupations`;
    /// `None` without that table, or when no occupation was close enough).
    pub title_family: Option<String>,
    #[serde(skip)]
    pub description: String,
}

impl Job {
    /// The yearly USD midpoint of the stated or estimated range.
    pub fn salary_mid_usd(&self) -> Option<f64> {
        match (self.salary_min_usd, self.salary_max_usd) {
            (Some(low), Some(high)) => Some(f64::midpoint(low, high)),
            (one, other) => one.or(other),
        }
    }

    /// What the full-text filter searches: the title, company and description, lower-case.
    pub fn search_text(&self) -> String {
        format!(
            "{}\n{}\n{}",
            self.title,
            self.company.as_deref().unwrap_or_default(),
            self.description
        )
        .to_lowercase()
    }

    /// Where the posting is, as one label for grouping: the state and country (`WA, US`), the
    /// country alone, or the state alone.
    pub fn place(&self) -> Option<String> {
        match (&self.location_state, &self.location_country) {
            (Some(state), Some(country)) => Some(format!("{state}, {country}")),
            (None, Some(one)) | (Some(one), None) => Some(one.clone()),
            (None, None) => None,
        }
    }

    pub fn location(&self) -> String {
        [&self.location_city, &self.location_state, &self.location_country]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
impl Job {
    /// A posting for tests: `key`, posted on `date` (`YYYY-MM-DD`; anything else leaves it
    /// undated), titled "Engineer", every other field empty — set the ones a test needs.
    pub fn for_test(key: &str, date: &str) -> Job {
        Job {
            posting_key: key.into(),
            source_site: "test".into(),
            source_job_id: None,
            job_url: None,
            title: "Engineer".into(),
            company: None,
            company_key: None,
            location_city: None,
            location_state: None,
            location_country: None,
            remote_type: None,
            seniority: None,
            min_years_experience: None,
            job_type: None,
            salary_min_usd: None,
            salary_max_usd: None,
            salary_source: None,
            date_posted: NaiveDate::parse_from_str(date, "%Y-%m-%d").ok(),
            skill_ids: Vec::new(),
            title_family: None,
            description: String::new(),
        }
    }
}

/// A record recognised as repeating a posting (`silver/duplicates`).
#[derive(Debug, Clone, Serialize)]
pub struct Sighting {
    pub posting_key: String,
    pub match_kind: String,
    pub similarity: f64,
    pub date_posted: Option<NaiveDate>,
    pub scraped_at: Option<String>,
    pub source_file: String,
    pub source_record: i64,
}

/// A response body kept for the lake version it was computed at.
pub struct Cached {
    pub body: axum::body::Bytes,
    pub etag: String,
}

pub struct Market {
    /// Silver's Delta version.
    pub lake_version: i64,
    /// The versions of every table the snapshot read.
    pub tables: TableVersions,
    pub jobs: Vec<Job>,
    pub by_key: HashMap<String, usize>,
    /// Each job's title, company and description in lower case, for full-text filters.
    pub search_text: Vec<String>,
    /// Duplicates by the posting they repeat.
    pub sightings: Sightings,
    /// The salary model's market-wide median premium per skill id (`gold/skill_premiums`,
    /// written by `rats train salary`; empty without it).
    pub premiums: HashMap<String, f64>,
    /// Matching against these postings, prepared after the snapshot is in use.
    pub matching: MatchingSlot,
    /// Answers computed at this version, by request (a new version starts empty).
    cache: Mutex<AnswerCache>,
}

/// Duplicates by the posting they repeat.
pub type Sightings = HashMap<String, Vec<Sighting>>;

/// The versions of the tables a snapshot reads (`None`: the table does not exist yet). The
/// server reads the lake again when any of them moves — a consume that only found duplicates,
/// new skill premiums from `rats train salary` or new title families from `rats occupation
/// assign`, as well as new postings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableVersions {
    pub silver: i64,
    pub duplicates: Option<i64>,
    pub premiums: Option<i64>,
    pub occupations: Option<i64>,
}

impl TableVersions {
    /// The versions of the lake's tables now.
    pub fn of_lake(root: &Path) -> Result<Self, ServeError> {
        Ok(TableVersions {
            silver: version_if_present(&root.join(lake::SILVER))?
                .ok_or_else(|| ServeError::Lake(format!("{}: no Delta table here yet", root.join(lake::SILVER).display())))?,
            duplicates: version_if_present(&root.join(lake::DUPLICATES))?,
            premiums: version_if_present(&root.join(crate::ml::salary::premiums::TABLE))?,
            occupations: version_if_present(&root.join(crate::ml::occupation::ASSIGNMENTS_TABLE))?,
        })
    }
}

impl std::fmt::Display for TableVersions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |v: Option<i64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
        write!(
            f,
            "silver {} duplicates {} premiums {} occupations {}",
            self.silver,
            shown(self.duplicates),
            shown(self.premiums),
            shown(self.occupations)
        )
    }
}

/// The Delta version of the table at `path`, `None` when there is no table.
fn version_if_present(path: &Path) -> Result<Option<i64>, ServeError> {
    if !path.join("_delta_log").is_dir() {
        return Ok(None);
    }
    lake::table_version(path)
        .map(Some)
        .map_err(|e| ServeError::Lake(format!("{}: {e}", path.display())))
}

/// Silver's columns the server reads.
const JOB_COLUMNS: [&str; 20] = [
    "posting_key",
    "source_site",
    "source_job_id",
    "job_url",
    "title",
    "company",
    "company_key",
    "location_city",
    "location_state",
    "location_country",
    "remote_type",
    "seniority",
    "min_years_experience",
    "job_type",
    "salary_min_usd",
    "salary_max_usd",
    "salary_source",
    "date_posted",
    "skill_ids",
    "description",
];

/// When a posting was seen: the earliest and latest publication date over the posting and the
/// records repeating it, and how many those repeats are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub first: Option<NaiveDate>,
    pub last: Option<NaiveDate>,
    pub repeats: usize,
}

impl Seen {
    /// Days between the first and the last sighting (0 when seen once or undated).
    pub fn open_days(&self) -> i64 {
        match (self.first, self.last) {
            (Some(first), Some(last)) => (last - first).num_days(),
            _ => 0,
        }
    }
}

impl Market {
    /// The records repeating `job` (`silver/duplicates`).
    pub fn sightings_of(&self, job: &Job) -> &[Sighting] {
        self.sightings.get(&job.posting_key).map(Vec::as_slice).unwrap_or_default()
    }

    /// When `job` was seen, over itself and its repeats.
    pub fn seen(&self, job: &Job) -> Seen {
        let sightings = self.sightings_of(job);
        let dates = || job.date_posted.into_iter().chain(sightings.iter().filter_map(|s| s.date_posted));
        Seen {
            first: dates().min(),
            last: dates().max(),
            repeats: sightings.len(),
        }
    }

    /// The snapshot of `jobs` (in any order) with what the routes look them up by.
    fn of(tables: TableVersions, mut jobs: Vec<Job>, sightings: Sightings, premiums: HashMap<String, f64>) -> Self {
        jobs.sort_by(|a, b| a.posting_key.cmp(&b.posting_key));
        let by_key = jobs.iter().enumerate().map(|(i, j)| (j.posting_key.clone(), i)).collect();
        let search_text = jobs.iter().map(Job::search_text).collect();
        Market {
            lake_version: tables.silver,
            tables,
            jobs,
            by_key,
            search_text,
            sightings,
            premiums,
            matching: MatchingSlot::default(),
            cache: Mutex::default(),
        }
    }

    /// A snapshot of `jobs` and their repeats for tests, at version 1 with no other table.
    #[cfg(test)]
    pub fn for_test(jobs: Vec<Job>, sightings: Sightings) -> Self {
        let tables = TableVersions {
            silver: 1,
            duplicates: None,
            premiums: None,
            occupations: None,
        };
        Market::of(tables, jobs, sightings, HashMap::new())
    }

    /// Reads the lake at `root` (blocking: call it off the async executor); its matching is
    /// prepared apart ([`super::matching_side::prepare`]).
    pub fn load(root: &Path) -> Result<Self, ServeError> {
        let silver = root.join(lake::SILVER);
        let lake_error = |e: &dyn std::fmt::Display| ServeError::Lake(format!("{}: {e}", silver.display()));
        let (version, batches) = lake::scan_table_versioned(&silver, &JOB_COLUMNS).map_err(|e| lake_error(&e))?;
        let mut jobs = Vec::new();
        for batch in &batches {
            read_jobs(batch, &mut jobs).map_err(|e| lake_error(&e))?;
        }
        let (duplicates_version, sightings) = read_sightings(root)?;
        let (premiums_version, premiums) = read_premiums(root)?;
        let (occupations_version, families) = read_title_families(root)?;
        for job in &mut jobs {
            job.title_family = families.get(&job.posting_key).cloned();
        }
        let tables = TableVersions {
            silver: version,
            duplicates: duplicates_version,
            premiums: premiums_version,
            occupations: occupations_version,
        };
        Ok(Market::of(tables, jobs, sightings, premiums))
    }

    /// The newest publication date among the postings.
    pub fn newest_posting(&self) -> Option<NaiveDate> {
        self.jobs.iter().filter_map(|j| j.date_posted).max()
    }

    /// What this snapshot's cached answers depend on besides the request (the versions of the
    /// tables it read; match answers are not cached), for the cache replicas share: two replicas
    /// with the same scope give the same answer to the same request.
    pub fn cache_scope(&self) -> String {
        self.tables.to_string()
    }

    /// The answer cached under `key`.
    pub fn cached(&self, key: &str) -> Option<std::sync::Arc<Cached>> {
        self.cache.lock().ok()?.answers.get(key).cloned()
    }

    /// Keeps `body` as the answer to `key` at this version, while the cache holds less than
    /// [`CACHE_BYTES`] (beyond that, new answers are computed each time: query strings are the
    /// client's to vary, memory is not).
    pub fn keep(&self, key: String, body: axum::body::Bytes) -> std::sync::Arc<Cached> {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(&body);
        let etag = format!("\"{}-{}\"", self.lake_version, crate::normalize::hex(&digest[..8]));
        let cached = std::sync::Arc::new(Cached { body, etag });
        if let Ok(mut cache) = self.cache.lock()
            && cache.bytes + cached.body.len() + key.len() <= CACHE_BYTES
        {
            cache.bytes += cached.body.len() + key.len();
            cache.answers.insert(key, cached.clone());
        }
        cached
    }
}

/// The most bytes of answers (bodies and keys) kept per lake version.
pub const CACHE_BYTES: usize = 64 * 1024 * 1024;

#[derive(Default)]
struct AnswerCache {
    answers: HashMap<String, std::sync::Arc<Cached>>,
    bytes: usize,
}

/// The postings of one data file of silver (`file`, of the table at `table`), in file order.
pub fn read_silver_file(table: &Path, file: &Path) -> Result<Vec<Job>, ServeError> {
    let lake_error = |e: &dyn std::fmt::Display| ServeError::Lake(format!("{}: {e}", file.display()));
    let mut jobs = Vec::new();
    for batch in lake::read_parquet(table, file, &JOB_COLUMNS).map_err(|e| lake_error(&e))? {
        read_jobs(&batch, &mut jobs).map_err(|e| lake_error(&e))?;
    }
    Ok(jobs)
}

fn read_jobs(batch: &RecordBatch, jobs: &mut Vec<Job>) -> Result<(), String> {
    let column = |name: &str| batch.column_by_name(name).ok_or_else(|| format!("silver has no column {name}"));
    let text = |name: &str| -> Result<Vec<Option<String>>, String> {
        let array = column(name)?;
        let strings = array.as_string_opt::<i32>().ok_or_else(|| format!("silver's {name} is not text"))?;
        Ok(strings.iter().map(|v| v.map(str::to_string)).collect())
    };
    let number = |name: &str| -> Result<Vec<Option<f64>>, String> {
        let array = column(name)?;
        let values = array
            .as_primitive_opt::<Float64Type>()
            .ok_or_else(|| format!("silver's {name} is not a number"))?;
        Ok(values.iter().collect())
    };
    let years = column("min_years_experience")?;
    let years = years
        .as_primitive_opt::<Int32Type>()
        .ok_or("silver's min_years_experience is not an integer")?;
    let dates = column("date_posted")?;
    let dates = dates.as_primitive_opt::<Date32Type>().ok_or("silver's date_posted is not a date")?;
    let skills = column("skill_ids")?;
    let skills = skills.as_list_opt::<i32>().ok_or("silver's skill_ids is not a list")?;
    let (keys, sites, ids, urls, titles) = (
        text("posting_key")?,
        text("source_site")?,
        text("source_job_id")?,
        text("job_url")?,
        text("title")?,
    );
    let (companies, company_keys, cities, states, countries) = (
        text("company")?,
        text("company_key")?,
        text("location_city")?,
        text("location_state")?,
        text("location_country")?,
    );
    let (remote, seniority, job_types, salary_sources, descriptions) = (
        text("remote_type")?,
        text("seniority")?,
        text("job_type")?,
        text("salary_source")?,
        text("description")?,
    );
    let (low, high) = (number("salary_min_usd")?, number("salary_max_usd")?);
    for row in 0..batch.num_rows() {
        let skill_ids = if skills.is_null(row) {
            Vec::new()
        } else {
            skills.value(row).as_string::<i32>().iter().flatten().map(str::to_string).collect()
        };
        jobs.push(Job {
            posting_key: keys[row].clone().unwrap_or_default(),
            source_site: sites[row].clone().unwrap_or_default(),
            source_job_id: ids[row].clone(),
            job_url: urls[row].clone(),
            title: titles[row].clone().unwrap_or_default(),
            company: companies[row].clone(),
            company_key: company_keys[row].clone(),
            location_city: cities[row].clone(),
            location_state: states[row].clone(),
            location_country: countries[row].clone(),
            remote_type: remote[row].clone(),
            seniority: seniority[row].clone(),
            min_years_experience: (!years.is_null(row)).then(|| years.value(row)),
            job_type: job_types[row].clone(),
            salary_min_usd: low[row],
            salary_max_usd: high[row],
            salary_source: salary_sources[row].clone(),
            date_posted: (!dates.is_null(row)).then(|| dates.value_as_date(row)).flatten(),
            skill_ids,
            title_family: None,
            description: descriptions[row].clone().unwrap_or_default(),
        });
    }
    Ok(())
}

/// The duplicates by the posting they repeat, and the duplicates table's version (`None`
/// without the table).
fn read_sightings(root: &Path) -> Result<(Option<i64>, Sightings), ServeError> {
    let path = root.join(lake::DUPLICATES);
    if !path.join("_delta_log").is_dir() {
        return Ok((None, HashMap::new()));
    }
    let columns = [
        "posting_key",
        "duplicate_of",
        "match_kind",
        "similarity",
        "date_posted",
        "scraped_at",
        "source_file",
        "source_record",
    ];
    let lake_error = |e: &dyn std::fmt::Display| ServeError::Lake(format!("{}: {e}", path.display()));
    let (version, batches) = lake::scan_table_versioned(&path, &columns).map_err(|e| lake_error(&e))?;
    let mut sightings: BTreeMap<String, Vec<Sighting>> = BTreeMap::new();
    for batch in &batches {
        let text = |i: usize| {
            batch
                .column(i)
                .as_string_opt::<i32>()
                .ok_or_else(|| lake_error(&format!("{} is not text", columns[i])))
        };
        let (keys, of, kinds, scraped, files) = (text(0)?, text(1)?, text(2)?, text(5)?, text(6)?);
        let similarity = batch
            .column(3)
            .as_primitive_opt::<Float64Type>()
            .ok_or_else(|| lake_error(&"similarity is not a number"))?;
        let dates = batch
            .column(4)
            .as_primitive_opt::<Date32Type>()
            .ok_or_else(|| lake_error(&"date_posted is not a date"))?;
        let records = batch
            .column(7)
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| lake_error(&"source_record is not an integer"))?;
        for row in 0..batch.num_rows() {
            sightings.entry(of.value(row).to_string()).or_default().push(Sighting {
                posting_key: keys.value(row).to_string(),
                match_kind: kinds.value(row).to_string(),
                similarity: similarity.value(row),
                date_posted: (!dates.is_null(row)).then(|| dates.value_as_date(row)).flatten(),
                scraped_at: (!scraped.is_null(row)).then(|| scraped.value(row).to_string()),
                source_file: files.value(row).to_string(),
                source_record: records.value(row),
            });
        }
    }
    Ok((Some(version), sightings.into_iter().collect()))
}

/// The skill premiums (see [`rank::market_premiums`]) and their table's version (`None` without
/// the table); [`ServeError::LakeMoved`] when the table changed while it was read.
fn read_premiums(root: &Path) -> Result<(Option<i64>, HashMap<String, f64>), ServeError> {
    let path = root.join(crate::ml::salary::premiums::TABLE);
    let before = version_if_present(&path)?;
    let premiums = rank::market_premiums(root).map_err(|e| ServeError::Lake(format!("{}: {e}", path.display())))?;
    if version_if_present(&path)? != before {
        return Err(ServeError::LakeMoved);
    }
    Ok((before, premiums))
}

/// Each posting's title family (`gold/posting_occupations`: posting key → occupation name) and
/// the table's version (`None` without the table).
fn read_title_families(root: &Path) -> Result<(Option<i64>, HashMap<String, String>), ServeError> {
    let path = root.join(crate::ml::occupation::ASSIGNMENTS_TABLE);
    if !path.join("_delta_log").is_dir() {
        return Ok((None, HashMap::new()));
    }
    let lake_error = |e: &dyn std::fmt::Display| ServeError::Lake(format!("{}: {e}", path.display()));
    let (version, batches) = lake::scan_table_versioned(&path, &["posting_key", "occupation"]).map_err(|e| lake_error(&e))?;
    let mut families = HashMap::new();
    for batch in &batches {
        let (Some(keys), Some(names)) = (batch.column(0).as_string_opt::<i32>(), batch.column(1).as_string_opt::<i32>()) else {
            return Err(lake_error(&"posting_key and occupation are not text"));
        };
        for row in 0..batch.num_rows() {
            if !keys.is_null(row) && !names.is_null(row) {
                families.insert(keys.value(row).to_string(), names.value(row).to_string());
            }
        }
    }
    Ok((Some(version), families))
}
