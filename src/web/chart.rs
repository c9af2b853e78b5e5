//! The series the pages hand to their zoomable charts (`app.js` draws them with uPlot).

use chrono::NaiveDate;
use serde_json::{Value, json};

/// Counts per month (`YYYY-MM`) as uPlot's series: Unix seconds of each month's first day, and
/// the counts. A label that is not a month is left out.
pub fn monthly<'a>(months: impl Iterator<Item = (&'a str, usize)>) -> Value {
    let (mut at, mut counts) = (Vec::new(), Vec::new());
    for (month, count) in months {
        if let Some(first) = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
        {
            at.push(first.and_utc().timestamp());
            counts.push(count);
        }
    }
    json!([at, counts])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_start_at_their_first_day_and_other_labels_are_left_out() {
        let series = monthly([("2025-01", 3), ("undated", 9), ("2025-02", 0)].into_iter());
        assert_eq!(series, json!([[1_735_689_600, 1_738_368_000], [3, 0]]));
    }
}
