//! The exporter thread: finished spans arrive through a bounded queue and leave in batches,
//! one POST per batch, when the batch is full or its first span has waited `flush_every`.
//! Dropping the [`ExportGuard`] sends what is left (waiting a few seconds at most).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use super::encode::{FinishedSpan, export_request};
use super::{OtlpConfig, OtlpError};

/// Spans waiting for the exporter at most; more are dropped (and counted) rather than holding
/// up the threads that finish them.
const QUEUE: usize = 8192;
/// Spans sent in one request at most.
const BATCH: usize = 512;
/// How long one export request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the guard waits at exit for the last batch to go out.
const FINAL_FLUSH_WAIT: Duration = Duration::from_secs(6);

pub(super) enum Message {
    Span(Box<FinishedSpan>),
    /// Send what is queued, then stop.
    Finish,
}

/// Where the layer puts finished spans.
#[derive(Clone)]
pub struct SpanSender {
    queue: SyncSender<Message>,
    dropped: Arc<AtomicU64>,
}

impl SpanSender {
    /// Queues a finished span, or drops it when the queue is full.
    pub fn send(&self, span: FinishedSpan) {
        if let Err(TrySendError::Full(_)) = self.queue.try_send(Message::Span(Box::new(span))) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Keeps the exporter running; dropping it sends the last spans and stops the thread.
pub struct ExportGuard {
    queue: SyncSender<Message>,
    finished: Receiver<()>,
}

impl Drop for ExportGuard {
    fn drop(&mut self) {
        if self.queue.send(Message::Finish).is_ok() {
            let _ = self.finished.recv_timeout(FINAL_FLUSH_WAIT);
        }
    }
}

pub(super) fn spawn(config: OtlpConfig) -> Result<(SpanSender, ExportGuard), OtlpError> {
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in &config.headers {
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| OtlpError::Header(name.clone()))?;
        let value = reqwest::header::HeaderValue::from_str(value).map_err(|_| OtlpError::Header(value.clone()))?;
        headers.insert(name, value);
    }
    let (queue, incoming) = std::sync::mpsc::sync_channel(QUEUE);
    let (done, finished) = std::sync::mpsc::sync_channel(1);
    let dropped = Arc::new(AtomicU64::new(0));
    let exporter = Exporter {
        config,
        headers,
        dropped: dropped.clone(),
    };
    std::thread::Builder::new()
        .name("otlp-export".into())
        .spawn(move || {
            exporter.run(&incoming);
            let _ = done.send(());
        })
        .map_err(|e| OtlpError::Client(e.to_string()))?;
    Ok((
        SpanSender {
            queue: queue.clone(),
            dropped,
        },
        ExportGuard { queue, finished },
    ))
}

struct Exporter {
    config: OtlpConfig,
    headers: reqwest::header::HeaderMap,
    dropped: Arc<AtomicU64>,
}

impl Exporter {
    fn run(&self, incoming: &Receiver<Message>) {
        // Built here: the blocking client runs a runtime of its own, which must not start
        // inside the server's.
        let client = match reqwest::blocking::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .default_headers(self.headers.clone())
            .build()
        {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(target: "rats::otlp", %error, "the OTLP exporter could not start: no traces will be sent");
                return;
            }
        };
        let mut batch: Vec<FinishedSpan> = Vec::with_capacity(BATCH);
        let mut first_queued: Option<Instant> = None;
        let mut failing = false;
        loop {
            let wait = first_queued.map_or(self.config.flush_every, |at| self.config.flush_every.saturating_sub(at.elapsed()));
            let finish = match incoming.recv_timeout(wait) {
                Ok(Message::Span(span)) => {
                    first_queued.get_or_insert_with(Instant::now);
                    batch.push(*span);
                    false
                }
                Ok(Message::Finish) | Err(RecvTimeoutError::Disconnected) => true,
                Err(RecvTimeoutError::Timeout) => false,
            };
            let due = first_queued.is_some_and(|at| at.elapsed() >= self.config.flush_every);
            if !batch.is_empty() && (finish || due || batch.len() >= BATCH) {
                failing = self.send(&client, &batch, failing);
                batch.clear();
                first_queued = None;
            }
            if finish {
                return;
            }
        }
    }

    /// Posts one batch; logs the first failure of a run of them and the recovery. Returns
    /// whether this one failed.
    fn send(&self, client: &reqwest::blocking::Client, batch: &[FinishedSpan], was_failing: bool) -> bool {
        let body = export_request(&self.config.service_name, batch).to_string();
        let outcome = client
            .post(&self.config.endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .map_err(|e| e.to_string())
            .and_then(|response| {
                let status = response.status();
                if status.is_success() {
                    Ok(())
                } else {
                    let text = response.text().unwrap_or_default();
                    Err(format!("HTTP {status}: {}", text.chars().take(200).collect::<String>()))
                }
            });
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(target: "rats::otlp", dropped, "spans dropped: the export queue was full");
        }
        match outcome {
            Ok(()) => {
                if was_failing {
                    tracing::info!(target: "rats::otlp", endpoint = %self.config.endpoint, "the OTLP collector accepts spans again");
                }
                false
            }
            Err(error) => {
                if !was_failing {
                    tracing::warn!(
                        target: "rats::otlp",
                        endpoint = %self.config.endpoint,
                        %error,
                        spans = batch.len(),
                        "sending spans failed; they are dropped (logged once until it works again)"
                    );
                }
                true
            }
        }
    }
}

/// A sender whose spans land in the returned receiver, for the layer's tests.
#[cfg(test)]
pub(super) fn test_channel() -> (SpanSender, Receiver<Message>) {
    let (queue, received) = std::sync::mpsc::sync_channel(QUEUE);
    (
        SpanSender {
            queue,
            dropped: Arc::new(AtomicU64::new(0)),
        },
        received,
    )
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};

    use super::super::encode::SpanKind;
    use super::*;

    /// Accepts one HTTP request on `listener`, answers 200 and returns its head (lower-cased)
    /// and body.
    fn one_request(listener: &std::net::TcpListener) -> (String, String) {
        let (stream, _) = listener.accept().expect("a connection");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("a header line");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(value) = lower.strip_prefix("content-length:") {
                length = value.trim().parse().expect("a length");
            }
            head.push_str(&lower);
        }
        let mut body = vec![0_u8; length];
        reader.read_exact(&mut body).expect("the body");
        (&stream)
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .expect("answer");
        (head, String::from_utf8(body).expect("utf-8"))
    }

    #[test]
    fn dropping_the_guard_sends_the_waiting_spans_with_the_configured_headers() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}/v1/traces", listener.local_addr().expect("address"));
        let (sender, guard) = spawn(OtlpConfig {
            endpoint,
            headers: vec![("x-mlflow-experiment-id".into(), "7".into())],
            service_name: "rats-test".into(),
            // Far longer than the test: only the guard's drop can send the batch.
            flush_every: Duration::from_mins(10),
        })
        .expect("exporter");
        let server = std::thread::spawn(move || one_request(&listener));
        sender.send(span_named("salary.predict"));
        drop(guard);
        let (head, body) = server.join().expect("the server thread");
        assert!(head.starts_with("post /v1/traces "), "{head}");
        assert!(head.contains("x-mlflow-experiment-id: 7"), "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        let request: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        let resource = &request["resourceSpans"][0];
        assert_eq!(resource["resource"]["attributes"][0]["value"]["stringValue"], "rats-test");
        assert_eq!(resource["scopeSpans"][0]["spans"][0]["name"], "salary.predict");
    }

    fn span_named(name: &str) -> FinishedSpan {
        FinishedSpan {
            trace_id: [7; 16],
            span_id: [8; 8],
            parent_span_id: None,
            name: name.into(),
            kind: SpanKind::Internal,
            start_unix_nanos: 1,
            end_unix_nanos: 2,
            attributes: Vec::new(),
            error: None,
        }
    }

    #[test]
    fn a_collector_that_refuses_costs_only_its_batch_and_the_next_batch_gets_through() {
        // A free port with nobody listening yet: the first batch is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let (sender, guard) = spawn(OtlpConfig {
            endpoint: format!("http://127.0.0.1:{port}/v1/traces"),
            headers: Vec::new(),
            service_name: "rats-test".into(),
            flush_every: Duration::from_millis(50),
        })
        .expect("exporter");
        sender.send(span_named("refused"));
        std::thread::sleep(Duration::from_millis(500));
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port again");
        let (received, arrived) = std::sync::mpsc::channel();
        std::thread::spawn(move || received.send(one_request(&listener)));
        sender.send(span_named("delivered"));
        let (_, body) = arrived
            .recv_timeout(Duration::from_secs(10))
            .expect("the exporter sent the next batch after the refused one");
        let request: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        let names: Vec<&str> = request["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .expect("spans")
            .iter()
            .filter_map(|s| s["name"].as_str())
            .collect();
        assert_eq!(names, ["delivered"], "the refused batch is dropped, not resent");
        drop(guard);
    }
}
