//! A STUB of the Confluent Schema Registry: no registry server can be installed here, so the
//! produce tests run this instead. It answers exactly the endpoints rats calls, shaped like
//! Confluent's documented responses: `POST /subjects/{subject}/versions` → `{"id": N}`,
//! `GET /schemas/ids/{id}` → `{"schema": "..."}` and `POST /compatibility/subjects/{subject}/versions`
//! → `{"is_compatible": B}` (404 / 40401 for a subject without versions). It judges no
//! compatibility itself: tests set the answer. Kafka itself is real (scripts/kafka).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Registered schemas and subjects. As in Confluent's registry, one schema text has one id
/// whatever subjects it is registered under, and each subject keeps its own versions.
#[derive(Default)]
pub struct Registry {
    /// Schema texts; index + 1 is the id.
    schemas: Mutex<Vec<String>>,
    /// Every (subject, schema id) registration, oldest first.
    versions: Mutex<Vec<(String, usize)>>,
    /// The answer to compatibility checks on subjects that have versions.
    pub incompatible: std::sync::atomic::AtomicBool,
}

impl Registry {
    /// Registers `schema` under `subject` and returns its id: the existing id for a text already
    /// registered under any subject, a new version of `subject` unless it already has that id.
    pub fn register(&self, subject: &str, schema: &str) -> usize {
        let mut schemas = self.schemas.lock().expect("lock");
        let id = if let Some(index) = schemas.iter().position(|s| s == schema) {
            index + 1
        } else {
            schemas.push(schema.to_string());
            schemas.len()
        };
        let mut versions = self.versions.lock().expect("lock");
        if !versions.iter().any(|(s, i)| s == subject && *i == id) {
            versions.push((subject.to_string(), id));
        }
        id
    }
}

/// Starts the stub on an ephemeral loopback port; it lives as long as the test process.
pub fn start() -> (String, Arc<Registry>) {
    start_after(Duration::ZERO)
}

/// Like [`start`], but the stub only starts listening after `delay`: a registry that is down
/// when the client first calls.
pub fn start_after(delay: Duration) -> (String, Arc<Registry>) {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("reserve a port")
        .local_addr()
        .expect("address")
        .port();
    let registry = Arc::new(Registry::default());
    let shared = Arc::clone(&registry);
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the stub registry");
        for stream in listener.incoming().flatten() {
            let registry = Arc::clone(&shared);
            std::thread::spawn(move || serve(stream, &registry));
        }
    });
    if delay.is_zero() {
        // Give the listener thread its moment, so an immediate call finds it.
        std::thread::sleep(Duration::from_millis(50));
    }
    (format!("http://127.0.0.1:{port}"), registry)
}

fn serve(stream: TcpStream, registry: &Registry) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                break;
            }
            if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
        let (status, response) = route(registry, method, path.split('?').next().unwrap_or_default(), &body);
        let reply = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\n\r\n{response}",
            response.len()
        );
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

fn route(registry: &Registry, method: &str, path: &str, body: &[u8]) -> (&'static str, String) {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("POST", ["subjects", subject, "versions"]) => {
            let request: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let id = registry.register(subject, request["schema"].as_str().unwrap_or_default());
            ("200 OK", serde_json::json!({ "id": id }).to_string())
        }
        ("GET", ["schemas", "ids", id]) => {
            let schemas = registry.schemas.lock().expect("lock");
            match id.parse::<usize>().ok().and_then(|i| schemas.get(i.wrapping_sub(1))) {
                Some(schema) => ("200 OK", serde_json::json!({ "schema": schema }).to_string()),
                None => ("404 Not Found", r#"{"error_code":40403,"message":"Schema not found"}"#.to_string()),
            }
        }
        ("POST", ["compatibility", "subjects", subject, "versions"]) => {
            let versions = registry.versions.lock().expect("lock");
            if versions.iter().any(|(s, _)| s == subject) {
                let compatible = !registry.incompatible.load(std::sync::atomic::Ordering::SeqCst);
                ("200 OK", serde_json::json!({ "is_compatible": compatible }).to_string())
            } else {
                (
                    "404 Not Found",
                    r#"{"error_code":40401,"message":"Subject not found."}"#.to_string(),
                )
            }
        }
        _ => ("404 Not Found", r#"{"error_code":40401,"message":"Not found"}"#.to_string()),
    }
}

/// Subjects registered so far, each with the schema id of its latest version.
pub fn subjects(registry: &Registry) -> HashMap<String, usize> {
    registry.versions.lock().expect("lock").iter().cloned().collect()
}
