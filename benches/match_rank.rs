//! Matching speed: sentence-encoder throughput on posting texts, and the time to rank 100,000
//! posting vectors for one résumé once it is embedded (what `serve` will do per request). Uses
//! the production (else newest) match model of `RATS_MODELS_DIR` (default `./models`) and the
//! silver postings of the lake `RATS_LAKE` (default `./lake`).
//!
//! Run with `cargo bench --bench match_rank` (add `--profile dev` to reuse the debug build).
//!
//! Prints postings embedded per second over 1,000 silver postings (no cache), then p50 and max
//! of 10 rankings of 100,000 postings (silver's, repeated to that count) for
//! fixtures/resumes/data-engineer.md, the postings' index built once beforehand.

use std::path::PathBuf;
use std::time::Instant;

use rats::env_vars;
use rats::matching::candidates;
use rats::matching::features::JobIndex;
use rats::matching::model::{KIND, MatchModel};
use rats::matching::profile::read_resume;
use rats::matching::rank::{self, Inputs};
use rats::ml::registry::Registry;
use rats::skills::{Extractor, Taxonomy};

const EMBEDDED: usize = 1_000;
const RANKED: usize = 100_000;

fn main() {
    let dir = |name: &str, default: &str| std::env::var_os(name).map_or_else(|| PathBuf::from(default), PathBuf::from);
    let models = dir(env_vars::MODELS_DIR, "models");
    let lake = dir(env_vars::LAKE, "lake");
    let chosen = Registry::new(&models, KIND).choose(None).expect("a trained match model");
    let model = MatchModel::load(&chosen.path).expect("loads");
    let extractor = Extractor::new(Taxonomy::built_in().expect("taxonomy"), None).expect("extractor");
    let (_, postings) = candidates::from_silver(&lake, None).expect("silver postings");
    let profiles: Vec<_> = postings.iter().map(|c| c.profile(&extractor)).collect();
    let focus: Vec<&str> = profiles.iter().map(|p| p.focus.as_str()).collect();

    let sample = &focus[..EMBEDDED.min(focus.len())];
    let started = Instant::now();
    let vectors = model.encoder.embed(sample).expect("embeds");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "match {}: embedded {} silver postings in {seconds:.1} s: {:.1} postings/s",
        chosen.version,
        sample.len(),
        sample.len() as f64 / seconds
    );

    let text = std::fs::read_to_string("fixtures/resumes/data-engineer.md").expect("the fixture résumé");
    let resume = read_resume(&text, &extractor, 2026);
    let resume_vector = model.encoder.embed(&[resume.focus().as_str()]).expect("embeds").remove(0);
    let repeat = |n: usize| (0..RANKED).map(move |i| i % n);
    let candidates: Vec<_> = repeat(sample.len()).map(|i| postings[i].clone()).collect();
    let ranked_profiles: Vec<_> = repeat(sample.len()).map(|i| profiles[i].clone()).collect();
    let ranked_vectors: Vec<_> = repeat(sample.len()).map(|i| vectors[i].clone()).collect();
    // The postings' side is prepared once (as `serve` holds it); each ranking prepares the résumé.
    let index = JobIndex::new(&ranked_profiles, &ranked_vectors);
    let premiums = std::collections::HashMap::new();
    let inputs = Inputs {
        scorer: &model.scorer,
        taxonomy: extractor.taxonomy(),
        resume: &resume,
        resume_vector: &resume_vector,
        candidates: &candidates,
        profiles: &ranked_profiles,
        index: &index,
        premiums: &premiums,
        only: None,
    };
    let mut times: Vec<f64> = (0..10)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(rank::rank(&inputs, 10));
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "ranking {RANKED} postings for one embedded résumé, ms: p50 {:.1}, max {:.1} over 10 runs",
        times[times.len() / 2],
        times[times.len() - 1]
    );
}
