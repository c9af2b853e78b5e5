//! Tokens for the span model: whitespace-separated words with their byte ranges, the way
//! SkillSpan's CoNLL files are tokenised, so a model trained there sees the same units in
//! postings.

/// One token and where it sits in the text it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub start: usize,
    pub end: usize,
}

/// Whitespace tokens of `text`.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                tokens.push(Token { start: s, end: at });
                start = None;
            }
            (false, None) => start = Some(at),
            _ => {}
        }
    }
    if let Some(s) = start {
        tokens.push(Token { start: s, end: text.len() });
    }
    tokens
}

/// Tokens given as words (CoNLL) joined by single spaces, with their ranges in the joined text.
pub fn join(words: &[String]) -> (String, Vec<Token>) {
    let mut text = String::with_capacity(words.iter().map(|w| w.len() + 1).sum());
    let mut tokens = Vec::with_capacity(words.len());
    for word in words {
        if !text.is_empty() {
            text.push(' ');
        }
        let start = text.len();
        text.push_str(word);
        tokens.push(Token { start, end: text.len() });
    }
    (text, tokens)
}

/// The byte range of a span of tokens without punctuation hanging off its ends
/// (`Python,` → `Python`), or `None` when nothing but punctuation is left.
pub fn trimmed_range(text: &str, tokens: &[Token], first: usize, last: usize) -> Option<(usize, usize)> {
    let raw = &text[tokens[first].start..tokens[last].end];
    let trimmed_start = raw.len() - raw.trim_start_matches(is_edge_punctuation).len();
    let trimmed = raw.trim_start_matches(is_edge_punctuation).trim_end_matches(is_edge_punctuation);
    (!trimmed.is_empty()).then(|| {
        let start = tokens[first].start + trimmed_start;
        (start, start + trimmed.len())
    })
}

fn is_edge_punctuation(c: char) -> bool {
    matches!(
        c,
        ',' | '.' | ';' | ':' | '!' | '?' | '(' | ')' | '[' | ']' | '"' | '\'' | '*' | '•' | '·'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_whitespace_words_with_byte_ranges() {
        let text = "  Build (Python,  SQL)\n• pipelines";
        let tokens = tokenize(text);
        let words: Vec<&str> = tokens.iter().map(|t| &text[t.start..t.end]).collect();
        assert_eq!(words, ["Build", "(Python,", "SQL)", "•", "pipelines"]);
        assert_eq!(trimmed_range(text, &tokens, 1, 2).map(|(s, e)| &text[s..e]), Some("Python,  SQL"));
        assert_eq!(trimmed_range(text, &tokens, 3, 3), None);
    }

    #[test]
    fn joined_words_keep_their_ranges() {
        let (text, tokens) = join(&["a".to_string(), "bc".to_string()]);
        assert_eq!(text, "a bc");
        assert_eq!(tokens, [Token { start: 0, end: 1 }, Token { start: 2, end: 4 }]);
    }
}
