//! The command line itself: help, settings, errors and exit codes, generated docs.

use crate::support::{consume_into, rats, repo, run, stderr, stdout};

#[test]
fn help_lists_only_commands_that_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(rats(dir.path()).arg("--help"));
    assert!(output.status.success());
    let help = stdout(&output);
    for built in [
        "consume",
        "produce",
        "transform",
        "skills",
        "train",
        "serve",
        "export",
        "check",
        "report",
        "run",
        "users",
        "config",
        "man",
        "completions",
    ] {
        assert!(help.contains(built), "{built} missing from --help:\n{help}");
    }
}

/// The allocator is jemalloc and reads its options from `MALLOC_CONF`, the variable the encoder
/// commands restart themselves with (commands/allocator.rs): asked to, it prints its statistics
/// when rats exits.
#[test]
fn the_allocator_is_jemalloc_reading_malloc_conf() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(rats(dir.path()).arg("--version").env("MALLOC_CONF", "stats_print:true"));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Begin jemalloc statistics"),
        "no jemalloc statistics on stderr:\n{}",
        stderr(&output)
    );
}

#[test]
fn config_show_says_where_each_value_came_from() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("rats.yaml"),
        "lake: lake-from-file\nconsume:\n  max_quarantine: 12\n",
    )
    .expect("write");
    let output = run(rats(dir.path())
        .args(["config", "show", "--format", "json"])
        .env(rats::env_vars::BATCH_SIZE, "77"));
    assert!(output.status.success(), "{}", stderr(&output));
    let shown: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(shown["lake"]["source"], "file");
    assert!(shown["lake"]["value"].as_str().expect("string").ends_with("lake-from-file"));
    assert_eq!(
        shown["consume.batch_size"],
        serde_json::json!({"value": "77", "source": "env RATS_BATCH_SIZE"})
    );
    assert_eq!(shown["consume.max_quarantine"]["value"], "12");
    assert_eq!(shown["format"], serde_json::json!({"value": "json", "source": "flag"}));
    assert_eq!(shown["log_format"]["source"], "default");
}

#[test]
fn bad_settings_exit_2_and_name_the_culprit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(rats(dir.path())
        .args(["config", "show"])
        .env(rats::env_vars::MAX_QUARANTINE, "plenty"));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("RATS_MAX_QUARANTINE"), "{}", stderr(&output));

    std::fs::write(dir.path().join("rats.yaml"), "lake: x\nconsume:\n  batchsize: 3\n").expect("write");
    let output = run(rats(dir.path()).args(["config", "show"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("batchsize"), "{}", stderr(&output));
}

#[test]
fn a_missing_input_fails_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(rats(dir.path()).args(["consume", "--lake", "lake", "--from", "no-such-file.jsonl"]));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("no-such-file.jsonl") && err.contains("error:"), "{err}");
    assert!(err.contains("did not start; nothing was written"), "not a run to resume: {err}");
    assert!(!dir.path().join("lake").exists(), "no lake is created for a run that cannot start");
    std::fs::create_dir(dir.path().join("exports")).expect("mkdir");
    let output = run(rats(dir.path()).args(["consume", "--lake", "lake", "--from", "exports"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("exports is a folder"), "{}", stderr(&output));
    assert!(!dir.path().join("lake").exists(), "no lake for a folder either");
}

#[test]
fn an_unknown_csv_layout_names_its_header() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("odd.csv"), "alpha,beta\n1,2\n").expect("write");
    let output = run(rats(dir.path()).args(["consume", "--lake", "lake", "--from", "odd.csv"]));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("odd.csv") && err.contains("alpha,beta") && err.contains("--mapping"),
        "{err}"
    );
}

#[test]
fn a_user_mapping_reads_a_new_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("board.csv"),
        "ref,role,employer,pay\nA1,Data Engineer,Acme,$90K-$110K\nA2,,Acme,\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("board.yaml"),
        "name: board\nsite: myboard\nheader: [ref, role, employer, pay]\nsource_id: {column: ref}\nfields:\n  job.title: role\n  job.company: employer\n  compensation.salary_text: pay\n",
    )
    .expect("write");
    let output = run(rats(dir.path()).args([
        "consume",
        "--lake",
        "lake",
        "--from",
        "board.csv",
        "--mapping",
        "board.yaml",
        "--format",
        "json",
        "--max-quarantine",
        "50",
    ]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let summary = crate::support::summary(&output);
    assert_eq!(
        (
            summary["read"].as_u64(),
            summary["written"].as_u64(),
            summary["quarantined"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(summary["files"][0]["mapping"], "board");
    let rows = crate::support::table_rows(
        &dir.path().join("lake"),
        rats::lake::SILVER,
        &["source_site", "source_job_id", "salary_min_usd", "salary_max_usd"],
    );
    assert_eq!(
        rows,
        vec![vec!["myboard".to_string(), "A1".into(), "90000.0".into(), "110000.0".into()]]
    );
}

#[test]
fn man_pages_are_fresh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(rats(dir.path()).args(["man", "--out", "pages"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let list = |d: &std::path::Path| {
        let mut names: Vec<String> = std::fs::read_dir(d)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let committed = repo().join("man");
    assert_eq!(
        list(&dir.path().join("pages")),
        list(&committed),
        "man/ is stale: run `rats man` and commit"
    );
    for name in list(&committed) {
        let fresh = std::fs::read_to_string(dir.path().join("pages").join(&name)).expect("fresh page");
        let old = std::fs::read_to_string(committed.join(&name)).expect("committed page");
        assert_eq!(fresh, old, "man/{name} is stale: run `rats man` and commit");
    }
}

#[test]
fn completions_are_generated_for_each_shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    for shell in ["bash", "zsh", "fish"] {
        let output = run(rats(dir.path()).args(["completions", shell]));
        assert!(output.status.success());
        assert!(stdout(&output).contains("consume"), "{shell} completion lacks subcommands");
    }
}

/// `man` and `completions` read no settings, so a broken rats.yaml (which every other command
/// reports, exit 2) does not stop an operator from generating them.
#[test]
fn man_and_completions_work_beside_a_broken_settings_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("rats.yaml"), "lake: [unclosed\n").expect("write");
    let broken = run(rats(dir.path()).args(["config", "show"]));
    assert_eq!(broken.status.code(), Some(2), "the broken file is an error elsewhere");
    let output = run(rats(dir.path()).args(["completions", "bash"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("consume"));
    let output = run(rats(dir.path()).args(["man", "--out", "pages"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(dir.path().join("pages/rats.1").is_file());
}

#[test]
fn the_example_settings_file_is_valid_and_sets_every_setting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = repo().join("rats.example.yaml");
    let output = run(rats(dir.path())
        .args(["config", "show", "--format", "json", "--config"])
        .arg(&example));
    assert!(output.status.success(), "{}", stderr(&output));
    let shown: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    for (setting, value) in shown.as_object().expect("object") {
        // `config` names the file itself, `format` comes from the --format flag above, and
        // `fx.fed_csv`, `skills.taxonomy`, `skills.model`, `mlflow.tracking_uri`, `accounts.db`
        // `serve.redis`, `check.alerts.webhook`, `smtp.url` and `report.chromium` are null in the
        // example (the built-in rates and taxonomy, no span model, no MLflow, the SQLite file
        // beside the lake, limits per process, no alerts, no mail, Chromium from PATH).
        if ![
            "config",
            "format",
            "fx.fed_csv",
            "skills.taxonomy",
            "skills.model",
            "mlflow.tracking_uri",
            "accounts.db",
            "serve.redis",
            "check.alerts.webhook",
            "smtp.url",
            "report.chromium",
        ]
        .contains(&setting.as_str())
        {
            assert_eq!(value["source"], "file", "{setting} is not set by rats.example.yaml");
        }
    }
}

/// Every `RATS_*` name the code base, its scripts, CI and the dbt project spell is in the one
/// registry (`src/env_vars.rs`), so the registry's list of what configures rats is complete.
#[test]
fn every_rats_variable_is_registered() {
    let registered: Vec<&str> = rats::env_vars::ALL
        .iter()
        .chain(rats::env_vars::OUTSIDE_THE_BINARY)
        .copied()
        .collect();
    let pattern = regex::Regex::new(r"RATS_[A-Z][A-Z_]*[A-Z]").expect("valid");
    let mut unregistered = Vec::new();
    let mut pending = vec![
        repo().join("src"),
        repo().join("commands"),
        repo().join("tests"),
        repo().join("scripts"),
        repo().join(".ci"),
        repo().join("sql-models"),
    ];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target" || n == "snapshots") {
                continue;
            }
            pending.extend(std::fs::read_dir(&path).expect("readable").map(|e| e.expect("entry").path()));
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            for name in pattern.find_iter(&text).map(|m| m.as_str()) {
                if !registered.contains(&name) {
                    unregistered.push(format!("{name} in {}", path.display()));
                }
            }
        }
    }
    assert!(unregistered.is_empty(), "not in src/env_vars.rs: {unregistered:?}");
}

/// A pipe whose reading end is already closed: what `rats … | head -1` leaves once `head` is
/// done, without the race of waiting for it.
fn closed_pipe() -> std::process::Stdio {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    writer.into()
}

/// A reader that stops early is normal on the shell (`| head`, `2>&1 | head`): rats never
/// panics writing to it (Rust's `print!` macros would, exit 101), a command that was only
/// printing ends with 0, and one whose exit code is its answer (check, consume) keeps it.
#[test]
fn closed_stdout_or_stderr_never_panics_and_an_exit_code_that_answers_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    consume_into(
        dir.path(),
        &dir.path().join("lake"),
        &[repo().join("fixtures/matching/postings.jsonl")],
    );
    let closed = |args: &[&str], stderr_closed: bool| {
        let mut command = rats(dir.path());
        command.args(args).stdout(closed_pipe());
        if stderr_closed {
            command.stderr(closed_pipe());
        }
        run(&mut command).status.code()
    };

    let postings = repo().join("fixtures/demo/postings.jsonl");
    let postings = postings.to_str().expect("a UTF-8 path");
    std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
    let not_a_lake = ["check", "--lake", "empty", "--no-record"];
    let codes = [
        // Printing only: the reader had what it wanted.
        closed(&["check", "lineage", "--lake", "lake", "--graph", "dot"], false),
        // Nothing can be checked in a folder that is not a lake: 2 however the output is read.
        run(rats(dir.path()).args(not_a_lake)).status.code(),
        closed(&not_a_lake, false),
        closed(&not_a_lake, true),
        // More quarantined than the default 5 %: 1, and the summary it printed changes nothing.
        closed(&["consume", "--lake", "lake2", "--from", postings], false),
        // An error whose message cannot be written is still an error.
        closed(&["export", "--lake", "lake", "no/such_table"], true),
    ];
    assert_eq!(codes, [Some(0), Some(2), Some(2), Some(2), Some(1), Some(2)]);
}
