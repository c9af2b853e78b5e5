//! `rats config show`.

use rats::exit::Outcome;
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};

pub fn show(settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let rows: Vec<Vec<String>> = settings.rows().into_iter().map(|(k, v, s)| vec![k.to_string(), v, s]).collect();
    let json = serde_json::Value::Object(
        rows.iter()
            .map(|r| (r[0].clone(), serde_json::json!({"value": r[1], "source": r[2]})))
            .collect(),
    );
    let report = Report {
        header: vec!["setting".into(), "value".into(), "source".into()],
        rows,
        json,
    };
    if !(quiet && settings.format.value == OutputFormat::Table) {
        output::write(&mut std::io::stdout().lock(), settings.format.value, &report)?;
    }
    Ok(Outcome::Success)
}
