//! Posting dates in the layouts boards use.

use chrono::NaiveDate;

const FORMATS: [&str; 7] = ["%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%Y/%m/%d"];

/// Reads a date, ignoring a trailing time ("2012-01-26T00:00:00.000"). `None` when no known
/// layout fits: relative phrases like "2 months ago" carry no date of their own.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    let date_part = raw.split(['T', ' ']).next().unwrap_or(raw);
    FORMATS
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(date_part, f).ok())
        .or_else(|| FORMATS.iter().find_map(|f| NaiveDate::parse_from_str(raw, f).ok()))
        .filter(|d| (1990..=2100).contains(&chrono::Datelike::year(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_layouts() {
        let d = NaiveDate::from_ymd_opt(2012, 1, 26);
        assert_eq!(parse_date("2012-01-26"), d);
        assert_eq!(parse_date("2012-01-26T00:00:00.000"), d);
        assert_eq!(parse_date("01/26/2012"), d);
        assert_eq!(parse_date("Jan 26, 2012"), d);
        assert_eq!(parse_date("2 months ago"), None);
        assert_eq!(parse_date("1850-01-01"), None);
    }
}
