//! Regression metrics the reports use.

/// R² of `predicted` against `actual` (1 is perfect, 0 is the mean's score).
pub fn r2(actual: &[f64], predicted: &[f64]) -> f64 {
    let n = actual.len() as f64;
    if actual.is_empty() {
        return f64::NAN;
    }
    let mean = actual.iter().sum::<f64>() / n;
    let total: f64 = actual.iter().map(|y| (y - mean).powi(2)).sum();
    let residual: f64 = actual.iter().zip(predicted).map(|(y, p)| (y - p).powi(2)).sum();
    if total == 0.0 { f64::NAN } else { 1.0 - residual / total }
}

/// Mean absolute error.
pub fn mae(actual: &[f64], predicted: &[f64]) -> f64 {
    if actual.is_empty() {
        return f64::NAN;
    }
    actual.iter().zip(predicted).map(|(y, p)| (y - p).abs()).sum::<f64>() / actual.len() as f64
}

/// Share of `actual` values inside `[low, high]`.
pub fn coverage(actual: &[f64], low: &[f64], high: &[f64]) -> f64 {
    if actual.is_empty() {
        return f64::NAN;
    }
    let inside = actual
        .iter()
        .zip(low.iter().zip(high))
        .filter(|(y, (l, h))| **l <= **y && **y <= **h)
        .count();
    inside as f64 / actual.len() as f64
}

/// The `q` quantile (0..=1) of `values` by the "higher" rule conformal prediction needs: the
/// smallest value with at least `q` of the values at or below it.
pub fn quantile_higher(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of `values` (NaN when empty).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        f64::midpoint(sorted[mid - 1], sorted[mid])
    } else {
        sorted[mid]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r2_is_one_for_a_perfect_fit_and_zero_for_the_mean() {
        let y = [1.0, 2.0, 3.0, 4.0];
        assert!((r2(&y, &y) - 1.0).abs() < 1e-12);
        assert!(r2(&y, &[2.5; 4]).abs() < 1e-12);
        assert!((mae(&y, &[2.0, 2.0, 3.0, 3.0]) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn conformal_quantile_takes_the_higher_value() {
        let scores: Vec<f64> = (1..=10).map(f64::from).collect();
        assert!((quantile_higher(&scores, 0.8) - 8.0).abs() < 1e-12);
        assert!((quantile_higher(&scores, 0.81) - 9.0).abs() < 1e-12);
        assert!((coverage(&[1.0, 5.0, 9.0], &[0.0; 3], &[6.0; 3]) - 2.0 / 3.0).abs() < 1e-12);
        assert!((median(&[3.0, 1.0, 2.0, 10.0]) - 2.5).abs() < 1e-12);
    }
}
