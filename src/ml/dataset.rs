//! The salary model's training examples, read from silver: postings whose yearly pay in US
//! dollars the board stated or estimated. Everything else is counted by the reason it was left
//! out, so a model card says exactly what it was trained on.

use std::collections::BTreeMap;
use std::path::Path;

use deltalake::arrow::array::{Array, AsArray, RecordBatch};
use deltalake::arrow::datatypes::{Float64Type, Int32Type};

use super::MlError;
use super::facts::PostingFacts;
use crate::lake::{self, LakeError};

/// Datasets whose pay is not a posting's pay. `glassdoor-ds-uncleaned`'s salary is the search
/// filter's bucket (30 distinct values across 672 postings), so it would teach the buckets.
const UNUSABLE_PAY: &[&str] = &["glassdoor-ds-uncleaned"];

/// Yearly USD pay outside this range is a unit or parsing error, not a salary.
pub const PLAUSIBLE_PAY_USD: (f64, f64) = (8_000.0, 1_500_000.0);

#[derive(Debug, Clone)]
pub struct SalaryExample {
    pub posting_key: String,
    pub facts: PostingFacts,
    /// The dataset (the input file's folder, or the Kafka topic's source site).
    pub dataset: String,
    /// What leave-one-dataset-out holds out: the dataset, or for the Glassdoor metro files each
    /// state's file on its own.
    pub slice: String,
    /// Postings of one group never sit on both sides of a split: the company, else title + place.
    pub group: String,
    /// Midpoint of the yearly range in US dollars.
    pub salary_usd: f64,
}

#[derive(Debug, Clone)]
pub struct SalaryData {
    pub examples: Vec<SalaryExample>,
    pub silver_version: i64,
    pub silver_rows: usize,
    /// Postings left out, by reason.
    pub excluded: BTreeMap<String, usize>,
}

const COLUMNS: &[&str] = &[
    "posting_key",
    "source_site",
    "source_file",
    "title",
    "company_key",
    "location_city",
    "location_state",
    "location_country",
    "remote_type",
    "seniority",
    "min_years_experience",
    "job_type",
    "education_level",
    "company_size_band",
    "company_industry",
    "salary_min_usd",
    "salary_max_usd",
    "salary_source",
    "description",
    "skill_ids",
];

/// Reads the examples from the lake at `root`.
pub fn load(root: &Path) -> Result<SalaryData, MlError> {
    let path = root.join(lake::SILVER);
    let (version, batches) = lake::scan_table_versioned(&path, COLUMNS)?;
    let mut data = SalaryData {
        examples: Vec::new(),
        silver_version: version,
        silver_rows: 0,
        excluded: BTreeMap::new(),
    };
    for batch in &batches {
        read_batch(batch, &mut data).map_err(|message| LakeError::Invalid {
            path: path.clone(),
            message,
        })?;
    }
    // Scan order follows Delta's file list; sorting makes training independent of it.
    data.examples.sort_by(|a, b| a.posting_key.cmp(&b.posting_key));
    Ok(data)
}

fn read_batch(batch: &RecordBatch, data: &mut SalaryData) -> Result<(), String> {
    let text = |i: usize| {
        batch
            .column(i)
            .as_string_opt::<i32>()
            .ok_or_else(|| format!("silver's {} is not a string column", COLUMNS[i]))
    };
    let number = |i: usize| {
        batch
            .column(i)
            .as_primitive_opt::<Float64Type>()
            .ok_or_else(|| format!("silver's {} is not a double column", COLUMNS[i]))
    };
    let value = |i: usize, row: usize| -> Result<Option<String>, String> {
        let column = text(i)?;
        Ok((!column.is_null(row)).then(|| column.value(row).to_string()))
    };
    let years = batch
        .column(10)
        .as_primitive_opt::<Int32Type>()
        .ok_or("silver's min_years_experience is not an int column")?;
    let skills = batch
        .column(19)
        .as_list_opt::<i32>()
        .ok_or("silver's skill_ids is not a list column")?;
    let (low, high) = (number(15)?, number(16)?);
    for row in 0..batch.num_rows() {
        data.silver_rows += 1;
        let source_file = value(2, row)?.unwrap_or_default();
        let site = value(1, row)?.unwrap_or_default();
        let dataset = dataset_of(&source_file, &site);
        let source = value(17, row)?;
        let reason = if UNUSABLE_PAY.contains(&dataset.as_str()) {
            Some("pay is a search bucket (glassdoor-ds-uncleaned)")
        } else if low.is_null(row) || high.is_null(row) {
            Some("no pay in US dollars")
        } else if !matches!(source.as_deref(), Some("stated" | "estimated")) {
            Some("pay only parsed from the description text")
        } else {
            None
        };
        let salary_usd = f64::midpoint(low.value(row), high.value(row));
        let reason = reason
            .or_else(|| (!(PLAUSIBLE_PAY_USD.0..=PLAUSIBLE_PAY_USD.1).contains(&salary_usd)).then_some("pay outside 8k–1.5M USD a year"));
        if let Some(reason) = reason {
            *data.excluded.entry(reason.to_string()).or_default() += 1;
            continue;
        }
        let skill_ids = if skills.is_null(row) {
            Vec::new()
        } else {
            skills.value(row).as_string::<i32>().iter().flatten().map(str::to_string).collect()
        };
        let facts = PostingFacts {
            title: value(3, row)?.unwrap_or_default(),
            seniority: value(9, row)?,
            min_years_experience: (!years.is_null(row)).then(|| years.value(row)),
            education_level: value(12, row)?,
            company_size_band: value(13, row)?,
            company_industry: value(14, row)?,
            remote_type: value(8, row)?,
            job_type: value(11, row)?,
            city: value(5, row)?,
            state: value(6, row)?,
            country: value(7, row)?,
            skill_ids,
            description: value(18, row)?,
            occupation: None,
        };
        let group = match value(4, row)? {
            Some(company) => format!("company:{company}"),
            None => format!("title:{}|{}", facts.title.to_lowercase(), facts.place().unwrap_or_default()),
        };
        data.examples.push(SalaryExample {
            posting_key: value(0, row)?.unwrap_or_default(),
            slice: slice_of(&dataset, &source_file),
            dataset,
            group,
            salary_usd,
            facts,
        });
    }
    Ok(())
}

impl SalaryData {
    /// SHA-256 of the examples as training sees them, in order.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for e in &self.examples {
            let f = &e.facts;
            let text = format!(
                "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{:?}\u{1f}{}\u{1e}",
                e.posting_key, e.dataset, e.slice, e.group, f, e.salary_usd
            );
            hash.update(text.as_bytes());
        }
        crate::normalize::hex(&hash.finalize())
    }
}

/// The dataset a posting came from: its input file's folder (`postings/adzuna-uk/Train_rev1.csv`
/// → `adzuna-uk`), or the source site for Kafka partitions and bare file names.
pub fn dataset_of(source_file: &str, source_site: &str) -> String {
    if source_file.starts_with("kafka://") {
        return source_site.to_string();
    }
    let path = Path::new(source_file);
    path.parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .map_or_else(|| source_site.to_string(), str::to_string)
}

/// Leave-one-dataset-out's unit: each Glassdoor metro file (one state's postings) on its own.
fn slice_of(dataset: &str, source_file: &str) -> String {
    if dataset == "glassdoor-2020-metros" {
        let stem = Path::new(source_file).file_stem().and_then(|s| s.to_str()).unwrap_or(dataset);
        return format!("{dataset}/{stem}");
    }
    dataset.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dataset_is_the_input_folder() {
        assert_eq!(
            dataset_of("../shared/datasets/postings/adzuna-uk/Train_rev1.csv", "adzuna"),
            "adzuna-uk"
        );
        assert_eq!(dataset_of("jobs.csv", "indeed"), "indeed");
        assert_eq!(dataset_of("kafka://rats.jobs/0", "linkedin"), "linkedin");
        assert_eq!(
            slice_of("glassdoor-2020-metros", "x/glassdoor-2020-metros/Data_Job_WA.csv"),
            "glassdoor-2020-metros/Data_Job_WA"
        );
        assert_eq!(slice_of("nyc-jobs", "x/nyc-jobs/NYC_Jobs.csv"), "nyc-jobs");
    }
}
