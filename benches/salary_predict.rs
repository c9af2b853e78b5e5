//! In-process latency of one salary prediction with its explanation (what `serve` will do per
//! request): the production (else newest) salary model of `RATS_MODELS_DIR` (default
//! `./models`), asked about postings of the lake `RATS_LAKE` (default `./lake`) one at a time.
//!
//! Run with `cargo bench --bench salary_predict` (add `--profile dev` to reuse the debug build).
//!
//! Prints p50, p99 and max over 5,000 single-posting predictions (after 200 warm-up calls),
//! without and with the SHAP explanation.

use std::path::PathBuf;
use std::time::Instant;

use rats::env_vars;
use rats::ml::registry::Registry;
use rats::ml::salary::SalaryModel;

fn main() {
    let dir = |name: &str, default: &str| std::env::var_os(name).map_or_else(|| PathBuf::from(default), PathBuf::from);
    let models = dir(env_vars::MODELS_DIR, "models");
    let lake = dir(env_vars::LAKE, "lake");
    let chosen = Registry::new(&models, "salary").choose(None).expect("a trained salary model");
    let mut model = SalaryModel::load(&chosen.path).expect("loads");
    // As the server does: the explanations' arithmetic worked out once, ahead.
    let started = Instant::now();
    model.answer_ahead();
    println!("explanations worked out ahead in {:.2} s", started.elapsed().as_secs_f64());
    let examples = rats::ml::dataset::load(&lake).expect("the lake's examples").examples;
    let facts: Vec<_> = examples.iter().map(|e| e.facts.as_query()).collect();
    let name = |id: &str| id.to_string();
    for f in facts.iter().take(200) {
        model.predict(std::slice::from_ref(f), &name).expect("predicts");
    }
    for explained in [false, true] {
        let mut times: Vec<f64> = facts
            .iter()
            .cycle()
            .take(5_000)
            .map(|f| {
                let one = std::slice::from_ref(f);
                let started = Instant::now();
                let estimate = if explained {
                    model.predict(one, &name)
                } else {
                    model.predict_without_explanations(one)
                };
                std::hint::black_box(estimate.expect("predicts"));
                started.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        println!(
            "salary {} ({} columns), one posting {}, ms: p50 {:.3}, p99 {:.3}, max {:.3} over {} calls",
            chosen.version,
            model.spec.width(),
            if explained {
                "with SHAP explanation"
            } else {
                "estimate + interval"
            },
            at(0.5),
            at(0.99),
            times[times.len() - 1],
            times.len()
        );
    }
}
