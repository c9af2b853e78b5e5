//! The normaliser every command that reads postings builds from the settings, so `predict`
//! sees a posting exactly as `consume` stored it: exchange rates (`fx.fed_csv`), the skill
//! taxonomy and the span model.

use std::sync::Arc;

use rats::normalize::Normaliser;
use rats::normalize::currency::Currencies;
use rats::settings::Settings;

pub fn from_settings(settings: &Settings) -> anyhow::Result<Normaliser> {
    let currencies = match &settings.fx_fed_csv.value {
        Some(path) => Currencies::with_fed_csv(path)?,
        None => Currencies::builtin(),
    };
    let mut normaliser = Normaliser::new(currencies);
    if settings.skills_taxonomy.value.is_some() || settings.skills_model.value.is_some() {
        let extractor = rats::skills::load(settings.skills_taxonomy.value.as_deref(), settings.skills_model.value.as_deref())?;
        normaliser = normaliser.with_skills(Arc::new(extractor));
    }
    Ok(normaliser)
}
