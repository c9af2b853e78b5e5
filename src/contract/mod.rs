//! The posting contract: the Avro record `com.rats.jobs.JobListing` that every reader decodes
//! into and that `produce` will publish under the subject [`SUBJECT`].
//!
//! Evolution rules (checked by `contract_evolution_rules_hold` in the tests): a new version
//! may only add fields, each nullable with a `null` default. Fields are never removed,
//! renamed or retyped, so every old reader reads every new writer and the other way round.

use std::sync::{LazyLock, OnceLock};

use apache_avro::Schema;
use serde::{Deserialize, Serialize};

/// The Schema Registry subject (and Kafka topic) of the contract.
pub const SUBJECT: &str = "rats.jobs.listing.v1";

/// The schema text, exactly as registered.
pub const SCHEMA_JSON: &str = include_str!("job_listing.avsc");

/// The parsed contract schema.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::parse_str(SCHEMA_JSON).expect("job_listing.avsc is valid Avro (checked by a unit test)"))
}

/// One job posting as a board publishes it. Every field is optional: what a source does not
/// say stays `None`, and normalisation decides what is required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JobListing {
    pub job_id: Option<String>,
    pub site: Option<String>,
    pub search_term: Option<String>,
    pub job: Option<Job>,
    pub compensation: Option<Compensation>,
    pub company_details: Option<CompanyDetails>,
    pub scraped_at: Option<String>,
    pub salary_source: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Job {
    pub job_url: Option<String>,
    pub job_url_direct: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    pub location: Option<String>,
    pub job_type: Option<String>,
    pub date_posted: Option<String>,
    pub is_remote: Option<bool>,
    pub job_level: Option<String>,
    pub job_function: Option<String>,
    pub listing_type: Option<String>,
    pub emails: Option<String>,
    pub description: Option<String>,
    pub work_arrangement: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Compensation {
    pub interval: Option<String>,
    pub min_amount: Option<f64>,
    pub max_amount: Option<f64>,
    pub currency: Option<String>,
    pub salary_text: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompanyDetails {
    pub company_industry: Option<String>,
    pub company_url: Option<String>,
    pub company_url_direct: Option<String>,
    pub company_addresses: Option<String>,
    pub company_num_employees: Option<String>,
    pub company_revenue: Option<String>,
    pub company_description: Option<String>,
    pub logo_photo_url: Option<String>,
    pub banner_photo_url: Option<String>,
    pub ceo_name: Option<String>,
    pub ceo_photo_url: Option<String>,
}

/// Empty parts, lent for a listing that lacks one. Parts are lent rather than cloned: cloning
/// every posting's job with its description was 0.75 % of a Kafka consume's samples
/// (BENCHMARKS.md).
static NO_JOB: LazyLock<Job> = LazyLock::new(Job::default);
static NO_COMPENSATION: LazyLock<Compensation> = LazyLock::new(Compensation::default);
static NO_COMPANY_DETAILS: LazyLock<CompanyDetails> = LazyLock::new(CompanyDetails::default);

impl JobListing {
    /// The job part, or an empty one.
    pub fn job(&self) -> &Job {
        self.job.as_ref().unwrap_or(&NO_JOB)
    }

    /// The compensation part, or an empty one.
    pub fn compensation(&self) -> &Compensation {
        self.compensation.as_ref().unwrap_or(&NO_COMPENSATION)
    }

    /// The company part, or an empty one.
    pub fn company_details(&self) -> &CompanyDetails {
        self.company_details.as_ref().unwrap_or(&NO_COMPANY_DETAILS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apache_avro::{Reader, Writer, from_value};

    #[test]
    fn schema_parses_and_names_the_record() {
        assert_eq!(
            schema().name().map(|n| n.fullname(None)),
            Some("com.rats.jobs.JobListing".to_string())
        );
    }

    #[test]
    fn a_listing_round_trips_through_avro() {
        let listing = JobListing {
            job_id: Some("123".into()),
            site: Some("indeed".into()),
            job: Some(Job {
                title: Some("Data Engineer".into()),
                is_remote: Some(true),
                ..Job::default()
            }),
            compensation: Some(Compensation {
                min_amount: Some(100.0),
                ..Compensation::default()
            }),
            ..JobListing::default()
        };
        let mut writer = Writer::new(schema(), Vec::new()).expect("writer");
        writer.append_ser(&listing).expect("append");
        let bytes = writer.into_inner().expect("flush");
        let mut reader = Reader::new(&bytes[..]).expect("reader");
        let value = reader.next().expect("one record").expect("decodes");
        assert_eq!(from_value::<JobListing>(&value).expect("deserialises"), listing);
    }

    #[test]
    fn contract_evolution_rules_hold() {
        let parsed: serde_json::Value = serde_json::from_str(SCHEMA_JSON).expect("json");
        let mut stack = vec![parsed];
        let mut fields_seen = 0;
        while let Some(node) = stack.pop() {
            for field in node["fields"].as_array().into_iter().flatten() {
                fields_seen += 1;
                let ty = &field["type"];
                assert_eq!(ty[0], "null", "field {} must be nullable", field["name"]);
                assert_eq!(
                    field.get("default"),
                    Some(&serde_json::Value::Null),
                    "field {} must default to null",
                    field["name"]
                );
                if ty[1].is_object() {
                    stack.push(ty[1].clone());
                }
            }
        }
        assert!(fields_seen > 30);
    }
}
