//! Finished spans and their OTLP/JSON encoding (an `ExportTraceServiceRequest`, as the OTLP
//! specification's JSON mapping writes it: ids in lowercase hex, 64-bit integers and times as
//! decimal strings, enums as numbers).

use serde_json::{Value, json};

use crate::normalize::hex;

/// A span attribute's value.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// What the server was doing in the span, in OTLP's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    Internal = 1,
    /// Handling a request from a client.
    Server = 2,
}

/// A span once it has ended.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedSpan {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub parent_span_id: Option<[u8; 8]>,
    pub name: String,
    pub kind: SpanKind,
    pub start_unix_nanos: u128,
    pub end_unix_nanos: u128,
    pub attributes: Vec<(String, AttributeValue)>,
    /// Set when the span recorded `otel.status_code = "ERROR"`; its message, if any.
    pub error: Option<String>,
}

/// One export request holding `spans`, all from this process.
pub fn export_request(service_name: &str, spans: &[FinishedSpan]) -> Value {
    json!({
        "resourceSpans": [{
            "resource": {"attributes": [
                attribute("service.name", &AttributeValue::Text(service_name.to_string())),
                attribute("service.version", &AttributeValue::Text(env!("CARGO_PKG_VERSION").to_string())),
            ]},
            "scopeSpans": [{
                "scope": {"name": "rats", "version": env!("CARGO_PKG_VERSION")},
                "spans": spans.iter().map(span).collect::<Vec<_>>(),
            }],
        }],
    })
}

fn span(span: &FinishedSpan) -> Value {
    let mut encoded = json!({
        "traceId": hex(&span.trace_id),
        "spanId": hex(&span.span_id),
        "name": span.name,
        "kind": span.kind as u8,
        "startTimeUnixNano": span.start_unix_nanos.to_string(),
        "endTimeUnixNano": span.end_unix_nanos.to_string(),
        "attributes": span.attributes.iter().map(|(key, value)| attribute(key, value)).collect::<Vec<_>>(),
        // STATUS_CODE_UNSET = 0, STATUS_CODE_ERROR = 2.
        "status": match &span.error {
            Some(message) => json!({"code": 2, "message": message}),
            None => json!({"code": 0}),
        },
    });
    if let Some(parent) = &span.parent_span_id {
        encoded["parentSpanId"] = Value::String(hex(parent));
    }
    encoded
}

fn attribute(key: &str, value: &AttributeValue) -> Value {
    let value = match value {
        AttributeValue::Text(text) => json!({"stringValue": text}),
        AttributeValue::Int(n) => json!({"intValue": n.to_string()}),
        AttributeValue::Float(x) if x.is_finite() => json!({"doubleValue": x}),
        AttributeValue::Float(x) => json!({"stringValue": x.to_string()}),
        AttributeValue::Bool(b) => json!({"boolValue": b}),
    };
    json!({"key": key, "value": value})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_is_encoded_as_the_otlp_json_mapping_writes_it() {
        let finished = FinishedSpan {
            trace_id: [0xab; 16],
            span_id: [1, 2, 3, 4, 5, 6, 7, 8],
            parent_span_id: Some([0xff; 8]),
            name: "POST /v1/predict/salary".into(),
            kind: SpanKind::Server,
            start_unix_nanos: 1_700_000_000_000_000_001,
            end_unix_nanos: 1_700_000_000_000_000_999,
            attributes: vec![
                ("http.response.status_code".into(), AttributeValue::Int(200)),
                ("cache_hit".into(), AttributeValue::Bool(false)),
                ("seconds".into(), AttributeValue::Float(f64::NAN)),
            ],
            error: Some("boom".into()),
        };
        let request = export_request("rats", std::slice::from_ref(&finished));
        let resource = &request["resourceSpans"][0];
        assert_eq!(resource["resource"]["attributes"][0]["value"]["stringValue"], "rats");
        let encoded = &resource["scopeSpans"][0]["spans"][0];
        assert_eq!(encoded["traceId"], "ab".repeat(16));
        assert_eq!(encoded["spanId"], "0102030405060708");
        assert_eq!(encoded["parentSpanId"], "ffffffffffffffff");
        assert_eq!(encoded["kind"], 2);
        assert_eq!(encoded["startTimeUnixNano"], "1700000000000000001");
        assert_eq!(encoded["attributes"][0]["value"]["intValue"], "200");
        assert_eq!(encoded["attributes"][1]["value"]["boolValue"], false);
        assert_eq!(encoded["attributes"][2]["value"]["stringValue"], "NaN", "JSON has no NaN");
        assert_eq!(encoded["status"], json!({"code": 2, "message": "boom"}));

        let root = FinishedSpan {
            parent_span_id: None,
            error: None,
            ..finished
        };
        let encoded = &export_request("rats", &[root])["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert!(encoded.get("parentSpanId").is_none(), "a root span has no parent field");
        assert_eq!(encoded["status"]["code"], 0);
    }
}
