//! Posting vectors kept beside the lake (`LAKE/vectors/<encoder>.vec`), keyed by the SHA-256
//! of the text embedded: a posting is embedded once per encoder, and a re-run embeds only
//! postings whose text is new. Vectors of another encoder live in another file.
//!
//! The file: `RATSVEC1`, the dimension as a little-endian u32, then records of a 32-byte key
//! and the vector's f32s (little-endian). It is rewritten whole through a temporary file and a
//! rename, so a crash leaves the old file or the new one, never half of one.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::MatchError;
use super::embed::SentenceEncoder;

const MAGIC: &[u8; 8] = b"RATSVEC1";
pub const DIR: &str = "vectors";
/// Texts embedded per call between progress reports (a few seconds' work on two cores).
pub const EMBED_CHUNK: usize = 256;
/// New vectors between saves of the file (each save rewrites it whole: 13,000 vectors of 384
/// dimensions are 20 MB).
pub const SAVE_EVERY: usize = 2_048;

pub struct VectorCache {
    path: PathBuf,
    dimensions: usize,
    vectors: HashMap<[u8; 32], Vec<f32>>,
    /// Keys in the order they were first stored (the file's order, so rewrites are stable).
    order: Vec<[u8; 32]>,
    added: usize,
    /// Vectors added since the file was last written.
    unsaved: usize,
}

fn key(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl VectorCache {
    /// The cache of `encoder`'s vectors under the lake at `lake_root` (empty when there is none
    /// yet).
    pub fn open(lake_root: &Path, encoder: &SentenceEncoder) -> Result<Self, MatchError> {
        let path = lake_root.join(DIR).join(format!("{}.vec", &encoder.id()[..16]));
        let mut cache = Self {
            path,
            dimensions: encoder.dimensions(),
            vectors: HashMap::new(),
            order: Vec::new(),
            added: 0,
            unsaved: 0,
        };
        match std::fs::read(&cache.path) {
            Ok(bytes) => cache.load(&bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(MatchError::file(&cache.path, e)),
        }
        Ok(cache)
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), MatchError> {
        let bad = |offset: usize, why: &str| MatchError::file(&self.path, format!("byte offset {offset}: {why}"));
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(bad(0, "not a rats vector file (no RATSVEC1 header)"));
        }
        let dimensions = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        if dimensions != self.dimensions {
            return Err(bad(
                8,
                &format!("vectors of {dimensions} dimensions, the encoder makes {}", self.dimensions),
            ));
        }
        let record = 32 + 4 * dimensions;
        let body = &bytes[12..];
        if !body.len().is_multiple_of(record) {
            return Err(bad(12 + body.len() / record * record, "a truncated record"));
        }
        for chunk in body.chunks_exact(record) {
            let mut key = [0u8; 32];
            key.copy_from_slice(&chunk[..32]);
            let vector = chunk[32..]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if self.vectors.insert(key, vector).is_none() {
                self.order.push(key);
            }
        }
        Ok(())
    }

    /// How many of `texts` (counted once each) have no vector yet.
    pub fn missing(&self, texts: &[&str]) -> usize {
        let keys: std::collections::HashSet<[u8; 32]> = texts.iter().map(|t| key(t)).collect();
        keys.iter().filter(|k| !self.vectors.contains_key(*k)).count()
    }

    /// The vectors of `texts`, embedding only those not cached yet, [`EMBED_CHUNK`] at a time:
    /// `progress(embedded, to_embed)` after each chunk, and the file saved every
    /// [`SAVE_EVERY`] new vectors, so a long first embedding interrupted by a restart resumes
    /// from where it was saved.
    pub fn vectors(
        &mut self,
        encoder: &SentenceEncoder,
        texts: &[&str],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<Vec<f32>>, MatchError> {
        let keys: Vec<[u8; 32]> = texts.iter().map(|t| key(t)).collect();
        let mut missing: Vec<usize> = (0..texts.len()).filter(|&i| !self.vectors.contains_key(&keys[i])).collect();
        let mut seen = std::collections::HashSet::new();
        missing.retain(|&i| seen.insert(keys[i]));
        // Texts of like length embed together with the least padding.
        missing.sort_by_key(|&i| texts[i].len());
        progress(0, missing.len());
        for (done, chunk) in missing.chunks(EMBED_CHUNK).enumerate() {
            let fresh = encoder.embed(&chunk.iter().map(|&i| texts[i]).collect::<Vec<_>>())?;
            for (&i, vector) in chunk.iter().zip(fresh) {
                self.vectors.insert(keys[i], vector);
                self.order.push(keys[i]);
                self.added += 1;
                self.unsaved += 1;
            }
            if self.unsaved >= SAVE_EVERY {
                self.save()?;
            }
            progress((done * EMBED_CHUNK + chunk.len()).min(missing.len()), missing.len());
        }
        Ok(keys.iter().map(|k| self.vectors[k].clone()).collect())
    }

    /// How many vectors this run embedded.
    pub fn added(&self) -> usize {
        self.added
    }

    /// Writes the file when vectors were added since it was last written.
    pub fn save(&mut self) -> Result<(), MatchError> {
        if self.unsaved == 0 {
            return Ok(());
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| MatchError::file(dir, e))?;
        let temporary = self.path.with_extension("vec.tmp");
        let write = || -> std::io::Result<()> {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&temporary)?);
            out.write_all(MAGIC)?;
            out.write_all(&(self.dimensions as u32).to_le_bytes())?;
            for key in &self.order {
                out.write_all(key)?;
                for x in &self.vectors[key] {
                    out.write_all(&x.to_le_bytes())?;
                }
            }
            out.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()?;
            std::fs::rename(&temporary, &self.path)
        };
        write().map_err(|e| MatchError::file(&self.path, e))?;
        self.unsaved = 0;
        Ok(())
    }
}
