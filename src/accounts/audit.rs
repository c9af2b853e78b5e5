//! The audit log of security events: sign-ins and their failures, token refreshes and reuse,
//! keys made and revoked, role changes, users disabled, requests refused. Each event is a row
//! admins read through the API and a structured log line (target `rats::audit`).

use serde::Serialize;
use sqlx::Row;

use super::{Accounts, AccountsError, now};

/// One event; `user_id` is the acting or affected user when known, `subject` what the event
/// was about (a user name tried, a key prefix, a route), `client` where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Event {
    pub id: i64,
    pub at: i64,
    pub event: String,
    pub user_id: Option<i64>,
    pub subject: Option<String>,
    pub client: Option<String>,
    pub detail: String,
}

impl Accounts {
    /// Records an event. A failure to write it is logged, not returned: the request it
    /// describes has been decided already.
    #[tracing::instrument(target = "rats::accounts", name = "db.audit", skip_all, fields(db.system = self.backend.name()))]
    pub async fn audit(&self, event: &str, user_id: Option<i64>, subject: Option<&str>, client: Option<&str>, detail: &str) {
        tracing::info!(
            target: "rats::audit",
            event,
            user_id = ?user_id,
            subject = ?subject,
            client = ?client,
            detail,
            "audit"
        );
        let written = sqlx::query("INSERT INTO audit_log (at, event, user_id, subject, client, detail) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(now())
            .bind(event)
            .bind(user_id)
            .bind(subject)
            .bind(client)
            .bind(detail)
            .execute(self.pool())
            .await;
        if let Err(error) = written {
            tracing::error!(target: "rats::audit", event, error = %error, "the audit event was not stored");
        }
    }

    /// Events newest first: at most `limit`, older than the event `before` when given.
    #[tracing::instrument(target = "rats::accounts", name = "db.audit_events", skip_all, fields(db.system = self.backend.name()))]
    pub async fn audit_events(&self, limit: i64, before: Option<i64>) -> Result<Vec<Event>, AccountsError> {
        let rows =
            sqlx::query("SELECT id, at, event, user_id, subject, client, detail FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2")
                .bind(before.unwrap_or(i64::MAX))
                .bind(limit)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|row| {
                Ok(Event {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    event: row.try_get("event")?,
                    user_id: row.try_get("user_id")?,
                    subject: row.try_get("subject")?,
                    client: row.try_get("client")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect()
    }
}
