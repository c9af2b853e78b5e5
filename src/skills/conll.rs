//! SkillSpan's CoNLL layout: one token a line as `token<TAB>skill-tag<TAB>knowledge-tag`
//! (BIO with `B-Skill`/`I-Skill` and `B-Knowledge`/`I-Knowledge`), blank lines between
//! sentences.

use std::path::{Path, PathBuf};

use super::tagger::{self, Label, TokenSpan};

#[derive(Debug, thiserror::Error)]
pub enum ConllError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Line { path: PathBuf, line: usize, message: String },
}

/// One annotated sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    pub words: Vec<String>,
    pub skill: Vec<TokenSpan>,
    pub knowledge: Vec<TokenSpan>,
}

impl Sentence {
    pub fn spans(&self, label: Label) -> &[TokenSpan] {
        match label {
            Label::Skill => &self.skill,
            Label::Knowledge => &self.knowledge,
        }
    }
}

pub fn read(path: &Path) -> Result<Vec<Sentence>, ConllError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConllError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// The sentences of several files, in order.
pub fn read_all(paths: &[PathBuf]) -> Result<Vec<Sentence>, ConllError> {
    let mut sentences = Vec::new();
    for path in paths {
        sentences.extend(read(path)?);
    }
    Ok(sentences)
}

pub fn parse(text: &str, path: &Path) -> Result<Vec<Sentence>, ConllError> {
    let mut sentences = Vec::new();
    let mut words = Vec::new();
    let mut tags: [Vec<char>; 2] = [Vec::new(), Vec::new()];
    let finish = |words: &mut Vec<String>, tags: &mut [Vec<char>; 2], sentences: &mut Vec<Sentence>| {
        if !words.is_empty() {
            sentences.push(Sentence {
                words: std::mem::take(words),
                skill: spans(&std::mem::take(&mut tags[0])),
                knowledge: spans(&std::mem::take(&mut tags[1])),
            });
        }
    };
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            finish(&mut words, &mut tags, &mut sentences);
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 3 {
            return Err(ConllError::Line {
                path: path.to_path_buf(),
                line: line_no,
                message: format!(
                    "expected token, skill tag and knowledge tag separated by tabs, found {} field(s)",
                    fields.len()
                ),
            });
        }
        for (layer, (field, name)) in [(fields[1], "Skill"), (fields[2], "Knowledge")].into_iter().enumerate() {
            let tag = match field {
                "O" => 'O',
                f if f == format!("B-{name}") => 'B',
                f if f == format!("I-{name}") => 'I',
                other => {
                    return Err(ConllError::Line {
                        path: path.to_path_buf(),
                        line: line_no,
                        message: format!("field {} is {other:?}; expected O, B-{name} or I-{name}", layer + 2),
                    });
                }
            };
            tags[layer].push(tag);
        }
        words.push(fields[0].to_string());
    }
    finish(&mut words, &mut tags, &mut sentences);
    Ok(sentences)
}

fn spans(tags: &[char]) -> Vec<TokenSpan> {
    let tags: Vec<usize> = tags
        .iter()
        .map(|t| match t {
            'B' => tagger::BEGIN,
            'I' => tagger::INSIDE,
            _ => tagger::OUTSIDE,
        })
        .collect();
    tagger::spans_from_tags(&tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_and_both_layers_are_read() {
        let text = "Strong\tB-Skill\tO\nPython\tI-Skill\tB-Knowledge\nskills\tI-Skill\tO\n\nHi\tO\tO\n";
        let sentences = parse(text, Path::new("x.conll")).expect("parses");
        assert_eq!(sentences.len(), 2);
        assert_eq!(sentences[0].skill, [TokenSpan { first: 0, last: 2 }]);
        assert_eq!(sentences[0].knowledge, [TokenSpan { first: 1, last: 1 }]);
        assert!(sentences[1].skill.is_empty());
    }

    #[test]
    fn a_bad_line_is_named_with_file_and_line() {
        let err = parse("a\tO\tO\nb\tB-Skil\tO\n", Path::new("x.conll")).expect_err("refused");
        assert_eq!(err.to_string(), "x.conll:2: field 2 is \"B-Skil\"; expected O, B-Skill or I-Skill");
        let err = parse("a O O\n", Path::new("x.conll")).expect_err("refused");
        assert!(err.to_string().starts_with("x.conll:1: expected token"), "{err}");
    }
}
