//! The evaluation behind `docs/models/salary.md`: baselines and ablations on the same grouped
//! folds as the model, and leave-one-dataset-out (train on every other dataset, test on one).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::QUANTILES;
use super::train::{Prepared, Scores, TrainOptions, Trained, encode};
use crate::ml::MlError;
use crate::ml::boost::Objective;
use crate::ml::dataset::SalaryData;
use crate::ml::features::FeatureOptions;
use crate::ml::metrics;
use crate::ml::ridge::TfidfRidge;

/// Slices smaller than this are not held out on their own.
const MIN_HELD_OUT: usize = 100;

#[derive(Debug, Clone, Serialize)]
pub struct Named {
    pub name: String,
    pub scores: Scores,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeldOut {
    pub slice: String,
    pub model: Scores,
    pub ridge: Scores,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// The model and its baselines on the cross-validation folds.
    pub on_folds: Vec<Named>,
    pub leave_one_dataset_out: Vec<HeldOut>,
}

pub fn evaluate(data: &SalaryData, options: &TrainOptions, trained: &Trained, progress: &dyn Fn(&str)) -> Result<Evaluation, MlError> {
    let prepared = Prepared::new(data, options.folds, options.seed)?;
    let n = prepared.examples.len();
    let all: Vec<usize> = (0..n).collect();
    let mut on_folds = vec![Named {
        name: "XGBoost, every feature (the model)".into(),
        scores: trained.cv.overall,
    }];
    let ablations = [
        (
            "XGBoost without skills",
            FeatureOptions {
                skills: false,
                ..options.features
            },
        ),
        (
            "XGBoost without text n-grams",
            FeatureOptions {
                text_buckets: 0,
                ..options.features
            },
        ),
        (
            "XGBoost without title families",
            FeatureOptions {
                families: false,
                ..options.features
            },
        ),
        (
            "XGBoost without skills, text or title families",
            FeatureOptions {
                skills: false,
                families: false,
                text_buckets: 0,
            },
        ),
    ];
    for (name, features) in ablations {
        progress(&format!("baseline: {name}"));
        let mut predicted = vec![0.0f64; n];
        for fold in 0..prepared.k {
            let (train_rows, test_rows) = prepared.split(fold);
            let encoded = encode(&prepared, &train_rows, &test_rows, features, &options.reference);
            let model = encoded.fit(&trained.cv.chosen, &Objective::Mean, options.seed)?;
            scatter(&mut predicted, &test_rows, &model.predict(&encoded.test_x)?);
        }
        on_folds.push(Named {
            name: name.into(),
            scores: Scores::of(&all, &prepared.y, &predicted, None),
        });
    }
    progress("baseline: ridge on TF-IDF, median by title");
    let mut ridge = vec![0.0f64; n];
    let mut median = vec![0.0f64; n];
    for fold in 0..prepared.k {
        let (train_rows, test_rows) = prepared.split(fold);
        fit_ridge(&prepared, &train_rows, &test_rows, &mut ridge);
        fit_median_by_title(&prepared, &train_rows, &test_rows, &mut median);
    }
    on_folds.push(Named {
        name: "ridge on TF-IDF of title + description".into(),
        scores: Scores::of(&all, &prepared.y, &ridge, None),
    });
    on_folds.push(Named {
        name: "median pay of the same title (else of all)".into(),
        scores: Scores::of(&all, &prepared.y, &median, None),
    });

    let mut slices: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, example) in prepared.examples.iter().enumerate() {
        slices.entry(example.slice.as_str()).or_default().push(i);
    }
    let mut leave_one_dataset_out = Vec::new();
    for (slice, test_rows) in slices.into_iter().filter(|(_, rows)| rows.len() >= MIN_HELD_OUT) {
        progress(&format!("leave one dataset out: {slice}"));
        let held: std::collections::HashSet<usize> = test_rows.iter().copied().collect();
        let train_rows: Vec<usize> = all.iter().copied().filter(|i| !held.contains(i)).collect();
        let encoded = encode(&prepared, &train_rows, &test_rows, options.features, &options.reference);
        let mean = encoded.fit(&trained.cv.chosen, &Objective::Mean, options.seed)?;
        let levels = encoded
            .fit(
                &super::train::INTERVAL_PARAMS,
                &Objective::Quantiles(QUANTILES.to_vec()),
                options.seed,
            )?
            .predict(&encoded.test_x)?;
        let train_scores: Vec<f64> = train_rows.iter().map(|&r| trained.oof_scores[r]).collect();
        let offset = metrics::quantile_higher(
            &train_scores,
            (super::COVERAGE * (train_scores.len() as f64 + 1.0) / train_scores.len() as f64).min(1.0),
        );
        let last = QUANTILES.len() - 1;
        let inside = test_rows
            .iter()
            .enumerate()
            .filter(|(i, r)| {
                let y = f64::from(prepared.y[**r]);
                f64::from(levels[i * QUANTILES.len()]) - offset <= y && y <= f64::from(levels[i * QUANTILES.len() + last]) + offset
            })
            .count();
        let mut predicted = vec![0.0f64; n];
        scatter(&mut predicted, &test_rows, &mean.predict(&encoded.test_x)?);
        let mut ridge = vec![0.0f64; n];
        fit_ridge(&prepared, &train_rows, &test_rows, &mut ridge);
        leave_one_dataset_out.push(HeldOut {
            slice: slice.to_string(),
            model: Scores::of(&test_rows, &prepared.y, &predicted, Some(inside as f64 / test_rows.len() as f64)),
            ridge: Scores::of(&test_rows, &prepared.y, &ridge, None),
        });
    }
    Ok(Evaluation {
        on_folds,
        leave_one_dataset_out,
    })
}

fn scatter(out: &mut [f64], rows: &[usize], values: &[f32]) {
    for (row, value) in rows.iter().zip(values) {
        out[*row] = f64::from(*value);
    }
}

fn text_of(prepared: &Prepared<'_>, row: usize) -> String {
    let facts = &prepared.examples[row].facts;
    format!("{} {}", facts.title, facts.description.as_deref().unwrap_or_default())
}

fn fit_ridge(prepared: &Prepared<'_>, train: &[usize], test: &[usize], out: &mut [f64]) {
    let texts: Vec<String> = train.iter().map(|&r| text_of(prepared, r)).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let y: Vec<f32> = train.iter().map(|&r| prepared.y[r]).collect();
    let model = TfidfRidge::fit(&refs, &y, 1.0);
    for &r in test {
        out[r] = f64::from(model.predict(&text_of(prepared, r)));
    }
}

fn fit_median_by_title(prepared: &Prepared<'_>, train: &[usize], test: &[usize], out: &mut [f64]) {
    let mut by_title: HashMap<String, Vec<f64>> = HashMap::new();
    for &r in train {
        by_title
            .entry(prepared.examples[r].facts.title.to_lowercase())
            .or_default()
            .push(f64::from(prepared.y[r]));
    }
    let everyone: Vec<f64> = train.iter().map(|&r| f64::from(prepared.y[r])).collect();
    let overall = metrics::median(&everyone);
    for &r in test {
        out[r] = by_title
            .get(&prepared.examples[r].facts.title.to_lowercase())
            .map_or(overall, |v| metrics::median(v));
    }
}
