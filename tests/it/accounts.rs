//! Accounts as operators and clients meet them: `rats users` on the command line, and through
//! a real `rats serve` sign-in, token rotation and reuse detection, keys, roles on every
//! route, the audit log, and the attacks of the issue (no, forged, `alg: none` and expired
//! tokens, a disabled user's token and key, role escalation, another user's key, SQL in names,
//! oversized bodies) — on the SQLite file beside the lake and on a real PostgreSQL server
//! (`scripts/postgres`, started by `scripts/test`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::Method;
use serde_json::{Value, json};

use crate::serve::{Answer, Server, problem, user_with_key};
use crate::support::{rats, run, stderr, stdout};

/// A fresh database on the test PostgreSQL server (`scripts/postgres`).
pub(crate) fn postgres_database() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let port = std::env::var(rats::env_vars::POSTGRES_PORT).unwrap_or_else(|_| "15432".into());
    let admin = format!("postgres://rats@127.0.0.1:{port}/postgres");
    let name = format!("rats_test_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let created = run(Command::new("psql").args([&admin, "-qc", &format!("CREATE DATABASE {name}")]));
    assert!(
        created.status.success(),
        "PostgreSQL on port {port} (scripts/postgres up): {}",
        stderr(&created)
    );
    format!("postgres://rats@127.0.0.1:{port}/{name}")
}

/// The access-token signing key the server keeps in its database.
fn signing_key(db: &str) -> Vec<u8> {
    let query = "SELECT value FROM rats_settings WHERE name = 'access_token_key'";
    let output = if let Some(file) = db.strip_prefix("sqlite://") {
        run(Command::new("python3").args([
            "-c",
            &format!("import sqlite3; print(sqlite3.connect({file:?}).execute(\"{query}\").fetchone()[0])"),
        ]))
    } else {
        run(Command::new("psql").args([db, "-tAc", query]))
    };
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output).trim().as_bytes().to_vec()
}

fn users(dir: &Path, db: &str, args: &[&str]) -> std::process::Output {
    run(rats(dir).args(["users"]).args(args).args(["--db", db]))
}

pub(crate) fn add_with_password(dir: &Path, db: &str, name: &str, role: &str, password: &str) {
    let mut child = rats(dir)
        .args(["users", "add", name, "--role", role, "--password-stdin", "--db", db])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), format!("{password}\n").as_bytes()).expect("writes");
    let output = child.wait_with_output().expect("finishes");
    assert!(output.status.success(), "users add {name}: {}", stderr(&output));
}

/// Budgets loose enough that the flows below never meet them (the rate-limit test writes its
/// own tight ones first).
pub(crate) const LOOSE_LIMITS: &str =
    "serve:\n  rate_limits:\n    anonymous: {per_minute: 6000, burst: 1000}\n    login: {per_minute: 6000, burst: 1000}\n";

/// A server with no lake and no models: the accounts routes answer, the data routes say 503.
/// Its settings are `dir/rats.yaml`, loose budgets unless the test wrote its own.
fn accounts_server(dir: &Path, db: &str, extra: &[&str]) -> Server {
    let settings = dir.join("rats.yaml");
    if !settings.exists() {
        std::fs::write(&settings, LOOSE_LIMITS).expect("writes rats.yaml");
    }
    let server = Server::start_on(dir, &dir.join("lake"), &dir.join("models"), extra, Some(db));
    server.wait_until("listening", |s| s.get("/health").status == 200);
    server
}

/// A request with the given bearer credential (or none).
fn call(server: &Server, method: Method, path: &str, credential: Option<&str>, body: Option<&Value>) -> Answer {
    let client = reqwest::blocking::Client::new();
    let mut request = client.request(method, format!("{}{path}", server.base));
    if let Some(credential) = credential {
        request = request.bearer_auth(credential);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    Server::answer(request)
}

pub(crate) fn events(server: &Server) -> Vec<String> {
    let answer = server.get("/v1/audit?limit=1000");
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["event"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_users_command_adds_lists_changes_and_disables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("accounts.sqlite").display());
    // Before the first user, a listing says so and leaves no database behind.
    let none_yet = users(dir.path(), &db, &["list"]);
    assert_eq!(none_yet.status.code(), Some(2));
    assert!(stderr(&none_yet).contains("no accounts database at"), "{}", stderr(&none_yet));
    assert!(!dir.path().join("accounts.sqlite").exists());
    add_with_password(dir.path(), &db, "ada", "admin", "a long password");
    assert!(users(dir.path(), &db, &["add", "bot", "--role", "api_user"]).status.success());

    let listed = users(dir.path(), &db, &["list", "--format", "json"]);
    let list: Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(list[0]["name"], "ada");
    assert_eq!((&list[0]["role"], &list[0]["has_password"]), (&json!("admin"), &json!(true)));
    assert_eq!((&list[1]["role"], &list[1]["has_password"]), (&json!("api_user"), &json!(false)));

    let changed = users(dir.path(), &db, &["set-role", "bot", "analyst", "--format", "json"]);
    assert!(changed.status.success(), "{}", stderr(&changed));
    let disabled = users(dir.path(), &db, &["disable", "bot", "--format", "json"]);
    let disabled: Value = serde_json::from_slice(&disabled.stdout).expect("json");
    assert_eq!(disabled[0]["role"], "analyst");
    assert!(disabled[0]["disabled_at"].is_i64());
    let key = users(dir.path(), &db, &["key", "bot"]);
    assert_eq!(key.status.code(), Some(2), "no key for a disabled user");
    assert!(stderr(&key).contains("no active user named \"bot\""), "{}", stderr(&key));

    // Mistakes name what is wrong and exit 2.
    for (args, says) in [
        (&["add", "ada", "--role", "admin"][..], "exists already"),
        (&["add", "Bad Name", "--role", "admin"][..], "user name \"Bad Name\""),
        (&["set-role", "ghost", "admin"][..], "no user named \"ghost\""),
    ] {
        let output = users(dir.path(), &db, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains(says), "{args:?}: {}", stderr(&output));
    }
    let mut short = rats(dir.path())
        .args(["users", "add", "eve", "--role", "analyst", "--password-stdin", "--db", &db])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    std::io::Write::write_all(&mut short.stdin.take().expect("stdin"), b"short\n").expect("writes");
    let short = short.wait_with_output().expect("finishes");
    assert_eq!(short.status.code(), Some(2));
    assert!(stderr(&short).contains("too short"), "{}", stderr(&short));
    let bad_url = users(dir.path(), "mysql://nowhere", &["list"]);
    assert!(
        stderr(&bad_url).contains("expected a sqlite:// or postgres:// URL"),
        "{}",
        stderr(&bad_url)
    );
}

/// Every route with every role and with no credentials: refused with 401 or 403 exactly where
/// the route × role table says, and let through everywhere else.
#[test]
fn every_route_refuses_no_credentials_and_the_wrong_role() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("accounts.sqlite").display());
    let lake = dir.path().join("lake");
    let keys: Vec<(&str, String)> = ["admin", "analyst", "api_user"]
        .into_iter()
        .map(|role| (role, user_with_key(dir.path(), &lake, Some(&db), &format!("walker-{role}"), role)))
        .collect();
    let server = accounts_server(dir.path(), &db, &[]);
    let all = ["admin", "analyst", "api_user"];
    let routes: &[(Method, &str, Option<&[&str]>)] = &[
        (Method::GET, "/health", None),
        (Method::GET, "/ready", None),
        (Method::GET, "/metrics", None),
        (Method::GET, "/openapi.json", None),
        (Method::GET, "/docs", None),
        (Method::POST, "/v1/auth/login", None),
        (Method::POST, "/v1/auth/register", None),
        (Method::POST, "/v1/auth/refresh", None),
        (Method::POST, "/v1/auth/logout", None),
        (Method::GET, "/v1/auth/providers", None),
        (Method::GET, "/v1/auth/oidc/corp/login", None),
        (Method::GET, "/v1/auth/oidc/corp/callback", None),
        (Method::GET, "/v1/me", Some(&all)),
        (Method::PATCH, "/v1/me", Some(&all)),
        (Method::POST, "/v1/predict/salary", Some(&all)),
        (Method::POST, "/v1/match/jobs", Some(&all)),
        (Method::GET, "/v1/jobs", Some(&all)),
        (Method::GET, "/v1/jobs/abc", Some(&all)),
        (Method::GET, "/v1/stats/overview", Some(&all)),
        (Method::GET, "/v1/stats/salary", Some(&all)),
        (Method::GET, "/v1/stats/postings", Some(&all)),
        (Method::GET, "/v1/stats/skills", Some(&all)),
        (Method::GET, "/v1/skills", Some(&all)),
        (Method::GET, "/v1/skills/python", Some(&all)),
        (Method::GET, "/v1/companies", Some(&all)),
        (Method::GET, "/v1/stream?follow=false", Some(&all)),
        (Method::GET, "/v1/models", Some(&all)),
        (Method::GET, "/v1/keys", Some(&all)),
        (Method::POST, "/v1/keys", Some(&all)),
        (Method::DELETE, "/v1/keys/999999", Some(&all)),
        (Method::GET, "/v1/searches", Some(&all)),
        (Method::POST, "/v1/searches", Some(&all)),
        (Method::GET, "/v1/searches/999999", Some(&all)),
        (Method::PATCH, "/v1/searches/999999", Some(&all)),
        (Method::DELETE, "/v1/searches/999999", Some(&all)),
        (Method::GET, "/v1/searches/999999/jobs", Some(&all)),
        (Method::GET, "/v1/users", Some(&["admin"])),
        (Method::PATCH, "/v1/users/nobody", Some(&["admin"])),
        (Method::GET, "/v1/audit", Some(&["admin"])),
    ];
    assert_eq!(routes.len(), rats::serve::access::TABLE.len(), "the walk covers the route table");
    let mut denied = 0;
    for (method, path, roles) in routes {
        let body = (*method != Method::GET).then(|| json!({}));
        let anonymous = call(&server, method.clone(), path, None, body.as_ref());
        if roles.is_none() {
            assert!(
                ![401, 403].contains(&anonymous.status) || anonymous.body["code"] == "registration_closed",
                "{method} {path} is public: {}",
                anonymous.body
            );
        } else {
            problem(&anonymous, 401, "unauthenticated");
            assert!(anonymous.headers.contains_key("www-authenticate"));
        }
        for (role, key) in &keys {
            let answer = call(&server, method.clone(), path, Some(key), body.as_ref());
            let allowed = roles.is_none_or(|roles| roles.contains(role));
            if allowed {
                assert!(
                    ![401, 403].contains(&answer.status) || answer.body["code"] == "registration_closed",
                    "{role} may {method} {path}: {} {}",
                    answer.status,
                    answer.body
                );
            } else {
                problem(&answer, 403, "forbidden");
                denied += 1;
            }
        }
    }
    assert_eq!(denied, 6, "analyst and api_user refused on the three admin routes");
    let logged = events(&server);
    assert_eq!(logged.iter().filter(|e| *e == "denied").count(), 6, "{logged:?}");
}

#[test]
fn sign_in_tokens_keys_and_attacks_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("accounts.sqlite").display());
    accounts_over_http(dir.path(), &db);
}

#[test]
fn sign_in_tokens_keys_and_attacks_on_postgres() {
    let dir = tempfile::tempdir().expect("tempdir");
    accounts_over_http(dir.path(), &postgres_database());
}

fn set_cookies(answer: &Answer) -> Vec<String> {
    answer
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

/// The `Cookie` header a browser would send after this answer.
fn cookie_jar(answer: &Answer) -> String {
    let pairs: Vec<String> = set_cookies(answer)
        .iter()
        .filter_map(|line| line.split(';').next())
        .map(str::to_string)
        .collect();
    assert_eq!(pairs.len(), 3, "access, refresh and CSRF cookies: {pairs:?}");
    pairs.join("; ")
}

fn login(server: &Server, name: &str, password: &str) -> Answer {
    call(
        server,
        Method::POST,
        "/v1/auth/login",
        None,
        Some(&json!({"username": name, "password": password})),
    )
}

fn accounts_over_http(dir: &Path, db: &str) {
    let lake = dir.join("lake");
    let ana_key = user_with_key(dir, &lake, Some(db), "ana", "analyst");
    add_with_password(dir, db, "bob", "api_user", "bob's long password");
    let server = accounts_server(dir, db, &["--open-registration"]);
    assert_eq!(server.get("/ready").body["database"]["reachable"], true);

    // Wrong passwords, unknown names and SQL in the name all get the same 401.
    for (name, password) in [
        ("bob", "not bob's password"),
        ("nobody", "bob's long password"),
        ("bob' OR '1'='1", "x' OR '1'='1"),
    ] {
        problem(&login(&server, name, password), 401, "invalid_login");
    }
    let session = login(&server, "bob", "bob's long password");
    assert_eq!(session.status, 200, "{}", session.body);
    assert_eq!(session.body["user"]["role"], "api_user");
    let access = session.body["access_token"].as_str().expect("token").to_string();
    let refresh = session.body["refresh_token"].as_str().expect("token").to_string();
    let me = call(&server, Method::GET, "/v1/me", Some(&access), None);
    assert_eq!((&me.body["user"]["name"], &me.body["key_id"]), (&json!("bob"), &Value::Null));
    let me = call(&server, Method::GET, "/v1/me", Some(&ana_key), None);
    assert_eq!(me.body["user"]["name"], "ana");
    assert!(me.body["key_id"].is_i64());

    // Refresh rotates; the old token again revokes the session, the new token with it.
    let rotated = call(
        &server,
        Method::POST,
        "/v1/auth/refresh",
        None,
        Some(&json!({"refresh_token": refresh})),
    );
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let newer = rotated.body["refresh_token"].as_str().expect("token").to_string();
    assert_ne!(newer, refresh);
    let again = call(
        &server,
        Method::POST,
        "/v1/auth/refresh",
        None,
        Some(&json!({"refresh_token": refresh})),
    );
    problem(&again, 401, "refresh_token_reused");
    let after = call(
        &server,
        Method::POST,
        "/v1/auth/refresh",
        None,
        Some(&json!({"refresh_token": newer})),
    );
    problem(&after, 401, "invalid_refresh_token");

    // Forged, unsigned and expired tokens; a correctly signed one claiming admin meets the
    // role the database holds.
    let parts: Vec<&str> = access.split('.').collect();
    let payload: Value = serde_json::from_slice(&rats::accounts::secrets::from_base64url(parts[1]).expect("base64")).expect("claims");
    let mut raised = payload.clone();
    raised["role"] = json!("admin");
    let raised_payload = rats::accounts::secrets::base64url(raised.to_string().as_bytes());
    let forged = format!("{}.{raised_payload}.{}", parts[0], parts[2]);
    let unsigned = format!(
        "{}.{raised_payload}.",
        rats::accounts::secrets::base64url(br#"{"alg":"none","typ":"JWT"}"#)
    );
    let key = signing_key(db);
    let claims = |role: &str, exp: i64| rats::accounts::jwt::Claims {
        sub: payload["sub"].as_str().expect("sub").to_string(),
        name: "bob".into(),
        role: role.into(),
        iat: 0,
        exp,
        sid: payload["sid"].as_str().expect("sid").to_string(),
    };
    let expired = rats::accounts::jwt::sign(&claims("api_user", 1), &key);
    for (token, says) in [
        (forged.as_str(), "signature"),
        (unsigned.as_str(), "HS256"),
        (expired.as_str(), "expired"),
        ("garbage", "not a signed JWT"),
        ("rats_0000abcd_notakey", "API key"),
    ] {
        let answer = call(&server, Method::GET, "/v1/me", Some(token), None);
        problem(&answer, 401, "invalid_credentials");
        assert!(
            answer.body["detail"].as_str().is_some_and(|d| d.contains(says)),
            "{says}: {}",
            answer.body
        );
    }
    let escalated = rats::accounts::jwt::sign(&claims("admin", i64::MAX / 2), &key);
    problem(&call(&server, Method::GET, "/v1/audit", Some(&escalated), None), 403, "forbidden");
    problem(
        &call(&server, Method::GET, "/v1/keys?all=true", Some(&access), None),
        403,
        "forbidden",
    );

    // Keys: made once with the secret shown, listed without it, another user's is not theirs
    // to revoke, a revoked key stops working.
    let made = call(&server, Method::POST, "/v1/keys", Some(&access), Some(&json!({"label": "cron"})));
    assert_eq!(made.status, 201, "{}", made.body);
    let bob_key = made.body["key"].as_str().expect("key").to_string();
    let bob_key_id = made.body["id"].as_i64().expect("id");
    let listed = call(&server, Method::GET, "/v1/keys", Some(&bob_key), None);
    assert_eq!(listed.body["keys"][0]["label"], "cron");
    assert!(!listed.body.to_string().contains(&bob_key), "the secret is never listed");
    let path = format!("/v1/keys/{bob_key_id}");
    assert_eq!(call(&server, Method::DELETE, &path, Some(&ana_key), None).status, 404);
    assert_eq!(call(&server, Method::GET, "/v1/me", Some(&bob_key), None).status, 200);
    assert_eq!(call(&server, Method::DELETE, &path, Some(&access), None).status, 204);
    problem(
        &call(&server, Method::GET, "/v1/me", Some(&bob_key), None),
        401,
        "invalid_credentials",
    );

    // Saved searches are their owner's: another user's by id is 404, as a missing one, and audited.
    let saved = call(
        &server,
        Method::POST,
        "/v1/searches",
        Some(&access),
        Some(&json!({"name": "remote data", "filter": {"title": "data", "remote": "remote"}})),
    );
    assert_eq!(saved.status, 201, "{}", saved.body);
    assert_eq!(
        saved.body["query"],
        json!({"filter": {"title": "data", "remote": "remote"}, "sort": "newest"})
    );
    let search = format!("/v1/searches/{}", saved.body["id"]);
    let denied_before = events(&server).iter().filter(|e| *e == "denied").count();
    for (method, path) in [
        (Method::GET, search.clone()),
        (Method::GET, format!("{search}/jobs")),
        (Method::DELETE, search.clone()),
    ] {
        problem(&call(&server, method, &path, Some(&ana_key), None), 404, "not_found");
    }
    let denied_after = events(&server).iter().filter(|e| *e == "denied").count();
    assert_eq!(denied_after - denied_before, 3);
    problem(
        &call(&server, Method::GET, "/v1/searches?all=true", Some(&ana_key), None),
        403,
        "forbidden",
    );
    assert_eq!(
        call(&server, Method::GET, "/v1/searches", Some(&ana_key), None).body["searches"],
        json!([])
    );
    let mine = call(&server, Method::GET, "/v1/searches", Some(&access), None);
    assert_eq!(mine.body["searches"][0]["name"], "remote data");
    assert_eq!(server.get("/v1/searches?user=bob").body["searches"][0]["name"], "remote data");
    assert_eq!(server.get(&search).status, 200, "an admin reads any user's");
    assert_eq!(call(&server, Method::DELETE, &search, Some(&access), None).status, 204);
    problem(&call(&server, Method::GET, &search, Some(&access), None), 404, "not_found");

    // Logout ends the session; disabling ends tokens, keys and sign-in at once.
    let second = login(&server, "bob", "bob's long password");
    let second_refresh = second.body["refresh_token"].as_str().expect("token").to_string();
    let ended = call(
        &server,
        Method::POST,
        "/v1/auth/logout",
        None,
        Some(&json!({"refresh_token": second_refresh})),
    );
    assert_eq!(ended.status, 204);
    let after_logout = call(
        &server,
        Method::POST,
        "/v1/auth/refresh",
        None,
        Some(&json!({"refresh_token": second_refresh})),
    );
    problem(&after_logout, 401, "invalid_refresh_token");
    let third = login(&server, "bob", "bob's long password");
    let third_access = third.body["access_token"].as_str().expect("token").to_string();
    let fresh_key = call(&server, Method::POST, "/v1/keys", Some(&third_access), Some(&json!({})));
    let fresh_key = fresh_key.body["key"].as_str().expect("key").to_string();
    assert!(users(dir, db, &["disable", "bob"]).status.success());
    for credential in [&third_access, &fresh_key] {
        problem(
            &call(&server, Method::GET, "/v1/me", Some(credential), None),
            401,
            "invalid_credentials",
        );
    }
    problem(&login(&server, "bob", "bob's long password"), 401, "invalid_login");

    // Sign-up (open on this server) makes api_users; the checks name the field.
    let register = |name: &str, password: &str| {
        call(
            &server,
            Method::POST,
            "/v1/auth/register",
            None,
            Some(&json!({"username": name, "password": password})),
        )
    };
    let weak = register("carol", "short");
    problem(&weak, 422, "invalid_field");
    assert_eq!(weak.body["field"], "password");
    assert_eq!(register("Carol!", "a long password").body["field"], "username");
    let carol = register("carol", "a long password");
    assert_eq!((carol.status, &carol.body["role"]), (201, &json!("api_user")), "{}", carol.body);
    problem(&register("carol", "a long password"), 409, "user_exists");
    assert_eq!(login(&server, "carol", "a long password").status, 200);

    // A browser session: tokens in HttpOnly cookies, a CSRF token to echo on every change.
    let browser = call(
        &server,
        Method::POST,
        "/v1/auth/login",
        None,
        Some(&json!({"username": "carol", "password": "a long password", "cookies": true})),
    );
    assert_eq!(browser.status, 200, "{}", browser.body);
    assert!(browser.body.get("access_token").is_none() && browser.body.get("refresh_token").is_none());
    let csrf = browser.body["csrf_token"].as_str().expect("csrf token").to_string();
    let jar = cookie_jar(&browser);
    for line in set_cookies(&browser) {
        assert!(line.contains("; Secure") && line.contains("SameSite=Strict"), "{line}");
        assert_eq!(line.contains("HttpOnly"), !line.starts_with("rats_csrf="), "{line}");
    }
    let with_cookies = |jar: &str, method: Method, path: &str, echo: Option<&str>| {
        let mut request = reqwest::blocking::Client::new()
            .request(method, format!("{}{path}", server.base))
            .header("cookie", jar)
            .json(&json!({}));
        if let Some(echo) = echo {
            request = request.header("x-csrf-token", echo);
        }
        Server::answer(request)
    };
    assert_eq!(with_cookies(&jar, Method::GET, "/v1/me", None).body["user"]["name"], "carol");
    problem(&with_cookies(&jar, Method::POST, "/v1/keys", None), 403, "csrf_failed");
    problem(&with_cookies(&jar, Method::POST, "/v1/keys", Some("0123abcd")), 403, "csrf_failed");
    assert_eq!(with_cookies(&jar, Method::POST, "/v1/keys", Some(&csrf)).status, 201);
    problem(&with_cookies(&jar, Method::POST, "/v1/auth/refresh", None), 403, "csrf_failed");
    let refreshed = with_cookies(&jar, Method::POST, "/v1/auth/refresh", Some(&csrf));
    assert_eq!(
        (refreshed.status, &refreshed.body["csrf_token"]),
        (200, &json!(csrf)),
        "{}",
        refreshed.body
    );
    let jar = cookie_jar(&refreshed);
    let signed_out = with_cookies(&jar, Method::POST, "/v1/auth/logout", Some(&csrf));
    assert_eq!(signed_out.status, 204);
    assert!(
        set_cookies(&signed_out).iter().all(|line| line.contains("Max-Age=0")),
        "cookies removed"
    );
    problem(
        &with_cookies(&jar, Method::POST, "/v1/auth/refresh", Some(&csrf)),
        401,
        "invalid_refresh_token",
    );

    // A body over the limit is refused before it is read.
    let huge = json!({"username": "x".repeat(2 * 1024 * 1024), "password": "y"});
    problem(
        &call(&server, Method::POST, "/v1/auth/login", None, Some(&huge)),
        413,
        "body_too_large",
    );

    // Everything above is in the audit log, which only admins read.
    problem(&call(&server, Method::GET, "/v1/audit", Some(&ana_key), None), 403, "forbidden");
    let logged = events(&server);
    for event in [
        "login_failed",
        "login",
        "token_refreshed",
        "refresh_token_reused",
        "refresh_refused",
        "bad_token",
        "bad_key",
        "denied",
        "key_created",
        "key_revoked",
        "logout",
        "user_disabled",
        "registered",
        "csrf_failed",
    ] {
        assert!(logged.iter().any(|e| e == event), "{event} not in {logged:?}");
    }
    assert!(
        server.log().contains("\"target\":\"rats::audit\""),
        "audit events are log lines too"
    );
}

fn header(answer: &Answer, name: &str) -> Option<u64> {
    answer.headers.get(name)?.to_str().ok()?.parse().ok()
}

/// Budgets per key, per tier and per address, spent one request at a time: the headers count
/// down, a spent budget answers 429 with `Retry-After`, other callers are untouched, and the
/// refusals are counted by tier in `/metrics`.
#[test]
fn rate_limits_are_per_caller_and_tier_and_answer_429() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("rats.yaml"),
        "serve:\n  rate_limits:\n    anonymous: {per_minute: 1, burst: 4}\n    free: {per_minute: 1, burst: 3}\n    premium: {per_minute: 1, burst: 6}\n    login: {per_minute: 1, burst: 2}\n",
    )
    .expect("writes rats.yaml");
    let db = format!("sqlite://{}", dir.path().join("accounts.sqlite").display());
    let lake = dir.path().join("lake");
    let free = user_with_key(dir.path(), &lake, Some(&db), "free-user", "api_user");
    let other = user_with_key(dir.path(), &lake, Some(&db), "other-user", "analyst");
    let rich = user_with_key(dir.path(), &lake, Some(&db), "rich-user", "api_user");
    let set = users(dir.path(), &db, &["set-tier", "rich-user", "premium", "--format", "json"]);
    assert!(set.status.success(), "{}", stderr(&set));
    assert_eq!(serde_json::from_slice::<Value>(&set.stdout).expect("json")[0]["tier"], "premium");
    let server = accounts_server(dir.path(), &db, &[]);

    for left in [2, 1, 0] {
        let answer = call(&server, Method::GET, "/v1/me", Some(&free), None);
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(header(&answer, "ratelimit-limit"), Some(3));
        assert_eq!(header(&answer, "ratelimit-remaining"), Some(left));
    }
    let refused = call(&server, Method::GET, "/v1/me", Some(&free), None);
    problem(&refused, 429, "rate_limited");
    let wait = header(&refused, "retry-after").expect("Retry-After");
    assert!((1..=60).contains(&wait), "one request a minute: {wait}");
    assert_eq!(header(&refused, "ratelimit-remaining"), Some(0));
    assert_eq!(
        call(&server, Method::GET, "/v1/me", Some(&other), None).status,
        200,
        "another caller's budget"
    );
    let premium: Vec<u16> = (0..7)
        .map(|_| call(&server, Method::GET, "/v1/me", Some(&rich), None).status)
        .collect();
    assert_eq!(premium, [200, 200, 200, 200, 200, 200, 429]);

    // Sign-in has its own budget per address, spent before the address's anonymous one.
    let logins: Vec<u16> = (0..3).map(|_| login(&server, "free-user", "no password at all").status).collect();
    assert_eq!(logins, [401, 401, 429]);
    let anonymous: Vec<u16> = (0..3).map(|_| call(&server, Method::GET, "/v1/jobs", None, None).status).collect();
    assert_eq!(anonymous, [401, 401, 429], "two of four spent by the sign-ins");
    assert!(
        (0..10).all(|_| server.get("/health").status == 200),
        "operations routes are not limited"
    );

    for tier in ["free", "premium", "login", "anonymous"] {
        let refused = server.metric(&format!("rats_rate_limited_total{{tier=\"{tier}\"}}"));
        assert!((refused - 1.0).abs() < f64::EPSILON, "{tier}: {refused}");
    }
    assert!(server.metric("rats_rate_limited_total{tier=\"admin\"}").abs() < f64::EPSILON);
}

/// Pages on a listed origin may call the API (preflight answered, answers marked for them);
/// pages anywhere else are refused and audited; the server's own pages and scripts without an
/// `Origin` are unaffected.
#[test]
fn only_listed_origins_may_call_from_a_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("accounts.sqlite").display());
    let key = user_with_key(dir.path(), &dir.path().join("lake"), Some(&db), "browser-user", "analyst");
    let server = accounts_server(dir.path(), &db, &["--cors-origin", "https://app.example"]);
    let client = reqwest::blocking::Client::new();
    let from = |origin: &str, method: Method, path: &str| {
        client
            .request(method, format!("{}{path}", server.base))
            .header("origin", origin)
            .bearer_auth(&key)
    };
    let preflight = Server::answer(from("https://app.example", Method::OPTIONS, "/v1/me").header("access-control-request-method", "GET"));
    assert_eq!(preflight.status, 204);
    let allowed = |answer: &Answer| {
        answer
            .headers
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    assert_eq!(allowed(&preflight).as_deref(), Some("https://app.example"));
    let listed = Server::answer(from("https://app.example", Method::GET, "/v1/me"));
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(allowed(&listed).as_deref(), Some("https://app.example"));
    assert!(
        listed.headers.get("access-control-expose-headers").is_some(),
        "pages can read the rate-limit headers"
    );

    for (method, path) in [(Method::GET, "/v1/me"), (Method::POST, "/v1/keys"), (Method::OPTIONS, "/v1/me")] {
        let refused = Server::answer(from("https://evil.example", method.clone(), path));
        problem(&refused, 403, "origin_not_allowed");
        assert_eq!(allowed(&refused), None, "{method} {path}");
    }
    let own = Server::answer(from(&server.base, Method::GET, "/v1/me"));
    assert_eq!((own.status, allowed(&own)), (200, None), "the server's own pages");
    assert_eq!(
        call(&server, Method::GET, "/v1/me", Some(&key), None).status,
        200,
        "no Origin: a script"
    );
    let logged = events(&server);
    assert_eq!(logged.iter().filter(|e| *e == "cors_refused").count(), 3, "{logged:?}");
}
