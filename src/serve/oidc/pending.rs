//! A sign-in in progress, between sending the browser to the provider and its return: the
//! `state`, the nonce, the PKCE verifier and where to go afterwards. It travels in a cookie
//! signed with the server's key (HMAC-SHA256), so any replica can finish a sign-in another one
//! started and nothing is stored. The cookie is `SameSite=Lax` (it must come back on the
//! provider's cross-site redirect), `HttpOnly`, limited to the OIDC routes, and lives ten minutes.

use serde::{Deserialize, Serialize};

use crate::accounts::secrets::{base64url, from_base64url, hmac_sha256, same_bytes};

pub const COOKIE: &str = "rats_oidc";
pub const LIFETIME_SECONDS: i64 = 600;
const PATH: &str = "/v1/auth/oidc";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// A path on this server to send the person to once signed in.
    pub next: String,
    pub expires_at: i64,
}

impl Pending {
    /// The cookie's value: the JSON in base64url, a dot, its HMAC.
    pub fn seal(&self, key: &[u8]) -> String {
        let body = base64url(&serde_json::to_vec(self).unwrap_or_default());
        let tag = base64url(&hmac_sha256(key, format!("oidc-pending:{body}").as_bytes()));
        format!("{body}.{tag}")
    }

    /// The sign-in a cookie holds, if the server's key signed it and it has not expired.
    pub fn open(value: &str, key: &[u8], now: i64) -> Option<Pending> {
        let (body, tag) = value.split_once('.')?;
        let expected = hmac_sha256(key, format!("oidc-pending:{body}").as_bytes());
        if !same_bytes(&from_base64url(tag)?, &expected) {
            return None;
        }
        let pending: Pending = serde_json::from_slice(&from_base64url(body)?).ok()?;
        (pending.expires_at > now).then_some(pending)
    }

    /// `Set-Cookie` for this sign-in.
    pub fn set_cookie(&self, key: &[u8]) -> String {
        format!(
            "{COOKIE}={}; Path={PATH}; Max-Age={LIFETIME_SECONDS}; Secure; HttpOnly; SameSite=Lax",
            self.seal(key)
        )
    }
}

/// `Set-Cookie` that removes the cookie once the sign-in is over.
pub fn cleared_cookie() -> String {
    format!("{COOKIE}=; Path={PATH}; Max-Age=0; Secure; HttpOnly; SameSite=Lax")
}

/// `next` when it is a path on this server; `/` otherwise, so that a sign-in link cannot send
/// people on to another site (`//evil.example`, `/\evil.example`, `https://…`).
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\") && !path.chars().any(char::is_control) =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> Pending {
        Pending {
            provider: "corp".into(),
            state: "s".into(),
            nonce: "n".into(),
            verifier: "v".into(),
            next: "/v1/me".into(),
            expires_at: 1_000,
        }
    }

    #[test]
    fn only_an_unexpired_cookie_signed_with_the_key_opens() {
        let sealed = pending().seal(b"key");
        assert_eq!(Pending::open(&sealed, b"key", 999), Some(pending()));
        assert_eq!(Pending::open(&sealed, b"key", 1_000), None, "expired");
        assert_eq!(Pending::open(&sealed, b"another key", 999), None);
        let (body, tag) = sealed.split_once('.').expect("two parts");
        let mut other = pending();
        other.next = "/elsewhere".into();
        let other_body = other.seal(b"key").split_once('.').expect("two parts").0.to_string();
        assert_eq!(Pending::open(&format!("{other_body}.{tag}"), b"key", 999), None, "body swapped");
        assert_eq!(Pending::open(body, b"key", 999), None);
        assert!(pending().set_cookie(b"key").contains("SameSite=Lax"));
    }

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(local_path(Some("/jobs?q=rust")), "/jobs?q=rust");
        for elsewhere in [
            None,
            Some("https://evil.example"),
            Some("//evil.example"),
            Some("/\\evil.example"),
            Some("jobs"),
            Some("/a\r\nSet-Cookie: x=1"),
        ] {
            assert_eq!(local_path(elsewhere), "/", "{elsewhere:?}");
        }
    }
}
