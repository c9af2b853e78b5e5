//! The simple matchers the learned score is compared with on the same data: keyword overlap
//! (what Resume-Matcher scores: the share of the posting's keywords found in the résumé) and
//! BM25 (the posting as the query, the résumés as the collection).

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use super::features::content_words;

/// Share of the posting's distinct content words that the résumé contains.
pub fn keyword_overlap<S: BuildHasher>(job_words: &HashSet<String, S>, resume_words: &HashSet<String, S>) -> f64 {
    if job_words.is_empty() {
        return 0.0;
    }
    job_words.iter().filter(|w| resume_words.contains(*w)).count() as f64 / job_words.len() as f64
}

const K1: f64 = 1.2;
const B: f64 = 0.75;

/// A BM25 index over a collection of documents.
pub struct Bm25 {
    documents: Vec<HashMap<String, usize>>,
    lengths: Vec<usize>,
    average_length: f64,
    document_frequency: HashMap<String, usize>,
}

impl Bm25 {
    pub fn new<'a>(texts: impl Iterator<Item = &'a str>) -> Self {
        let mut documents = Vec::new();
        let mut lengths = Vec::new();
        let mut document_frequency: HashMap<String, usize> = HashMap::new();
        for text in texts {
            let words = content_words(text);
            lengths.push(words.len());
            let mut counts: HashMap<String, usize> = HashMap::new();
            for word in words {
                *counts.entry(word).or_default() += 1;
            }
            for word in counts.keys() {
                *document_frequency.entry(word.clone()).or_default() += 1;
            }
            documents.push(counts);
        }
        let average_length = lengths.iter().sum::<usize>() as f64 / lengths.len().max(1) as f64;
        Self {
            documents,
            lengths,
            average_length,
            document_frequency,
        }
    }

    /// The score of document `index` for the query's words.
    pub fn score(&self, query: &[String], index: usize) -> f64 {
        let n = self.documents.len() as f64;
        let document = &self.documents[index];
        let length_norm = 1.0 - B + B * self.lengths[index] as f64 / self.average_length.max(1.0);
        query
            .iter()
            .map(|word| {
                let Some(&tf) = document.get(word) else {
                    return 0.0;
                };
                let df = self.document_frequency.get(word).copied().unwrap_or(0) as f64;
                let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                let tf = tf as f64;
                idf * tf * (K1 + 1.0) / (tf + K1 * length_norm)
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bm25_ranks_the_document_with_the_rare_query_word_first() {
        let index = Bm25::new(["python sql", "python terraform kubernetes", "python excel"].into_iter());
        let query = content_words("terraform python");
        assert!(index.score(&query, 1) > index.score(&query, 0));
        assert!(index.score(&query, 1) > index.score(&query, 2));
    }

    #[test]
    fn keyword_overlap_is_the_share_of_the_posting_words_found() {
        let job: HashSet<String> = ["python", "sql", "spark", "airflow"].map(String::from).into();
        let resume: HashSet<String> = ["python", "sql", "excel"].map(String::from).into();
        assert!((keyword_overlap(&job, &resume) - 0.5).abs() < 1e-9);
    }
}
