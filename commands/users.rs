//! `rats users add|list|set-role|set-tier|disable|key`: the operator's side of the accounts database.
//! Each change is written to the audit log as done from the command line.

use std::io::BufRead;

use anyhow::Context;
use rats::accounts::tiers::Tier;
use rats::accounts::{Accounts, User};
use rats::exit::Outcome;
use rats::output::{self, Report};
use rats::settings::{OutputFormat, Settings};

use crate::cli::{UserTier, UsersCommand, UsersDbArgs};

/// What the audit log records as the client of a command-line change.
const CLIENT: &str = "rats users";

impl UsersCommand {
    /// The database flags every users subcommand takes.
    pub fn db(&self) -> &UsersDbArgs {
        match self {
            UsersCommand::Add(args) => &args.db,
            UsersCommand::List(args) => args,
            UsersCommand::SetRole(args) => &args.db,
            UsersCommand::SetTier(args) => &args.db,
            UsersCommand::SetEmail(args) => &args.db,
            UsersCommand::Disable(args) => &args.db,
            UsersCommand::Key(args) => &args.db,
        }
    }
}

pub fn run(command: &UsersCommand, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting a runtime for the database")?;
    let report = runtime.block_on(act(command, &settings.accounts_db.value))?;
    if !(quiet && settings.format.value == OutputFormat::Table) {
        output::write(&mut std::io::stdout().lock(), settings.format.value, &report)?;
    }
    Ok(Outcome::Success)
}

async fn act(command: &UsersCommand, url: &str) -> anyhow::Result<Report> {
    // Opening a SQLite database makes its file. Only `add` may: a listing or a change on a
    // database that is not there (a mistyped --db or lake) would leave an empty one behind.
    if !matches!(command, UsersCommand::Add(_))
        && let Some(file) = rats::accounts::sqlite_file(url)
        && !file.exists()
    {
        anyhow::bail!(
            "no accounts database at {}: no user has been added to it (`rats users add NAME --role admin` makes the first)",
            file.display()
        );
    }
    let accounts = Accounts::open(url).await?;
    Ok(match command {
        UsersCommand::Add(args) => {
            let password = if args.password_stdin { Some(password_from_stdin()?) } else { None };
            let user = accounts.add_user(&args.name, args.role, password.as_deref()).await?;
            let detail = format!("added with role {}", user.role);
            accounts
                .audit("user_added", Some(user.id), Some(&user.name), Some(CLIENT), &detail)
                .await;
            users_report(&[user])
        }
        UsersCommand::List(_) => users_report(&accounts.users().await?),
        UsersCommand::SetRole(args) => {
            let (before, after) = accounts.set_role(&args.name, args.role).await?;
            let detail = format!("role {} -> {}", before.role, after.role);
            accounts
                .audit("role_changed", Some(after.id), Some(&after.name), Some(CLIENT), &detail)
                .await;
            users_report(&[after])
        }
        UsersCommand::SetTier(args) => {
            let tier = match args.tier {
                UserTier::Free => Tier::Free,
                UserTier::Premium => Tier::Premium,
            };
            let user = accounts.set_tier(&args.name, tier).await?;
            let detail = format!("tier {tier}");
            accounts
                .audit("tier_changed", Some(user.id), Some(&user.name), Some(CLIENT), &detail)
                .await;
            users_report(&[user])
        }
        UsersCommand::SetEmail(args) => {
            let user = accounts.set_email(&args.name, args.address.as_deref()).await?;
            let detail = match &user.email {
                Some(address) => format!("email {address}"),
                None => "email removed".to_string(),
            };
            accounts
                .audit("email_changed", Some(user.id), Some(&user.name), Some(CLIENT), &detail)
                .await;
            users_report(&[user])
        }
        UsersCommand::Disable(args) => {
            let user = accounts.disable_user(&args.name).await?;
            accounts
                .audit("user_disabled", Some(user.id), Some(&user.name), Some(CLIENT), "disabled")
                .await;
            users_report(&[user])
        }
        UsersCommand::Key(args) => {
            let user = accounts
                .user_by_name(&args.name)
                .await?
                .filter(User::is_active)
                .with_context(|| format!("no active user named {:?}", args.name))?;
            let key = accounts.create_key(&user, &args.label).await?;
            let detail = format!("key {} made", key.prefix);
            accounts
                .audit("key_created", Some(user.id), Some(&key.prefix), Some(CLIENT), &detail)
                .await;
            Report {
                header: vec!["user".into(), "key_id".into(), "prefix".into(), "label".into(), "key".into()],
                rows: vec![vec![
                    user.name.clone(),
                    key.id.to_string(),
                    key.prefix.clone(),
                    key.label.clone(),
                    key.key.clone(),
                ]],
                json: serde_json::json!({"user": user.name, "id": key.id, "prefix": key.prefix, "label": key.label, "key": key.key}),
            }
        }
    })
}

/// The first line of standard input, without its line ending.
fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn users_report(users: &[User]) -> Report {
    let time = |seconds: Option<i64>| {
        seconds
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    Report {
        header: ["name", "role", "tier", "email", "created_at", "disabled_at", "password"]
            .map(String::from)
            .to_vec(),
        rows: users
            .iter()
            .map(|u| {
                vec![
                    u.name.clone(),
                    u.role.to_string(),
                    u.rate_tier().to_string(),
                    u.email.clone().unwrap_or_default(),
                    time(Some(u.created_at)),
                    time(u.disabled_at),
                    if u.has_password { "yes" } else { "no" }.into(),
                ]
            })
            .collect(),
        json: serde_json::to_value(users).unwrap_or_default(),
    }
}
