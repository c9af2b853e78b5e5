//! Work split over the machine's cores with the answers kept in input order, so a parallel
//! result is the same as the sequential one (and a model trained with it is byte-identical).

use std::num::NonZero;

/// `f` of every item, computed in one contiguous chunk per core, returned in `items`' order.
pub fn map_in_order<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, NonZero::get);
    if threads == 1 || items.len() < 2 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_come_back_in_input_order() {
        let items: Vec<u64> = (0..1_001).collect();
        assert_eq!(map_in_order(&items, |x| x * x), items.iter().map(|x| x * x).collect::<Vec<_>>());
        assert!(map_in_order(&[] as &[u8], |x| *x).is_empty());
        assert_eq!(map_in_order(&[7], |x| x + 1), [8]);
    }
}
