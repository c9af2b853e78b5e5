//! Which language a résumé is written in, roughly: sections, skills and dates are read in
//! English, so a résumé in another language reads poorly and its matches must say so rather
//! than look like a weak candidate.
//!
//! Counting each language's commonest function words is enough to tell a page of German from a
//! page of English; the lists leave out words two of the languages share ("in", "a", "de") so a
//! hit is evidence for one language.

/// Function words by language, English first.
const FUNCTION_WORDS: &[(&str, &[&str])] = &[
    (
        "English",
        &[
            "the", "and", "of", "to", "for", "with", "on", "at", "by", "is", "my", "as", "from", "was", "were", "have", "has", "this",
            "that", "our", "which", "while", "into", "over",
        ],
    ),
    (
        "German",
        &[
            "der", "die", "das", "und", "ist", "mit", "von", "für", "auf", "ich", "nicht", "ein", "eine", "zu", "den", "im", "bei", "als",
            "auch", "sowie", "des", "dem", "zur", "zum",
        ],
    ),
    (
        "French",
        &[
            "le", "les", "et", "des", "du", "une", "est", "pour", "avec", "dans", "sur", "je", "au", "aux", "mon", "ma", "mes",
        ],
    ),
    (
        "Spanish",
        &[
            "el", "los", "las", "y", "del", "que", "con", "por", "una", "es", "mi", "mis", "como", "en", "al", "sus",
        ],
    ),
    (
        "Portuguese",
        &[
            "os", "da", "dos", "das", "em", "um", "uma", "com", "não", "são", "na", "no", "pelo", "pela", "ao", "meu", "minha",
        ],
    ),
    (
        "Italian",
        &[
            "il", "di", "che", "della", "delle", "degli", "nel", "nella", "sono", "gli", "dei", "alla", "ho", "anche",
        ],
    ),
    (
        "Dutch",
        &["het", "een", "van", "voor", "op", "zijn", "niet", "ik", "bij", "ook", "naar", "heb"],
    ),
];

/// Another language needs this many function words, and more than twice English's count, before
/// a résumé reads as written in it: a Spanish place name or a French company in an English
/// résumé is not enough.
const MIN_HITS: usize = 8;

/// The language a text reads as when it is not English; `None` for English or too little text.
pub fn other_than_english(text: &str) -> Option<&'static str> {
    let mut counts = vec![0usize; FUNCTION_WORDS.len()];
    for word in text.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()) {
        let word = word.to_lowercase();
        for (count, (_, words)) in counts.iter_mut().zip(FUNCTION_WORDS) {
            if words.contains(&word.as_str()) {
                *count += 1;
            }
        }
    }
    let english = counts[0];
    counts
        .iter()
        .zip(FUNCTION_WORDS)
        .skip(1)
        .filter(|&(&count, _)| count >= MIN_HITS && count > 2 * english)
        .max_by_key(|&(&count, _)| count)
        .map(|(_, (language, _))| *language)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_german_resume_reads_as_german_and_an_english_one_as_english() {
        let german = "Berufserfahrung\nDateningenieur bei der Muster GmbH (2019 - 2023)\nIch habe die Datenplattform auf \
                      der Basis von Apache Spark aufgebaut und mit dem Team die Pipelines für das Reporting betreut. Ich bin \
                      verantwortlich für die Modellierung der Daten und die Qualität der Berichte im Unternehmen.";
        assert_eq!(other_than_english(german), Some("German"));
        let english = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/resumes/data-engineer.md")).expect("fixture");
        assert_eq!(other_than_english(&english), None);
        assert_eq!(other_than_english("Python, SQL, Spark, Los Angeles, CA"), None);
    }
}
