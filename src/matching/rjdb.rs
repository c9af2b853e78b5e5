//! Files in the rjdb layout: one JSON object a line with a posting (`Job-Description`), a
//! résumé that matches it (`Resume-matched`) and one that does not (`Resume-unmatched`).

use std::io::BufRead;
use std::path::Path;

use super::MatchError;

#[derive(Debug, Clone)]
pub struct LabelledPair {
    /// The 1-based line it came from.
    pub line: usize,
    pub job: String,
    pub matched: String,
    pub unmatched: String,
}

const FIELDS: [&str; 3] = ["Job-Description", "Resume-matched", "Resume-unmatched"];

/// Every line of `path`; a line that is not such an object is an error naming the line and
/// the field.
pub fn read(path: &Path) -> Result<Vec<LabelledPair>, MatchError> {
    let file = std::fs::File::open(path).map_err(|e| MatchError::file(path, e))?;
    let mut pairs = Vec::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| MatchError::file(path, format!("line {number}: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| MatchError::file(path, format!("line {number}: not JSON: {e}")))?;
        let field = |name: &str| -> Result<String, MatchError> {
            value
                .get(name)
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| MatchError::file(path, format!("line {number}: field `{name}` is missing or not a string")))
        };
        let [job, matched, unmatched] = FIELDS.map(field);
        pairs.push(LabelledPair {
            line: number,
            job: job?,
            matched: matched?,
            unmatched: unmatched?,
        });
    }
    if pairs.is_empty() {
        return Err(MatchError::file(path, "no pairs (the file is empty)"));
    }
    Ok(pairs)
}
