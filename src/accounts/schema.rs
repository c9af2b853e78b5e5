//! The accounts schema and its migrations, applied at start by whichever process gets there
//! first: the version row is locked (a write on SQLite, a row lock on PostgreSQL) before it is
//! read, so replicas starting together apply each migration once.

use sqlx::{AnyPool, Row};

use super::secrets::random_hex;
use super::{AccountsError, Backend};

/// Each migration once, in order; `{id}` is the backend's auto-numbered key column.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE users (
    id {id},
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);
CREATE TABLE api_keys (
    id {id},
    user_id BIGINT NOT NULL REFERENCES users (id),
    prefix TEXT NOT NULL UNIQUE,
    secret_digest TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_keys_user ON api_keys (user_id);
CREATE TABLE refresh_tokens (
    id {id},
    user_id BIGINT NOT NULL REFERENCES users (id),
    family TEXT NOT NULL,
    token_digest TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE TABLE audit_log (
    id {id},
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    user_id BIGINT,
    subject TEXT,
    client TEXT,
    detail TEXT NOT NULL
);
CREATE TABLE rats_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
)
",
    r"
ALTER TABLE users ADD COLUMN tier TEXT NOT NULL DEFAULT 'free'
",
    r"
CREATE TABLE saved_searches (
    id {id},
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, name)
)
",
    r"
CREATE TABLE external_identities (
    id {id},
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    UNIQUE (issuer, subject)
)
",
    // Email alerts of saved searches: the owner's address, whether the search mails, and the
    // silver version through which its new postings were mailed (-1: start at the next round).
    r"
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE saved_searches ADD COLUMN email_alerts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE saved_searches ADD COLUMN alerted_version BIGINT NOT NULL DEFAULT -1
",
];

pub async fn migrate(pool: &AnyPool, backend: Backend) -> Result<(), AccountsError> {
    sqlx::query("CREATE TABLE IF NOT EXISTS rats_schema (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)")
        .execute(pool)
        .await?;
    sqlx::query("INSERT INTO rats_schema (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING")
        .execute(pool)
        .await?;
    let mut tx = pool.begin().await?;
    // Taking the write lock first makes a second process wait here instead of migrating too.
    sqlx::query("UPDATE rats_schema SET version = version WHERE id = 1")
        .execute(&mut *tx)
        .await?;
    let applied: i64 = sqlx::query("SELECT version FROM rats_schema WHERE id = 1")
        .fetch_one(&mut *tx)
        .await?
        .try_get("version")?;
    let id_column = match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    for (version, migration) in MIGRATIONS.iter().enumerate().skip(applied.max(0) as usize) {
        let migration = migration.replace("{id}", id_column);
        for statement in migration.split(';').filter(|s| !s.trim().is_empty()) {
            // The statements are the constants above with a constant column type spliced in.
            sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE rats_schema SET version = $1 WHERE id = 1")
            .bind(version as i64 + 1)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The access-token signing key, made on first use.
pub async fn signing_key(pool: &AnyPool) -> Result<Vec<u8>, AccountsError> {
    sqlx::query("INSERT INTO rats_settings (name, value) VALUES ('access_token_key', $1) ON CONFLICT (name) DO NOTHING")
        .bind(random_hex(32)?)
        .execute(pool)
        .await?;
    let key: String = sqlx::query("SELECT value FROM rats_settings WHERE name = 'access_token_key'")
        .fetch_one(pool)
        .await?
        .try_get("value")?;
    Ok(key.into_bytes())
}
