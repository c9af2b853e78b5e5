//! The account flows end to end on a SQLite file: sign-in, rotation and reuse of refresh
//! tokens, keys, disabling, and the schema applied once. The same flows run on PostgreSQL in
//! the integration tests, through the server.

use super::sessions::Refreshed;
use super::*;

async fn open_in(dir: &tempfile::TempDir) -> Accounts {
    Accounts::open(&format!("sqlite://{}", dir.path().join("accounts.sqlite").display()))
        .await
        .expect("opens")
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_family() {
    let dir = tempfile::tempdir().expect("tempdir");
    let accounts = open_in(&dir).await;
    let ada = accounts
        .add_user("ada", Role::Analyst, Some("a long password"))
        .await
        .expect("adds");
    assert!(matches!(
        accounts.add_user("ada", Role::Admin, None).await,
        Err(AccountsError::UserExists(_))
    ));
    assert!(accounts.login("ada", "wrong password").await.expect("answers").is_none());
    assert!(accounts.login("nobody", "a long password").await.expect("answers").is_none());
    let first = accounts.login("ada", "a long password").await.expect("answers").expect("signs in");
    let claims = accounts.verify_access_token(&first.access_token).expect("valid");
    assert_eq!((claims.sub, claims.role), (ada.id.to_string(), "analyst".to_string()));

    let Refreshed::Rotated(second) = accounts.refresh(&first.refresh_token).await.expect("answers") else {
        panic!("the first refresh rotates");
    };
    // The first token again: stolen. Its family goes, the rotated token with it.
    assert!(matches!(
        accounts.refresh(&first.refresh_token).await.expect("answers"),
        Refreshed::Reused { user_id } if user_id == ada.id
    ));
    assert!(matches!(
        accounts.refresh(&second.refresh_token).await.expect("answers"),
        Refreshed::Refused
    ));
    assert!(matches!(accounts.refresh("made up").await.expect("answers"), Refreshed::Refused));

    // Logout ends a session; disabling ends them all and stops sign-in.
    let third = accounts.login("ada", "a long password").await.expect("answers").expect("signs in");
    assert_eq!(accounts.logout(&third.refresh_token).await.expect("answers"), Some(ada.id));
    assert!(matches!(
        accounts.refresh(&third.refresh_token).await.expect("answers"),
        Refreshed::Refused
    ));
    let fourth = accounts.login("ada", "a long password").await.expect("answers").expect("signs in");
    accounts.disable_user("ada").await.expect("disables");
    assert!(matches!(
        accounts.refresh(&fourth.refresh_token).await.expect("answers"),
        Refreshed::Refused
    ));
    assert!(accounts.login("ada", "a long password").await.expect("answers").is_none());
}

#[tokio::test]
async fn keys_work_until_revoked_or_their_user_is_disabled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let accounts = open_in(&dir).await;
    let bot = accounts.add_user("bot", Role::ApiUser, None).await.expect("adds");
    let made = accounts.create_key(&bot, "nightly export").await.expect("makes");
    assert!(made.key.starts_with(&format!("rats_{}_", made.prefix)));
    let (user, key_id) = accounts.user_of_key(&made.key).await.expect("answers").expect("valid");
    assert_eq!((user.id, key_id), (bot.id, made.id));
    let listed = accounts.keys(Some(bot.id)).await.expect("lists");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some(), "use is recorded");

    // One changed character, an unknown prefix, and the mark alone are all refused.
    let mut altered = made.key.clone();
    let last = altered.pop().expect("a character");
    altered.push(if last == '0' { '1' } else { '0' });
    for wrong in [altered.as_str(), "rats_00000000_abc", "rats_"] {
        assert!(accounts.user_of_key(wrong).await.expect("answers").is_none(), "{wrong}");
    }
    accounts.revoke_key(made.id).await.expect("revokes");
    assert!(accounts.user_of_key(&made.key).await.expect("answers").is_none());

    let second = accounts.create_key(&bot, "").await.expect("makes");
    accounts.disable_user("bot").await.expect("disables");
    assert!(accounts.user_of_key(&second.key).await.expect("answers").is_none());
}

#[tokio::test]
async fn reopening_keeps_users_and_the_signing_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = open_in(&dir).await;
    first.add_user("root", Role::Admin, Some("a long password")).await.expect("adds");
    let session = first.login("root", "a long password").await.expect("answers").expect("signs in");
    first.audit("login", Some(1), Some("root"), Some("127.0.0.1"), "signed in").await;
    let again = open_in(&dir).await;
    assert_eq!(again.users().await.expect("lists").len(), 1);
    assert!(again.verify_access_token(&session.access_token).is_ok(), "same key after a restart");
    let events = again.audit_events(10, None).await.expect("reads");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, "login");
    assert_eq!(again.users().await.expect("lists")[0].rate_tier(), tiers::Tier::Admin);
    let (before, after) = again.set_role("root", Role::Analyst).await.expect("changes");
    assert_eq!((before.role, after.role), (Role::Admin, Role::Analyst));
    assert_eq!(after.rate_tier(), tiers::Tier::Free);
    again.set_tier("root", tiers::Tier::Premium).await.expect("sets");
    let premium = again.user_by_name("root").await.expect("reads").expect("exists");
    assert_eq!(premium.rate_tier(), tiers::Tier::Premium);
    assert!(again.set_tier("root", tiers::Tier::Admin).await.is_err());
    assert!(matches!(
        again.set_role("ghost", Role::Admin).await,
        Err(AccountsError::NoSuchUser(_))
    ));
}

#[tokio::test]
async fn saved_searches_are_bounded_and_named_once_per_user() {
    let dir = tempfile::tempdir().expect("tempdir");
    let accounts = open_in(&dir).await;
    let ada = accounts.add_user("ada", Role::Analyst, None).await.expect("adds");
    let bob = accounts.add_user("bob", Role::ApiUser, None).await.expect("adds");
    let query = serde_json::json!({"filter": {"title": "data"}, "sort": "newest"});
    let saved = accounts.save_search(&ada, "  data  ", &query, None).await.expect("saves");
    assert_eq!((saved.name.as_str(), &saved.query), ("data", &query));
    assert_eq!(accounts.saved_search(saved.id).await.expect("reads"), Some(saved.clone()));
    assert!(matches!(
        accounts.save_search(&ada, "data", &query, None).await,
        Err(AccountsError::Invalid(_))
    ));
    accounts
        .save_search(&bob, "data", &query, None)
        .await
        .expect("another user may use the name");
    for bad in ["", "   ", "tab\there", &"x".repeat(101)] {
        assert!(matches!(
            accounts.save_search(&ada, bad, &query, None).await,
            Err(AccountsError::Invalid(_))
        ));
    }
    for n in 1..searches::MAX_PER_USER {
        accounts.save_search(&ada, &format!("s{n}"), &query, None).await.expect("saves");
    }
    assert!(matches!(
        accounts.save_search(&ada, "one too many", &query, None).await,
        Err(AccountsError::Invalid(_))
    ));
    assert_eq!(
        accounts.saved_searches(Some(ada.id)).await.expect("lists").len() as i64,
        searches::MAX_PER_USER
    );
    assert_eq!(
        accounts.saved_searches(None).await.expect("lists").len() as i64,
        searches::MAX_PER_USER + 1
    );
    accounts.delete_saved_search(saved.id).await.expect("deletes");
    assert_eq!(accounts.saved_search(saved.id).await.expect("reads"), None);
    accounts.save_search(&ada, "one too many", &query, None).await.expect("room again");
}

#[tokio::test]
async fn a_mailing_search_is_claimed_once_per_round_and_given_back_when_its_mail_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let accounts = open_in(&dir).await;
    let ada = accounts.add_user("ada", Role::Analyst, None).await.expect("adds");
    let query = serde_json::json!({"filter": {"title": "data"}, "sort": "newest"});
    let search = accounts.save_search(&ada, "data", &query, Some(4)).await.expect("saves");
    assert!(search.email);
    assert!(
        accounts.mailing_searches().await.expect("lists").is_empty(),
        "ada has no address yet"
    );
    for bad in [
        "ada",
        "ada@",
        "@example.org",
        "ada@example",
        "ada smith@example.org",
        "a@b@example.org",
    ] {
        assert!(
            matches!(accounts.set_email("ada", Some(bad)).await, Err(AccountsError::Invalid(_))),
            "{bad}"
        );
    }
    let ada = accounts.set_email("ada", Some(" ada@example.org ")).await.expect("sets");
    assert_eq!(ada.email.as_deref(), Some("ada@example.org"));
    assert_eq!(accounts.user_by_name("ada").await.expect("reads").and_then(|u| u.email), ada.email);
    let mailing = accounts.mailing_searches().await.expect("lists");
    assert_eq!(mailing.len(), 1);
    assert_eq!((mailing[0].mailed_through, mailing[0].address.as_str()), (4, "ada@example.org"));

    assert!(accounts.claim_mail(search.id, 4, 9).await.expect("claims"));
    assert!(
        !accounts.claim_mail(search.id, 4, 9).await.expect("answers"),
        "a second replica gets nothing"
    );
    accounts.unclaim_mail(search.id, 4, 9).await.expect("gives back");
    assert_eq!(accounts.mailing_searches().await.expect("lists")[0].mailed_through, 4);

    let off = accounts.set_search_email(search.id, None).await.expect("stops").expect("exists");
    assert!(!off.email);
    assert!(
        !accounts.claim_mail(search.id, -1, 9).await.expect("answers"),
        "a search that stopped mailing is not claimed"
    );
    assert!(accounts.mailing_searches().await.expect("lists").is_empty());
    accounts.set_search_email(search.id, Some(12)).await.expect("starts");
    accounts.set_email("ada", None).await.expect("removes");
    assert!(accounts.mailing_searches().await.expect("lists").is_empty(), "no address, no mail");
    accounts.set_email("ada", Some("ada@example.org")).await.expect("sets");
    accounts.disable_user("ada").await.expect("disables");
    assert!(
        accounts.mailing_searches().await.expect("lists").is_empty(),
        "a disabled user gets no mail"
    );
}

#[tokio::test]
async fn a_provider_account_gets_its_own_user_whose_role_follows_the_provider() {
    let dir = tempfile::tempdir().expect("tempdir");
    let accounts = open_in(&dir).await;
    // A local "alice" exists: the provider's Alice must not become her.
    let local = accounts
        .add_user("alice", Role::Admin, Some("a long password"))
        .await
        .expect("adds");
    let issuer = "https://id.example";
    let identities::Linked::Created(first) = accounts
        .link_identity(issuer, "sub-1", "Alice", Role::Analyst)
        .await
        .expect("links")
    else {
        panic!("the first sign-in makes a user");
    };
    assert_eq!(
        (first.name.as_str(), first.role, first.has_password),
        ("alice-2", Role::Analyst, false)
    );
    assert_ne!(first.id, local.id);
    let identities::Linked::Existing { before, after } = accounts
        .link_identity(issuer, "sub-1", "renamed", Role::Admin)
        .await
        .expect("links")
    else {
        panic!("the second sign-in finds the user");
    };
    assert_eq!((before.id, before.role, after.role), (first.id, Role::Analyst, Role::Admin));
    assert_eq!(
        accounts.user_by_id(first.id).await.expect("reads").expect("exists").role,
        Role::Admin
    );
    // The same subject at another issuer is another person.
    let other = accounts
        .link_identity("https://other.example", "sub-1", "Alice", Role::ApiUser)
        .await
        .expect("links");
    assert_eq!(other.user().name, "alice-3");
    assert_eq!(identities::name_from_claim("  Ada Lovelace!  "), "ada-lovelace");
    assert_eq!(identities::name_from_claim("..."), "...");
    assert_eq!(identities::name_from_claim("Ωμέγα"), "user");

    let session = accounts.start_session(after.clone()).await.expect("starts").expect("active");
    assert_eq!(
        accounts.verify_access_token(&session.access_token).expect("valid").sub,
        first.id.to_string()
    );
    let disabled = accounts.disable_user(&after.name).await.expect("disables");
    assert!(accounts.start_session(disabled).await.expect("answers").is_none());
}
