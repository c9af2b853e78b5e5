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

pub struct VectorCache {
    path: PathBuf,
    dimensions: usize,
    vectors: HashMap<[u8; 32], Vec<f32>>,
    /// Keys in the order they were first stored (the file's order, so rewrites are stable).
    order: Vec<[u8; 32]>,
    added: usize,
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

    /// The vectors of `texts`, embedding only those not cached yet.
    pub fn vectors(&mut self, encoder: &SentenceEncoder, texts: &[&str]) -> Result<Vec<Vec<f32>>, MatchError> {
        let keys: Vec<[u8; 32]> = texts.iter().map(|t| key(t)).collect();
        let mut missing: Vec<usize> = (0..texts.len()).filter(|&i| !self.vectors.contains_key(&keys[i])).collect();
        let mut seen = std::collections::HashSet::new();
        missing.retain(|&i| seen.insert(keys[i]));
        let fresh = encoder.embed(&missing.iter().map(|&i| texts[i]).collect::<Vec<_>>())?;
        for (&i, vector) in missing.iter().zip(fresh) {
            self.vectors.insert(keys[i], vector);
            self.order.push(keys[i]);
            self.added += 1;
        }
        Ok(keys.iter().map(|k| self.vectors[k].clone()).collect())
    }

    /// How many vectors this run embedded.
    pub fn added(&self) -> usize {
        self.added
    }

    /// Writes the file when this run added vectors.
    pub fn save(&self) -> Result<(), MatchError> {
        if self.added == 0 {
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
        write().map_err(|e| MatchError::file(&self.path, e))
    }
}
