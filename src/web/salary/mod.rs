//! The salary pages: `GET /salary` — pay by title family, place, seniority and years of
//! experience as box plots over the postings the filters keep, and the salary model's skill
//! premiums — and `GET /salary/estimate`, the predictor form (the model's estimate, its 80 %
//! interval and what drives it).

mod distribution;
mod estimate;

pub use distribution::distribution;
pub use estimate::estimate;
