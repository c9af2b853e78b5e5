//! Users: a unique name, a role, an optional password (a user without one signs in by API key
//! only), and a disabled time. Disabling keeps the row, so the audit log still names the user;
//! it revokes the user's refresh tokens, and keys and access tokens stop working at once
//! because every request reads the user again.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::tiers::Tier;
use super::{Accounts, AccountsError, Role, now, passwords};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    pub has_password: bool,
    /// The tier an operator gave (`free` or `premium`); admins are on `admin` whatever it says.
    pub tier: Tier,
    /// Where saved-search alerts are mailed; none: no mail.
    pub email: Option<String>,
}

impl User {
    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }

    /// The tier whose budget the user's requests spend.
    pub fn rate_tier(&self) -> Tier {
        if self.role == Role::Admin { Tier::Admin } else { self.tier }
    }
}

/// `SELECT` of a user's columns followed by the rest of a query, as one literal.
macro_rules! select_users {
    ($rest:literal) => {
        concat!(
            "SELECT id, name, role, created_at, disabled_at, password_hash, tier, email FROM users ",
            $rest
        )
    };
}

pub(super) fn user_of_row(row: &AnyRow) -> Result<(User, Option<String>), AccountsError> {
    let role: String = row.try_get("role")?;
    let tier: String = row.try_get("tier")?;
    let password_hash: Option<String> = row.try_get("password_hash")?;
    Ok((
        User {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            role: role.parse()?,
            created_at: row.try_get("created_at")?,
            disabled_at: row.try_get("disabled_at")?,
            has_password: password_hash.is_some(),
            tier: if tier == "premium" { Tier::Premium } else { Tier::Free },
            email: row.try_get("email")?,
        },
        password_hash,
    ))
}

/// Names are what people type to sign in and what logs show: short, lowercase, plain.
pub fn check_name(name: &str) -> Result<(), AccountsError> {
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if name.is_empty() || name.len() > 64 || !plain {
        return Err(AccountsError::Invalid(format!(
            "user name {name:?}: 1 to 64 characters of a-z, 0-9, '.', '_', '-' and '@'"
        )));
    }
    Ok(())
}

/// The longest address SMTP carries (RFC 5321's path limit less its brackets).
const MAX_EMAIL: usize = 254;

/// A plausible mail address: `local@domain`, the domain with a dot, no spaces or control
/// characters. The mail server has the last word; this catches typing mistakes early.
pub fn check_email(address: &str) -> Result<(), AccountsError> {
    let plausible = address.len() <= MAX_EMAIL
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"'))
        && address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.contains('@') && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        });
    if plausible {
        Ok(())
    } else {
        Err(AccountsError::Invalid(format!(
            "{address:?} is not a mail address (name@example.org, at most {MAX_EMAIL} characters)"
        )))
    }
}

impl Accounts {
    /// Adds a user; the password, when given, must pass [`passwords::check_strength`].
    pub async fn add_user(&self, name: &str, role: Role, password: Option<&str>) -> Result<User, AccountsError> {
        check_name(name)?;
        let hash = match password {
            Some(password) => {
                passwords::check_strength(password)?;
                // Hashing takes tens of milliseconds on purpose: off the async executor.
                let password = password.to_string();
                let hashed = tokio::task::spawn_blocking(move || passwords::hash(&password))
                    .await
                    .map_err(|e| AccountsError::Hashing(e.to_string()))??;
                Some(hashed)
            }
            None => None,
        };
        let inserted = sqlx::query(
            "INSERT INTO users (name, password_hash, role, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(name)
        .bind(hash)
        .bind(role.as_str())
        .bind(now())
        .fetch_optional(self.pool())
        .await?;
        if inserted.is_none() {
            return Err(AccountsError::UserExists(name.to_string()));
        }
        self.user_by_name(name)
            .await?
            .ok_or_else(|| AccountsError::NoSuchUser(name.to_string()))
    }

    pub async fn users(&self) -> Result<Vec<User>, AccountsError> {
        let rows = sqlx::query(select_users!("ORDER BY name")).fetch_all(self.pool()).await?;
        rows.iter().map(|row| user_of_row(row).map(|(user, _)| user)).collect()
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>, AccountsError> {
        Ok(self.user_and_hash(name).await?.map(|(user, _)| user))
    }

    #[tracing::instrument(target = "rats::accounts", name = "db.user_by_id", skip_all, fields(db.system = self.backend.name()))]
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, AccountsError> {
        let row = sqlx::query(select_users!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_of_row).transpose().map(|found| found.map(|(user, _)| user))
    }

    pub(super) async fn user_and_hash(&self, name: &str) -> Result<Option<(User, Option<String>)>, AccountsError> {
        let row = sqlx::query(select_users!("WHERE name = $1"))
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_of_row).transpose()
    }

    /// The user named `name`, or [`AccountsError::NoSuchUser`].
    async fn existing_user(&self, name: &str) -> Result<User, AccountsError> {
        self.user_by_name(name)
            .await?
            .ok_or_else(|| AccountsError::NoSuchUser(name.to_string()))
    }

    /// Changes a user's role; returns the user before the change and after.
    pub async fn set_role(&self, name: &str, role: Role) -> Result<(User, User), AccountsError> {
        let before = self.existing_user(name).await?;
        sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
            .bind(role.as_str())
            .bind(before.id)
            .execute(self.pool())
            .await?;
        Ok((before.clone(), User { role, ..before }))
    }

    /// Puts a user on the `free` or `premium` tier.
    pub async fn set_tier(&self, name: &str, tier: Tier) -> Result<User, AccountsError> {
        if !matches!(tier, Tier::Free | Tier::Premium) {
            return Err(AccountsError::Invalid(format!(
                "tier {tier}: a user is on free or premium (admins are on admin, callers without credentials on anonymous)"
            )));
        }
        let user = self.existing_user(name).await?;
        sqlx::query("UPDATE users SET tier = $1 WHERE id = $2")
            .bind(tier.as_str())
            .bind(user.id)
            .execute(self.pool())
            .await?;
        Ok(User { tier, ..user })
    }

    /// Sets (or with `None` removes) the address a user's saved-search alerts are mailed to.
    pub async fn set_email(&self, name: &str, email: Option<&str>) -> Result<User, AccountsError> {
        let email = email.map(str::trim).filter(|e| !e.is_empty());
        if let Some(address) = email {
            check_email(address)?;
        }
        let user = self.existing_user(name).await?;
        sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
            .bind(email)
            .bind(user.id)
            .execute(self.pool())
            .await?;
        Ok(User {
            email: email.map(str::to_string),
            ..user
        })
    }

    /// Disables a user and revokes their refresh tokens; disabling twice keeps the first time.
    pub async fn disable_user(&self, name: &str) -> Result<User, AccountsError> {
        let user = self.existing_user(name).await?;
        let at = now();
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
            .bind(at)
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(at)
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(User {
            disabled_at: user.disabled_at.or(Some(at)),
            ..user
        })
    }
}
