//! Signing in with an OpenID Connect provider: the authorization code flow with PKCE (S256),
//! a nonce and a `state` bound to the browser by a signed cookie ([`pending`]), the code
//! exchanged at the provider's token endpoint with the client's credentials, the ID token
//! checked ([`id_token`]), the person's claims read from the ID token and the userinfo
//! endpoint, and a role from the claim `role_claim` ([`config`]). Endpoints and keys come from
//! the provider's discovery document, read at the first sign-in and kept an hour; keys are
//! fetched again when a token names one not seen yet (the provider rotated its keys).

pub mod config;
pub mod id_token;
pub mod pending;

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::accounts::secrets::{base64url, random_hex, same_bytes};
use crate::accounts::{Role, now};

use config::{OidcSettings, ProviderSettings};
use id_token::{Expected, IdTokenError, JwkSet};
use pending::Pending;

/// How long a discovery document and key set are trusted before they are read again.
const DISCOVERY_TTL: Duration = Duration::from_hours(1);
/// Keys are fetched again for an unknown `kid` at most this often (a forged `kid` must not make
/// every request a fetch).
const KEY_REFETCH_GAP: Duration = Duration::from_secs(10);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("no OpenID Connect provider named {0:?} is configured")]
    UnknownProvider(String),
    #[error("provider {provider}: the client secret's variable {variable} is not set")]
    MissingSecret { provider: String, variable: String },
    #[error("provider {provider} cannot be reached or answered wrongly: {detail}")]
    Provider { provider: String, detail: String },
    #[error("the sign-in cannot be matched to one this browser started (missing, expired or altered state)")]
    StateMismatch,
    #[error("the provider refused the sign-in: {0}")]
    Refused(String),
    #[error("provider {provider}: {source}")]
    IdToken { provider: String, source: IdTokenError },
    #[error("the provider's userinfo names subject {userinfo:?}, the ID token {id_token:?}")]
    SubjectMismatch { id_token: String, userinfo: String },
    #[error("no role of this server is mapped to {claim} {values:?}, and the provider has no default_role")]
    NoRole { claim: String, values: Vec<String> },
    #[error("no random bytes from the operating system: {0}")]
    Random(String),
}

/// The endpoints of a provider's discovery document (OpenID Connect Discovery 1.0 §3).
#[derive(Debug, Clone, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
    jwks_uri: String,
}

struct Discovered {
    metadata: Metadata,
    keys: JwkSet,
    read_at: Instant,
    keys_read_at: Instant,
}

struct Provider {
    settings: ProviderSettings,
    client_secret: Option<String>,
    redirect_uri: String,
    discovered: Mutex<Option<Discovered>>,
}

/// The person a provider vouched for, and the role they get here.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    /// What the provider calls them (the name a new user is made from).
    pub username: String,
    pub role: Role,
}

/// The query of the provider's redirect back (RFC 6749 §4.1.2, RFC 9207's `iss`).
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub iss: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// The configured providers.
pub struct Oidc {
    providers: Vec<Provider>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.providers.iter().map(|p| &p.settings.name)).finish()
    }
}

impl Oidc {
    /// The providers of `settings`, their secrets read from the environment; the server at
    /// `listening_url` is where people come back to unless `public_url` says otherwise.
    pub fn new(settings: &OidcSettings, listening_url: &str) -> Result<Oidc, OidcError> {
        let public_url = settings
            .public_url
            .as_deref()
            .unwrap_or(listening_url)
            .trim_end_matches('/')
            .to_string();
        let providers = settings
            .providers
            .iter()
            .map(|p| {
                let client_secret = match (&p.client_secret, &p.client_secret_env) {
                    (Some(secret), _) => Some(secret.clone()),
                    (None, Some(variable)) => Some(std::env::var(variable).map_err(|_| OidcError::MissingSecret {
                        provider: p.name.clone(),
                        variable: variable.clone(),
                    })?),
                    (None, None) => None,
                };
                Ok(Provider {
                    redirect_uri: format!("{public_url}/v1/auth/oidc/{}/callback", p.name),
                    settings: p.clone(),
                    client_secret,
                    discovered: Mutex::new(None),
                })
            })
            .collect::<Result<_, OidcError>>()?;
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| OidcError::Provider {
                provider: "(all)".into(),
                detail: e.to_string(),
            })?;
        Ok(Oidc { providers, http })
    }

    /// The configured providers' names, in the settings' order.
    pub fn names(&self) -> Vec<&str> {
        self.providers.iter().map(|p| p.settings.name.as_str()).collect()
    }

    fn provider(&self, name: &str) -> Result<&Provider, OidcError> {
        self.providers
            .iter()
            .find(|p| p.settings.name == name)
            .ok_or_else(|| OidcError::UnknownProvider(name.to_string()))
    }

    /// Starts a sign-in: the provider's authorization URL to send the browser to, and the
    /// `Set-Cookie` value that remembers this sign-in. `key` signs the cookie.
    pub async fn begin(&self, name: &str, next: Option<&str>, key: &[u8]) -> Result<(String, String), OidcError> {
        let provider = self.provider(name)?;
        let metadata = self.metadata(provider).await?;
        let random = |n| random_hex(n).map_err(|e| OidcError::Random(e.to_string()));
        let pending = Pending {
            provider: name.to_string(),
            state: random(16)?,
            nonce: random(16)?,
            verifier: random(32)?,
            next: pending::local_path(next),
            expires_at: now() + pending::LIFETIME_SECONDS,
        };
        let challenge = base64url(&Sha256::digest(pending.verifier.as_bytes()));
        let mut url = url::Url::parse(&metadata.authorization_endpoint).map_err(|e| provider.failed(e))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &provider.settings.client_id)
            .append_pair("redirect_uri", &provider.redirect_uri)
            .append_pair("scope", &provider.settings.scope())
            .append_pair("state", &pending.state)
            .append_pair("nonce", &pending.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok((url.into(), pending.set_cookie(key)))
    }

    /// Finishes a sign-in from the provider's redirect back and the browser's cookie: the
    /// person and their role, and the path to send them on to.
    pub async fn finish(&self, name: &str, callback: &Callback, cookie: Option<&str>, key: &[u8]) -> Result<(Identity, String), OidcError> {
        let provider = self.provider(name)?;
        let pending = cookie
            .and_then(|value| Pending::open(value, key, now()))
            .filter(|p| p.provider == name)
            .filter(|p| {
                callback
                    .state
                    .as_deref()
                    .is_some_and(|s| same_bytes(s.as_bytes(), p.state.as_bytes()))
            })
            .ok_or(OidcError::StateMismatch)?;
        if let Some(error) = &callback.error {
            let description = callback.error_description.as_deref().unwrap_or("no description");
            return Err(OidcError::Refused(format!("{error}: {description}")));
        }
        let metadata = self.metadata(provider).await?;
        // RFC 9207: an answer that names another issuer is a mix-up attack.
        if let Some(iss) = &callback.iss
            && *iss != metadata.issuer
        {
            return Err(OidcError::Refused(format!(
                "the answer names issuer {iss:?}, not {:?}",
                metadata.issuer
            )));
        }
        let code = callback
            .code
            .as_deref()
            .ok_or_else(|| OidcError::Refused("no authorization code".into()))?;
        let tokens = self.exchange(provider, &metadata, code, &pending.verifier).await?;
        let claims = self.checked_claims(provider, &tokens.id_token, &pending.nonce).await?;
        let subject = claims.get("sub").and_then(Value::as_str).unwrap_or_default().to_string();
        let mut claims = claims;
        if let (Some(endpoint), Some(access_token)) = (&metadata.userinfo_endpoint, &tokens.access_token) {
            let userinfo = self.userinfo(provider, endpoint, access_token).await?;
            let userinfo_subject = userinfo.get("sub").and_then(Value::as_str).unwrap_or_default();
            if userinfo_subject != subject {
                return Err(OidcError::SubjectMismatch {
                    id_token: subject,
                    userinfo: userinfo_subject.to_string(),
                });
            }
            for (claim, value) in userinfo {
                claims.entry(claim).or_insert(value);
            }
        }
        let settings = &provider.settings;
        let values = settings
            .role_claim
            .as_deref()
            .map_or_else(Vec::new, |claim| strings_of(claims.get(claim)));
        let role = settings.role_for(&values).ok_or_else(|| OidcError::NoRole {
            claim: settings.role_claim.clone().unwrap_or_else(|| "(no role_claim)".into()),
            values,
        })?;
        let username = [settings.username_claim.as_str(), "email"]
            .iter()
            .find_map(|claim| claims.get(*claim).and_then(Value::as_str).filter(|v| !v.trim().is_empty()))
            .unwrap_or(&subject)
            .to_string();
        let identity = Identity {
            provider: name.to_string(),
            issuer: metadata.issuer,
            subject,
            username,
            role,
        };
        Ok((identity, pending.next))
    }

    /// The discovery document (cached), fetching it and the keys when missing or stale.
    async fn metadata(&self, provider: &Provider) -> Result<Metadata, OidcError> {
        let mut discovered = provider.discovered.lock().await;
        if let Some(d) = discovered.as_ref()
            && d.read_at.elapsed() < DISCOVERY_TTL
        {
            return Ok(d.metadata.clone());
        }
        let issuer = &provider.settings.issuer;
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let metadata: Metadata = self.get_json(provider, &url, None).await?;
        if metadata.issuer != *issuer {
            return Err(provider.failed(format!(
                "its discovery document names issuer {:?}, the settings {issuer:?}",
                metadata.issuer
            )));
        }
        let keys: JwkSet = self.get_json(provider, &metadata.jwks_uri, None).await?;
        *discovered = Some(Discovered {
            metadata: metadata.clone(),
            keys,
            read_at: Instant::now(),
            keys_read_at: Instant::now(),
        });
        Ok(metadata)
    }

    /// The ID token's claims, checked against the provider's keys (read again once when the
    /// token names a key not among them).
    async fn checked_claims(&self, provider: &Provider, token: &str, nonce: &str) -> Result<serde_json::Map<String, Value>, OidcError> {
        let mut discovered = provider.discovered.lock().await;
        let d = discovered
            .as_mut()
            .ok_or_else(|| provider.failed("its discovery document was not read"))?;
        let kid = id_token::key_id(token).map_err(|source| provider.id_token(source))?;
        let known = d.keys.keys.iter().any(|k| kid.is_none() || k.kid == kid);
        if !known && d.keys_read_at.elapsed() >= KEY_REFETCH_GAP {
            d.keys = self.get_json(provider, &d.metadata.jwks_uri, None).await?;
            d.keys_read_at = Instant::now();
        }
        let expected = Expected {
            issuer: &d.metadata.issuer,
            client_id: &provider.settings.client_id,
            nonce,
            now: now(),
        };
        id_token::verify(token, &d.keys, &expected).map_err(|source| provider.id_token(source))
    }

    /// The code exchanged for tokens (RFC 6749 §4.1.3 with the PKCE verifier of RFC 7636),
    /// the client authenticated with HTTP Basic when it has a secret.
    async fn exchange(&self, provider: &Provider, metadata: &Metadata, code: &str, verifier: &str) -> Result<Tokens, OidcError> {
        let settings = &provider.settings;
        let body = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "authorization_code")
                .append_pair("code", code)
                .append_pair("redirect_uri", &provider.redirect_uri)
                .append_pair("code_verifier", verifier);
            // A public client (no secret) names itself in the body.
            if provider.client_secret.is_none() {
                form.append_pair("client_id", &settings.client_id);
            }
            form.finish()
        };
        let mut request = self
            .http
            .post(&metadata.token_endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(secret) = &provider.client_secret {
            // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined.
            let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            request = request.basic_auth(encode(&settings.client_id), Some(encode(secret)));
        }
        let response = request.body(body).send().await.map_err(|e| provider.failed(e))?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| provider.failed(e))?;
        if !status.is_success() {
            let error = body.get("error").and_then(Value::as_str).unwrap_or("no error code");
            let description = body.get("error_description").and_then(Value::as_str).unwrap_or("");
            return Err(OidcError::Refused(format!(
                "the token endpoint answered {status}: {error} {description}"
            )));
        }
        serde_json::from_value(body).map_err(|e| provider.failed(format!("its token answer: {e}")))
    }

    async fn userinfo(&self, provider: &Provider, endpoint: &str, access_token: &str) -> Result<serde_json::Map<String, Value>, OidcError> {
        self.get_json(provider, endpoint, Some(access_token)).await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, provider: &Provider, url: &str, bearer: Option<&str>) -> Result<T, OidcError> {
        let mut request = self.http.get(url).header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| provider.failed(format!("{url}: {e}")))?;
        let status = response.status();
        if !status.is_success() {
            return Err(provider.failed(format!("{url} answered {status}")));
        }
        response.json().await.map_err(|e| provider.failed(format!("{url}: {e}")))
    }
}

impl Provider {
    fn failed(&self, detail: impl std::fmt::Display) -> OidcError {
        OidcError::Provider {
            provider: self.settings.name.clone(),
            detail: detail.to_string(),
        }
    }

    fn id_token(&self, source: IdTokenError) -> OidcError {
        OidcError::IdToken {
            provider: self.settings.name.clone(),
            source,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Tokens {
    id_token: String,
    #[serde(default)]
    access_token: Option<String>,
}

/// A claim's value as strings: one string, or the strings of a list.
fn strings_of(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).map(String::from).collect(),
        _ => Vec::new(),
    }
}
