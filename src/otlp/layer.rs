//! The `tracing` layer that records rats' spans for export: a span gets its ids when it opens
//! (its parent's trace, a caller's trace from a `traceparent` field, or a new one), collects
//! its fields as attributes while it lives, and is queued for the exporter when it closes.
//!
//! Three field names are not attributes: `otel.name` renames the span (a request span is named
//! by its method and route once the route is known), `otel.kind = "server"` marks a request
//! span, and `otel.status_code = "ERROR"` (with `otel.status_message`) marks a failure.

use std::time::{SystemTime, UNIX_EPOCH};

use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::encode::{AttributeValue, FinishedSpan, SpanKind};
use super::export::SpanSender;
use crate::normalize::from_hex;

/// The span field a request span carries the caller's W3C `traceparent` header in.
pub const TRACEPARENT: &str = "traceparent";

pub struct SpanLayer {
    sender: SpanSender,
}

impl SpanLayer {
    pub(super) fn new(sender: SpanSender) -> Self {
        Self { sender }
    }
}

/// What a live span has recorded so far (kept in the span's extensions).
struct OpenSpan {
    finished: FinishedSpan,
}

impl<S> Layer<S> for SpanLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let inherited = span.parent().and_then(|parent| {
            parent
                .extensions()
                .get::<OpenSpan>()
                .map(|open| (open.finished.trace_id, Some(open.finished.span_id)))
        });
        let (trace_id, parent_span_id) = inherited
            .or_else(|| fields.traceparent.as_deref().and_then(parse_traceparent).map(|(t, p)| (t, Some(p))))
            .unwrap_or_else(|| (random_bytes(), None));
        let mut finished = FinishedSpan {
            trace_id,
            span_id: random_bytes(),
            parent_span_id,
            name: span.name().to_string(),
            kind: SpanKind::Internal,
            start_unix_nanos: unix_nanos(),
            end_unix_nanos: 0,
            attributes: Vec::new(),
            error: None,
        };
        fields.apply_to(&mut finished);
        span.extensions_mut().insert(OpenSpan { finished });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::default();
        values.record(&mut fields);
        if let Some(open) = span.extensions_mut().get_mut::<OpenSpan>() {
            fields.apply_to(&mut open.finished);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(open) = span.extensions_mut().remove::<OpenSpan>() else {
            return;
        };
        let mut finished = open.finished;
        finished.end_unix_nanos = unix_nanos().max(finished.start_unix_nanos);
        self.sender.send(finished);
    }
}

/// Fields recorded at once (when a span opens, or by one `record` call).
#[derive(Default)]
struct Fields {
    attributes: Vec<(String, AttributeValue)>,
    name: Option<String>,
    server: bool,
    error: bool,
    error_message: Option<String>,
    traceparent: Option<String>,
}

impl Fields {
    fn apply_to(self, span: &mut FinishedSpan) {
        for (key, value) in self.attributes {
            match span.attributes.iter_mut().find(|(existing, _)| *existing == key) {
                Some(slot) => slot.1 = value,
                None => span.attributes.push((key, value)),
            }
        }
        if let Some(name) = self.name {
            span.name = name;
        }
        if self.server {
            span.kind = SpanKind::Server;
        }
        if self.error || self.error_message.is_some() {
            span.error = Some(self.error_message.or(span.error.take()).unwrap_or_default());
        }
    }

    fn text(&mut self, field: &Field, value: String) {
        match field.name() {
            "otel.name" => self.name = Some(value),
            "otel.kind" => self.server = value.eq_ignore_ascii_case("server"),
            "otel.status_code" => self.error = value.eq_ignore_ascii_case("error"),
            "otel.status_message" => self.error_message = Some(value),
            TRACEPARENT => self.traceparent = Some(value),
            name => self.attributes.push((name.to_string(), AttributeValue::Text(value))),
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.text(field, format!("{value:?}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.attributes.push((field.name().to_string(), AttributeValue::Int(value)));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        let value = i64::try_from(value).map_or_else(|_| AttributeValue::Text(value.to_string()), AttributeValue::Int);
        self.attributes.push((field.name().to_string(), value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.attributes.push((field.name().to_string(), AttributeValue::Float(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.attributes.push((field.name().to_string(), AttributeValue::Bool(value)));
    }
}

/// The trace id and parent span id of a W3C `traceparent` header
/// (`00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`); `None` for any other text, an
/// unknown version, or the all-zero ids the recommendation declares invalid.
pub fn parse_traceparent(header: &str) -> Option<([u8; 16], [u8; 8])> {
    let mut parts = header.trim().split('-');
    let (version, trace, parent, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version != "00" || parts.next().is_some() || flags.len() != 2 || !flags.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let trace_id: [u8; 16] = from_hex(trace)?;
    let span_id: [u8; 8] = from_hex(parent)?;
    (trace_id != [0; 16] && span_id != [0; 8]).then_some((trace_id, span_id))
}

/// Random ids from the operating system; should it fail, the clock and a counter (ids must
/// only be unique, not secret).
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0_u8; N];
    if getrandom::fill(&mut bytes).is_err() {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let seed = unix_nanos() ^ u128::from(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        for (byte, source) in bytes.iter_mut().zip(seed.to_le_bytes().iter().cycle()) {
            *byte = *source;
        }
    }
    bytes
}

fn unix_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_header_gives_the_callers_trace_and_span() {
        let (trace, parent) = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").expect("the W3C example");
        assert_eq!(trace[0], 0x4b);
        assert_eq!(trace[15], 0x36);
        assert_eq!(parent, [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn nested_spans_share_the_callers_trace_link_to_their_parent_and_keep_their_fields() {
        use tracing_subscriber::layer::SubscriberExt;

        use super::super::export::{Message, test_channel};

        let (sender, received) = test_channel();
        let subscriber = tracing_subscriber::registry().with(SpanLayer::new(sender));
        tracing::subscriber::with_default(subscriber, || {
            let root = tracing::info_span!(
                "request",
                otel.name = tracing::field::Empty,
                otel.kind = "server",
                traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                http.response.status_code = tracing::field::Empty,
            );
            root.in_scope(|| {
                let _child = tracing::info_span!("salary.predict", postings = 3_u64, model = "v1").entered();
            });
            root.record("otel.name", "POST /v1/predict/salary");
            root.record("http.response.status_code", 200_u64);
            let failed = tracing::info_span!(parent: &root, "db.query", otel.status_code = tracing::field::Empty);
            failed.record("otel.status_code", "ERROR");
        });
        let spans: Vec<FinishedSpan> = received
            .try_iter()
            .filter_map(|message| match message {
                Message::Span(span) => Some(*span),
                Message::Finish => None,
            })
            .collect();
        let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["salary.predict", "db.query", "POST /v1/predict/salary"],
            "in the order they closed"
        );
        let (child, failed, root) = (&spans[0], &spans[1], &spans[2]);
        let (callers_trace, callers_span) = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").expect("valid");
        assert_eq!(root.trace_id, callers_trace);
        assert_eq!(root.parent_span_id, Some(callers_span));
        assert_eq!(root.kind, SpanKind::Server);
        assert_eq!(
            root.attributes,
            [("http.response.status_code".to_string(), AttributeValue::Int(200))],
            "traceparent and otel.* are not attributes"
        );
        for span in [child, failed] {
            assert_eq!(span.trace_id, callers_trace);
            assert_eq!(span.parent_span_id, Some(root.span_id));
            assert_eq!(span.kind, SpanKind::Internal);
        }
        assert_ne!(child.span_id, failed.span_id);
        assert!(child.attributes.contains(&("postings".to_string(), AttributeValue::Int(3))));
        assert!(child.attributes.contains(&("model".to_string(), AttributeValue::Text("v1".into()))));
        assert!(child.end_unix_nanos >= child.start_unix_nanos && child.start_unix_nanos > 0);
        assert_eq!(failed.error.as_deref(), Some(""));
        assert_eq!(child.error, None);
    }
}
