//! Durations as people write them in YAML: `90m`, `36h`, `7d`, `2w` (freshness limits,
//! retraining intervals).

/// A duration as settings and expectations write it: a number and `m`, `h`, `d` or `w`.
pub fn parse_age(text: &str) -> Option<chrono::Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let amount: i64 = text[..text.len() - unit.len_utf8()].trim().parse().ok()?;
    if amount < 0 {
        return None;
    }
    match unit {
        'm' => Some(chrono::Duration::minutes(amount)),
        'h' => Some(chrono::Duration::hours(amount)),
        'd' => Some(chrono::Duration::days(amount)),
        'w' => Some(chrono::Duration::weeks(amount)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_in_minutes_hours_days_and_weeks() {
        assert_eq!(parse_age("36h"), Some(chrono::Duration::hours(36)));
        assert_eq!(parse_age("7d"), Some(chrono::Duration::days(7)));
        assert_eq!(parse_age("2w"), Some(chrono::Duration::weeks(2)));
        assert_eq!(parse_age("90m"), Some(chrono::Duration::minutes(90)));
        assert_eq!(parse_age("7"), None);
        assert_eq!(parse_age("d"), None);
        assert_eq!(parse_age("-1d"), None);
    }
}
