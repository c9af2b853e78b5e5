//! The best few of many: rankings show ten postings of 100,000, a title family is one occupation
//! of 3,000, so the best `n` are selected first and only they are sorted.

use std::cmp::Ordering;

/// The first `n` of `items` in `order`, sorted.
pub fn top_n<T>(mut items: Vec<T>, n: usize, order: impl Fn(&T, &T) -> Ordering) -> Vec<T> {
    if n == 0 {
        return Vec::new();
    }
    if n < items.len() {
        items.select_nth_unstable_by(n - 1, &order);
        items.truncate(n);
    }
    items.sort_by(order);
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_selected_are_the_head_of_the_full_ranking() {
        // Scores with many ties, so the key order matters.
        let scores: Vec<f64> = (0..200u32).map(|i| f64::from((i * 37) % 23)).collect();
        let keys: Vec<String> = (0..200).map(|i| format!("k{:03}", (i * 91) % 200)).collect();
        let best_first = |a: &usize, b: &usize| scores[*b].total_cmp(&scores[*a]).then(keys[*a].cmp(&keys[*b]));
        let mut full: Vec<usize> = (0..scores.len()).collect();
        full.sort_by(best_first);
        for n in [0, 1, 25, 199, 200, 500] {
            assert_eq!(top_n((0..200).collect(), n, best_first), full[..n.min(200)], "n = {n}");
        }
    }
}
