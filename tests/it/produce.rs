//! `rats produce` against a real Apache Kafka broker (started by `scripts/kafka up`, which
//! `.ci/run` does) and the Schema Registry stub in `registry_stub.rs`.

use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};

use crate::registry_stub;
use crate::support::{self, brokers, repo, stderr, summary};

/// Runs `rats produce --format json` from the demo fixtures named in `inputs`.
fn produce(topic: &str, registry_url: &str, inputs: &[&str]) -> std::process::Output {
    let paths: Vec<_> = inputs.iter().map(|f| repo().join("fixtures/demo").join(f)).collect();
    support::produce(&brokers(), topic, registry_url, &paths)
}

#[test]
fn produce_publishes_confluent_framed_avro_keyed_by_board_id() {
    let (registry_url, registry) = registry_stub::start();
    let topic = format!("rats.test.produce.{}", std::process::id());
    let output = produce(&topic, &registry_url, &["postings.jsonl", "jobspy.csv"]);
    // Two fixture records are not contract records (an integer id, a non-numeric amount).
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let s = summary(&output);
    assert_eq!(
        (
            s["read"].as_u64(),
            s["sent"].as_u64(),
            s["failed"].as_u64(),
            s["unreadable"].as_u64()
        ),
        (Some(13), Some(11), Some(0), Some(2)),
        "{s}"
    );
    assert!(
        stderr(&output).contains("postings.jsonl") && stderr(&output).contains("job_id"),
        "the unreadable record is named: {}",
        stderr(&output)
    );
    let subjects = registry_stub::subjects(&registry);
    let schema_id = subjects[&format!("{topic}-value")];

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", format!("{topic}.check"))
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    consumer.subscribe(&[&topic]).expect("subscribe");
    let mut keys = Vec::new();
    let started = Instant::now();
    while keys.len() < 11 && started.elapsed() < Duration::from_mins(1) {
        let Some(message) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        let message = message.expect("a message");
        let payload = message.payload().expect("payload");
        assert_eq!(payload[0], 0, "Confluent magic byte");
        assert_eq!(u32::from_be_bytes(payload[1..5].try_into().expect("4 bytes")) as usize, schema_id);
        let value = apache_avro::reader::datum::GenericDatumReader::builder(rats::contract::schema())
            .build()
            .expect("reader")
            .read_value(&mut &payload[5..])
            .expect("the body is contract Avro");
        let listing: rats::contract::JobListing = apache_avro::from_value(&value).expect("a listing");
        let key = message.key().map(|k| String::from_utf8_lossy(k).into_owned());
        assert_eq!(key, listing.job_id, "keyed by the board's id");
        let headers = message.headers().expect("headers");
        assert!(
            headers
                .iter()
                .any(|h| h.key == "source" && h.value == listing.site.as_deref().map(str::as_bytes))
        );
        keys.push(key.unwrap_or_default());
    }
    keys.sort();
    assert_eq!(keys.len(), 11, "every produced record arrives: {keys:?}");
    assert!(keys.contains(&"gd-9001".to_string()) && keys.contains(&"in-1001".to_string()));
}

#[test]
fn an_unreachable_registry_is_an_error_naming_it() {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    let output = produce("rats.test.unreachable", "http://127.0.0.1:9", &["jobspy.csv"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("http://127.0.0.1:9"), "{}", stderr(&output));
}

#[test]
fn a_registry_that_comes_up_late_is_retried() {
    let (registry_url, registry) = registry_stub::start_after(Duration::from_millis(1_500));
    let topic = format!("rats.test.late-registry.{}", std::process::id());
    let output = produce(&topic, &registry_url, &["postings.jsonl"]);
    let s = summary(&output);
    assert_eq!(
        (s["sent"].as_u64(), s["unreadable"].as_u64()),
        (Some(7), Some(1)),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("retrying"), "the retries are logged: {}", stderr(&output));
    assert!(registry_stub::subjects(&registry).contains_key(&format!("{topic}-value")));
}

#[test]
fn a_contract_the_registry_calls_incompatible_is_refused_before_sending() {
    let (registry_url, registry) = registry_stub::start();
    let topic = format!("rats.test.incompatible.{}", std::process::id());
    // A first run registers the contract; then the registry (the stub, told so) answers that
    // the contract is not compatible with the subject's versions.
    assert_eq!(produce(&topic, &registry_url, &["postings.jsonl"]).status.code(), Some(1));
    registry.incompatible.store(true, std::sync::atomic::Ordering::SeqCst);
    let output = produce(&topic, &registry_url, &["postings.jsonl"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not compatible") && stderr(&output).contains(&format!("{topic}-value")),
        "the error names the subject: {}",
        stderr(&output)
    );
}

#[test]
fn a_second_topic_gets_its_own_subject_with_the_same_schema_id_and_its_own_check() {
    let (registry_url, registry) = registry_stub::start();
    let first = format!("rats.test.first-topic.{}", std::process::id());
    let second = format!("rats.test.second-topic.{}", std::process::id());
    assert_eq!(produce(&first, &registry_url, &["postings.jsonl"]).status.code(), Some(1));
    assert_eq!(produce(&second, &registry_url, &["postings.jsonl"]).status.code(), Some(1));
    let subjects = registry_stub::subjects(&registry);
    assert_eq!(
        subjects.get(&format!("{second}-value")),
        subjects.get(&format!("{first}-value")),
        "one contract, one id, registered under both subjects: {subjects:?}"
    );
    // The second subject has a version now, so its compatibility is checked before sending.
    registry.incompatible.store(true, std::sync::atomic::Ordering::SeqCst);
    let output = produce(&second, &registry_url, &["postings.jsonl"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains(&format!("{second}-value")), "{}", stderr(&output));
}
