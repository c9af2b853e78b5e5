//! Passwords: argon2id with the crate's defaults (OWASP's recommended 19 MiB, 2 passes), a
//! random salt each, stored as PHC strings. Hashing takes tens of milliseconds on purpose; the
//! server runs it on the blocking pool.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use super::AccountsError;

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 1024;

/// A password long enough to resist guessing and short enough not to be a hashing attack.
pub fn check_strength(password: &str) -> Result<(), AccountsError> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(AccountsError::Invalid(format!(
            "the password is too short: at least {MIN_LENGTH} characters"
        )));
    }
    if password.len() > MAX_LENGTH {
        return Err(AccountsError::Invalid(format!(
            "the password is too long: at most {MAX_LENGTH} bytes"
        )));
    }
    Ok(())
}

pub fn hash(password: &str) -> Result<String, AccountsError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AccountsError::Hashing(e.to_string()))
}

/// Whether `password` matches `stored`. Without a stored hash (an unknown user, or one who
/// signs in by key only) a hash is still checked, so the answer takes as long either way and
/// does not tell which names exist.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let decoy = DECOY.get_or_init(|| hash("decoy password for unknown users").unwrap_or_default());
    let (candidate, real) = match stored {
        Some(stored) => (stored, true),
        None => (decoy.as_str(), false),
    };
    let matches = PasswordHash::new(candidate).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok());
    matches && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery").expect("hashes");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify("correct horse battery", Some(&stored)));
        assert!(!verify("correct horse battery!", Some(&stored)));
        assert!(!verify("decoy password for unknown users", None));
        assert_ne!(hash("correct horse battery").expect("hashes"), stored, "salted");
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(check_strength("short").is_err());
        assert!(check_strength(&"x".repeat(MAX_LENGTH + 1)).is_err());
        assert!(check_strength("long enough here").is_ok());
    }
}
