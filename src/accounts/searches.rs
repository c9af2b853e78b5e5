//! Saved searches: a user's named `/v1/jobs` query (filters and sort), kept so a dashboard or
//! a script can run it again by id. The query is stored as the JSON the API checked, not as
//! SQL or a query string; a user keeps at most [`MAX_PER_USER`] of them, names unique per user.
//!
//! A search may also mail its new postings to its owner (`email`): each keeps the silver
//! version through which they were mailed, and a round of mail *claims* the versions it covers
//! by moving that mark with a compare-and-set, so replicas sharing the database never mail the
//! same postings twice; a mail that fails puts the mark back.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Accounts, AccountsError, User, now};

/// Enough for any real use; bounds what one account can store.
pub const MAX_PER_USER: i64 = 100;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavedSearch {
    pub id: i64,
    pub user_id: i64,
    pub user: String,
    pub name: String,
    /// The `/v1/jobs` filters and sort, as checked when saved.
    pub query: serde_json::Value,
    pub created_at: i64,
    /// Whether its new postings are mailed to its owner.
    pub email: bool,
}

/// A search that mails, with where its mail stands and where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct MailingSearch {
    pub search: SavedSearch,
    /// The silver version through which its postings were mailed; -1: none yet (the next round
    /// starts it at the lake's version without mailing).
    pub mailed_through: i64,
    /// The owner's address.
    pub address: String,
}

fn search_of_row(row: &AnyRow) -> Result<SavedSearch, AccountsError> {
    let query: String = row.try_get("query")?;
    Ok(SavedSearch {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        user: row.try_get("user_name")?,
        name: row.try_get("name")?,
        query: serde_json::from_str(&query).map_err(|e| AccountsError::Database(format!("a saved search's query: {e}")))?,
        created_at: row.try_get("created_at")?,
        email: row.try_get::<i64, _>("email_alerts")? != 0,
    })
}

/// `SELECT` of a saved search's columns with its owner's name, followed by the rest of a query.
macro_rules! select_searches {
    ($rest:literal) => {
        concat!(
            "SELECT s.id, s.user_id, u.name AS user_name, s.name, s.query, s.created_at, s.email_alerts, s.alerted_version, u.email AS address ",
            "FROM saved_searches s JOIN users u ON u.id = s.user_id ",
            $rest
        )
    };
}

impl Accounts {
    /// Saves `query` under `name` for `user`, mailing the postings after silver version
    /// `mail_after` when that is given; `Invalid` for a bad name, a name the user has used
    /// already, or one search too many.
    pub async fn save_search(
        &self,
        user: &User,
        name: &str,
        query: &serde_json::Value,
        mail_after: Option<i64>,
    ) -> Result<SavedSearch, AccountsError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(AccountsError::Invalid(
                "a saved search's name: 1 to 100 characters, no control characters".into(),
            ));
        }
        let mut tx = self.pool().begin().await?;
        // Serialises a user's saves (a write on SQLite, a row lock on PostgreSQL), so two at
        // once cannot both pass the count below.
        sqlx::query("UPDATE users SET id = id WHERE id = $1")
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        let (count, same_name): (i64, i64) = {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN name = $2 THEN 1 ELSE 0 END), 0) AS same FROM saved_searches WHERE user_id = $1",
            )
            .bind(user.id)
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
            (row.try_get("n")?, row.try_get("same")?)
        };
        if same_name > 0 {
            return Err(AccountsError::Invalid(format!("you have a saved search named {name:?} already")));
        }
        if count >= MAX_PER_USER {
            return Err(AccountsError::Invalid(format!(
                "you have {MAX_PER_USER} saved searches, the most one user keeps; delete one first"
            )));
        }
        let created_at = now();
        let id: i64 = sqlx::query(
            "INSERT INTO saved_searches (user_id, name, query, created_at, email_alerts, alerted_version) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(user.id)
        .bind(name)
        .bind(query.to_string())
        .bind(created_at)
        .bind(i64::from(mail_after.is_some()))
        .bind(mail_after.unwrap_or(-1))
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
        tx.commit().await?;
        Ok(SavedSearch {
            id,
            user_id: user.id,
            user: user.name.clone(),
            name: name.to_string(),
            query: query.clone(),
            created_at,
            email: mail_after.is_some(),
        })
    }

    /// The saved searches of `owner` (every user's when `None`), oldest first.
    pub async fn saved_searches(&self, owner: Option<i64>) -> Result<Vec<SavedSearch>, AccountsError> {
        let rows = match owner {
            Some(user_id) => {
                sqlx::query(select_searches!("WHERE s.user_id = $1 ORDER BY s.id"))
                    .bind(user_id)
                    .fetch_all(self.pool())
                    .await?
            }
            None => sqlx::query(select_searches!("ORDER BY s.id")).fetch_all(self.pool()).await?,
        };
        rows.iter().map(search_of_row).collect()
    }

    pub async fn saved_search(&self, id: i64) -> Result<Option<SavedSearch>, AccountsError> {
        let row = sqlx::query(select_searches!("WHERE s.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(search_of_row).transpose()
    }

    /// Starts mailing search `id`'s postings after silver version `mail_after`, or with `None`
    /// stops; the search as it is then.
    pub async fn set_search_email(&self, id: i64, mail_after: Option<i64>) -> Result<Option<SavedSearch>, AccountsError> {
        sqlx::query("UPDATE saved_searches SET email_alerts = $1, alerted_version = $2 WHERE id = $3")
            .bind(i64::from(mail_after.is_some()))
            .bind(mail_after.unwrap_or(-1))
            .bind(id)
            .execute(self.pool())
            .await?;
        self.saved_search(id).await
    }

    /// The searches that mail, of active users with an address.
    pub async fn mailing_searches(&self) -> Result<Vec<MailingSearch>, AccountsError> {
        let rows = sqlx::query(select_searches!(
            "WHERE s.email_alerts = 1 AND u.disabled_at IS NULL AND u.email IS NOT NULL ORDER BY s.id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MailingSearch {
                    search: search_of_row(row)?,
                    mailed_through: row.try_get("alerted_version")?,
                    address: row.try_get("address")?,
                })
            })
            .collect()
    }

    /// Moves search `id`'s mail mark from `from` to `to` if it is still at `from` and the search
    /// still mails: whether this caller got the versions in between to mail (another replica,
    /// or a change of the search, may have moved it first).
    pub async fn claim_mail(&self, id: i64, from: i64, to: i64) -> Result<bool, AccountsError> {
        let moved =
            sqlx::query("UPDATE saved_searches SET alerted_version = $1 WHERE id = $2 AND alerted_version = $3 AND email_alerts = 1")
                .bind(to)
                .bind(id)
                .bind(from)
                .execute(self.pool())
                .await?;
        Ok(moved.rows_affected() == 1)
    }

    /// Puts back a mark [`Self::claim_mail`] moved, when the mail did not go: the next round
    /// mails those versions again.
    pub async fn unclaim_mail(&self, id: i64, from: i64, to: i64) -> Result<(), AccountsError> {
        self.claim_mail(id, to, from).await.map(|_| ())
    }

    pub async fn delete_saved_search(&self, id: i64) -> Result<(), AccountsError> {
        sqlx::query("DELETE FROM saved_searches WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
