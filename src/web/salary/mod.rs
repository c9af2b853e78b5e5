//! The salary pages: `GET /salary` — pay by title family, place, seniority and years of
//! experience as box plots over the postings the filters keep, and the salary model's skill
//! premiums — and `GET /salary/estimate`, the predictor form (the model's estimate, its 80 %
//! interval and what drives it).

mod distribution;
mod estimate;

pub use distribution::distribution;
pub use estimate::estimate;

use serde::Serialize;

use crate::normalize::title::Seniority;
use crate::serve::routes::salary::REMOTE_TYPES;

/// The choices the salary forms offer.
#[derive(Debug, Serialize)]
struct Choices {
    remote_types: [&'static str; 3],
    seniorities: Vec<&'static str>,
}

fn choices() -> Choices {
    Choices {
        remote_types: REMOTE_TYPES,
        seniorities: <Seniority as clap::ValueEnum>::value_variants()
            .iter()
            .map(|s| s.as_str())
            .collect(),
    }
}
