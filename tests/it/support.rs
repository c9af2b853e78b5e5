//! Shared helpers: running the binary, locating the real datasets, reading lake tables.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use rats::env_vars;

/// The `rats` binary with a clean environment: no `RATS_*` variable leaks in from the shell,
/// and the working directory is `dir` (so no stray rats.yaml is read).
pub fn rats(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rats"));
    for name in env_vars::ALL {
        command.env_remove(name);
    }
    command.env_remove("RUST_LOG").current_dir(dir);
    command
}

/// Runs and returns the output; panics with stderr when it cannot start.
pub fn run(command: &mut Command) -> Output {
    command.output().expect("the rats binary starts")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The repository root, as `cargo test` names it when it runs the tests. Why not the
/// compile-time `env!`: clones sharing one `CARGO_TARGET_DIR` (as `.ci/run` does) share one
/// test binary, since cargo fingerprints a package's files by their path inside it, so a value
/// baked in at build time can name another clone.
pub fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// The shared real-data folder: `RATS_DATASETS`, else `../shared/datasets` beside the
/// repository. Tests that need it fail (not skip) when it is missing.
pub fn datasets() -> PathBuf {
    let dir = std::env::var_os(env_vars::DATASETS).map_or_else(|| repo().join("../shared/datasets"), PathBuf::from);
    assert!(
        dir.join("postings").is_dir(),
        "the real datasets are missing at {}; set RATS_DATASETS",
        dir.display()
    );
    dir
}

/// Every postings CSV of the shared datasets, sorted.
pub fn posting_csvs() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(datasets().join("postings"))
        .expect("postings folder")
        .flat_map(|d| std::fs::read_dir(d.expect("entry").path()).into_iter().flatten())
        .map(|f| f.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    files
}

/// Parses the JSON summary `rats consume --format json` prints.
pub fn summary(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}\nstderr: {}", stdout(output), stderr(output)))
}

/// The JSON on stdout of a run that must have succeeded.
pub fn success_json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "failed: {}", stderr(output));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(output)))
}

/// `rats consume --quiet` of `inputs` into `lake`, run in `dir`; panics unless it succeeds.
pub fn consume_into(dir: &Path, lake: &Path, inputs: &[PathBuf]) {
    let output = run(rats(dir)
        .args(["consume", "--quiet", "--lake"])
        .arg(lake)
        .arg("--from")
        .args(inputs));
    assert!(output.status.success(), "consume: {}", stderr(&output));
}

/// `rats occupation assign` on `lake`: every silver posting's title family into
/// `gold/posting_occupations`, from the shared datasets' ESCO occupations.
pub fn assign_title_families(lake: &Path) {
    let assigned = run(rats(lake.parent().expect("the lake's folder"))
        .env(rats::env_vars::DATASETS, datasets())
        .args(["occupation", "assign", "--quiet", "--lake"])
        .arg(lake));
    assert!(assigned.status.success(), "occupation assign: {}", stderr(&assigned));
}

/// Rows of `columns` of a lake table, each row rendered as strings, as a sorted multiset.
pub fn table_rows(lake: &Path, table: &str, columns: &[&str]) -> Vec<Vec<String>> {
    use rats::lake::scan_table;
    let batches = scan_table(&lake.join(table), columns).unwrap_or_else(|e| panic!("reading {table}: {e}"));
    let mut rows = Vec::new();
    for batch in batches {
        for i in 0..batch.num_rows() {
            rows.push(
                (0..batch.num_columns())
                    .map(|c| deltalake::arrow::util::display::array_value_to_string(batch.column(c), i).expect("displayable"))
                    .collect(),
            );
        }
    }
    rows.sort();
    rows
}

pub fn row_count(lake: &Path, table: &str) -> usize {
    table_rows(lake, table, &["source_file"]).len()
}

/// The commit files of every table, to show that a run wrote nothing.
pub fn commit_files(lake: &Path) -> BTreeSet<PathBuf> {
    [
        rats::lake::BRONZE,
        rats::lake::SILVER,
        rats::lake::DUPLICATES,
        rats::lake::QUARANTINE,
        rats::lake::reference::SKILLS,
    ]
    .iter()
    .flat_map(|t| std::fs::read_dir(lake.join(t).join("_delta_log")).into_iter().flatten())
    .map(|e| e.expect("entry").path())
    .collect()
}

/// The broker `scripts/kafka up` starts (port from `RATS_KAFKA_PORT`, as the script reads it).
pub fn brokers() -> String {
    format!(
        "127.0.0.1:{}",
        std::env::var(env_vars::KAFKA_PORT).unwrap_or_else(|_| "19092".into())
    )
}

/// A topic name no other test (or earlier run) uses.
pub fn unique_topic(purpose: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("rats.test.{purpose}.{}.{nanos}", std::process::id())
}

/// Creates `topic` with `partitions` on the broker at `brokers` (a single partition keeps the
/// files' order, so which of two duplicates is kept matches file ingest).
pub fn create_topic(brokers: &str, topic: &str, partitions: i32) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client");
    let results = futures::executor::block_on(admin.create_topics(
        &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
        &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
    ))
    .expect("create_topics answered");
    for result in results {
        result.unwrap_or_else(|(t, e)| panic!("creating topic {t}: {e}"));
    }
}

/// Runs `rats produce --format json` of `inputs` to `topic`.
pub fn produce(brokers: &str, topic: &str, registry_url: &str, inputs: &[PathBuf]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = [
        "produce",
        "--brokers",
        brokers,
        "--topic",
        topic,
        "--registry",
        registry_url,
        "--format",
        "json",
        "--from",
    ];
    run(rats(dir.path()).args(args).args(inputs))
}

/// [`produce`], and its summary; panics unless every record was sent.
pub fn produce_all(brokers: &str, topic: &str, registry_url: &str, inputs: &[PathBuf]) -> serde_json::Value {
    let output = produce(brokers, topic, registry_url, inputs);
    assert!(output.status.success(), "produce failed: {}", stderr(&output));
    summary(&output)
}

/// When to kill each of `n` successive runs that resume one another, as waits after each
/// start: the runs are killed at seeded points of the work, cumulative fractions of a clean
/// run's time spread over [0.05, 0.45), so each resumed run, which has at least half of the
/// work left, is still running when its kill comes (even if it runs twice as fast as the
/// clean run did). The seed is printed; `RATS_KILL_SEED=N` replays a failure's kill points.
pub fn kill_waits(n: usize, clean_time: Duration) -> Vec<Duration> {
    let seed = std::env::var(env_vars::KILL_SEED).ok().map_or_else(
        || {
            std::time::SystemTime::now()
                .duration_since(std::time::SystemTime::UNIX_EPOCH)
                .map_or(7, |d| d.as_nanos() as u64)
        },
        |s| s.parse::<u64>().expect("RATS_KILL_SEED is a number"),
    );
    println!("kill-point seed {seed} (replay with {}={seed})", env_vars::KILL_SEED);
    let mut state = seed;
    let mut points: Vec<f64> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            0.05 + (state >> 33) as f64 / f64::from(u32::MAX) * 0.4
        })
        .collect();
    points.sort_by(f64::total_cmp);
    let mut previous = 0.0;
    points
        .into_iter()
        .map(|point| {
            let wait = clean_time.mul_f64(point - previous).max(Duration::from_millis(50));
            previous = point;
            wait
        })
        .collect()
}

/// Starts `command`, waits `wait`, and kills it with SIGKILL, failing when the run had
/// already finished (a kill that interrupted nothing tests nothing).
pub fn kill_after(command: &mut Command, wait: Duration, which: usize) {
    let mut child = command.spawn().expect("starts");
    std::thread::sleep(wait);
    assert!(
        child.try_wait().expect("waitable").is_none(),
        "run {which} finished before its kill at {wait:?}: the kill would interrupt nothing"
    );
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
}

/// Copies the folder `from` to `to`, sub-folders included.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A loopback port free at the time of asking, for a server a test starts on a port it must
/// know in advance.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("binds")
        .local_addr()
        .expect("an address")
        .port()
}
