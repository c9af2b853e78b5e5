//! Signing in: a password gives a short-lived access token (a JWT, [`ACCESS_SECONDS`]) and a
//! refresh token (opaque, stored as a digest, [`REFRESH_SECONDS`]). Each refresh token works
//! once: refreshing rotates it within its family, and a token presented a second time means it
//! was stolen, so the whole family is revoked (reuse detection, RFC 9700 §4.14.2).

use serde::Serialize;
use sqlx::Row;

use super::jwt::{self, Claims, TokenError};
use super::secrets::{digest, hex, hmac_sha256, random_hex};
use super::{Accounts, AccountsError, User, now, passwords};

pub const ACCESS_SECONDS: i64 = 15 * 60;
pub const REFRESH_SECONDS: i64 = 30 * 24 * 3600;

/// What a sign-in or a refresh hands out.
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    pub user: User,
    /// The refresh-token family: one per sign-in, kept through rotations.
    #[serde(skip)]
    pub session_id: String,
}

#[derive(Debug)]
pub enum Refreshed {
    Rotated(Session),
    /// The token had been used already: its family is revoked now.
    Reused {
        user_id: i64,
    },
    /// Unknown, expired, revoked, or its user is disabled.
    Refused,
}

impl Accounts {
    /// A session for a right name and password of an active user; `None` otherwise (the
    /// answer takes as long for a name that does not exist).
    #[tracing::instrument(target = "rats::accounts", name = "db.login", skip_all, fields(db.system = self.backend.name()))]
    pub async fn login(&self, name: &str, password: &str) -> Result<Option<Session>, AccountsError> {
        let found = self.user_and_hash(name).await?;
        let stored = found.as_ref().and_then(|(_, hash)| hash.clone());
        let password = password.to_string();
        let matches = tokio::task::spawn_blocking(move || passwords::verify(&password, stored.as_deref()))
            .await
            .unwrap_or(false);
        match found {
            Some((user, _)) if matches && user.is_active() => {
                let family = random_hex(16)?;
                Ok(Some(self.new_session(user, &family).await?))
            }
            _ => Ok(None),
        }
    }

    /// Rotates a refresh token.
    #[tracing::instrument(target = "rats::accounts", name = "db.refresh", skip_all, fields(db.system = self.backend.name()))]
    pub async fn refresh(&self, presented: &str) -> Result<Refreshed, AccountsError> {
        let row = sqlx::query("SELECT id, user_id, family, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_digest = $1")
            .bind(digest(presented))
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(Refreshed::Refused) };
        let id: i64 = row.try_get("id")?;
        let user_id: i64 = row.try_get("user_id")?;
        let family: String = row.try_get("family")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        let used_at: Option<i64> = row.try_get("used_at")?;
        let revoked_at: Option<i64> = row.try_get("revoked_at")?;
        if revoked_at.is_some() || expires_at <= now() {
            return Ok(Refreshed::Refused);
        }
        // Marking it used only if nobody else did makes two racing refreshes one reuse.
        let claimed = sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
            .bind(now())
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected();
        if used_at.is_some() || claimed == 0 {
            self.revoke_family(&family).await?;
            return Ok(Refreshed::Reused { user_id });
        }
        match self.user_by_id(user_id).await?.filter(User::is_active) {
            Some(user) => Ok(Refreshed::Rotated(self.new_session(user, &family).await?)),
            None => Ok(Refreshed::Refused),
        }
    }

    /// Ends the session a refresh token belongs to; the user it belonged to, if any.
    #[tracing::instrument(target = "rats::accounts", name = "db.logout", skip_all, fields(db.system = self.backend.name()))]
    pub async fn logout(&self, presented: &str) -> Result<Option<i64>, AccountsError> {
        let row = sqlx::query("SELECT user_id, family FROM refresh_tokens WHERE token_digest = $1")
            .bind(digest(presented))
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        self.revoke_family(&row.try_get::<String, _>("family")?).await?;
        Ok(Some(row.try_get("user_id")?))
    }

    /// The CSRF token of a browser session: derived from the session with the signing key, so
    /// it stays the same through refreshes, needs no storage, and cannot be made elsewhere.
    pub fn csrf_token(&self, session_id: &str) -> String {
        hex(&hmac_sha256(self.signing_key(), format!("csrf:{session_id}").as_bytes()))
    }

    /// The session a refresh token belongs to, whatever its state.
    pub async fn session_of_refresh_token(&self, presented: &str) -> Result<Option<String>, AccountsError> {
        let row = sqlx::query("SELECT family FROM refresh_tokens WHERE token_digest = $1")
            .bind(digest(presented))
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| row.try_get("family")).transpose().map_err(Into::into)
    }

    /// The claims of an access token signed by this database's key and not expired.
    pub fn verify_access_token(&self, token: &str) -> Result<Claims, TokenError> {
        jwt::verify(token, self.signing_key(), now())
    }

    async fn revoke_family(&self, family: &str) -> Result<(), AccountsError> {
        sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(family)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub(super) async fn new_session(&self, user: User, family: &str) -> Result<Session, AccountsError> {
        let issued = now();
        let refresh_token = random_hex(32)?;
        sqlx::query("INSERT INTO refresh_tokens (user_id, family, token_digest, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(user.id)
            .bind(family)
            .bind(digest(&refresh_token))
            .bind(issued)
            .bind(issued + REFRESH_SECONDS)
            .execute(self.pool())
            .await?;
        let claims = Claims {
            sub: user.id.to_string(),
            name: user.name.clone(),
            role: user.role.as_str().to_string(),
            iat: issued,
            exp: issued + ACCESS_SECONDS,
            sid: family.to_string(),
        };
        Ok(Session {
            access_token: jwt::sign(&claims, self.signing_key()),
            token_type: "Bearer",
            expires_in: ACCESS_SECONDS,
            refresh_token,
            user,
            session_id: family.to_string(),
        })
    }
}
