//! Checking an ID token (OpenID Connect Core §3.1.3.7): signed by one of the provider's keys
//! (RS256 or ES256, verified with `ring`, which the TLS stack already builds), issued by the
//! configured issuer, for this client, not expired, and carrying the nonce of this sign-in.
//! Any other algorithm — `none` and HS256 with the public key among them — is refused.

use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::Deserialize;
use serde_json::Value;

use crate::accounts::secrets::{from_base64url, same_bytes};

/// Clock difference tolerated between the provider and this server, in seconds.
const LEEWAY: i64 = 120;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IdTokenError {
    #[error("the ID token is not a signed JWT")]
    Malformed,
    #[error("the ID token is signed with {0:?}; only RS256 and ES256 are accepted")]
    Algorithm(String),
    #[error("no key of the provider matches the ID token (kid {0:?})")]
    UnknownKey(Option<String>),
    #[error("the ID token's signature does not verify")]
    Signature,
    #[error("the ID token's {claim} is wrong: {detail}")]
    Claim { claim: &'static str, detail: String },
}

/// A public key of the provider's JWK set (RFC 7517).
#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default, rename = "use")]
    pub usage: Option<String>,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// What this sign-in expects of the token.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub now: i64,
}

/// The `kid` the token names, so that a caller can fetch the provider's keys again when it
/// names one not seen yet.
pub fn key_id(token: &str) -> Result<Option<String>, IdTokenError> {
    let header = token.split('.').next().ok_or(IdTokenError::Malformed)?;
    let header: Header = decode_json(header)?;
    Ok(header.kid)
}

/// The token's claims once signature and claims check out.
pub fn verify(token: &str, keys: &JwkSet, expected: &Expected) -> Result<serde_json::Map<String, Value>, IdTokenError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header_b64, claims_b64, signature_b64] = parts[..] else {
        return Err(IdTokenError::Malformed);
    };
    let header: Header = decode_json(header_b64)?;
    let signature = from_base64url(signature_b64).ok_or(IdTokenError::Malformed)?;
    let signed = format!("{header_b64}.{claims_b64}");
    let (kty, usable) = match header.alg.as_str() {
        "RS256" => ("RSA", verify_rs256 as fn(&Jwk, &[u8], &[u8]) -> bool),
        "ES256" => ("EC", verify_es256 as fn(&Jwk, &[u8], &[u8]) -> bool),
        other => return Err(IdTokenError::Algorithm(other.to_string())),
    };
    let candidates: Vec<&Jwk> = keys
        .keys
        .iter()
        .filter(|k| k.kty == kty && k.usage.as_deref().is_none_or(|u| u == "sig"))
        .filter(|k| header.kid.is_none() || k.kid == header.kid)
        .collect();
    if candidates.is_empty() {
        return Err(IdTokenError::UnknownKey(header.kid));
    }
    if !candidates.iter().any(|key| usable(key, signed.as_bytes(), &signature)) {
        return Err(IdTokenError::Signature);
    }
    let claims: serde_json::Map<String, Value> = decode_json(claims_b64)?;
    check_claims(&claims, expected)?;
    Ok(claims)
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, IdTokenError> {
    let bytes = from_base64url(part).ok_or(IdTokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| IdTokenError::Malformed)
}

fn verify_rs256(key: &Jwk, message: &[u8], signature: &[u8]) -> bool {
    let (Some(n), Some(e)) = (key.n.as_deref().and_then(from_base64url), key.e.as_deref().and_then(from_base64url)) else {
        return false;
    };
    RsaPublicKeyComponents { n, e }
        .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
        .is_ok()
}

fn verify_es256(key: &Jwk, message: &[u8], signature: &[u8]) -> bool {
    let (Some(x), Some(y)) = (key.x.as_deref().and_then(from_base64url), key.y.as_deref().and_then(from_base64url)) else {
        return false;
    };
    if key.crv.as_deref() != Some("P-256") || x.len() != 32 || y.len() != 32 {
        return false;
    }
    let point = [&[4_u8][..], &x, &y].concat();
    UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
        .verify(message, signature)
        .is_ok()
}

fn wrong(claim: &'static str, detail: impl Into<String>) -> IdTokenError {
    IdTokenError::Claim {
        claim,
        detail: detail.into(),
    }
}

fn check_claims(claims: &serde_json::Map<String, Value>, expected: &Expected) -> Result<(), IdTokenError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    if text("iss") != Some(expected.issuer) {
        return Err(wrong("iss", format!("{:?}, expected {:?}", text("iss"), expected.issuer)));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(wrong("aud", format!("{audiences:?} does not name client {:?}", expected.client_id)));
    }
    // Several audiences: the authorized party must be this client (Core §3.1.3.7, step 4–5).
    if (audiences.len() > 1 || text("azp").is_some()) && text("azp") != Some(expected.client_id) {
        return Err(wrong("azp", format!("{:?}, expected {:?}", text("azp"), expected.client_id)));
    }
    match number("exp") {
        Some(exp) if exp + LEEWAY > expected.now => {}
        exp => return Err(wrong("exp", format!("{exp:?}: the token has expired (now {})", expected.now))),
    }
    if let Some(iat) = number("iat")
        && iat > expected.now + LEEWAY
    {
        return Err(wrong("iat", format!("{iat}: issued in the future (now {})", expected.now)));
    }
    if !text("nonce").is_some_and(|nonce| same_bytes(nonce.as_bytes(), expected.nonce.as_bytes())) {
        return Err(wrong("nonce", "not the nonce of this sign-in (a replayed or injected token)"));
    }
    if text("sub").is_none_or(str::is_empty) {
        return Err(wrong("sub", "missing"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::json;

    use super::*;
    use crate::accounts::secrets::base64url;

    const NOW: i64 = 1_800_000_000;

    fn key_pair() -> EcdsaKeyPair {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("generates");
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).expect("loads")
    }

    fn jwks_of(pair: &EcdsaKeyPair, kid: &str) -> JwkSet {
        let point = pair.public_key().as_ref();
        serde_json::from_value(json!({"keys": [{
            "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
            "x": base64url(&point[1..33]), "y": base64url(&point[33..65]),
        }]}))
        .expect("a JWK set")
    }

    fn sign(pair: &EcdsaKeyPair, header: &Value, claims: &Value) -> String {
        let signed = format!(
            "{}.{}",
            base64url(header.to_string().as_bytes()),
            base64url(claims.to_string().as_bytes())
        );
        let signature = pair.sign(&SystemRandom::new(), signed.as_bytes()).expect("signs");
        format!("{signed}.{}", base64url(signature.as_ref()))
    }

    fn claims() -> Value {
        json!({"iss": "https://id.example", "aud": "rats", "sub": "alice", "nonce": "n-1", "iat": NOW, "exp": NOW + 300})
    }

    const EXPECTED: Expected<'static> = Expected {
        issuer: "https://id.example",
        client_id: "rats",
        nonce: "n-1",
        now: NOW,
    };

    #[test]
    fn a_token_signed_by_the_providers_key_with_the_right_claims_passes() {
        let pair = key_pair();
        let token = sign(&pair, &json!({"alg": "ES256", "kid": "k1"}), &claims());
        assert_eq!(key_id(&token), Ok(Some("k1".into())));
        let verified = verify(&token, &jwks_of(&pair, "k1"), &EXPECTED).expect("verifies");
        assert_eq!(verified["sub"], "alice");
    }

    #[test]
    fn other_keys_algorithms_and_tampering_are_refused() {
        let pair = key_pair();
        let keys = jwks_of(&pair, "k1");
        let header = json!({"alg": "ES256", "kid": "k1"});
        let other = sign(&key_pair(), &header, &claims());
        assert_eq!(verify(&other, &keys, &EXPECTED), Err(IdTokenError::Signature));
        let unknown = sign(&pair, &json!({"alg": "ES256", "kid": "k2"}), &claims());
        assert_eq!(verify(&unknown, &keys, &EXPECTED), Err(IdTokenError::UnknownKey(Some("k2".into()))));
        let good = sign(&pair, &header, &claims());
        let parts: Vec<&str> = good.split('.').collect();
        let mut richer = claims();
        richer["sub"] = json!("admin");
        let swapped = format!("{}.{}.{}", parts[0], base64url(richer.to_string().as_bytes()), parts[2]);
        assert_eq!(verify(&swapped, &keys, &EXPECTED), Err(IdTokenError::Signature));
        for alg in ["none", "HS256", "RS512"] {
            let forged = format!("{}.{}.", base64url(json!({"alg": alg}).to_string().as_bytes()), parts[1]);
            assert_eq!(verify(&forged, &keys, &EXPECTED), Err(IdTokenError::Algorithm(alg.into())));
        }
        assert_eq!(verify("not a token", &keys, &EXPECTED), Err(IdTokenError::Malformed));
    }

    #[test]
    fn issuer_audience_expiry_and_nonce_are_checked() {
        let pair = key_pair();
        let keys = jwks_of(&pair, "k1");
        let header = json!({"alg": "ES256", "kid": "k1"});
        for (claim, value) in [
            ("iss", json!("https://evil.example")),
            ("aud", json!("another-client")),
            ("aud", json!(["rats", "another-client"])),
            ("exp", json!(NOW - LEEWAY - 1)),
            ("iat", json!(NOW + LEEWAY + 60)),
            ("nonce", json!("n-2")),
            ("sub", json!("")),
        ] {
            let mut wrong_claims = claims();
            wrong_claims[claim] = value;
            let token = sign(&pair, &header, &wrong_claims);
            let refused = verify(&token, &keys, &EXPECTED).expect_err(claim);
            assert!(matches!(refused, IdTokenError::Claim { .. }), "{claim}: {refused}");
        }
        let mut several = claims();
        several["aud"] = json!(["rats", "another-client"]);
        several["azp"] = json!("rats");
        assert!(verify(&sign(&pair, &header, &several), &keys, &EXPECTED).is_ok());
    }
}
