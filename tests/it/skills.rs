//! `rats skills` and `rats train skills` as users run them: extraction output, training and
//! evaluation on the real SkillSpan files, skills in silver, the graph and taxonomy imports.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::support::{datasets, rats, repo, run, stderr, stdout, summary, table_rows};

fn skillspan(file: &str) -> PathBuf {
    datasets().join("skills/skillspan").join(file)
}

#[test]
fn extract_prints_ids_names_categories_surfaces_and_character_offsets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "Équipe données: Python, Kubernetes and Go; we go to market fast.";
    let output = run(rats(dir.path()).args(["skills", "extract", "--format", "json", "--text", text]));
    assert!(output.status.success(), "{}", stderr(&output));
    let mentions = summary(&output);
    let got: Vec<(String, String, usize, usize)> = mentions
        .as_array()
        .expect("list")
        .iter()
        .map(|m| {
            for key in ["id", "name", "category", "surface", "start", "end"] {
                assert!(m.get(key).is_some(), "{key} missing in {m}");
            }
            let (start, end) = (
                m["start"].as_u64().expect("start") as usize,
                m["end"].as_u64().expect("end") as usize,
            );
            let sliced: String = text.chars().skip(start).take(end - start).collect();
            assert_eq!(sliced, m["surface"].as_str().expect("surface"), "offsets are characters");
            (
                m["id"].as_str().expect("id").to_string(),
                m["surface"].as_str().expect("s").to_string(),
                start,
                end,
            )
        })
        .collect();
    let ids: Vec<&str> = got.iter().map(|(id, ..)| id.as_str()).collect();
    assert_eq!(ids, ["python", "kubernetes", "go"], "{got:?}");

    let mut child = rats(dir.path())
        .args(["skills", "extract", "-", "--format", "csv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts");
    child.stdin.take().expect("stdin").write_all(b"Terraform on AWS").expect("writes");
    let output = child.wait_with_output().expect("finishes");
    assert!(output.status.success());
    assert_eq!(
        stdout(&output),
        "id,name,category,surface,start,end\nterraform,Terraform,devops,Terraform,0,9\namazon-web-services,Amazon Web Services,cloud,AWS,13,16\n"
    );

    std::fs::write(dir.path().join("postings.txt"), "Python and SQL\n\nKubernetes\n").expect("writes");
    let output = run(rats(dir.path()).args(["skills", "extract", "--per-line", "--format", "json", "postings.txt"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let lines: Vec<Vec<String>> = stdout(&output)
        .lines()
        .map(|l| {
            serde_json::from_str::<Vec<serde_json::Value>>(l)
                .expect("a JSON array a line")
                .iter()
                .map(|m| m["id"].as_str().expect("id").to_string())
                .collect()
        })
        .collect();
    assert_eq!(lines, [vec!["python", "sql"], vec![], vec!["kubernetes"]]);

    let output = run(rats(dir.path()).args(["skills", "extract"]));
    assert_eq!(output.status.code(), Some(2), "no input is a usage error");
}

#[test]
fn training_is_reproducible_and_the_model_is_evaluated_beside_the_gazetteer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let train = |out: &str| {
        let output = run(rats(dir.path())
            .args(["train", "skills", "--epochs", "2", "--format", "json", "--out", out, "--train"])
            .arg(skillspan("skillspan_house_train.conll"))
            .arg("--dev")
            .arg(skillspan("skillspan_house_dev.conll")));
        assert!(output.status.success(), "{}", stderr(&output));
        summary(&output)
    };
    let first = train("a.bin");
    train("b.bin");
    assert_eq!(
        std::fs::read(dir.path().join("a.bin")).expect("a"),
        std::fs::read(dir.path().join("b.bin")).expect("b"),
        "the same data trains the same model"
    );
    assert_eq!(first["info"]["trained_on"], serde_json::json!(["skillspan_house_train.conll"]));
    assert_eq!(first["history"]["SKILL"].as_array().map(Vec::len), Some(2));

    let output = run(rats(dir.path())
        .args(["skills", "eval", "--format", "json", "--model", "a.bin", "--data"])
        .arg(skillspan("skillspan_house_dev.conll")));
    assert!(output.status.success(), "{}", stderr(&output));
    let report = summary(&output);
    let systems: Vec<&str> = report["systems"]
        .as_array()
        .expect("list")
        .iter()
        .map(|s| s["system"].as_str().expect("name"))
        .collect();
    assert_eq!(systems, ["gazetteer", "model", "full"]);
    let model = &report["systems"][1]["labels"];
    assert_eq!(model["SKILL"]["strict"]["gold"], 525, "house dev has 525 SKILL spans");
    assert_eq!(model["KNOWLEDGE"]["strict"]["gold"], 287, "and 287 KNOWLEDGE spans");
    let f1 = |label: &str, kind: &str| model[label][kind]["f1"].as_f64().expect("f1");
    assert!(f1("KNOWLEDGE", "strict") > 0.0 && f1("KNOWLEDGE", "partial") >= f1("KNOWLEDGE", "strict"));
    assert!(report["systems"][0]["categories"].get("not_in_taxonomy").is_some());
}

/// The first `n` sentences of a SkillSpan file that hold a span, each written `copies` times
/// to `out`.
fn sentences_with_spans(file: &str, n: usize, copies: usize, out: &Path) {
    let text = std::fs::read_to_string(skillspan(file)).expect("reads");
    let sentences: Vec<&str> = text.split("\n\n").filter(|s| s.contains("B-")).take(n).collect();
    std::fs::write(out, sentences.repeat(copies).join("\n\n") + "\n").expect("writes");
}

#[test]
fn an_encoder_fine_tuned_from_the_cli_extracts_and_is_evaluated() {
    // The real e5-small-v2 checkpoint that scripts/test fetches (scripts/fetch-encoder),
    // fine-tuned for two epochs on 32 sentences shown six times each: about 30 s, and enough
    // for the model to learn spans of those sentences (fewer steps leave it tagging nothing).
    let base = std::env::var_os(rats::env_vars::ENCODER_BASE).expect("RATS_ENCODER_BASE names the base encoder; run scripts/test");
    let dir = tempfile::tempdir().expect("tempdir");
    sentences_with_spans("skillspan_tech_train.conll", 32, 6, &dir.path().join("train.conll"));
    sentences_with_spans("skillspan_tech_train.conll", 32, 1, &dir.path().join("seen.conll"));
    let output = run(rats(dir.path())
        .args([
            "train",
            "skills",
            "--epochs",
            "2",
            "--format",
            "json",
            "--out",
            "encoder",
            "--learning-rate",
            "6e-4",
            "--encoder",
        ])
        .arg(&base)
        .args(["--train", "train.conll", "--dev", "seen.conll"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let trained = summary(&output);
    assert_eq!(trained["kind"], "encoder");
    assert_eq!(trained["info"]["settings"]["learning_rate"], 6e-4);
    assert_eq!(trained["info"]["train_sentences"], 192);
    assert_eq!(trained["info"]["history"].as_array().map(Vec::len), Some(2));
    for file in ["config.json", "tokenizer.json", "model.safetensors", "rats-tagger.json"] {
        assert!(dir.path().join("encoder").join(file).is_file(), "{file} in the model folder");
    }

    let output = run(rats(dir.path()).args([
        "skills",
        "extract",
        "--format",
        "json",
        "--model",
        "encoder",
        "--text",
        "You will build data pipelines in Python and SQL.",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let ids: Vec<String> = summary(&output)
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|m| m["id"].as_str().map(str::to_string))
        .collect();
    assert!(ids.contains(&"python".to_string()) && ids.contains(&"sql".to_string()), "{ids:?}");

    // Scored on the sentences it was trained on: this checks that the model learns, is saved,
    // loads and predicts, not how well it generalises (docs/skills-eval.md measures that).
    let output = run(rats(dir.path()).args(["skills", "eval", "--format", "json", "--model", "encoder", "--data", "seen.conll"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let report = summary(&output);
    assert_eq!(report["sentences"], 32);
    assert_eq!(report["systems"][1]["system"], "model");
    // The extractor's spans are the gazetteer's plus the model's that overlap none of them, so
    // more spans in "full" than in "gazetteer" means the fine-tuned model found spans the
    // taxonomy does not (the Python/SQL check above passes on the gazetteer alone).
    let predicted = |system: usize| -> u64 {
        ["SKILL", "KNOWLEDGE"]
            .iter()
            .map(|label| {
                report["systems"][system]["labels"][label]["strict"]["predicted"]
                    .as_u64()
                    .expect("count")
            })
            .sum()
    };
    assert_eq!(report["systems"][0]["system"], "gazetteer");
    assert_eq!(report["systems"][2]["system"], "full");
    assert!(
        predicted(2) > predicted(0),
        "the model adds no span to the gazetteer's: full {} vs gazetteer {}",
        predicted(2),
        predicted(0)
    );
}

#[test]
fn a_learning_rate_without_an_encoder_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(rats(dir.path()).args(["train", "skills", "--learning-rate", "1e-3"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--encoder"), "{}", stderr(&output));
}

#[test]
fn a_broken_conll_line_is_named_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("bad.conll"), "Python\tO\tB-Knowledge\nRust\tB-Knowledge\tO\n").expect("writes");
    let output = run(rats(dir.path()).args(["skills", "eval", "--data", "bad.conll"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("bad.conll:2: field 2 is \"B-Knowledge\"; expected O, B-Skill or I-Skill"),
        "{}",
        stderr(&output)
    );
}

fn consume_demo(dir: &Path) -> PathBuf {
    let lake = dir.join("lake");
    let output = run(rats(dir)
        .args(["consume", "-q", "--max-quarantine", "100", "--lake"])
        .arg(&lake)
        .arg("--from")
        .arg(repo().join("fixtures/demo/postings.jsonl"))
        .arg(repo().join("fixtures/demo/jobspy.csv")));
    assert!(output.status.success(), "{}", stderr(&output));
    lake
}

#[test]
fn consume_fills_silver_skills_and_the_graph_counts_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = consume_demo(dir.path());
    let rows = table_rows(&lake, rats::lake::SILVER, &["posting_key", "title", "description", "skills"]);
    // Each stored mention's offsets cut out the text the extractor finds for that id.
    let extractor = rats::skills::Extractor::new(rats::skills::Taxonomy::built_in().expect("valid"), None).expect("builds");
    let mut mentions = 0;
    for row in &rows {
        let skills: Vec<serde_json::Value> = serde_json::from_str(&row[3]).expect("skills is JSON");
        for skill in &skills {
            let field = if skill["field"] == "title" { &row[1] } else { &row[2] };
            let (start, end) = (
                skill["start"].as_u64().expect("start") as usize,
                skill["end"].as_u64().expect("end") as usize,
            );
            let sliced: String = field.chars().skip(start).take(end - start).collect();
            let expected = extractor.extract(field).expect("gazetteer only");
            assert!(
                expected
                    .iter()
                    .any(|m| m.start == start && m.end == end && m.surface == sliced && m.id.as_deref() == skill["id"].as_str()),
                "{}: {skill} does not match {sliced:?}",
                row[0]
            );
            mentions += 1;
        }
    }
    assert!(mentions >= 5, "{mentions} mentions in the demo postings");
    let ids = rats::lake::read_silver_skill_ids(&lake).expect("reads");
    assert_eq!(ids.len(), rows.len());
    assert!(ids.iter().any(|posting| posting.contains(&"python".to_string())));
    let taxonomy_rows = table_rows(&lake, rats::lake::reference::SKILLS, &["skill_id"]);
    assert_eq!(taxonomy_rows.len(), rats::skills::Taxonomy::built_in().expect("valid").skills.len());

    let output = run(rats(dir.path())
        .args([
            "skills",
            "graph",
            "--min-cooccurrence",
            "1",
            "--json",
            "g.json",
            "--graphml",
            "g.graphml",
            "--format",
            "json",
            "--lake",
        ])
        .arg(&lake));
    assert!(output.status.success(), "{}", stderr(&output));
    let graph: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("g.json")).expect("json file")).expect("json");
    assert_eq!(graph["postings"].as_u64(), Some(rows.len() as u64));
    let edges = graph["edges"].as_array().expect("edges");
    assert!(edges.iter().any(|e| e["kind"] == "co_occurs" && e["weight"].as_u64() >= Some(1)));
    assert!(
        edges
            .iter()
            .any(|e| e["kind"] == "parent" && e["source"] == "pandas" && e["target"] == "python")
    );
    let graphml = std::fs::read_to_string(dir.path().join("g.graphml")).expect("graphml");
    assert_eq!(graphml.matches("<edge ").count(), edges.len());
    assert_eq!(
        summary(&output)["cooccurrence_edges"].as_u64(),
        Some(edges.iter().filter(|e| e["kind"] == "co_occurs").count() as u64)
    );
}

#[test]
fn imports_report_additions_and_contradictions_and_merge_them_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let taxonomy = dir.path().join("skills.yaml");
    std::fs::copy(repo().join("taxonomies/skills.yaml"), &taxonomy).expect("copies");
    let devicon = datasets().join("taxonomies/devicon/devicon.json");
    let import = |merge: bool| {
        let mut command = rats(dir.path());
        command
            .args(["skills", "import", "devicon", "--format", "json", "--taxonomy"])
            .arg(&taxonomy)
            .arg(&devicon);
        if merge {
            command.arg("--merge");
        }
        let output = run(&mut command);
        assert!(output.status.success(), "{}", stderr(&output));
        summary(&output)
    };
    let report = import(false);
    assert_eq!(report["read"].as_u64(), Some(578), "devicon lists 578 technologies");
    let (known, new) = (
        report["known"].as_u64().expect("known"),
        report["new"].as_array().expect("new").len() as u64,
    );
    assert_eq!(known + new, 578);
    assert!(known > 300, "most of devicon is in the taxonomy: {known}");
    let merged = import(true)["merged"].as_u64().expect("merged");
    assert!(merged > 0);
    let still_new = import(false)["new"].as_array().expect("new").len() as u64;
    assert_eq!(still_new, new - merged, "what merged is known the second time");
    assert_eq!(import(true)["merged"].as_u64(), Some(0), "a second merge adds nothing");
    let output = run(rats(dir.path())
        .args(["skills", "extract", "--format", "json", "--text", "Kubernetes", "--taxonomy"])
        .arg(&taxonomy));
    assert!(output.status.success(), "the merged taxonomy loads: {}", stderr(&output));

    let output = run(rats(dir.path()).args(["skills", "import", "onet", "--merge"]).arg(&devicon));
    assert_eq!(output.status.code(), Some(2), "--merge needs --taxonomy");
}
