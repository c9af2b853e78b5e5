//! Grouped k-fold splits: every member of a group (one company's postings, or postings sharing
//! a title and place) lands in the same fold, so no model is scored on an employer it has seen.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// The fold (0..k) of each item, given each item's group. Groups are placed largest first into
/// the fold with the fewest items so far; ties between equal-sized groups are broken by a hash of
/// the group name and `seed`, so the split is reproducible and balanced.
pub fn grouped_folds(groups: &[&str], k: usize, seed: u64) -> Vec<usize> {
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    for group in groups {
        *sizes.entry(group).or_default() += 1;
    }
    let mut order: Vec<(&str, usize, [u8; 8])> = sizes.into_iter().map(|(g, n)| (g, n, tie_breaker(g, seed))).collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)).then(a.0.cmp(b.0)));
    let mut load = vec![0usize; k];
    let mut fold_of: HashMap<&str, usize> = HashMap::new();
    for (group, size, _) in order {
        let fold = (0..k).min_by_key(|&f| (load[f], f)).unwrap_or(0);
        load[fold] += size;
        fold_of.insert(group, fold);
    }
    groups.iter().map(|g| fold_of[g]).collect()
}

fn tie_breaker(group: &str, seed: u64) -> [u8; 8] {
    let digest = Sha256::new()
        .chain_update(seed.to_le_bytes())
        .chain_update(group.as_bytes())
        .finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_never_spans_two_folds_and_folds_are_balanced() {
        let groups: Vec<String> = (0..1000).map(|i| format!("company-{}", i % 137)).collect();
        let refs: Vec<&str> = groups.iter().map(String::as_str).collect();
        let folds = grouped_folds(&refs, 5, 7);
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (group, fold) in refs.iter().zip(&folds) {
            assert_eq!(*seen.entry(group).or_insert(*fold), *fold, "{group} spans folds");
        }
        let mut counts = [0usize; 5];
        for fold in &folds {
            counts[*fold] += 1;
        }
        assert!(counts.iter().all(|&c| (190..=210).contains(&c)), "{counts:?}");
        assert_eq!(folds, grouped_folds(&refs, 5, 7), "the same seed gives the same split");
    }
}
