//! Box plots drawn by the server: each group's pay percentiles (P10, P25, median, P75, P90) as
//! positions in percent of one shared axis, which the template draws as inline SVG. No script
//! is needed to see them, and the same numbers sit in the table they are drawn in.

use serde::{Deserialize, Serialize};

use crate::chart::draw::{format_value, nice_ticks};
use crate::chart::spec::Unit;
use crate::serve::routes::stats::percentile;

/// One group's pay: how many postings with pay, the percentiles in USD, and where each falls on
/// the axis (0–100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayBox {
    pub group: String,
    pub postings: usize,
    /// P10, P25, median, P75, P90.
    pub usd: [f64; 5],
    pub at: [f64; 5],
}

/// A tick of the shared axis: its label and position (0–100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    pub label: String,
    pub at: f64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BoxPlot {
    pub boxes: Vec<PayBox>,
    pub ticks: Vec<Tick>,
}

/// The five percentiles of `pay` (any order), or `None` when it is empty.
pub fn five_numbers(mut pay: Vec<f64>) -> Option<[f64; 5]> {
    pay.sort_by(f64::total_cmp);
    let at = |p: f64| percentile(&pay, p).map(f64::round);
    Some([at(10.0)?, at(25.0)?, at(50.0)?, at(75.0)?, at(90.0)?])
}

/// The box plot of `groups` (name, pay of each posting), in the order given; groups without
/// pay are left out. The axis spans the lowest P10 to the highest P90, widened to round ticks.
pub fn box_plot(groups: Vec<(String, Vec<f64>)>) -> BoxPlot {
    let summaries: Vec<(String, usize, [f64; 5])> = groups
        .into_iter()
        .filter_map(|(group, pay)| {
            let postings = pay.len();
            five_numbers(pay).map(|usd| (group, postings, usd))
        })
        .collect();
    let (Some(low), Some(high)) = (
        summaries.iter().map(|s| s.2[0]).min_by(f64::total_cmp),
        summaries.iter().map(|s| s.2[4]).max_by(f64::total_cmp),
    ) else {
        return BoxPlot::default();
    };
    let ticks = nice_ticks(low, high);
    let (first, last) = (ticks[0], ticks[ticks.len() - 1]);
    let span = (last - first).max(1.0);
    let position = |v: f64| ((v - first) / span * 100.0 * 10.0).round() / 10.0;
    BoxPlot {
        boxes: summaries
            .into_iter()
            .map(|(group, postings, usd)| PayBox {
                group,
                postings,
                at: usd.map(position),
                usd,
            })
            .collect(),
        ticks: ticks
            .into_iter()
            .map(|v| Tick {
                label: format_value(v, Unit::Usd),
                at: position(v),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_share_one_axis_from_the_lowest_p10_to_the_highest_p90() {
        let low: Vec<f64> = (50..=100).map(|k| f64::from(k) * 1_000.0).collect();
        let high: Vec<f64> = (100..=200).map(|k| f64::from(k) * 1_000.0).collect();
        let plot = box_plot(vec![("low".into(), low), ("none".into(), vec![]), ("high".into(), high)]);
        assert_eq!(plot.boxes.len(), 2, "a group without pay has no box");
        assert_eq!(plot.boxes[0].usd.to_vec(), [55_000.0, 62_500.0, 75_000.0, 87_500.0, 95_000.0]);
        assert_eq!(plot.boxes[1].usd.get(2), Some(&150_000.0));
        let labels: Vec<&str> = plot.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["$50k", "$100k", "$150k", "$200k"]);
        let at: Vec<f64> = plot.ticks.iter().map(|t| t.at).collect();
        assert_eq!(at, [0.0, 33.3, 66.7, 100.0]);
        assert_eq!(
            plot.boxes[0].at.get(2),
            Some(&16.7),
            "$75k is a sixth of the way from $50k to $200k"
        );
        assert!(plot.boxes.iter().all(|b| b.at.windows(2).all(|w| w[0] <= w[1])));
        assert_eq!(box_plot(vec![]), BoxPlot::default());
    }
}
