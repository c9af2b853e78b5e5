//! Access tokens: JSON Web Tokens signed with HMAC-SHA256 under the server's key (RFC 7519).
//! Only `HS256` is accepted — a token that names another algorithm, `none` included, is
//! refused before its signature is looked at — and a token past its `exp` is refused.

use serde::{Deserialize, Serialize};

use super::secrets::{base64url, from_base64url, hmac_sha256, same_bytes};

/// What an access token says. The server still reads the user from the database on every
/// request, so a disabled user or a changed role takes effect before the token expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id, as text (JWT's `sub` is a string).
    pub sub: String,
    pub name: String,
    pub role: String,
    /// Issued at and expiry, seconds since the Unix epoch.
    pub iat: i64,
    pub exp: i64,
    /// The sign-in session (refresh-token family) the token belongs to: a browser's CSRF token
    /// is derived from it.
    #[serde(default)]
    pub sid: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a signed JWT")]
    Malformed,
    #[error("the token is not signed with HS256")]
    Algorithm,
    #[error("the token's signature does not match")]
    Signature,
    #[error("the token has expired")]
    Expired,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
}

pub fn sign(claims: &Claims, key: &[u8]) -> String {
    let header = base64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = base64url(&serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let signature = base64url(&hmac_sha256(key, signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

/// The claims of a token signed with `key` and not expired at `now`.
pub fn verify(token: &str, key: &[u8], now: i64) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Malformed);
    };
    let header: Header = from_base64url(header)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TokenError::Malformed)?;
    if header.alg != "HS256" {
        return Err(TokenError::Algorithm);
    }
    let signature = from_base64url(signature).ok_or(TokenError::Malformed)?;
    let signing_input = &token[..token.rfind('.').unwrap_or_default()];
    if !same_bytes(&hmac_sha256(key, signing_input.as_bytes()), &signature) {
        return Err(TokenError::Signature);
    }
    let claims: Claims = from_base64url(payload)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TokenError::Malformed)?;
    if claims.exp <= now {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "7".into(),
            name: "ada".into(),
            role: "analyst".into(),
            iat: 100,
            exp,
            sid: "family".into(),
        }
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let token = sign(&claims(200), b"key");
        assert_eq!(verify(&token, b"key", 150), Ok(claims(200)));
        assert_eq!(verify(&token, b"key", 200), Err(TokenError::Expired));
        assert_eq!(verify(&token, b"other key", 150), Err(TokenError::Signature));
    }

    #[test]
    fn forged_and_unsigned_tokens_are_refused() {
        let token = sign(&claims(200), b"key");
        let parts: Vec<&str> = token.split('.').collect();
        // The payload changed (a role raised), the signature kept.
        let raised = base64url(
            &serde_json::to_vec(&Claims {
                role: "admin".into(),
                ..claims(200)
            })
            .expect("json"),
        );
        let forged = format!("{}.{raised}.{}", parts[0], parts[2]);
        assert_eq!(verify(&forged, b"key", 150), Err(TokenError::Signature));
        // `alg: none` with an empty signature, as the classic attack sends it.
        let none = format!("{}.{}.", base64url(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);
        assert_eq!(verify(&none, b"key", 150), Err(TokenError::Algorithm));
        assert_eq!(verify("not a token", b"key", 150), Err(TokenError::Malformed));
        assert_eq!(verify(&format!("{token}.extra"), b"key", 150), Err(TokenError::Malformed));
    }
}
