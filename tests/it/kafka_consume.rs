//! `rats consume` from a real Apache Kafka broker (`scripts/kafka up`, which `scripts/test`
//! runs) with the Schema Registry STUB of `registry_stub.rs` (no registry server can run
//! here): exactly once into the lake, through crashes and a broker restart, with poison
//! messages quarantined and a newer writer schema read.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use apache_avro::types::Value;
use rats::lake::{QUARANTINE, SILVER};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use crate::crash_resume::{inputs as crash_inputs, snapshot};
use crate::registry_stub;
use crate::support::{
    brokers, commit_files, create_topic, kill_after, kill_waits, posting_csvs, produce_all, rats, repo, run, stderr, summary, table_rows,
    unique_topic,
};

/// `rats consume` from `topic` as `group` into `dir/lake`.
fn consume(dir: &Path, lake: &str, brokers: &str, topic: &str, group: &str, registry: &str) -> Command {
    let mut command = rats(dir);
    command.args([
        "consume",
        "--lake",
        lake,
        "--brokers",
        brokers,
        "--topic",
        topic,
        "--group",
        group,
        "--registry",
        registry,
        "--format",
        "json",
    ]);
    command
}

fn silver_keys(lake: &Path) -> Vec<String> {
    table_rows(lake, SILVER, &["posting_key"])
        .into_iter()
        .map(|mut r| r.remove(0))
        .collect()
}

/// The offsets the group committed, by partition.
fn committed_offsets(brokers: &str, topic: &str, group: &str, partitions: i32) -> Vec<i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .create()
        .expect("consumer");
    let mut list = rdkafka::TopicPartitionList::new();
    for p in 0..partitions {
        list.add_partition(topic, p);
    }
    let committed = consumer
        .committed_offsets(list, Duration::from_secs(10))
        .expect("committed offsets");
    (0..partitions)
        .map(|p| match committed.find_partition(topic, p).map(|e| e.offset()) {
            Some(rdkafka::Offset::Offset(o)) => o,
            _ => -1,
        })
        .collect()
}

#[test]
fn every_dataset_through_kafka_gives_the_postings_file_ingest_gives() {
    let (registry, _) = registry_stub::start();
    let brokers = brokers();
    let topic = unique_topic("datasets");
    create_topic(&brokers, &topic, 1);
    let files = posting_csvs();
    let produced = produce_all(&brokers, &topic, &registry, &files);

    let dir = tempfile::tempdir().expect("tempdir");
    let from_files = run(rats(dir.path())
        .args(["consume", "-q", "--lake", "files", "--format", "json", "--from"])
        .args(&files));
    assert!(from_files.status.success(), "{}", stderr(&from_files));
    let output = run(consume(dir.path(), "kafka", &brokers, &topic, "datasets", &registry).arg("--once"));
    assert!(output.status.success(), "{}", stderr(&output));
    // Closing the consumer before rdkafka drops it (and closes it again) logs nothing.
    assert!(!stderr(&output).contains("ERROR"), "{}", stderr(&output));
    let (files_summary, kafka_summary) = (summary(&from_files), summary(&output));

    assert_eq!(kafka_summary["read"], produced["sent"], "every message is read: {kafka_summary}");
    for count in ["read", "written", "duplicates", "quarantined"] {
        assert_eq!(
            kafka_summary[count], files_summary[count],
            "{count}: kafka {kafka_summary} vs files {files_summary}"
        );
    }
    assert_eq!(kafka_summary["stopped_by"], "caught_up");
    assert_eq!(kafka_summary["partitions"][0]["lag"], 0);
    let (kafka_keys, file_keys) = (silver_keys(&dir.path().join("kafka")), silver_keys(&dir.path().join("files")));
    assert_eq!(kafka_keys.len(), file_keys.len());
    assert!(kafka_keys == file_keys, "silver holds the same posting keys");
    assert_eq!(
        committed_offsets(&brokers, &topic, "datasets", 1),
        vec![produced["sent"].as_i64().expect("count")],
        "the group's offsets follow the lake"
    );

    // Caught up: a second run reads nothing and commits nothing.
    let before = commit_files(&dir.path().join("kafka"));
    let again = run(consume(dir.path(), "kafka", &brokers, &topic, "datasets", &registry).arg("--once"));
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(summary(&again)["read"], 0);
    assert_eq!(commit_files(&dir.path().join("kafka")), before);
}

fn assert_same_lake(expected: &Path, got: &Path) {
    let (expected, got) = (snapshot(expected), snapshot(got));
    for (table, (e, g)) in ["bronze", "silver", "duplicates", "quarantine"]
        .iter()
        .zip(expected.iter().zip(&got))
    {
        assert_eq!(e.len(), g.len(), "{table}: row count");
        assert!(e == g, "{table}: rows differ from the clean run");
    }
}

#[test]
fn killed_kafka_consumers_resume_to_the_clean_lake() {
    let (registry, _) = registry_stub::start();
    let brokers = brokers();
    let topic = unique_topic("crash");
    create_topic(&brokers, &topic, 1);
    produce_all(&brokers, &topic, &registry, &crash_inputs());
    let dir = tempfile::tempdir().expect("tempdir");
    let consume_once = |lake: &str, group: &str| {
        let mut command = consume(dir.path(), lake, &brokers, &topic, group, &registry);
        command
            .args(["--once", "-q", "--batch-size", "150"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    };
    let started = Instant::now();
    assert!(consume_once("clean", "clean").status().expect("runs").success());
    let clean_time = started.elapsed();
    for (which, wait) in kill_waits(5, clean_time).into_iter().enumerate() {
        kill_after(&mut consume_once("crashed", "crashed"), wait, which + 1);
    }
    let finish = run(consume(dir.path(), "crashed", &brokers, &topic, "crashed", &registry).args(["--once", "--batch-size", "150"]));
    assert!(finish.status.success(), "{}", stderr(&finish));
    assert_same_lake(&dir.path().join("clean"), &dir.path().join("crashed"));
}

/// A second broker of our own for the restart test, so stopping it disturbs no other test.
struct PrivateBroker {
    port: String,
}

impl PrivateBroker {
    fn script(&self, action: &str) {
        let status = Command::new(repo().join("scripts/kafka"))
            .arg(action)
            .env(rats::env_vars::KAFKA_PORT, &self.port)
            .stdout(Stdio::null())
            .status()
            .expect("scripts/kafka runs");
        assert!(status.success(), "scripts/kafka {action} on port {}", self.port);
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        self.script("down");
    }
}

#[test]
fn a_broker_restart_mid_stream_ends_in_the_clean_lake() {
    let broker = PrivateBroker {
        port: std::env::var(rats::env_vars::KAFKA_RESTART_PORT).unwrap_or_else(|_| "19192".into()),
    };
    broker.script("up");
    let brokers = broker.address();
    let (registry, _) = registry_stub::start();
    let topic = unique_topic("restart");
    create_topic(&brokers, &topic, 1);
    produce_all(&brokers, &topic, &registry, &crash_inputs());
    let dir = tempfile::tempdir().expect("tempdir");
    let consume_once = |lake: &str, group: &str| {
        let mut command = consume(dir.path(), lake, &brokers, &topic, group, &registry);
        command.args(["--once", "--batch-size", "100"]);
        command
    };
    let started = Instant::now();
    let clean = run(&mut consume_once("clean", "clean"));
    assert!(clean.status.success(), "{}", stderr(&clean));
    let clean_time = started.elapsed();

    let mut child = consume_once("restarted", "restarted")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    std::thread::sleep(clean_time.mul_f64(0.3));
    assert!(
        child.try_wait().expect("waitable").is_none(),
        "the consumer was still running when the broker stopped"
    );
    broker.script("down");
    std::thread::sleep(Duration::from_secs(2));
    broker.script("up");
    let output = child.wait_with_output().expect("finishes");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_same_lake(&dir.path().join("clean"), &dir.path().join("restarted"));
}

/// One Avro datum, as a Confluent producer writes the body.
fn encode(schema: &apache_avro::Schema, value: Value) -> apache_avro::AvroResult<Vec<u8>> {
    apache_avro::writer::datum::GenericDatumWriter::builder(schema)
        .build()?
        .write_value_to_vec(value)
}

/// Confluent framing: magic byte 0, the schema id big-endian, the Avro body.
fn framed(id: u32, body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0];
    bytes.extend(id.to_be_bytes());
    bytes.extend(body);
    bytes
}

fn listing_value(title: &str, job_id: &str) -> Value {
    let listing = rats::contract::JobListing {
        job_id: Some(job_id.into()),
        site: Some("testboard".into()),
        job: Some(rats::contract::Job {
            title: Some(title.into()),
            description: Some(format!("{title}: build data pipelines in Rust and SQL.")),
            ..Default::default()
        }),
        ..Default::default()
    };
    apache_avro::to_value(listing)
        .expect("serialisable")
        .resolve(rats::contract::schema())
        .expect("the contract's own shape")
}

/// The contract's schema text with one more top-level field: a v2 writer as the evolution
/// rules allow (nullable, null default).
fn v2_schema() -> String {
    let mut schema: serde_json::Value = serde_json::from_str(rats::contract::SCHEMA_JSON).expect("json");
    schema["fields"]
        .as_array_mut()
        .expect("fields")
        .push(serde_json::json!({"name": "remote_policy", "type": ["null", "string"], "default": null}));
    schema.to_string()
}

/// The contract with `job_id` retyped to long: a writer the contract cannot read.
fn wrong_types_schema() -> String {
    let mut schema: serde_json::Value = serde_json::from_str(rats::contract::SCHEMA_JSON).expect("json");
    schema["fields"][0]["type"] = serde_json::json!("long");
    schema["fields"][0].as_object_mut().expect("field").remove("default");
    schema.to_string()
}

/// The contract with one more field of the given Avro type (JSON), as a hostile or careless
/// producer might register it.
fn schema_with_extra_field(name: &str, avro_type: &serde_json::Value) -> String {
    let mut schema: serde_json::Value = serde_json::from_str(rats::contract::SCHEMA_JSON).expect("json");
    schema["fields"]
        .as_array_mut()
        .expect("fields")
        .push(serde_json::json!({"name": name, "type": avro_type}));
    schema.to_string()
}

/// An Avro long: zig-zag, then base-128 varint.
fn avro_long(n: i64) -> Vec<u8> {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    let mut out = Vec::new();
    loop {
        let byte = (z & 0x7f) as u8;
        z >>= 7;
        if z == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// A body (written by hand, as no honest writer would) for a writer schema whose data could
/// kill a decoder: a self-containing record nested 200,000 deep (about 200 KB, enough to
/// overflow a decoding thread's stack), and arrays of nulls declaring 8 × 8 million items
/// in 30 bytes (gigabytes once decoded). Both follow the contract's fields of `listing`.
fn hostile_bodies(listing: &[u8]) -> [(serde_json::Value, Vec<u8>); 2] {
    let node = serde_json::json!(["null", {"type": "record", "name": "Node", "fields": [{"name": "next", "type": ["null", "Node"]}]}]);
    let mut deep = listing.to_vec();
    deep.extend(std::iter::repeat_n(2u8, 200_000)); // union branch 1 (a Node) at every level
    deep.push(0); // then null
    let nulls = serde_json::json!({"type": "array", "items": {"type": "array", "items": "null"}});
    let mut wide = listing.to_vec();
    wide.extend(avro_long(8));
    for _ in 0..8 {
        wide.extend(avro_long(8_000_000));
        wide.push(0);
    }
    wide.push(0);
    [(node, deep), (nulls, wide)]
}

#[test]
fn poison_messages_go_to_quarantine_with_their_bytes_and_a_v2_writer_still_reads() {
    let (registry_url, registry) = registry_stub::start();
    let register = |schema: String| registry.register("poison-value", &schema) as u32;
    let v1 = register(rats::contract::SCHEMA_JSON.to_string());
    let v2_text = v2_schema();
    let v2 = register(v2_text.clone());
    let wrong_text = wrong_types_schema();
    let wrong = register(wrong_text.clone());

    let contract = rats::contract::schema();
    let good = encode(contract, listing_value("Data Engineer", "a1")).expect("encodes");
    let v2_schema = apache_avro::Schema::parse_str(&v2_text).expect("v2 parses");
    let Value::Record(mut fields) = listing_value("Platform Engineer", "a2") else {
        panic!("a record")
    };
    fields.push(("remote_policy".into(), Value::Union(1, Box::new(Value::String("hybrid".into())))));
    let v2_body = encode(&v2_schema, Value::Record(fields)).expect("v2 encodes");
    let wrong_schema = apache_avro::Schema::parse_str(&wrong_text).expect("parses");
    let Value::Record(mut fields) = listing_value("Analyst", "a3") else {
        panic!("a record")
    };
    fields[0].1 = Value::Long(42);
    let wrong_body = encode(&wrong_schema, Value::Record(fields)).expect("encodes");
    let mut trailing = framed(v1, &good);
    trailing.extend([1, 2, 3]);
    let [deep, wide] = hostile_bodies(&good).map(|(avro_type, body)| framed(register(schema_with_extra_field("extra", &avro_type)), &body));

    // (payload, expected error code; None = lands in silver)
    let messages: Vec<(Option<Vec<u8>>, Option<&str>)> = vec![
        (Some(framed(v1, &good)), None),
        (Some(b"{\"job\": {\"title\": \"not avro\"}}".to_vec()), Some("not_confluent_framed")),
        (Some(framed(999, &good)), Some("unknown_schema_id")),
        (Some(framed(v1, &good[..good.len() / 2])), Some("malformed_avro")),
        (Some(framed(wrong, &wrong_body)), Some("incompatible_schema")),
        (None, Some("not_confluent_framed")),
        (Some(trailing), Some("malformed_avro")),
        (Some(framed(v2, &v2_body)), None),
        (Some(deep), Some("incompatible_schema")),
        (Some(wide), Some("incompatible_schema")),
    ];
    let brokers = brokers();
    let topic = unique_topic("poison");
    create_topic(&brokers, &topic, 1);
    let producer: BaseProducer = ClientConfig::new().set("bootstrap.servers", &brokers).create().expect("producer");
    for (payload, _) in &messages {
        let mut record: BaseRecord<'_, str, [u8]> = BaseRecord::to(&topic).key("k");
        if let Some(bytes) = payload {
            record = record.payload(bytes.as_slice());
        }
        producer.send(record).map_err(|(e, _)| e).expect("queued");
    }
    producer.flush(Duration::from_secs(30)).expect("delivered");

    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(consume(dir.path(), "lake", &brokers, &topic, "poison", &registry_url).args(["--once", "--max-quarantine", "100"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let s = summary(&output);
    assert_eq!(
        (s["read"].as_u64(), s["written"].as_u64(), s["quarantined"].as_u64()),
        (Some(10), Some(2), Some(8)),
        "{s}"
    );

    let lake = dir.path().join("lake");
    let quarantined = table_rows(&lake, QUARANTINE, &["source_offset", "error_code", "source_file", "raw_bytes"]);
    let expected: Vec<(i64, &str, &[u8])> = messages
        .iter()
        .enumerate()
        .filter_map(|(offset, (payload, code))| code.map(|c| (offset as i64, c, payload.as_deref().unwrap_or_default())))
        .collect();
    let mut got: Vec<(i64, String, String, String)> = quarantined
        .into_iter()
        .map(|r| (r[0].parse().expect("offset"), r[1].clone(), r[2].clone(), r[3].clone()))
        .collect();
    got.sort();
    assert_eq!(got.len(), expected.len());
    for ((offset, code, file, bytes), (want_offset, want_code, want_bytes)) in got.iter().zip(&expected) {
        assert_eq!((*offset, code.as_str()), (*want_offset, *want_code));
        assert_eq!(file, &format!("kafka://{topic}/0"));
        let hex: String = want_bytes.iter().fold(String::new(), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        });
        assert_eq!(bytes, &hex, "the raw bytes of offset {offset} are kept");
    }
    let titles = table_rows(&lake, SILVER, &["title"]);
    assert_eq!(
        titles,
        vec![vec!["Data Engineer".to_string()], vec!["Platform Engineer".to_string()]]
    );
    let bronze_raw = table_rows(&lake, rats::lake::BRONZE, &["raw"]);
    assert!(
        bronze_raw
            .iter()
            .any(|r| r[0].contains("\"remote_policy\":\"hybrid\"") || r[0].contains("\"remote_policy\":{\"string\":\"hybrid\"}")),
        "bronze keeps the v2 record as written, added field included: {bronze_raw:?}"
    );
}

/// One input produced to a new topic, then `consume --once` against the registry at `url`:
/// the consumer's lake folder, its output and how long it ran.
fn consume_with_registry(group: &str, url: &str) -> (tempfile::TempDir, std::process::Output, Duration) {
    let (registry, _) = registry_stub::start();
    let brokers = brokers();
    let topic = unique_topic(group);
    create_topic(&brokers, &topic, 1);
    produce_all(&brokers, &topic, &registry, &crash_inputs()[..1]);
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let output = run(consume(dir.path(), "lake", &brokers, &topic, group, url).arg("--once"));
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(table_rows(&dir.path().join("lake"), SILVER, &["posting_key"]).is_empty());
    assert!(table_rows(&dir.path().join("lake"), rats::lake::BRONZE, &["raw"]).is_empty());
    assert_eq!(
        committed_offsets(&brokers, &topic, group, 1),
        vec![-1],
        "no group offset is committed"
    );
    (dir, output, elapsed)
}

#[test]
fn an_unreachable_registry_exits_2_having_committed_nothing() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        format!("http://{}", listener.local_addr().expect("address"))
    };
    let (_dir, output, _) = consume_with_registry("noregistry", &closed);
    assert!(
        stderr(&output).contains(&closed),
        "the error names the registry: {}",
        stderr(&output)
    );
}

/// A registry that accepts connections and never answers (a listening socket nobody reads:
/// the kernel completes the handshake) fails the run within the retry budget, not after six
/// full per-request timeouts (about 70 s before the budget existed).
#[test]
fn an_unresponsive_registry_fails_the_run_within_the_retry_budget() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let url = format!("http://{}", silent.local_addr().expect("address"));
    let (_dir, output, elapsed) = consume_with_registry("silentregistry", &url);
    assert!(stderr(&output).contains("no answer within 8 s"), "{}", stderr(&output));
    let budget = rats::registry::RETRY_BUDGET.as_secs_f64();
    assert!(
        elapsed.as_secs_f64() < budget + 15.0,
        "gave up after {elapsed:?}; the budget is {budget} s (plus the consumer's start and the broker)"
    );
    drop(silent);
}

#[test]
fn sigterm_finishes_the_batch_in_hand_and_exits_0() {
    let (registry, _) = registry_stub::start();
    let brokers = brokers();
    let topic = unique_topic("sigterm");
    create_topic(&brokers, &topic, 3);
    let produced = produce_all(&brokers, &topic, &registry, &crash_inputs()[..1]);
    let dir = tempfile::tempdir().expect("tempdir");
    let lake: PathBuf = dir.path().join("lake");
    let mut child = consume(dir.path(), "lake", &brokers, &topic, "sigterm", &registry)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    // Wait until everything is in the lake, then ask it to stop.
    let deadline = Instant::now() + Duration::from_mins(1);
    let sent = produced["sent"].as_u64().expect("count") as usize;
    while table_rows_or_empty(&lake) < sent {
        assert!(Instant::now() < deadline, "the consumer did not commit the topic in 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("waitable").is_none() {
        assert!(Instant::now() < deadline, "no exit 30 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().expect("output");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let s = summary(&output);
    assert_eq!(s["stopped_by"], "signal", "{s}");
    assert_eq!(s["read"].as_u64(), Some(sent as u64), "{s}");
    assert_eq!(s["partitions"].as_array().map(Vec::len), Some(3), "{s}");
}

/// Bronze rows so far; a lake that is still being created counts as empty.
fn table_rows_or_empty(lake: &Path) -> usize {
    if !lake.join(rats::lake::BRONZE).join("_delta_log").is_dir() {
        return 0;
    }
    rats::lake::scan_table(&lake.join(rats::lake::BRONZE), &["raw"]).map_or(0, |batches| {
        batches.iter().map(deltalake::arrow::array::RecordBatch::num_rows).sum()
    })
}

#[test]
fn a_topic_that_does_not_exist_is_an_error_naming_it() {
    let (registry, _) = registry_stub::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let topic = unique_topic("missing");
    let output = run(consume(dir.path(), "lake", &brokers(), &topic, "missing", &registry).arg("--once"));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("topic {topic} does not exist")),
        "{}",
        stderr(&output)
    );
}

#[test]
fn files_and_kafka_flags_do_not_mix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(rats(dir.path()).args(["consume", "--from", "x.jsonl", "--once"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot be used with"), "{}", stderr(&output));
}
