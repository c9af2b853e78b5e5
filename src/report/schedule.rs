//! Report schedules (`reports:` in rats.yaml) and their deliveries. Each schedule's period
//! starts at its latest due minute (its cron expression, UTC); `rats report due` sends the
//! reports whose current period has no delivery yet and records each delivery in the lake's
//! `reports/deliveries` table, so a cron job that fires twice or late sends each report once
//! per period. A report sent for the period starting on day D covers the days up to D − 1 (the
//! last whole day). A send that fails is not recorded, so the next run tries again.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::ReportError;
use super::cron::Cron;
use crate::transform::TransformError;
use crate::transform::delta::DeltaIo;

/// One schedule as written in rats.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// The report (as `rats report list` names it).
    pub name: String,
    /// What deliveries are recorded under; the report's name unless one report is scheduled
    /// twice.
    #[serde(default)]
    pub id: Option<String>,
    /// When a new period starts (five-field cron, UTC).
    pub cron: String,
    pub to: Vec<String>,
    /// The days the report covers [default: the template's `period_days`].
    #[serde(default)]
    pub days: Option<u32>,
    /// Whether the PDF is attached (needs Chromium).
    #[serde(default = "attach_pdf_by_default")]
    pub pdf: bool,
}

fn attach_pdf_by_default() -> bool {
    true
}

impl ScheduleSpec {
    pub fn id(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.name)
    }

    pub fn cron(&self) -> Result<Cron, String> {
        Cron::parse(&self.cron)
    }
}

/// Checks schedules as rats.yaml gives them: cron expressions parse, each has recipients, ids
/// are unique.
pub fn validate(schedules: &[ScheduleSpec]) -> Result<(), String> {
    let mut ids = BTreeSet::new();
    for schedule in schedules {
        schedule.cron().map_err(|e| format!("{}: cron {e}", schedule.id()))?;
        if schedule.to.is_empty() {
            return Err(format!("{}: `to` names nobody", schedule.id()));
        }
        if schedule.days == Some(0) {
            return Err(format!("{}: days must be at least 1", schedule.id()));
        }
        if !ids.insert(schedule.id()) {
            return Err(format!("{} is scheduled twice: give one of them its own `id`", schedule.id()));
        }
    }
    Ok(())
}

/// What a schedule asks for at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing was due in the last 400 days.
    NotDue,
    /// The current period (starting at `slot`) has its delivery.
    Sent { slot: DateTime<Utc> },
    /// The period starting at `slot` has none: send the report made for `as_of`.
    Due { slot: DateTime<Utc>, as_of: NaiveDate },
}

/// What `schedule` asks for at `now`, given the deliveries recorded.
pub fn decide(schedule: &ScheduleSpec, now: DateTime<Utc>, delivered: &BTreeSet<(String, String)>) -> Result<Decision, String> {
    let Some(slot) = schedule.cron()?.latest_at_or_before(now) else {
        return Ok(Decision::NotDue);
    };
    if delivered.contains(&(schedule.id().to_string(), slot_key(slot))) {
        return Ok(Decision::Sent { slot });
    }
    Ok(Decision::Due {
        slot,
        as_of: slot.date_naive() - Duration::days(1),
    })
}

fn slot_key(slot: DateTime<Utc>) -> String {
    slot.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `LAKE/reports/deliveries`.
pub fn table_path(lake: &Path) -> PathBuf {
    lake.join("reports").join("deliveries")
}

/// The (schedule id, period start) of every delivery recorded.
pub fn delivered(io: &DeltaIo, lake: &Path) -> Result<BTreeSet<(String, String)>, ReportError> {
    let columns = read_text_columns(io, lake, &["schedule", "period_starts_at"])?;
    Ok(columns[0]
        .iter()
        .zip(columns[1].iter())
        .filter_map(|(s, t)| Some((s.clone()?, t.clone()?)))
        .collect())
}

/// The reports (by template name) with at least one delivery recorded.
pub fn delivered_reports(io: &DeltaIo, lake: &Path) -> Result<BTreeSet<String>, ReportError> {
    let columns = read_text_columns(io, lake, &["report"])?;
    Ok(columns[0].iter().flatten().cloned().collect())
}

/// The text columns `names` of the deliveries table (empty ones when there is no table yet).
fn read_text_columns(io: &DeltaIo, lake: &Path, names: &[&str]) -> Result<Vec<Vec<Option<String>>>, ReportError> {
    let path = table_path(lake);
    if !DeltaIo::exists(&path) {
        return Ok(vec![Vec::new(); names.len()]);
    }
    let engine = |e: PolarsError| ReportError::Output(format!("{}: {e}", path.display()));
    let frame = io
        .scan(&path)
        .map_err(|e| ReportError::Output(e.to_string()))?
        .select(names.iter().map(|name| col(*name)).collect::<Vec<_>>())
        .collect()
        .map_err(engine)?;
    names
        .iter()
        .map(|name| {
            let column = frame.column(name).and_then(|c| c.str().cloned()).map_err(engine)?;
            Ok(column.iter().map(|v| v.map(str::to_string)).collect())
        })
        .collect()
}

/// One report sent for one period.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    pub schedule: &'a ScheduleSpec,
    pub slot: DateTime<Utc>,
    pub covers: (NaiveDate, NaiveDate),
    pub subject: &'a str,
    pub sent_at: DateTime<Utc>,
}

/// Appends `delivery` to the lake's deliveries table.
pub fn record(io: &DeltaIo, lake: &Path, delivery: &Delivery<'_>) -> Result<(), ReportError> {
    let text = |name: &str, value: String| Column::new(name.into(), vec![value]);
    let frame = DataFrame::new(
        1,
        vec![
            text("schedule", delivery.schedule.id().to_string()),
            text("report", delivery.schedule.name.clone()),
            text("period_starts_at", slot_key(delivery.slot)),
            text("covers_from", delivery.covers.0.to_string()),
            text("covers_to", delivery.covers.1.to_string()),
            text("recipients", delivery.schedule.to.join(", ")),
            text("subject", delivery.subject.to_string()),
            text("sent_at", delivery.sent_at.to_rfc3339_opts(SecondsFormat::Secs, true)),
        ],
    )
    .map_err(|e| ReportError::Output(format!("reports/deliveries: {e}")))?;
    let mut metadata = serde_json::Map::new();
    metadata.insert("operation".into(), "rats report due".into());
    io.write(&table_path(lake), frame, false, metadata)
        .map_err(|e: TransformError| ReportError::Output(format!("cannot record the delivery: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(cron: &str) -> ScheduleSpec {
        serde_norway::from_str(&format!("name: weekly-market\ncron: \"{cron}\"\nto: [a@example.org]\n")).expect("test input is valid")
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("a moment").with_timezone(&Utc)
    }

    #[test]
    fn a_period_is_due_once_and_covers_the_days_before_it() {
        let weekly = schedule("0 8 * * MON");
        let mut delivered = BTreeSet::new();
        let due = decide(&weekly, at("2025-04-23T10:00:00Z"), &delivered).expect("valid");
        let Decision::Due { slot, as_of } = due else { panic!("{due:?}") };
        assert_eq!((slot, as_of.to_string().as_str()), (at("2025-04-21T08:00:00Z"), "2025-04-20"));
        delivered.insert(("weekly-market".to_string(), slot_key(slot)));
        assert_eq!(decide(&weekly, at("2025-04-27T23:59:00Z"), &delivered), Ok(Decision::Sent { slot }));
        assert!(matches!(
            decide(&weekly, at("2025-04-28T08:00:00Z"), &delivered),
            Ok(Decision::Due { .. })
        ));
    }

    #[test]
    fn schedules_are_checked() {
        assert!(validate(&[schedule("0 8 * * MON")]).is_ok());
        assert!(
            validate(&[schedule("0 8 * MON")])
                .expect_err("four fields")
                .contains("weekly-market: cron")
        );
        assert!(
            validate(&[schedule("@daily"), schedule("@weekly")])
                .expect_err("twice")
                .contains("its own `id`")
        );
        let mut nobody = schedule("@daily");
        nobody.to.clear();
        assert!(validate(&[nobody]).is_err());
        assert!(
            serde_norway::from_str::<ScheduleSpec>("name: x\ncron: \"@daily\"\nto: []\nsend_to: []\n").is_err(),
            "unknown keys are refused"
        );
    }
}
