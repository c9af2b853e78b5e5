//! Signing in to `rats serve` through a real OpenID Connect provider — npm `oidc-provider`, the
//! certified Node implementation, run from `tests/node/oidc-provider.mjs` (its login page takes the
//! account name instead of a person typing it) — on SQLite and on PostgreSQL: the browser's
//! round trip with PKCE, users made at the first sign-in with the role their groups map to,
//! cookies that work on the API, people no rule maps refused, and replayed or forged answers
//! refused and audited.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use reqwest::blocking::{Client, Response};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

use crate::accounts::{LOOSE_LIMITS, events, postgres_database};
use crate::serve::{Answer, Server, problem};
use crate::support::{free_port, repo, run, stderr};

/// The provider's Node process, stopped when dropped.
pub(crate) struct Provider {
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Provider {
    /// Starts the provider on `port`, letting client `rats` come back to `redirect_uri`.
    pub(crate) fn start(port: u16, redirect_uri: &str, log: &Path) -> Provider {
        let script = repo().join("tests/node/oidc-provider.mjs");
        assert!(
            repo().join("tests/node/node_modules/oidc-provider").exists(),
            "npm oidc-provider is not installed: scripts/test-prepare installs it"
        );
        let mut child = Command::new("node")
            .arg(script)
            .arg(port.to_string())
            .arg(redirect_uri)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).expect("a log file"))
            .spawn()
            .expect("node starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("reads the provider's first line");
        assert_eq!(line.trim(), "ready", "the provider did not start");
        Provider {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log: log.to_path_buf(),
        }
    }
}

impl Provider {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser's cookie jar, one per site (paths and expiry are not needed here).
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn keep(&mut self, response: &Response) {
        for value in response.headers().get_all(SET_COOKIE) {
            let pair = value.to_str().expect("ASCII").split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.0.retain(|(n, _)| n != name);
                if !value.is_empty() {
                    self.0.push((name.to_string(), value.to_string()));
                }
            }
        }
    }

    fn header(&self) -> String {
        self.0.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A browser that does not follow redirects by itself, so each hop can be looked at.
struct Browser {
    client: Client,
    rats: Jar,
    provider: Jar,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            rats: Jar::default(),
            provider: Jar::default(),
        }
    }

    fn jar(&mut self, url: &str, provider: &Provider) -> &mut Jar {
        if url.starts_with(&provider.base) {
            &mut self.provider
        } else {
            &mut self.rats
        }
    }

    fn get(&mut self, url: &str, provider: &Provider) -> Response {
        let cookies = self.jar(url, provider).header();
        let response = self.client.get(url).header(COOKIE, cookies).send();
        let response = response.unwrap_or_else(|e| panic!("GET {url}: {e}; provider's log:\n{}", provider.log()));
        self.jar(url, provider).keep(&response);
        response
    }

    fn post_form(&mut self, url: &str, form: &str, provider: &Provider) -> Response {
        let cookies = self.jar(url, provider).header();
        let response = self
            .client
            .post(url)
            .header(COOKIE, cookies)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_string())
            .send();
        let response = response.unwrap_or_else(|e| panic!("POST {url}: {e}; provider's log:\n{}", provider.log()));
        self.jar(url, provider).keep(&response);
        response
    }
}

/// Where a 303 sends the browser, as an absolute URL.
fn location(response: &Response, base: &str) -> String {
    assert_eq!(response.status().as_u16(), 303, "a redirect from {}", response.url());
    let to = response.headers()[LOCATION].to_str().expect("ASCII");
    url::Url::parse(base).expect("a URL").join(to).expect("a location").to_string()
}

/// A sign-in as `account` at the provider from the dashboard's "sign in with" link, up to the
/// provider's redirect back to rats: the callback URL, with the browser holding rats'
/// pending-sign-in cookie.
fn to_callback(browser: &mut Browser, server: &Server, provider: &Provider, account: &str) -> String {
    // The dashboard's sign-in page offers the provider, keeping where the person was going.
    let form = browser.get(&format!("{}/login?next=%2Fv1%2Fme", server.base), provider);
    let form = form.text().expect("the sign-in page");
    let link = r#"<a href="/v1/auth/oidc/test/login?next=%2Fv1%2Fme">Sign in with test</a>"#;
    assert!(form.contains(link), "{form}");
    let start = browser.get(&format!("{}/v1/auth/oidc/test/login?next=%2Fv1%2Fme", server.base), provider);
    assert!(browser.rats.get("rats_oidc").is_some(), "the sign-in is remembered in a cookie");
    let authorize = location(&start, &server.base);
    assert!(authorize.starts_with(&format!("{}/auth?", provider.base)), "{authorize}");
    for wanted in ["code_challenge_method=S256", "code_challenge=", "nonce=", "state=", "scope=openid"] {
        assert!(authorize.contains(wanted), "{wanted} in {authorize}");
    }
    let interaction = location(&browser.get(&authorize, provider), &provider.base);
    let signed_in = browser.post_form(&interaction, &format!("account={account}"), provider);
    let resume = location(&signed_in, &provider.base);
    location(&browser.get(&resume, provider), &provider.base)
}

fn answer_of(response: Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().expect("a body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer { status, headers, body }
}

fn signed_in_user(browser: &Browser, server: &Server) -> Value {
    let access = browser.rats.get("rats_access").expect("an access cookie");
    let me = answer_of(
        browser
            .client
            .get(format!("{}/v1/me", server.base))
            .header(COOKIE, format!("rats_access={access}"))
            .send()
            .expect("answers"),
    );
    assert_eq!(me.status, 200, "{}", me.body);
    me.body["user"].clone()
}

fn sign_in_with_the_provider(db: Option<&str>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let provider_port = free_port();
    let settings = format!(
        "{LOOSE_LIMITS}  oidc:\n    providers:\n      - name: test\n        issuer: http://127.0.0.1:{provider_port}\n        client_id: rats\n        client_secret: rats-test-secret\n        scopes: [openid, email, profile, groups]\n        role_claim: groups\n        roles: {{rats-admins: admin, market-analysts: analyst}}\n"
    );
    std::fs::write(dir.path().join("rats.yaml"), settings).expect("writes rats.yaml");
    let lake = dir.path().join("lake");
    let server = Server::start_on(dir.path(), &lake, &dir.path().join("models"), &[], db);
    server.wait_until("listening", |s| s.get("/health").status == 200);
    let redirect_uri = format!("{}/v1/auth/oidc/test/callback", server.base);
    let provider = Provider::start(provider_port, &redirect_uri, &dir.path().join("provider.log"));
    let listed = server.get("/v1/auth/providers");
    assert_eq!(listed.body["providers"][0]["login"], "/v1/auth/oidc/test/login", "{}", listed.body);

    // Alice is in rats-admins: a new admin without a password, named from her username.
    let mut browser = Browser::new();
    let callback = to_callback(&mut browser, &server, &provider, "alice");
    assert!(callback.contains("iss="), "the provider names itself (RFC 9207): {callback}");
    let landed = browser.get(&callback, &provider);
    assert_eq!(landed.status().as_u16(), 200);
    assert_eq!(landed.headers()["refresh"], "0; url=/v1/me", "the page moves on to `next`");
    assert!(browser.rats.get("rats_oidc").is_none(), "the pending sign-in's cookie is removed");
    assert!(browser.rats.get("rats_refresh").is_some() && browser.rats.get("rats_csrf").is_some());
    let alice = signed_in_user(&browser, &server);
    assert_eq!(
        (&alice["name"], &alice["role"], &alice["has_password"]),
        (&"alice".into(), &"admin".into(), &false.into())
    );

    // The provider's answer again (its code is spent, its state with it): refused.
    let replayed = answer_of(browser.get(&callback, &provider));
    problem(&replayed, 401, "oidc_state_mismatch");

    // Alice again, in a second browser: the same user, not a new one.
    let mut second = Browser::new();
    let callback = to_callback(&mut second, &server, &provider, "alice");
    assert_eq!(second.get(&callback, &provider).status().as_u16(), 200);
    assert_eq!(signed_in_user(&second, &server)["id"], alice["id"]);

    // Bob's groups map to analyst.
    let mut bobs = Browser::new();
    let callback = to_callback(&mut bobs, &server, &provider, "bob");
    assert_eq!(bobs.get(&callback, &provider).status().as_u16(), 200);
    assert_eq!(signed_in_user(&bobs, &server)["role"], "analyst");

    // Mallory's groups map to no role and the provider has no default: refused, no user made.
    let mut mallorys = Browser::new();
    let callback = to_callback(&mut mallorys, &server, &provider, "mallory");
    problem(&answer_of(mallorys.get(&callback, &provider)), 403, "oidc_no_role");
    assert!(mallorys.rats.get("rats_access").is_none());

    // A provider's answer carried into another browser (no pending sign-in there), and one with
    // its state changed: both refused.
    let mut victims = Browser::new();
    let mut attackers = Browser::new();
    let callback = to_callback(&mut attackers, &server, &provider, "bob");
    problem(&answer_of(victims.get(&callback, &provider)), 401, "oidc_state_mismatch");
    let forged = callback.replace("state=", "state=x");
    problem(&answer_of(attackers.get(&forged, &provider)), 401, "oidc_state_mismatch");
    problem(&server.get("/v1/auth/oidc/nobody/login"), 404, "not_found");

    let users = server.get("/v1/users");
    let names: Vec<&str> = users.body["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["name"].as_str())
        .collect();
    assert_eq!(names, ["alice", "bob", "tester"], "{}", users.body);
    let logged = events(&server);
    let count = |event: &str| logged.iter().filter(|e| *e == event).count();
    assert_eq!(count("user_created"), 2, "{logged:?}");
    assert_eq!(count("login"), 3, "{logged:?}");
    assert_eq!(count("oidc_login_failed"), 1, "mallory: {logged:?}");
    assert_eq!(count("oidc_state_mismatch"), 3, "{logged:?}");
}

#[test]
fn people_sign_in_with_an_openid_connect_provider_on_sqlite() {
    sign_in_with_the_provider(None);
}

#[test]
fn people_sign_in_with_an_openid_connect_provider_on_postgres() {
    sign_in_with_the_provider(Some(&postgres_database()));
}

#[test]
fn a_missing_client_secret_stops_the_server_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = "serve:\n  oidc:\n    providers:\n      - {name: corp, issuer: 'https://id.example', client_id: rats, client_secret_env: OIDC_TEST_UNSET_SECRET}\n";
    std::fs::write(dir.path().join("rats.yaml"), settings).expect("writes");
    let output = run(crate::support::rats(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0", "--lake"])
        .arg(Path::new("lake")));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("OIDC_TEST_UNSET_SECRET"), "{}", stderr(&output));
    let bad = "serve:\n  oidc:\n    providers:\n      - {name: Corp, issuer: 'https://id.example', client_id: rats}\n";
    std::fs::write(dir.path().join("rats.yaml"), bad).expect("writes");
    let output = run(crate::support::rats(dir.path()).args(["config", "show"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("provider name"), "{}", stderr(&output));
}
