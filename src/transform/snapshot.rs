//! Snapshots: slowly changing dimensions of type 2, as dbt keeps them. Each run compares the
//! query's rows with the snapshot's current versions (`dbt_valid_to` null) by `unique_key`:
//! a key whose values changed (`check` strategy: any of `check_cols`; `timestamp` strategy: a
//! newer `updated_at`) gets its current version closed (`dbt_valid_to` = the run's time) and
//! a new version opened; a new key gets its first version. Rows whose key left the query stay
//! as they are (dbt's default, without `invalidate_hard_deletes`).

use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::dag::Node;

/// How changes are detected.
#[derive(Debug, Clone)]
pub enum Strategy {
    /// These columns (`check_cols`; `all` means every non-key column).
    Check(Vec<String>),
    /// This column holds when the row last changed.
    Timestamp(String),
}

/// A snapshot's configuration, from `config()` in its file.
#[derive(Debug, Clone)]
pub struct SnapshotConfig {
    pub unique_key: String,
    pub strategy: Strategy,
}

impl SnapshotConfig {
    pub fn of(node: &Node) -> Result<Self, String> {
        let unique_key = node
            .config_str("unique_key")
            .ok_or("a snapshot needs config(unique_key='...')")?
            .to_string();
        let strategy = match node.config_str("strategy") {
            Some("check") => Strategy::Check(match node.config.get("check_cols") {
                Some(serde_json::Value::Array(cols)) => cols.iter().filter_map(|c| c.as_str().map(str::to_string)).collect(),
                Some(serde_json::Value::String(all)) if all == "all" => Vec::new(),
                _ => return Err("strategy='check' needs check_cols=[...] or 'all'".into()),
            }),
            Some("timestamp") => Strategy::Timestamp(
                node.config_str("updated_at")
                    .ok_or("strategy='timestamp' needs updated_at='column'")?
                    .to_string(),
            ),
            other => return Err(format!("strategy={other:?} is not 'check' or 'timestamp'")),
        };
        Ok(SnapshotConfig { unique_key, strategy })
    }
}

const VALID_FROM: &str = "dbt_valid_from";
const VALID_TO: &str = "dbt_valid_to";
const UPDATED_AT: &str = "dbt_updated_at";
const SCD_ID: &str = "dbt_scd_id";

/// The snapshot after this run, or `None` when nothing changed. `existing` is the stored
/// snapshot (none on the first run); `now_us` the run's time in microseconds since the epoch.
pub fn apply(config: &SnapshotConfig, current: DataFrame, existing: Option<DataFrame>, now_us: i64) -> PolarsResult<Option<DataFrame>> {
    let key = config.unique_key.as_str();
    let Some(existing) = existing else {
        return versions(config, current, now_us).map(Some);
    };
    let open = existing.clone().lazy().filter(col(VALID_TO).is_null());
    let data_columns: Vec<String> = current.get_column_names().iter().map(ToString::to_string).collect();
    let suffixed = |c: &str| format!("{c}__current");
    let joined = current
        .clone()
        .lazy()
        .join(
            open.select(
                [col(key), col(UPDATED_AT)]
                    .into_iter()
                    .chain(compared(config, &data_columns).iter().map(|c| col(c.as_str()).alias(suffixed(c))))
                    .collect::<Vec<_>>(),
            ),
            [col(key)],
            [col(key)],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col(UPDATED_AT).is_null().alias("__new"))
        .collect()?;
    let changed = match &config.strategy {
        Strategy::Check(_) => compared(config, &data_columns)
            .iter()
            .map(|c| col(c.as_str()).eq_missing(col(suffixed(c).as_str())).not())
            .reduce(Expr::or)
            .unwrap_or(lit(false)),
        Strategy::Timestamp(updated_at) => col(updated_at.as_str())
            .cast(DataType::Int64)
            .gt(col(UPDATED_AT).cast(DataType::Int64)),
    };
    let touched = joined
        .lazy()
        .filter(col("__new").or(changed))
        .select(data_columns.iter().map(|c| col(c.as_str())).collect::<Vec<_>>())
        .collect()?;
    if touched.height() == 0 {
        return Ok(None);
    }
    let touched_keys = touched.column(key)?.as_materialized_series().clone();
    let timestamp_type = existing.column(VALID_FROM)?.dtype().clone();
    let closed = existing
        .lazy()
        .with_column(
            when(col(VALID_TO).is_null().and(col(key).is_in(lit(touched_keys).implode(false), false)))
                .then(
                    lit(now_us)
                        .cast(DataType::Datetime(TimeUnit::Microseconds, None))
                        .cast(timestamp_type.clone()),
                )
                .otherwise(col(VALID_TO))
                .alias(VALID_TO),
        )
        .collect()?;
    let opened = versions(config, touched, now_us)?;
    let opened = opened
        .lazy()
        .with_columns([
            col(VALID_FROM).cast(timestamp_type.clone()),
            col(VALID_TO).cast(timestamp_type.clone()),
            col(UPDATED_AT).cast(closed.column(UPDATED_AT)?.dtype().clone()),
        ])
        .select(closed.get_column_names().iter().map(|c| col(c.as_str())).collect::<Vec<_>>())
        .collect()?;
    concat([closed.lazy(), opened.lazy()], UnionArgs::default())?.collect().map(Some)
}

/// The columns compared by the check strategy.
fn compared(config: &SnapshotConfig, data_columns: &[String]) -> Vec<String> {
    match &config.strategy {
        Strategy::Check(cols) if cols.is_empty() => data_columns.iter().filter(|c| **c != config.unique_key).cloned().collect(),
        Strategy::Check(cols) => cols.clone(),
        Strategy::Timestamp(_) => Vec::new(),
    }
}

/// New versions of `rows`, valid from the run (check) or their `updated_at` (timestamp).
fn versions(config: &SnapshotConfig, rows: DataFrame, now_us: i64) -> PolarsResult<DataFrame> {
    let run_time = lit(now_us).cast(DataType::Datetime(TimeUnit::Microseconds, None));
    let updated = match &config.strategy {
        Strategy::Check(_) => run_time.clone(),
        Strategy::Timestamp(column) => col(column.as_str()).cast(DataType::Datetime(TimeUnit::Microseconds, None)),
    };
    let mut frame = rows
        .lazy()
        .with_columns([
            updated.clone().alias(UPDATED_AT),
            updated.alias(VALID_FROM),
            lit(NULL).cast(DataType::Datetime(TimeUnit::Microseconds, None)).alias(VALID_TO),
        ])
        .collect()?;
    let ids = scd_ids(&frame, &config.unique_key)?;
    frame.with_column(Column::new(SCD_ID.into(), ids))?;
    Ok(frame)
}

/// dbt's `dbt_scd_id`: a hash of the key and the version's start, unique per version.
fn scd_ids(frame: &DataFrame, key: &str) -> PolarsResult<Vec<String>> {
    let keys = frame.column(key)?.cast(&DataType::String)?;
    let starts = frame.column(VALID_FROM)?.cast(&DataType::Int64)?;
    let (keys, starts) = (keys.str()?, starts.i64()?);
    Ok(keys
        .iter()
        .zip(starts.iter())
        .map(|(k, s)| {
            let digest = Sha256::digest(format!("{}|{}", k.unwrap_or_default(), s.unwrap_or_default()));
            crate::normalize::hex(&digest[..16])
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn companies(rows: &[(&str, &str)]) -> DataFrame {
        df!(
            "company_key" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "industry" => rows.iter().map(|r| r.1).collect::<Vec<_>>()
        )
        .expect("frame")
    }

    fn config() -> SnapshotConfig {
        SnapshotConfig {
            unique_key: "company_key".into(),
            strategy: Strategy::Check(vec!["industry".into()]),
        }
    }

    #[test]
    fn a_changed_row_closes_its_version_and_opens_a_new_one() {
        let first = apply(&config(), companies(&[("acme", "retail"), ("globex", "energy")]), None, 1_000)
            .expect("applies")
            .expect("first run writes");
        assert_eq!(first.height(), 2);
        assert!(
            apply(
                &config(),
                companies(&[("acme", "retail"), ("globex", "energy")]),
                Some(first.clone()),
                2_000
            )
            .expect("applies")
            .is_none(),
            "no change, no new version"
        );
        let second = apply(
            &config(),
            companies(&[("acme", "software"), ("globex", "energy"), ("initech", "software")]),
            Some(first),
            3_000,
        )
        .expect("applies")
        .expect("changes");
        assert_eq!(second.height(), 4, "acme twice, globex, initech");
        let open = second.clone().lazy().filter(col(VALID_TO).is_null()).collect().expect("open");
        assert_eq!(open.height(), 3, "one current version per key");
        let closed = second.lazy().filter(col(VALID_TO).is_not_null()).collect().expect("closed");
        assert_eq!(
            closed.column("industry").expect("industry").str().expect("text").get(0),
            Some("retail")
        );
    }

    #[test]
    fn the_timestamp_strategy_opens_a_version_only_for_newer_rows() {
        let rows = |updated: &[i64]| {
            df!(
                "company_key" => ["acme", "globex"],
                "updated" => updated.to_vec()
            )
            .expect("frame")
        };
        let config = SnapshotConfig {
            unique_key: "company_key".into(),
            strategy: Strategy::Timestamp("updated".into()),
        };
        let first = apply(&config, rows(&[10, 20]), None, 1_000).expect("applies").expect("first run");
        assert!(
            apply(&config, rows(&[10, 20]), Some(first.clone()), 2_000)
                .expect("applies")
                .is_none()
        );
        let second = apply(&config, rows(&[10, 25]), Some(first), 3_000)
            .expect("applies")
            .expect("globex is newer");
        assert_eq!(second.height(), 3);
    }
}
