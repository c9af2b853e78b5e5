//! `rats train match`, `rats match` and `rats match eval`: the scorer trained on a sample of the
//! shared rjdb pairs with the real all-MiniLM-L6-v2 encoder (`scripts/fetch-sentence-encoder`),
//! résumés read from PDF, DOCX and Markdown, postings from files and from a lake, and bad input.

use std::path::{Path, PathBuf};

use crate::support::{consume_into, copy_dir, datasets, rats, repo, run, stderr, stdout, success_json, table_rows};

pub fn encoder() -> PathBuf {
    std::env::var_os(rats::env_vars::SENTENCE_ENCODER)
        .map(PathBuf::from)
        .expect("RATS_SENTENCE_ENCODER names the sentence encoder; run scripts/test")
}

/// The first `n` rjdb pairs, written to `dir`.
pub fn rjdb_sample(dir: &Path, n: usize) -> PathBuf {
    let pairs = std::fs::read_to_string(datasets().join("matching/rjdb/pairs.jsonl")).expect("rjdb pairs");
    let path = dir.join(format!("pairs-{n}.jsonl"));
    std::fs::write(&path, pairs.lines().take(n).collect::<Vec<_>>().join("\n")).expect("write sample");
    path
}

/// Trains a match model on 60 pairs into `dir/models`.
fn train(dir: &Path) -> serde_json::Value {
    let data = rjdb_sample(dir, 60);
    success_json(&run(rats(dir)
        .args(["train", "match", "--format", "json", "--out", "models", "--encoder"])
        .arg(encoder())
        .arg("--data")
        .arg(&data)))
}

/// The match model the tests share, trained once per test run into `dir/models`, and what
/// `rats train match --format json` said about it.
pub struct Shared {
    dir: tempfile::TempDir,
    summary: serde_json::Value,
}

impl Shared {
    /// The folder holding `models/` and the training pairs, as `rats` sees its working folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

pub fn shared_models() -> &'static Shared {
    static MODELS: std::sync::OnceLock<Shared> = std::sync::OnceLock::new();
    MODELS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let summary = train(dir.path());
        Shared { dir, summary }
    })
}

/// `rats` with the shared model as its models directory.
fn matcher(dir: &Path) -> std::process::Command {
    let mut command = rats(dir);
    command.env(rats::env_vars::MODELS_DIR, shared_models().path().join("models"));
    command
}

fn fixture(name: &str) -> PathBuf {
    repo().join("fixtures").join(name)
}

#[test]
fn training_cross_validates_beats_the_weakest_baselines_and_registers_the_model() {
    let shared = shared_models();
    let trained = &shared.summary;
    let cv = &trained["cross_validated"];
    assert_eq!(cv["pairs"], 60, "{trained}");
    for key in ["pairwise_accuracy", "job_to_resume", "resume_to_job"] {
        assert!(!cv[key].is_null(), "{key} missing: {cv}");
    }
    let pairwise = cv["pairwise_accuracy"].as_f64().expect("number");
    assert!(pairwise >= 0.85, "pairwise accuracy {pairwise}");
    let top1 = cv["job_to_resume"]["top1"].as_f64().expect("number");
    assert!(top1 >= 0.8, "job→résumé top-1 {top1}");
    let baselines = &trained["baselines"];
    for name in ["keyword_overlap", "bm25", "embedding_cosine", "skills"] {
        assert!(baselines[name]["pairwise_accuracy"].is_f64(), "{name}: {baselines}");
    }
    assert!(pairwise > baselines["embedding_cosine"]["pairwise_accuracy"].as_f64().expect("number"));
    // The registry checked in a copy, so the re-run below cannot disturb the tests sharing it.
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&shared.path().join("models"), &dir.path().join("models"));
    let version = dir.path().join("models/match/v1");
    for file in [
        "scorer.json",
        "model.json",
        "card.md",
        "encoder/model.safetensors",
        "encoder/tokenizer.json",
    ] {
        assert!(version.join(file).is_file(), "{file} missing from the version");
    }
    let listed = success_json(&run(
        rats(dir.path()).args(["models", "list", "--format", "json", "--models", "models"])
    ));
    assert_eq!(listed[0]["kind"], "match", "{listed}");
    assert!(listed[0]["metrics"]["cross_validated"]["pairwise_accuracy"].is_f64(), "{listed}");
    // The same inputs again: a no-op.
    let again = run(rats(dir.path())
        .args(["train", "match", "--out", "models", "--encoder"])
        .arg(encoder())
        .arg("--data")
        .arg(rjdb_sample(dir.path(), 60)));
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("nothing to do"), "{}", stderr(&again));
    assert!(!dir.path().join("models/match/v2").exists());

    // The trained model on other pairs, with the JSON keys the issue names.
    let eval = success_json(&run(rats(dir.path())
        .args(["match", "eval", "--format", "json", "--models", "models", "--data"])
        .arg(rjdb_sample(dir.path(), 30))));
    assert_eq!(eval["pairs"], 30);
    for direction in ["job_to_resume", "resume_to_job"] {
        for key in ["top1", "top5", "mrr"] {
            let value = eval[direction][key].as_f64().expect("a number");
            assert!((0.0..=1.0).contains(&value), "{direction}.{key} = {value}");
        }
    }
    assert_eq!(eval["model"]["version"], "v1");
}

#[test]
fn a_resume_in_any_format_ranks_the_fitting_postings_first_with_reasons() {
    let dir = tempfile::tempdir().expect("tempdir");
    let postings = fixture("matching/postings.jsonl");
    let mut answers = Vec::new();
    for (file, format) in [
        ("resumes/data-engineer.md", "text"),
        ("resumes/data-engineer.pdf", "PDF"),
        ("resumes/data-engineer.docx", "DOCX"),
    ] {
        let answer = success_json(&run(matcher(dir.path())
            .args(["match", "--format", "json", "--top", "6", "--resume"])
            .arg(fixture(file))
            .arg("--jobs")
            .arg(&postings)));
        assert_eq!(answer["resume"]["format"], format, "{answer}");
        let jobs = answer["jobs"].as_array().expect("jobs");
        assert_eq!(jobs.len(), 6);
        let ids: Vec<&str> = jobs.iter().map(|j| j["source_job_id"].as_str().unwrap_or_default()).collect();
        // The data engineer postings first; nurse, accountant and frontend last.
        assert_eq!(ids[0], "m-1", "{ids:?}");
        assert!(ids[..3].contains(&"m-6"), "{ids:?}");
        for unrelated in ["m-2", "m-3", "m-4"] {
            assert!(ids[3..].contains(&unrelated), "{ids:?}");
        }
        let first = &jobs[0];
        assert!(first["posting_key"].as_str().is_some_and(|k| k.len() == 32), "{first}");
        let matched = first["matched_skills"].as_array().expect("matched");
        assert!(matched.iter().any(|s| s == "Apache Kafka"), "{first}");
        assert!(
            first["explanation"]
                .as_str()
                .is_some_and(|e| e.contains("skills the posting names"))
        );
        let platform = jobs.iter().find(|j| j["source_job_id"] == "m-6").expect("m-6");
        let missing = platform["missing_skills"].as_array().expect("missing");
        assert!(missing.iter().any(|s| s == "Terraform"), "{platform}");
        assert!(
            answer["resume"]["years_of_experience"].as_f64().is_some_and(|y| y >= 9.0),
            "{answer}"
        );
        answers.push(ids[..3].join(","));
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "the three formats rank the fits alike: {answers:?}"
    );
}

#[test]
fn lake_postings_are_embedded_once_and_only_new_ones_later() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = dir.path().join("lake");
    let postings = std::fs::read_to_string(fixture("matching/postings.jsonl")).expect("postings");
    let first_three = dir.path().join("first-three.jsonl");
    std::fs::write(&first_three, postings.lines().take(3).collect::<Vec<_>>().join("\n")).expect("write");
    consume_into(dir.path(), &lake, &[first_three]);
    let run_match = |filter: Option<&str>| {
        let mut command = matcher(dir.path());
        command
            .args(["match", "--format", "json", "--lake"])
            .arg(&lake)
            .arg("--resume")
            .arg(fixture("resumes/data-engineer.md"));
        if let Some(condition) = filter {
            command.args(["--where", condition]);
        }
        success_json(&run(&mut command))
    };
    let first = run_match(None);
    assert_eq!(first["considered"], 3, "{first}");
    assert_eq!(first["embedded_now"], 3, "{first}");
    assert_eq!(run_match(None)["embedded_now"], 0, "a re-run embeds nothing");
    consume_into(dir.path(), &lake, &[fixture("matching/postings.jsonl")]);
    let after = run_match(None);
    assert_eq!(after["considered"], 6, "{after}");
    assert_eq!(after["embedded_now"], 3, "only the three new postings: {after}");
    assert_eq!(after["jobs"][0]["source_job_id"], "m-1", "{after}");
    let remote = run_match(Some("source_job_id = 'm-6'"));
    assert_eq!(remote["considered"], 1, "{remote}");
    let bad = run(matcher(dir.path())
        .args(["match", "--lake"])
        .arg(&lake)
        .args(["--where", "no_such_column = 1", "--resume"])
        .arg(fixture("resumes/data-engineer.md")));
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("--where"), "{}", stderr(&bad));
}

#[test]
fn resumes_in_a_folder_are_ranked_for_one_lake_posting_with_what_each_lacks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = dir.path().join("lake");
    consume_into(dir.path(), &lake, &[fixture("matching/postings.jsonl")]);
    let keys = table_rows(&lake, "silver/postings", &["source_job_id", "posting_key"]);
    let data_engineer = &keys.iter().find(|row| row[0] == "m-1").expect("m-1 in silver")[1];
    let resumes = dir.path().join("resumes");
    std::fs::create_dir(&resumes).expect("mkdir");
    for file in ["data-engineer.md", "data-engineer.pdf"] {
        std::fs::copy(fixture(&format!("resumes/{file}")), resumes.join(file)).expect("copy");
    }
    std::fs::write(
        resumes.join("nurse.txt"),
        "Experience\nRegistered Nurse, Intensive Care Unit at St. Mary's Hospital (2015 - 2024)\n\
         Provided direct patient care, monitored vital signs and coordinated with physicians.\n\
         Skills: patient care, BLS, ACLS, triage\n",
    )
    .expect("write");
    std::fs::write(resumes.join("broken.docx"), "this is not a zip archive").expect("write");
    let rank_for = |key: &str, folder: &Path, format: &str| {
        run(matcher(dir.path())
            .args(["match", "--format", format, "--lake"])
            .arg(&lake)
            .args(["--job", key, "--resumes"])
            .arg(folder))
    };

    let answer = success_json(&rank_for(data_engineer, &resumes, "json"));
    assert_eq!(answer["source_job_id"], "m-1", "{answer}");
    assert_eq!(answer["considered"], 3, "{answer}");
    let skipped = answer["skipped"].as_array().expect("skipped");
    assert!(
        skipped.len() == 1 && skipped[0]["file"].as_str().is_some_and(|f| f.ends_with("broken.docx")),
        "{answer}"
    );
    let ranked = answer["resumes"].as_array().expect("resumes");
    let files: Vec<&str> = ranked.iter().filter_map(|r| r["file"].as_str()).collect();
    assert!(
        files[0].contains("data-engineer") && files[1].contains("data-engineer") && files[2].ends_with("nurse.txt"),
        "{files:?}"
    );
    let (engineer, nurse) = (&ranked[0], &ranked[2]);
    assert!(engineer["score"].as_f64() > nurse["score"].as_f64(), "{answer}");
    let names = |resume: &serde_json::Value, key: &str| -> Vec<String> {
        resume[key]
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    assert!(
        names(engineer, "matched_skills").contains(&"Apache Kafka".to_string()),
        "{engineer}"
    );
    // Skills by their names, as `rats match --resume` shows them.
    assert!(names(nurse, "missing_skills").contains(&"Apache Kafka".to_string()), "{nurse}");
    assert!(names(nurse, "matched_skills").is_empty(), "{nurse}");
    assert!(
        engineer["explanation"]
            .as_str()
            .is_some_and(|e| e.starts_with("Fits (score ") && e.contains("skills the posting names")),
        "{engineer}"
    );
    assert!(
        nurse["explanation"].as_str().is_some_and(|e| e.starts_with("Poor fit (score ")),
        "{nurse}"
    );
    let signals = nurse["signals"].as_object().expect("signals");
    assert!(
        signals.len() == 6 && signals.values().all(|s| s.as_f64().is_some_and(f64::is_sign_positive)),
        "a signal below +0 (-0.0 is one): {nurse}"
    );
    let fits = answer["fits"].as_u64().expect("fits");
    assert!(
        fits == ranked.iter().filter(|r| r["score"].as_f64() >= Some(50.0)).count() as u64,
        "{answer}"
    );

    let table = rank_for(data_engineer, &resumes, "table");
    assert!(table.status.success(), "{}", stderr(&table));
    assert!(
        stdout(&table).contains(&format!("{fits} of 3 résumés fit Data Engineer")),
        "{}",
        stdout(&table)
    );
    assert!(stderr(&table).contains("broken.docx"), "{}", stderr(&table));

    // The board's job id names the posting as well as its key, until another board uses it too.
    let by_board_id = success_json(&rank_for("m-1", &resumes, "json"));
    assert_eq!(by_board_id["posting_key"], answer["posting_key"], "{by_board_id}");
    let other_board = dir.path().join("other-board.jsonl");
    std::fs::write(
        &other_board,
        r#"{"job_id": "m-1", "site": "linkedin", "search_term": "matching fixture", "job": {"job_url": "https://example.org/linkedin/m-1", "title": "Pastry Chef", "company": "Harbor Bakery", "location": "Tacoma, WA", "job_type": "fulltime", "date_posted": "2026-11-04", "description": "Laminated doughs, viennoiserie and plated desserts for a busy bakery."}, "compensation": null, "scraped_at": "2026-11-05T08:00:00Z"}"#,
    )
    .expect("write");
    consume_into(dir.path(), &lake, &[other_board]);
    let ambiguous = rank_for("m-1", &resumes, "json");
    assert_eq!(ambiguous.status.code(), Some(2), "{}", stdout(&ambiguous));
    assert!(
        stderr(&ambiguous).contains("names 2 postings")
            && stderr(&ambiguous).contains(data_engineer.as_str())
            && stderr(&ambiguous).contains("Pastry Chef"),
        "{}",
        stderr(&ambiguous)
    );
    let by_key = success_json(&rank_for(data_engineer, &resumes, "json"));
    assert_eq!(by_key["title"], "Data Engineer", "{by_key}");

    let unknown = rank_for("no-such-key", &resumes, "json");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("no posting no-such-key") && stderr(&unknown).contains("source_job_id"),
        "{}",
        stderr(&unknown)
    );
    let unreadable = dir.path().join("unreadable");
    std::fs::create_dir(&unreadable).expect("mkdir");
    std::fs::write(unreadable.join("cv.docx"), "not a zip either").expect("write");
    let none = rank_for(data_engineer, &unreadable, "json");
    assert_eq!(none.status.code(), Some(2));
    assert!(
        stderr(&none).contains("no résumé in") && stderr(&none).contains("1 skipped"),
        "{}",
        stderr(&none)
    );
}

#[test]
fn a_resume_short_of_a_fit_is_told_which_one_skill_would_make_it_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = dir.path().join("lake");
    consume_into(dir.path(), &lake, &[fixture("matching/postings.jsonl")]);
    let resumes = dir.path().join("resumes");
    std::fs::create_dir(&resumes).expect("mkdir");
    let resume = |name: &str, extra_skill: &str| {
        std::fs::write(
            resumes.join(name),
            format!(
                "Experience\nData Engineer, Northwind (2019 - 2024)\nBuilt batch pipelines on AWS with Python and SQL.\n\
                 Skills: Python, SQL, Airflow, AWS\n{extra_skill}\n"
            ),
        )
        .expect("write");
    };
    let scores = || -> Vec<(String, f64, Vec<String>, String)> {
        let answer = success_json(&run(matcher(dir.path())
            .args(["match", "--format", "json", "--lake"])
            .arg(&lake)
            .args(["--job", "m-1", "--resumes"])
            .arg(&resumes)));
        answer["resumes"]
            .as_array()
            .expect("resumes")
            .iter()
            .map(|r| {
                let file = r["file"].as_str().expect("file");
                let skills = r["would_fit_with"].as_array().expect("would_fit_with");
                (
                    Path::new(file).file_name().expect("a file").to_string_lossy().into_owned(),
                    r["score"].as_f64().expect("score"),
                    skills.iter().filter_map(|s| s.as_str().map(str::to_string)).collect(),
                    r["explanation"].as_str().expect("explanation").to_string(),
                )
            })
            .collect()
    };
    resume("short.txt", "");
    let short = scores();
    let (_, score, would_fit_with, explanation) = &short[0];
    assert!(*score < 50.0 && !would_fit_with.is_empty(), "{short:?}");
    assert!(
        explanation.contains(&format!("{} ", would_fit_with[0])) && explanation.contains("alone would make it a fit"),
        "{explanation}"
    );
    // Each skill named, added to the résumé's skills, makes it a fit; a missing skill not named
    // does not (dbt: SQL already stands in for it).
    for skill in would_fit_with {
        resume("with.txt", skill);
        let with = scores();
        let fitted = with.iter().find(|(file, ..)| file == "with.txt").expect("with.txt ranked");
        assert!(fitted.1 >= 50.0 && fitted.2.is_empty(), "{skill}: {with:?}");
    }
    assert!(!would_fit_with.contains(&"dbt".to_string()), "{short:?}");
    resume("with.txt", "dbt");
    let with = scores();
    let not_enough = with.iter().find(|(file, ..)| file == "with.txt").expect("with.txt ranked");
    assert!(not_enough.1 < 50.0, "{with:?}");
}

#[test]
fn bad_resumes_are_refused_with_the_reason_never_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_zip = dir.path().join("cv.docx");
    std::fs::write(&not_zip, "this is not a zip archive").expect("write");
    let huge = dir.path().join("huge.txt");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(50 * 1024 * 1024))
        .expect("sparse file");
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").expect("write");
    let cases: [(PathBuf, &str); 4] = [
        (fixture("resumes/scanned.pdf"), "no text layer"),
        (not_zip, "not one"),
        (huge, "are refused"),
        (empty, "empty"),
    ];
    for (path, reason) in cases {
        let output = run(matcher(dir.path())
            .args(["match", "--resume"])
            .arg(&path)
            .arg("--jobs")
            .arg(fixture("matching/postings.jsonl")));
        let error = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{}: {error}", path.display());
        assert!(error.contains(reason) && error.contains(&*path.to_string_lossy()), "{error}");
        assert!(!error.contains("panicked"), "{error}");
    }
    // Symbols and another language: an answer with the reasons it is weak.
    let symbols = dir.path().join("symbols.txt");
    std::fs::write(&symbols, "★★★ ### @@@ !!!").expect("write");
    let german = dir.path().join("lebenslauf.txt");
    std::fs::write(
        &german,
        "Berufserfahrung\nDateningenieur bei der Muster GmbH (2019 - 2023)\nIch habe die Datenplattform auf der Basis von \
         Apache Spark aufgebaut und mit dem Team die Pipelines für das Reporting betreut. Ich bin verantwortlich für die \
         Modellierung der Daten und die Qualität der Berichte im Unternehmen.\n",
    )
    .expect("write");
    for (path, warning) in [(&symbols, "almost no text"), (&german, "reads as German")] {
        let output = run(matcher(dir.path())
            .args(["match", "--format", "json", "--resume"])
            .arg(path)
            .arg("--jobs")
            .arg(fixture("matching/postings.jsonl")));
        let answer = success_json(&output);
        let warnings = answer["resume"]["warnings"].as_array().expect("warnings");
        assert!(warnings.iter().any(|w| w.as_str().is_some_and(|w| w.contains(warning))), "{answer}");
        assert!(
            answer["jobs"]
                .as_array()
                .expect("jobs")
                .iter()
                .all(|j| j["score"].as_f64() < Some(50.0)),
            "{answer}"
        );
    }
}
