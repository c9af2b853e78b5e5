//! The statistics behind the volume and drift expectations, kept apart from the lake so they
//! are tested on numbers alone.

use std::collections::BTreeMap;

/// The median of `values` (none when empty).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        f64::midpoint(sorted[middle - 1], sorted[middle])
    } else {
        sorted[middle]
    })
}

/// The median absolute deviation scaled by 1.4826, which estimates the standard deviation of
/// normal data while one outlier week barely moves it.
pub fn scaled_mad(values: &[f64]) -> Option<f64> {
    let center = median(values)?;
    let deviations: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
    median(&deviations).map(|mad| mad * 1.4826)
}

/// How a count compares with the same weekday of earlier weeks.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeVerdict {
    pub median: f64,
    /// The largest distance from the median still taken as normal.
    pub allowed: f64,
    pub anomaly: bool,
}

/// `count` against `history` (the same weekday of earlier weeks): an anomaly when it is
/// further from their median than `tolerance` scaled MADs and than `min_change` of the median
/// (so perfectly steady weeks, whose MAD is 0, do not flag a change of one posting).
pub fn volume(count: f64, history: &[f64], tolerance: f64, min_change: f64) -> Option<VolumeVerdict> {
    let center = median(history)?;
    let spread = scaled_mad(history)?;
    let allowed = (tolerance * spread).max(min_change * center).max(1.0);
    Some(VolumeVerdict {
        median: center,
        allowed,
        anomaly: (count - center).abs() > allowed,
    })
}

/// Empty bins get this share, so the index stays finite (the usual convention).
const EMPTY_SHARE: f64 = 1e-4;

/// The population stability index of two distributions given as shares per bin:
/// Σ (current − reference) · ln(current / reference). Under 0.1 is stable, 0.1–0.25 a moderate
/// shift, above 0.25 a significant one.
pub fn psi(reference: &[f64], current: &[f64]) -> f64 {
    reference
        .iter()
        .zip(current)
        .map(|(&r, &c)| {
            let (r, c) = (r.max(EMPTY_SHARE), c.max(EMPTY_SHARE));
            (c - r) * (c / r).ln()
        })
        .sum()
}

/// Shares of `values` in the bins cut by the deciles of `reference` (values above the last cut
/// fall in the last bin).
pub fn decile_shares(reference: &[f64], values: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut sorted: Vec<f64> = reference.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let mut cuts: Vec<f64> = (1..10).filter_map(|k| sorted.get((sorted.len() * k) / 10).copied()).collect();
    cuts.dedup();
    let shares = |sample: &[f64]| {
        let mut counts = vec![0.0; cuts.len() + 1];
        let mut total = 0.0;
        for v in sample.iter().filter(|v| v.is_finite()) {
            counts[cuts.partition_point(|cut| cut <= v)] += 1.0;
            total += 1.0;
        }
        counts
            .iter()
            .map(|c| if total > 0.0 { c / total } else { 0.0 })
            .collect::<Vec<f64>>()
    };
    (shares(&sorted), shares(values))
}

/// Shares of each category in `reference` and `current` over the union of their categories.
pub fn category_shares(reference: &BTreeMap<String, f64>, current: &BTreeMap<String, f64>) -> (Vec<f64>, Vec<f64>) {
    let total = |counts: &BTreeMap<String, f64>| counts.values().sum::<f64>().max(1.0);
    let (reference_total, current_total) = (total(reference), total(current));
    let categories: std::collections::BTreeSet<&String> = reference.keys().chain(current.keys()).collect();
    categories
        .into_iter()
        .map(|c| {
            (
                reference.get(c).copied().unwrap_or(0.0) / reference_total,
                current.get(c).copied().unwrap_or(0.0) / current_total,
            )
        })
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_mad() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        let mad = scaled_mad(&[10.0, 11.0, 9.0, 10.0, 100.0]).expect("test input is valid");
        assert!((mad - 1.4826).abs() < 1e-9, "one outlier week barely moves it: {mad}");
    }

    #[test]
    fn volume_flags_a_collapse_but_not_ordinary_weeks() {
        let mondays = [1000.0, 1040.0, 980.0, 1010.0];
        assert!(!volume(1020.0, &mondays, 3.0, 0.5).expect("test input is valid").anomaly);
        assert!(
            volume(120.0, &mondays, 3.0, 0.5).expect("test input is valid").anomaly,
            "a feed that stopped"
        );
        assert!(
            volume(2500.0, &mondays, 3.0, 0.5).expect("test input is valid").anomaly,
            "a feed sent twice"
        );
        let steady = [50.0, 50.0, 50.0];
        assert!(
            !volume(51.0, &steady, 3.0, 0.5).expect("test input is valid").anomaly,
            "MAD 0 does not flag one posting"
        );
        assert!(volume(10.0, &steady, 3.0, 0.5).expect("test input is valid").anomaly);
        assert_eq!(volume(10.0, &[], 3.0, 0.5), None, "no history, no verdict");
    }

    #[test]
    fn psi_is_zero_for_the_same_distribution_and_grows_with_a_shift() {
        let reference: Vec<f64> = (0..1000).map(f64::from).collect();
        let (r, c) = decile_shares(&reference, &reference);
        assert!(psi(&r, &c).abs() < 1e-9);
        let shifted: Vec<f64> = (300..1300).map(f64::from).collect();
        let (r, c) = decile_shares(&reference, &shifted);
        let index = psi(&r, &c);
        assert!(index > 0.25, "a shift of 30 % of the range is significant: {index}");
        let nudged: Vec<f64> = (10..1010).map(f64::from).collect();
        let (r, c) = decile_shares(&reference, &nudged);
        assert!(psi(&r, &c) < 0.1, "a 1 % nudge is stable");
    }

    #[test]
    fn category_shares_cover_both_sides() {
        let reference = BTreeMap::from([("sql".to_string(), 50.0), ("python".to_string(), 50.0)]);
        let current = BTreeMap::from([("sql".to_string(), 20.0), ("rust".to_string(), 80.0)]);
        let (r, c) = category_shares(&reference, &current);
        assert_eq!(r, vec![0.5, 0.0, 0.5]);
        assert_eq!(c, vec![0.0, 0.8, 0.2]);
        assert!(psi(&r, &c) > 1.0);
    }
}
