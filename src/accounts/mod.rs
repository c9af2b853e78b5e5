//! Accounts: users and their roles, API keys, refresh tokens, the signing key of access tokens,
//! saved searches and the audit log, in a real database — an embedded SQLite file beside the
//! lake by default, PostgreSQL for several replicas — through one code path (`sqlx`'s `Any`
//! driver, portable SQL with `$n` placeholders). Secrets are never stored: passwords as argon2id
//! hashes, keys and refresh tokens as SHA-256 digests. Every function is async; `rats users`
//! runs them on a small runtime of its own.

pub mod audit;
pub mod identities;
pub mod jwt;
pub mod keys;
pub mod passwords;
mod schema;
pub mod searches;
pub mod secrets;
pub mod sessions;
pub mod tiers;
pub mod users;

use std::path::Path;
use std::str::FromStr;

use serde::Serialize;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

pub use users::User;

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("cannot open the accounts database {url}: {message}")]
    Connect { url: String, message: String },
    #[error("accounts database: {0}")]
    Database(String),
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    #[error("a user named {0:?} exists already")]
    UserExists(String),
    #[error("{0}")]
    Invalid(String),
    #[error("no random bytes from the operating system: {0}")]
    Random(String),
    #[error("password hashing: {0}")]
    Hashing(String),
}

impl From<sqlx::Error> for AccountsError {
    fn from(error: sqlx::Error) -> Self {
        AccountsError::Database(error.to_string())
    }
}

/// What a user may do; the route × role table is in `serve::access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, the users and keys of others included.
    Admin,
    /// Reads jobs, stats, skills and the models' answers; manages own keys.
    Analyst,
    /// The `/v1` API with a key or token; manages own keys.
    #[value(name = "api_user")]
    ApiUser,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Analyst, Role::ApiUser];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::ApiUser => "api_user",
        }
    }
}

impl FromStr for Role {
    type Err = AccountsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| AccountsError::Invalid(format!("unknown role {s:?}: expected admin, analyst or api_user")))
    }
}

impl<'de> serde::Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which database answers: the SQL is the same, a few column types differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// An open accounts database, its schema current.
#[derive(Clone)]
pub struct Accounts {
    pool: AnyPool,
    backend: Backend,
    /// The key access tokens are signed with: made at the first start and kept in the
    /// database, so every replica and every restart accepts the same tokens.
    signing_key: Vec<u8>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Accounts {
    /// Opens `url` (`sqlite://FILE` — created when missing — or `postgres://…`) and applies
    /// the migrations it lacks.
    pub async fn open(url: &str) -> Result<Self, AccountsError> {
        sqlx::any::install_default_drivers();
        let shown = crate::settings::redact_userinfo(url);
        let connect_error = |message: String| AccountsError::Connect {
            url: shown.clone(),
            message,
        };
        let (backend, url) = if url.starts_with("sqlite:") {
            let url = if url.contains('?') {
                url.to_string()
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(connect_error("expected a sqlite:// or postgres:// URL".into()));
        };
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect(&url)
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        schema::migrate(&pool, backend).await?;
        let signing_key = schema::signing_key(&pool).await?;
        Ok(Accounts {
            pool,
            backend,
            signing_key,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers (for `/ready`).
    pub async fn is_reachable(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub(crate) fn signing_key(&self) -> &[u8] {
        &self.signing_key
    }
}

/// The default database: a SQLite file beside the lake directory (`lake` →
/// `lake-accounts.sqlite`), one per lake.
pub fn default_url(lake: &Path) -> String {
    let name = lake.file_name().map_or_else(|| "lake".into(), |n| n.to_string_lossy().into_owned());
    let file = lake.with_file_name(format!("{name}-accounts.sqlite"));
    format!("sqlite://{}", file.display())
}

/// The file of a `sqlite://FILE` (or `sqlite:FILE`) URL; none for an in-memory database or
/// another backend.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let file = rest.split('?').next().unwrap_or_default();
    (!file.is_empty() && file != ":memory:").then(|| file.into())
}

/// Seconds since the Unix epoch: every time column holds this.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_from_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn the_default_database_sits_beside_the_lake() {
        assert_eq!(default_url(Path::new("/data/lake")), "sqlite:///data/lake-accounts.sqlite");
        assert_eq!(default_url(Path::new("demo-lake")), "sqlite://demo-lake-accounts.sqlite");
        assert_eq!(
            sqlite_file(&default_url(Path::new("/data/lake"))),
            Some("/data/lake-accounts.sqlite".into())
        );
    }

    #[test]
    fn a_sqlite_url_names_its_file() {
        assert_eq!(sqlite_file("sqlite:a.db?mode=ro"), Some("a.db".into()));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://db/rats"), None);
    }
}

#[cfg(test)]
mod flows;
