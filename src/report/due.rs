//! One pass over the report schedules — what `rats report due` runs from cron and `rats serve`
//! runs every minute: under the lake's lock, each schedule whose current period has no
//! delivery gets its report rendered, mailed and recorded (see `schedule`).

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};

use super::schedule::{self, Decision, Delivery, ScheduleSpec};
use super::{Catalog, ReportError, mail, pdf, render};
use crate::chart::ChartSpec;
use crate::mail::Mailer;
use crate::transform::delta::DeltaIo;

/// What a pass needs: the lake, the schedules, where mail goes and how PDFs are printed.
#[derive(Debug, Clone)]
pub struct DueConfig {
    pub lake: PathBuf,
    pub schedules: Vec<ScheduleSpec>,
    /// A folder of report templates (else `./reports` when it exists, over the built-in ones).
    pub reports: Option<PathBuf>,
    pub smtp_url: Option<String>,
    pub smtp_from: String,
    pub chromium: Option<PathBuf>,
}

impl DueConfig {
    /// The schedules, mail server and browser of `settings`, over their lake; templates from
    /// `reports` (else `./reports` when it exists, over the built-in ones).
    pub fn from_settings(settings: &crate::settings::Settings, reports: Option<PathBuf>) -> Self {
        DueConfig {
            lake: settings.lake.value.clone(),
            schedules: settings.report_schedules.value.clone(),
            reports,
            smtp_url: settings.smtp_url.value.clone(),
            smtp_from: settings.smtp_from.value.clone(),
            chromium: settings.report_chromium.value.clone(),
        }
    }
}

/// What became of one schedule in a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueStatus {
    NotDue,
    SentBefore,
    /// Due, and left alone (a dry run).
    Due,
    Sent,
    Failed(String),
}

impl DueStatus {
    pub fn text(&self) -> String {
        match self {
            DueStatus::NotDue => "not due".into(),
            DueStatus::SentBefore => "sent before".into(),
            DueStatus::Due => "due".into(),
            DueStatus::Sent => "sent".into(),
            DueStatus::Failed(error) => format!("failed: {error}"),
        }
    }
}

/// One schedule's line of a pass.
#[derive(Debug, Clone)]
pub struct DueRow {
    pub schedule: ScheduleSpec,
    /// The start of its current period, when it has one.
    pub slot: Option<DateTime<Utc>>,
    pub status: DueStatus,
}

/// Judges every schedule at `now` and (unless `dry_run`) sends what is due. A send that fails
/// is a `Failed` row, not an error: the others still go. Errors are what stops the whole pass
/// (the lock held by another process, an unreadable lake or template folder).
pub fn run(config: &DueConfig, now: DateTime<Utc>, dry_run: bool) -> Result<Vec<DueRow>, ReportError> {
    let lake = &config.lake;
    if !lake.is_dir() {
        return Err(ReportError::Output(format!("the lake {} does not exist", lake.display())));
    }
    let lock_path = lake.join(".rats-report-due.lock");
    let _lock = match crate::lock::try_lock(&lock_path).map_err(|source| ReportError::Io {
        path: lock_path.clone(),
        source,
    })? {
        Ok(lock) => lock,
        Err(holder) => {
            return Err(ReportError::Output(format!(
                "another rats report due is sending from {} ({holder})",
                lake.display()
            )));
        }
    };
    let io = DeltaIo::new().map_err(crate::export::ExportError::from)?;
    let delivered = schedule::delivered(&io, lake)?;
    let catalog = Catalog::resolve(config.reports.as_deref());
    let charts = catalog.charts()?;
    let mut mailer: Option<Mailer> = None;
    let mut rows = Vec::with_capacity(config.schedules.len());
    for spec in &config.schedules {
        let decision = schedule::decide(spec, now, &delivered).map_err(|e| ReportError::Output(format!("reports: {}: {e}", spec.id())))?;
        let (slot, status) = match decision {
            Decision::NotDue => (None, DueStatus::NotDue),
            Decision::Sent { slot } => (Some(slot), DueStatus::SentBefore),
            Decision::Due { slot, .. } if dry_run => (Some(slot), DueStatus::Due),
            Decision::Due { slot, as_of } => {
                let pass = Pass {
                    config,
                    catalog: &catalog,
                    charts: &charts,
                    io: &io,
                };
                match pass.send(spec, slot, as_of, &mut mailer) {
                    Ok(()) => (Some(slot), DueStatus::Sent),
                    Err(error) => {
                        tracing::error!(schedule = spec.id(), %error, "the report was not sent");
                        (Some(slot), DueStatus::Failed(error.to_string()))
                    }
                }
            }
        };
        rows.push(DueRow {
            schedule: spec.clone(),
            slot,
            status,
        });
    }
    Ok(rows)
}

/// What every send of a pass shares.
struct Pass<'a> {
    config: &'a DueConfig,
    catalog: &'a Catalog,
    charts: &'a [ChartSpec],
    io: &'a DeltaIo,
}

impl Pass<'_> {
    /// Renders, mails and records one scheduled report for the period starting at `slot`.
    fn send(&self, spec: &ScheduleSpec, slot: DateTime<Utc>, as_of: NaiveDate, mailer: &mut Option<Mailer>) -> Result<(), ReportError> {
        if mailer.is_none() {
            let url = self
                .config
                .smtp_url
                .as_deref()
                .ok_or_else(|| ReportError::Output("no mail server: set smtp.url in rats.yaml or RATS_SMTP_URL".into()))?;
            *mailer = Some(Mailer::new(url, &self.config.smtp_from)?);
        }
        let mailer = mailer.as_ref().ok_or_else(|| ReportError::Output("no mail server".into()))?;
        let template = self.catalog.template(&spec.name)?.covering(spec.days);
        let browser = if spec.pdf {
            Some(pdf::find_browser(self.config.chromium.as_deref())?)
        } else {
            None
        };
        let report = render::render(&template, &self.config.lake, as_of, self.charts)?;
        let composed = mail::compose(&report, browser.as_deref())?;
        mail::send(mailer, &spec.to, &composed)?;
        schedule::record(
            self.io,
            &self.config.lake,
            &Delivery {
                schedule: spec,
                slot,
                covers: (report.period.start, report.period.end),
                subject: &composed.subject,
                sent_at: Utc::now(),
            },
        )
    }
}
