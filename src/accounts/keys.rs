//! API keys for scripts: `rats_<prefix>_<secret>`, shown once when made. The prefix (8 hex
//! digits) identifies a key in lists, logs and the database without revealing it; only the
//! SHA-256 digest of the whole key is stored. Keys are revoked, never deleted, and remember
//! when they were last used (to the minute, to spare the database a write per request).

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::secrets::{digest, random_hex, same_bytes};
use super::users::user_of_row;
use super::{Accounts, AccountsError, User, now};

const KEY_MARK: &str = "rats_";

/// A key just made: the only time its secret is known.
#[derive(Debug, Clone, Serialize)]
pub struct NewKey {
    pub id: i64,
    pub key: String,
    pub prefix: String,
    pub label: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub id: i64,
    pub user_id: i64,
    pub user: String,
    pub prefix: String,
    pub label: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Whether a bearer credential is an API key rather than an access token.
pub fn looks_like_key(credential: &str) -> bool {
    credential.starts_with(KEY_MARK)
}

fn key_of_row(row: &AnyRow) -> Result<KeyInfo, AccountsError> {
    Ok(KeyInfo {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        user: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        label: row.try_get("label")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// `SELECT` of a key's columns with its user's name, followed by the rest of a query.
macro_rules! select_keys {
    ($rest:literal) => {
        concat!(
            "SELECT k.id, k.user_id, u.name, k.prefix, k.label, k.created_at, k.last_used_at, k.revoked_at ",
            "FROM api_keys k JOIN users u ON u.id = k.user_id ",
            $rest
        )
    };
}

impl Accounts {
    #[tracing::instrument(target = "rats::accounts", name = "db.create_key", skip_all, fields(db.system = self.backend.name()))]
    pub async fn create_key(&self, user: &User, label: &str) -> Result<NewKey, AccountsError> {
        if label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Err(AccountsError::Invalid(
                "a key's label: at most 100 characters, no control characters".into(),
            ));
        }
        let prefix = random_hex(4)?;
        let key = format!("{KEY_MARK}{prefix}_{}", random_hex(24)?);
        let created_at = now();
        let id: i64 = sqlx::query(
            "INSERT INTO api_keys (user_id, prefix, secret_digest, label, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user.id)
        .bind(&prefix)
        .bind(digest(&key))
        .bind(label)
        .bind(created_at)
        .fetch_one(self.pool())
        .await?
        .try_get("id")?;
        Ok(NewKey {
            id,
            key,
            prefix,
            label: label.to_string(),
            created_at,
        })
    }

    /// The keys of one user, or of everyone (`None`), newest first.
    pub async fn keys(&self, user_id: Option<i64>) -> Result<Vec<KeyInfo>, AccountsError> {
        let rows = match user_id {
            Some(id) => {
                sqlx::query(select_keys!("WHERE k.user_id = $1 ORDER BY k.id DESC"))
                    .bind(id)
                    .fetch_all(self.pool())
                    .await?
            }
            None => sqlx::query(select_keys!("ORDER BY k.id DESC")).fetch_all(self.pool()).await?,
        };
        rows.iter().map(key_of_row).collect()
    }

    pub async fn key(&self, id: i64) -> Result<Option<KeyInfo>, AccountsError> {
        let row = sqlx::query(select_keys!("WHERE k.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(key_of_row).transpose()
    }

    /// Revokes a key; revoking twice keeps the first time.
    #[tracing::instrument(target = "rats::accounts", name = "db.revoke_key", skip_all, fields(db.system = self.backend.name()))]
    pub async fn revoke_key(&self, id: i64) -> Result<(), AccountsError> {
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The active user a presented key belongs to, with the key's id; `None` for a key that
    /// is malformed, unknown, revoked, or whose user is disabled.
    #[tracing::instrument(target = "rats::accounts", name = "db.user_of_key", skip_all, fields(db.system = self.backend.name()))]
    pub async fn user_of_key(&self, presented: &str) -> Result<Option<(User, i64)>, AccountsError> {
        let Some(prefix) = presented
            .strip_prefix(KEY_MARK)
            .and_then(|rest| rest.split_once('_'))
            .map(|(prefix, _)| prefix)
        else {
            return Ok(None);
        };
        // The key and its user in one query: every API request with a key makes it.
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.created_at, u.disabled_at, u.password_hash, u.tier, u.email, \
             k.id AS key_id, k.secret_digest, k.last_used_at, k.revoked_at \
             FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.prefix = $1",
        )
        .bind(prefix)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let stored: String = row.try_get("secret_digest")?;
        let revoked: Option<i64> = row.try_get("revoked_at")?;
        if revoked.is_some() || !same_bytes(stored.as_bytes(), digest(presented).as_bytes()) {
            return Ok(None);
        }
        let key_id: i64 = row.try_get("key_id")?;
        let (user, _) = user_of_row(&row)?;
        if !user.is_active() {
            return Ok(None);
        }
        let last_used: Option<i64> = row.try_get("last_used_at")?;
        let at = now();
        if last_used.is_none_or(|last| at - last >= 60) {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                .bind(at)
                .bind(key_id)
                .execute(self.pool())
                .await?;
        }
        Ok(Some((user, key_id)))
    }
}
