//! Saved searches: a user's named `/v1/jobs` query (filters and sort), kept so a dashboard or
//! a script can run it again by id. The query is stored as the JSON the API checked, not as
//! SQL or a query string; a user keeps at most [`MAX_PER_USER`] of them, names unique per user.

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
    })
}

/// `SELECT` of a saved search's columns with its owner's name, followed by the rest of a query.
macro_rules! select_searches {
    ($rest:literal) => {
        concat!(
            "SELECT s.id, s.user_id, u.name AS user_name, s.name, s.query, s.created_at ",
            "FROM saved_searches s JOIN users u ON u.id = s.user_id ",
            $rest
        )
    };
}

impl Accounts {
    /// Saves `query` under `name` for `user`; `Invalid` for a bad name, a name the user has
    /// used already, or one search too many.
    pub async fn save_search(&self, user: &User, name: &str, query: &serde_json::Value) -> Result<SavedSearch, AccountsError> {
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
        let id: i64 = sqlx::query("INSERT INTO saved_searches (user_id, name, query, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(user.id)
            .bind(name)
            .bind(query.to_string())
            .bind(created_at)
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

    pub async fn delete_saved_search(&self, id: i64) -> Result<(), AccountsError> {
        sqlx::query("DELETE FROM saved_searches WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
