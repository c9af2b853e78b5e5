//! A company's history from the `dim_company` snapshot (`rats transform snapshot`): each version
//! of its name, size band and industry with when it became current and when a newer one
//! replaced it. Read at request time: a transform moves no table the server's snapshot follows.

use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use crate::transform::TransformError;
use crate::transform::delta::DeltaIo;
use crate::web::health::figures::texts;

/// Where the snapshot lands (`sql-models/snapshots/dim_company.sql`).
const DIM_COMPANY: &str = "gold/dim_company";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Version {
    pub name: Option<String>,
    pub size_band: Option<String>,
    pub industry: Option<String>,
    /// UTC, to the minute.
    pub valid_from: Option<String>,
    /// `None` for the current version.
    pub valid_to: Option<String>,
}

/// The versions of `company_key`, oldest first; `None` when the lake has no snapshot yet.
pub fn versions(io: &DeltaIo, root: &Path, company_key: &str) -> Result<Option<Vec<Version>>, TransformError> {
    let path = root.join(DIM_COMPANY);
    if !DeltaIo::exists(&path) {
        return Ok(None);
    }
    let fail = |e: PolarsError| TransformError::Engine {
        model: "dim_company".into(),
        message: e.to_string(),
    };
    let minute = |name: &str| col(name).dt().strftime("%Y-%m-%d %H:%M UTC").alias(name);
    let frame = io
        .scan(&path)?
        .filter(col("company_key").eq(lit(company_key.to_string())))
        .sort(["dbt_valid_from"], SortMultipleOptions::default())
        .select([
            col("company_name"),
            col("company_size_band"),
            col("company_industry"),
            minute("dbt_valid_from"),
            minute("dbt_valid_to"),
        ])
        .collect()
        .map_err(fail)?;
    let column = |name: &str| texts(&frame, name).map_err(fail);
    Ok(Some(
        column("company_name")?
            .into_iter()
            .zip(column("company_size_band")?)
            .zip(column("company_industry")?)
            .zip(column("dbt_valid_from")?.into_iter().zip(column("dbt_valid_to")?))
            .map(|(((name, size_band), industry), (valid_from, valid_to))| Version {
                name,
                size_band,
                industry,
                valid_from,
                valid_to,
            })
            .collect(),
    ))
}
