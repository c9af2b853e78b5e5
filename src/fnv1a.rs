//! FNV-1a, a stable byte hash: unlike std's hashers it is the same in every build and in
//! Python, which saved models rely on (the salary model's hashed text buckets). Also quick on
//! short keys (the gazetteer's words).

const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0100_0000_01b3;

/// FNV-1a (64-bit) of a byte sequence.
pub fn hash(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes
        .into_iter()
        .fold(OFFSET_BASIS, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::hash;

    /// The published FNV-1a 64 test vectors: models saved with these buckets must keep them.
    #[test]
    fn matches_the_reference_values() {
        assert_eq!(hash(*b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(*b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash(*b"foobar"), 0x8594_4171_f739_67e8);
    }
}
