//! A decoded Avro value as the JSON text bronze keeps of a Kafka message: what apache-avro's
//! conversion to `serde_json::Value` would print (a union as its branch, an enum as its symbol,
//! bytes as numbers, object keys sorted), written straight from the value instead of through a
//! copy of it and a JSON tree.
//!
//! Written here rather than by `serde_json`'s serialiser: every message's description passes
//! through the string escaping, which `serde_json` does a byte at a time and writes around each
//! line break in pieces (1.9 % of a Kafka consume's CPU time by `perf`); this looks for the
//! bytes to escape eight at a time (BENCHMARKS.md).

use std::fmt::Write as _;

use apache_avro::types::Value;

/// `value` as JSON text. `body_len`, the Avro body's size, sizes the text: the field names and
/// quotes JSON adds make it a little longer, and grown from nothing by doubling it was copied
/// again at each step.
pub fn render_json(value: &Value, body_len: usize) -> String {
    let mut text = String::with_capacity(body_len + body_len / 4 + 512);
    match write_value(&mut text, value) {
        Ok(()) => text,
        // A value apache-avro cannot convert (a float that is not finite): its own error.
        Err(Unconvertible) => serde_json::Value::try_from(value.clone())
            .map_or_else(|e| format!("{{\"unrenderable\": {:?}}}", e.to_string()), |v| v.to_string()),
    }
}

/// A value apache-avro's conversion to JSON refuses.
struct Unconvertible;

fn write_value(out: &mut String, value: &Value) -> Result<(), Unconvertible> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        // Writing to a String cannot fail.
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Long(l) => {
            let _ = write!(out, "{l}");
        }
        Value::Float(f) => write_number(out, f64::from(*f))?,
        Value::Double(d) => write_number(out, *d)?,
        Value::String(text) | Value::Enum(_, text) => write_string(out, text),
        Value::Bytes(bytes) | Value::Fixed(_, bytes) => {
            out.push('[');
            for (i, byte) in bytes.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{byte}");
            }
            out.push(']');
        }
        Value::Union(_, branch) => write_value(out, branch)?,
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Record(fields) => write_object(out, fields.iter().map(|(key, value)| (key.as_str(), value)))?,
        Value::Map(entries) => write_object(out, entries.iter().map(|(key, value)| (key.as_str(), value)))?,
        // The rarer kinds (decimals, durations, timestamps, uuids) go through the conversion itself.
        other => out.push_str(&serde_json::Value::try_from(other.clone()).map_err(|_| Unconvertible)?.to_string()),
    }
    Ok(())
}

/// A finite number as `serde_json` writes it (its shortest round-trip form, `1.0` not `1`).
fn write_number(out: &mut String, number: f64) -> Result<(), Unconvertible> {
    if !number.is_finite() {
        return Err(Unconvertible);
    }
    out.push_str(&serde_json::to_string(&number).map_err(|_| Unconvertible)?);
    Ok(())
}

/// Object entries in key order, as `serde_json::Map` keeps them.
fn write_object<'v>(out: &mut String, entries: impl Iterator<Item = (&'v str, &'v Value)>) -> Result<(), Unconvertible> {
    let mut entries: Vec<(&str, &Value)> = entries.collect();
    entries.sort_unstable_by_key(|(key, _)| *key);
    out.push('{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
        write_value(out, value)?;
    }
    out.push('}');
    Ok(())
}

/// A JSON string as `serde_json` writes one: `"`, `\` and the control characters escaped
/// (`\n`, `\t`, `\r`, `\b`, `\f`, the rest as `\u00XX` in lower-case hex), everything else
/// as it is.
fn write_string(out: &mut String, text: &str) {
    out.push('"');
    let bytes = text.as_bytes();
    let mut plain_from = 0;
    while let Some(at) = next_to_escape(bytes, plain_from) {
        // The byte to escape is ASCII, so both ends of the run before it are character edges.
        out.push_str(&text[plain_from..at]);
        let byte = bytes[at];
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                let _ = write!(out, "\\u{byte:04x}");
            }
        }
        plain_from = at + 1;
    }
    out.push_str(&text[plain_from..]);
    out.push('"');
}

/// The first byte from `from` on that a JSON string must escape.
fn next_to_escape(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(eight) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(eight).expect("eight bytes"));
        let flagged = to_escape_8(word);
        if flagged != 0 {
            return Some(at + (flagged.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..]
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
        .map(|i| at + i)
}

/// Eight bytes (the first in the lowest bits) with the top bit of the first one that must be
/// escaped set, and perhaps of some after it: a byte below 0x20, `"` or `\`. Subtracting per
/// byte borrows only from a byte that is below the subtrahend, so no flag comes before the
/// first true one.
fn to_escape_8(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOPS: u64 = ONES * 0x80;
    let below = |word: u64, bound: u8| word.wrapping_sub(ONES * u64::from(bound)) & !word & TOPS;
    let zero_where = |word: u64, byte: u8| below(word ^ (ONES * u64::from(byte)), 1);
    below(word, 0x20) | zero_where(word, b'"') | zero_where(word, b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of value, fields out of key order: rendered as apache-avro's own conversion
    /// to a JSON tree renders it.
    #[test]
    fn values_render_as_apache_avros_json_conversion_does() {
        use std::collections::HashMap;
        let value = Value::Record(vec![
            (
                "zeta".into(),
                Value::Union(1, Box::new(Value::String("t\u{e9}xt \"quoted\"\n".into()))),
            ),
            ("alpha".into(), Value::Union(0, Box::new(Value::Null))),
            ("flag".into(), Value::Boolean(true)),
            ("small".into(), Value::Int(-7)),
            ("big".into(), Value::Long(9_007_199_254_740_993)),
            ("single".into(), Value::Float(0.1)),
            ("double".into(), Value::Double(1e21)),
            ("whole".into(), Value::Double(3.0)),
            ("kind".into(), Value::Enum(2, "remote".into())),
            ("bytes".into(), Value::Bytes(vec![0, 255])),
            ("fixed".into(), Value::Fixed(2, vec![1, 2])),
            (
                "list".into(),
                Value::Array(vec![
                    Value::Int(1),
                    Value::Record(vec![("b".into(), Value::Null), ("a".into(), Value::Long(2))]),
                ]),
            ),
            (
                "map".into(),
                Value::Map(HashMap::from([
                    ("y".into(), Value::Int(1)),
                    ("x".into(), Value::Int(2)),
                    ("Z".into(), Value::Int(3)),
                    ("key \"q\"\t".into(), Value::Int(4)),
                ])),
            ),
            ("day".into(), Value::Date(19_000)),
            ("at".into(), Value::TimestampMillis(1_700_000_000_000)),
            ("id".into(), Value::Uuid(apache_avro::Uuid::from_u128(42))),
        ]);
        let expected = serde_json::Value::try_from(value.clone()).expect("converts").to_string();
        assert_eq!(render_json(&value, 16), expected);
        let not_finite = Value::Record(vec![("x".into(), Value::Double(f64::NAN))]);
        let expected = format!(
            "{{\"unrenderable\": {:?}}}",
            serde_json::Value::try_from(not_finite.clone())
                .expect_err("NaN has no JSON")
                .to_string()
        );
        assert_eq!(render_json(&not_finite, 16), expected);
    }

    /// Each byte that needs escaping, at every place in and after an eight-byte word, among
    /// plain ASCII and multi-byte characters: escaped as `serde_json` escapes it.
    #[test]
    fn strings_escape_as_serde_json_does() {
        let to_escape = (0_u8..0x20).chain([b'"', b'\\']).map(char::from);
        for special in to_escape.chain(['\u{7f}', 'é', '/', ' ']) {
            for at in 0..20 {
                let text: String = "abcdéfghijklmnopqrstuv"
                    .chars()
                    .take(at)
                    .chain([special])
                    .chain("xyz\u{1}".chars())
                    .collect();
                let mut out = String::new();
                write_string(&mut out, &text);
                assert_eq!(
                    out,
                    serde_json::to_string(&text).expect("a string"),
                    "{special:?} after {at} characters"
                );
            }
        }
    }
}
