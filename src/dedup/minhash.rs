//! `MinHash` signatures of description text by one-permutation hashing with optimal
//! densification (Shrivastava, ICML 2017): one hash per shingle instead of one per shingle
//! and slot, so signing costs O(words + slots) and keeps up with ingest.

use crate::normalize::text::fold_key;

/// Slots in a signature.
pub const SLOTS: usize = 64;
/// LSH bands; `SLOTS / BANDS` slots each. At a Jaccard similarity of 0.85 two descriptions
/// share at least one band with probability above 0.99999; at 0.5, about 0.64.
pub const BANDS: usize = 16;
const ROWS: usize = SLOTS / BANDS;
/// Bytes per shingle, over the text reduced to letters and digits.
const SHINGLE: usize = 10;
/// The rolling hash's multiplier (the FNV-1a 64-bit prime).
const BASE: u64 = 0x0100_0000_01b3;
/// Descriptions with fewer shingles than this are too short to compare by text.
pub const MIN_SHINGLES: usize = 40;

/// A `MinHash` signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(pub [u32; SLOTS]);

impl Signature {
    /// Signs a description; `None` when it is too short to compare.
    pub fn of_text(text: &str) -> Option<Self> {
        Self::of_folded(&fold_key(text))
    }

    /// Signs text already reduced by [`fold_key`] (normalisation folds each description once
    /// for the content hash and the signature).
    pub fn of_folded(folded: &str) -> Option<Self> {
        // Letters and digits only: the same text scraped with glued or split words
        // ("LawyerWe believe" / "Lawyer We believe") signs the same.
        // Without a branch per byte: filtering spaces out byte by byte, a guess at every word's
        // end, was 3.2 % of `rats consume`'s samples, and signing 4.1 % more; now signing is
        // 4.4 % in all (BENCHMARKS.md).
        let mut bytes = vec![0_u8; folded.len()];
        let mut len = 0;
        for &b in folded.as_bytes() {
            bytes[len] = b;
            len += usize::from(b != b' ');
        }
        bytes.truncate(len);
        if bytes.len() < SHINGLE + MIN_SHINGLES - 1 {
            return None;
        }
        let mut slots = [u32::MAX; SLOTS];
        let mut filled = [false; SLOTS];
        // A polynomial rolling hash over each SHINGLE-byte window.
        let top = BASE.wrapping_pow(SHINGLE as u32 - 1);
        let mut rolling = 0u64;
        for (i, &b) in bytes.iter().enumerate() {
            if i >= SHINGLE {
                rolling = rolling.wrapping_sub((u64::from(bytes[i - SHINGLE]) + 1).wrapping_mul(top));
            }
            rolling = rolling.wrapping_mul(BASE).wrapping_add(u64::from(b) + 1);
            if i + 1 < SHINGLE {
                continue;
            }
            let h = mix(rolling);
            let slot = (h % SLOTS as u64) as usize;
            let value = (h >> 32) as u32;
            // An unfilled slot holds u32::MAX, so the minimum is right either way.
            slots[slot] = slots[slot].min(value);
            filled[slot] = true;
        }
        // Optimal densification: an empty slot copies a filled one chosen by a hash of
        // (slot, attempt), the same choice for every document, so estimates stay unbiased.
        let source = slots;
        for slot in 0..SLOTS {
            if filled[slot] {
                continue;
            }
            let mut attempt = 0u64;
            loop {
                let pick = (mix((slot as u64) << 32 | attempt) % SLOTS as u64) as usize;
                if filled[pick] {
                    slots[slot] = source[pick];
                    break;
                }
                attempt += 1;
            }
        }
        Some(Signature(slots))
    }

    /// The estimated Jaccard similarity of the two shingle sets.
    pub fn similarity(&self, other: &Signature) -> f64 {
        let same = self.0.iter().zip(other.0.iter()).filter(|(a, b)| a == b).count();
        same as f64 / SLOTS as f64
    }

    /// The LSH band keys.
    pub fn bands(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        (0..BANDS).map(|band| (band, self.band(band)))
    }

    /// The key of one LSH band.
    pub fn band(&self, band: usize) -> u64 {
        let mut h = band as u64;
        for r in &self.0[band * ROWS..(band + 1) * ROWS] {
            h = mix(h ^ u64::from(*r));
        }
        h
    }

    /// Little-endian bytes, as stored in silver's `minhash` column.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != SLOTS * 4 {
            return None;
        }
        let mut slots = [0u32; SLOTS];
        for (slot, chunk) in slots.iter_mut().zip(bytes.chunks_exact(4)) {
            *slot = u32::from_le_bytes(chunk.try_into().ok()?);
        }
        Some(Signature(slots))
    }
}

/// splitmix64's finaliser: a fast, well-mixed 64-bit hash step.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "We are looking for a data engineer to build reliable pipelines in Rust and Python, \
        own our warehouse models, partner with analysts on metrics, and mentor two junior engineers \
        while keeping costs down and quality up across every stage of the platform";

    #[test]
    fn identical_text_is_identical_and_edits_stay_close() {
        let a = Signature::of_text(TEXT).expect("long enough");
        assert!((a.similarity(&Signature::of_text(TEXT).expect("same")) - 1.0).abs() < f64::EPSILON);
        let edited = TEXT.replace("two junior", "three junior");
        assert!(a.similarity(&Signature::of_text(&edited).expect("edited")) > 0.6);
        let other = Signature::of_text(
            "Registered nurse for night shifts in a busy emergency department, caring for patients, \
            coordinating with physicians, documenting charts and supporting families through difficult moments every week",
        )
        .expect("long");
        assert!(a.similarity(&other) < 0.2);
    }

    #[test]
    fn bytes_round_trip_and_short_text_is_skipped() {
        let a = Signature::of_text(TEXT).expect("long enough");
        assert_eq!(Signature::from_bytes(&a.to_bytes()), Some(a));
        assert_eq!(Signature::of_text("too short"), None);
    }

    /// Signatures are stored in silver and compared with those of later runs: signing the same
    /// text must give the same slots in every version, however signing is made faster (these
    /// are the slots of the version of 2026-12-04).
    #[test]
    fn signatures_never_change() {
        let signature = Signature::of_text(&format!("{TEXT} — déjà vu, C++ & C# 10x")).expect("long enough");
        let first_version: [u32; SLOTS] = [
            1_261_684_367,
            2_048_561_556,
            2_832_284_903,
            245_889_579,
            1_785_335_817,
            1_397_675_710,
            1_359_768_191,
            450_399_307,
            3_891_467_792,
            1_095_336_067,
            1_108_742_298,
            36_620_126,
            1_764_556_230,
            3_259_628_935,
            1_363_105_300,
            1_459_719_590,
            1_027_180_635,
            1_996_478_607,
            678_745_389,
            779_369_224,
            9_196_279,
            1_615_876_181,
            2_680_762_590,
            1_016_771_989,
            6_943_123,
            1_930_551_297,
            2_007_567_979,
            14_768_072,
            448_456_293,
            341_105_939,
            981_978_554,
            2_229_712_208,
            161_321_554,
            210_134_269,
            1_057_435_429,
            3_365_753_661,
            400_379_516,
            2_244_370_415,
            1_040_269_439,
            2_048_561_556,
            978_772_884,
            1_284_315_885,
            1_814_157_662,
            149_312_723,
            283_397_590,
            623_768_416,
            1_872_567_804,
            368_503_633,
            582_778_320,
            613_417_510,
            389_357_030,
            112_302_920,
            240_147_475,
            1_763_613_712,
            613_417_510,
            965_992_326,
            100_302_069,
            1_459_719_590,
            16_575_800,
            300_373_839,
            2_077_358,
            2_233_760_701,
            97_575_864,
            2_094_684_244,
        ];
        assert_eq!(signature.0, first_version);
        // One letter short of MIN_SHINGLES shingles, and exactly enough.
        let just = "a b".repeat((SHINGLE + MIN_SHINGLES - 1) / 2);
        assert_eq!(just.bytes().filter(|b| *b != b' ').count(), SHINGLE + MIN_SHINGLES - 1 - 1);
        assert_eq!(Signature::of_folded(&just), None);
        assert!(Signature::of_folded(&format!("{just} c")).is_some());
    }
}
