//! People who sign in through an OpenID Connect provider: each (issuer, subject) pair is bound
//! to one rats user, made at the first sign-in. A provider's account is never joined to an
//! existing user by name or e-mail — whoever controls a provider account could otherwise take
//! over a local one — so the new user gets a free name derived from the provider's username.

use sqlx::Row;

use super::secrets::random_hex;
use super::sessions::Session;
use super::users::check_name;
use super::{Accounts, AccountsError, Role, User, now};

/// What signing in through a provider did to the rats user.
#[derive(Debug)]
pub enum Linked {
    /// The first sign-in of this provider account: a new user.
    Created(User),
    /// A known provider account; the role the provider's claims map to may have changed it.
    Existing { before: User, after: User },
}

impl Linked {
    pub fn user(&self) -> &User {
        match self {
            Linked::Created(user) | Linked::Existing { after: user, .. } => user,
        }
    }
}

/// A user name from what the provider calls the person: lower-cased, every character a name may
/// not hold replaced by `-`, at most 48 characters (room for a numbering suffix); `user` when
/// nothing is left.
pub fn name_from_claim(wanted: &str) -> String {
    let mut name: String = wanted
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '@') {
                c
            } else {
                '-'
            }
        })
        .take(48)
        .collect();
    name = name.trim_matches('-').to_string();
    if name.is_empty() { "user".to_string() } else { name }
}

impl Accounts {
    /// The rats user bound to a provider account, made on the first sign-in with a name from
    /// `wanted` (numbered when taken) and `role`; a known user's role follows `role`.
    pub async fn link_identity(&self, issuer: &str, subject: &str, wanted: &str, role: Role) -> Result<Linked, AccountsError> {
        if let Some(before) = self.user_of_identity(issuer, subject).await? {
            if before.role == role {
                return Ok(Linked::Existing {
                    after: before.clone(),
                    before,
                });
            }
            let (before, after) = self.set_role(&before.name, role).await?;
            return Ok(Linked::Existing { before, after });
        }
        let base = name_from_claim(wanted);
        let mut attempt = 1;
        let user = loop {
            let name = if attempt == 1 { base.clone() } else { format!("{base}-{attempt}") };
            check_name(&name)?;
            match self.add_user(&name, role, None).await {
                Ok(user) => break user,
                Err(AccountsError::UserExists(_)) if attempt < 20 => attempt += 1,
                // Twenty taken names in a row: a random suffix ends the search.
                Err(AccountsError::UserExists(_)) => {
                    break self.add_user(&format!("{base}-{}", random_hex(4)?), role, None).await?;
                }
                Err(error) => return Err(error),
            }
        };
        let bound = sqlx::query(
            "INSERT INTO external_identities (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (issuer, subject) DO NOTHING",
        )
        .bind(issuer)
        .bind(subject)
        .bind(user.id)
        .bind(now())
        .execute(self.pool())
        .await?
        .rows_affected();
        if bound == 0 {
            // Another replica bound the same first sign-in a moment earlier: its user stands,
            // and the one made here is disabled so that it never signs in.
            self.disable_user(&user.name).await?;
            let winner = self
                .user_of_identity(issuer, subject)
                .await?
                .ok_or_else(|| AccountsError::Database(format!("identity {subject} of {issuer} vanished")))?;
            return Ok(Linked::Existing {
                after: winner.clone(),
                before: winner,
            });
        }
        Ok(Linked::Created(user))
    }

    /// The user bound to a provider account, if any.
    pub async fn user_of_identity(&self, issuer: &str, subject: &str) -> Result<Option<User>, AccountsError> {
        let row = sqlx::query("SELECT user_id FROM external_identities WHERE issuer = $1 AND subject = $2")
            .bind(issuer)
            .bind(subject)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(row) => self.user_by_id(row.try_get("user_id")?).await,
            None => Ok(None),
        }
    }

    /// A new session for a user someone else vouched for (an OpenID Connect provider); `None`
    /// for a disabled user.
    pub async fn start_session(&self, user: User) -> Result<Option<Session>, AccountsError> {
        if !user.is_active() {
            return Ok(None);
        }
        let family = random_hex(16)?;
        Ok(Some(self.new_session(user, &family).await?))
    }
}
