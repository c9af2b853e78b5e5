//! Description text: HTML to plain text and tidy whitespace, so hashing, shingling and the
//! parsers downstream see the same text whatever markup the board used.

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem::Finder;
use regex::Regex;

static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<(script|style)\b.*?</(script|style)\s*>|<[a-zA-Z/!][^>]*>").expect("valid regex"));
static BLOCK_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^</?(p|br|div|li|ul|ol|h[1-6]|tr|table|section|article|header|footer)\b").expect("valid regex"));
static ENTITY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});").expect("valid regex"));

/// Converts HTML (or plain text) to plain text: block tags become line breaks, other tags and
/// script/style bodies vanish, entities are decoded, spaces collapse, and at most one blank
/// line separates paragraphs.
pub fn html_to_text(input: &str) -> String {
    let without_tags = if input.contains('<') {
        TAG.replace_all(input, |caps: &regex::Captures<'_>| {
            let tag = &caps[0];
            if BLOCK_TAG.is_match(tag) { "\n" } else { "" }
        })
    } else {
        input.into()
    };
    tidy_whitespace(&decode_entities(&without_tags))
}

/// Decodes HTML entities, repeatedly for double-escaped text ("PG&amp;amp;E" is "PG&E"). Text
/// without an entity is handed back as it is, uncopied.
pub fn decode_entities(input: &str) -> Cow<'_, str> {
    let mut text = Cow::Borrowed(input);
    for _ in 0..3 {
        if !text.contains('&') {
            break;
        }
        let decoded = ENTITY.replace_all(&text, |caps: &regex::Captures<'_>| {
            decode_entity(&caps[1]).unwrap_or_else(|| caps[0].to_string())
        });
        let Cow::Owned(decoded) = decoded else {
            break;
        };
        if decoded == *text {
            break;
        }
        text = Cow::Owned(decoded);
    }
    text
}

/// Collapses runs of spaces, trims every line and keeps at most one blank line in a row (none
/// at either end). It runs on every description and title, so it avoids looking at each byte:
/// most texts (95 % of the descriptions `scripts/bench-input.py` samples) hold no run to
/// collapse — no tab, carriage return, form feed, vertical tab, no-break or zero-width space
/// and no two spaces in a row, which a few vectorised searches rule out — and their lines are
/// only trimmed. Replacing the two regular expressions it once used took `rats consume` of
/// 200,000 postings from 22.25 to 21.25 s; the searches took its share of `perf`'s samples of
/// a Kafka consume from 4.2 % to 0.6 % (BENCHMARKS.md).
pub fn tidy_whitespace(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut buffer = String::new();
    let collapse = has_runs_to_collapse(input.as_bytes());
    let mut blank_before = false;
    // The lines as `split('\n')` gives them, found by `memchr`'s vectorised search: `split`'s
    // own search was 1.1 % of a Kafka consume's samples (BENCHMARKS.md).
    let mut line_start = 0;
    for line_end in memchr::memchr_iter(b'\n', input.as_bytes()).chain([input.len()]) {
        let raw = &input[line_start..line_end];
        line_start = line_end + 1;
        let line = if collapse { collapse_spaces(raw, &mut buffer) } else { raw };
        let trimmed = line.trim();
        if trimmed.is_empty() {
            blank_before = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_before { "\n\n" } else { "\n" });
        }
        out.push_str(trimmed);
        blank_before = false;
    }
    out
}

/// Whether `text` holds a character [`collapsible_len`] names other than a lone plain space.
fn has_runs_to_collapse(text: &[u8]) -> bool {
    static TWO_SPACES: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("  "));
    static NO_BREAK_SPACE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("\u{a0}"));
    static ZERO_WIDTH_SPACE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("\u{200b}"));
    memchr::memchr3(b'\t', b'\r', 0x0b, text).is_some()
        || memchr::memchr(0x0c, text).is_some()
        || TWO_SPACES.find(text).is_some()
        || NO_BREAK_SPACE.find(text).is_some()
        || ZERO_WIDTH_SPACE.find(text).is_some()
}

/// `line` with every run of collapsible spaces made one plain space: `line` itself when its
/// only ones are lone plain spaces, else a collapsed copy written into `buffer`.
fn collapse_spaces<'a>(line: &'a str, buffer: &'a mut String) -> &'a str {
    let bytes = line.as_bytes();
    let mut collapsed = false;
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        let first = collapsible_len(bytes, at);
        if first == 0 {
            at += 1;
            continue;
        }
        let mut end = at + first;
        loop {
            match collapsible_len(bytes, end) {
                0 => break,
                len => end += len,
            }
        }
        // A lone plain space is already what its run becomes.
        if end - at > 1 || bytes[at] != b' ' {
            if !collapsed {
                buffer.clear();
                collapsed = true;
            }
            buffer.push_str(&line[copied..at]);
            buffer.push(' ');
            copied = end;
        }
        at = end;
    }
    if !collapsed {
        return line;
    }
    buffer.push_str(&line[copied..]);
    buffer
}

/// The length of the character at `at` when it is one whose runs become one space: blanks,
/// tabs, carriage returns, form feeds, vertical tabs, no-break (U+00A0) and zero-width (U+200B)
/// spaces; 0 otherwise (or at the end). Such a character always starts on a character
/// boundary: ASCII bytes and UTF-8 lead bytes do.
fn collapsible_len(bytes: &[u8], at: usize) -> usize {
    match bytes.get(at) {
        Some(b' ' | b'\t' | b'\r' | 0x0b | 0x0c) => 1,
        Some(0xc2) if bytes.get(at + 1) == Some(&0xa0) => 2,
        Some(0xe2) if bytes.get(at + 1..at + 3) == Some(&[0x80, 0x8b]) => 3,
        _ => 0,
    }
}

fn decode_entity(name: &str) -> Option<String> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code).map(String::from);
    }
    let text = match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" | "rdquo" | "ldquo" => "\"",
        "apos" | "rsquo" | "lsquo" => "'",
        "nbsp" => " ",
        "ndash" => "–",
        "mdash" => "—",
        "hellip" => "…",
        "bull" | "middot" => "•",
        "euro" => "€",
        "pound" => "£",
        "copy" => "©",
        "reg" => "®",
        "trade" => "™",
        _ => return None,
    };
    Some(text.to_string())
}

/// Lower-cases and reduces text to letters, digits and single spaces: the form used for keys
/// and content hashes, so punctuation and case never make two postings look different.
///
/// Runs on every description, so an ASCII byte costs a table look-up and a store, without a
/// branch on what it is: a separator is written as a space that the next one overwrites. By
/// `perf` of a Kafka consume, the character loop this replaced took 5 % of the samples, the
/// byte loop after it 5.2 %, this 2.3 % (BENCHMARKS.md).
pub fn fold_key(input: &str) -> String {
    let bytes = input.as_bytes();
    // Room for every ASCII byte; a character outside ASCII makes more room if it needs it.
    let mut out = vec![0_u8; bytes.len()];
    let mut len = 0;
    // Whether the last byte written is a space, or nothing is written yet: the next separator
    // is then dropped.
    let mut after_space = true;
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        if b.is_ascii() {
            at += 1;
            let folded = KEY_BYTES[usize::from(b)];
            out[len] = folded;
            let is_space = folded == b' ';
            len += usize::from(!(is_space && after_space));
            after_space = is_space;
            continue;
        }
        // A multi-byte character: `at` is on its first byte, as every ASCII byte is a whole
        // character.
        let Some(c) = input[at..].chars().next() else {
            break;
        };
        at += c.len_utf8();
        if c.is_alphanumeric() {
            for lower in c.to_lowercase() {
                // Lower case can be longer ("İ" is "i̇"): keep room for the rest of the input.
                let room = len + lower.len_utf8() + (bytes.len() - at);
                if out.len() < room {
                    out.resize(room, 0);
                }
                len += lower.encode_utf8(&mut out[len..]).len();
            }
            after_space = false;
        } else if !after_space {
            out[len] = b' ';
            len += 1;
            after_space = true;
        }
    }
    if after_space && len > 0 {
        len -= 1;
    }
    out.truncate(len);
    String::from_utf8(out).expect("only ASCII bytes and whole characters are written")
}

/// What [`fold_key`] writes for each ASCII byte: letters in lower case, digits, `+` and `#` (C++,
/// C#) as they are, a space for anything else.
static KEY_BYTES: [u8; 128] = {
    let mut table = [b' '; 128];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        if byte.is_ascii_alphanumeric() || byte == b'+' || byte == b'#' {
            table[b] = byte.to_ascii_lowercase();
        }
        b += 1;
    }
    table
};

/// Trims a value and treats an empty result as absent.
pub fn non_empty(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text_with_paragraphs() {
        let html = "<p>We build <b>data</b> tools.</p><p>Stack: React&#x2F;Next.js &amp; Rust<br>Apply&nbsp;now</p><script>x()</script>";
        assert_eq!(html_to_text(html), "We build data tools.\n\nStack: React/Next.js & Rust\nApply now");
    }

    #[test]
    fn plain_text_keeps_its_lines_but_not_its_clutter() {
        assert_eq!(
            html_to_text("  Line one  \t here\r\n\n\n\n  Line two "),
            "Line one here\n\nLine two"
        );
    }

    #[test]
    fn unknown_entities_and_lone_angle_brackets_survive() {
        assert_eq!(html_to_text("a < b &bogus; c"), "a < b &bogus; c");
    }

    #[test]
    fn whitespace_is_tidied_as_the_regular_expressions_it_replaced_did() {
        // The reference: the regular-expression version `tidy_whitespace` replaced.
        let space_runs = Regex::new(r"[ \t\u{a0}\u{200b}\r\f\v]+").expect("valid regex");
        let blank_lines = Regex::new(r"\n{3,}").expect("valid regex");
        let by_regex = |input: &str| {
            let collapsed = space_runs.replace_all(input, " ");
            let lines: Vec<&str> = collapsed.lines().map(str::trim).collect();
            blank_lines.replace_all(lines.join("\n").trim(), "\n\n").into_owned()
        };
        // Every string of up to four pieces drawn from these: blanks of each kind, line breaks,
        // a Unicode space the collapse leaves alone (em space), and words.
        let pieces = [
            "a", "b c", " ", "\t", "\u{a0}", "\u{200b}", "\r", "\n", "\r\n", "\u{c}", "\u{b}", "\u{2003}", "é",
        ];
        let mut inputs = vec![String::new()];
        let mut last = inputs.clone();
        for _ in 0..4 {
            last = last.iter().flat_map(|s| pieces.iter().map(move |p| format!("{s}{p}"))).collect();
            inputs.extend(last.iter().cloned());
        }
        assert_eq!(inputs.len(), 1 + 13 + 169 + 2_197 + 28_561);
        for input in &inputs {
            assert_eq!(tidy_whitespace(input), by_regex(input), "{input:?}");
        }
    }

    #[test]
    fn fold_key_folds_as_the_character_loop_it_replaced_did() {
        // The reference: the character-by-character version.
        let by_chars = |input: &str| {
            let mut out = String::new();
            let mut pending_space = false;
            for c in input.chars() {
                if c.is_alphanumeric() || c == '+' || c == '#' {
                    for lower in c.to_lowercase() {
                        if pending_space && !out.is_empty() {
                            out.push(' ');
                        }
                        pending_space = false;
                        out.push(lower);
                    }
                } else {
                    pending_space = true;
                }
            }
            out
        };
        // Every string of up to four pieces: ASCII letters of both cases, digits, the kept
        // symbols, punctuation, blanks, letters that lower-case to one or to two characters
        // (İ), non-letters outside ASCII (em dash, em space, emoji) and a CJK letter.
        let pieces = ["A", "b", "7", "+", "#", ",", " ", "\n", "É", "ß", "İ", "—", "\u{2003}", "🙂", "中"];
        let mut inputs = vec![String::new()];
        let mut last = inputs.clone();
        for _ in 0..4 {
            last = last.iter().flat_map(|s| pieces.iter().map(move |p| format!("{s}{p}"))).collect();
            inputs.extend(last.iter().cloned());
        }
        assert_eq!(inputs.len(), 1 + 15 + 225 + 3_375 + 50_625);
        for input in &inputs {
            assert_eq!(fold_key(input), by_chars(input), "{input:?}");
        }
    }

    #[test]
    fn fold_key_ignores_case_and_punctuation() {
        assert_eq!(fold_key("  Acme, Inc. — C# / C++ "), "acme inc c# c++");
    }
}
