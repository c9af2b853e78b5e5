//! README's curl examples of the API, run as a user would run them: the block between
//! `<!-- api-examples:start -->` and `<!-- api-examples:end -->` goes to bash (`set -e`, and each
//! `curl -f` fails on an error status) against a real server on the fixture lake with title
//! families assigned, as an `api_user`, with an analyst's password and an admin's key, and a real
//! OpenID Connect provider named `corp` (the one of `tests/it/oidc.rs`). The block
//! must also name every route of the route table, so a new route needs its example.

use std::collections::BTreeSet;

use reqwest::Method;

use crate::accounts::add_with_password;
use crate::mail_server::MailServer;
use crate::oidc::Provider;
use crate::serve::{Server, private_copy, user_with_key};
use crate::support::{assign_title_families, free_port, repo, run, stderr};

/// The README's API examples.
fn examples() -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let start = readme.find("<!-- api-examples:start -->").expect("the start marker");
    let end = readme.find("<!-- api-examples:end -->").expect("the end marker");
    let block = &readme[start..end];
    let code = block.find("```sh\n").expect("a sh block") + "```sh\n".len();
    let close = block.rfind("```").expect("the block's end");
    block[code..close].to_string()
}

/// The `(method, path)` each curl line of `script` calls: `-X METHOD`, else POST with `-d` or
/// `-F`, else GET; the path after `$base`, up to its query.
fn routes_called(script: &str) -> BTreeSet<(String, String)> {
    let mut called = BTreeSet::new();
    let mut line = String::new();
    for part in script.lines() {
        line.push_str(part.split(" # ").next().unwrap_or_default().trim_end_matches('\\'));
        if part.ends_with('\\') {
            continue;
        }
        if let Some(at) = line.find("curl ")
            && let Some(path_at) = line[at..].find("$base")
        {
            let rest = &line[at + path_at + "$base".len()..];
            let path: String = rest.chars().take_while(|c| !matches!(c, '"' | '?' | ' ')).collect();
            let method = if let Some(x) = line.find("-X ") {
                line[x + 3..].split_whitespace().next().unwrap_or_default().to_string()
            } else if line.contains(" -d ") || line.contains(" -F ") {
                "POST".to_string()
            } else {
                "GET".to_string()
            };
            called.insert((method, path));
        }
        line.clear();
    }
    called
}

/// Whether `path` (`/v1/jobs/$posting`, `/v1/skills/python`) is a call of the route template
/// `route` (`/v1/jobs/{posting_key}`): a `{parameter}` segment takes any one segment.
fn fits(route: &str, path: &str) -> bool {
    let (route, path): (Vec<&str>, Vec<&str>) = (route.split('/').collect(), path.split('/').collect());
    route.len() == path.len() && route.iter().zip(&path).all(|(r, p)| r.starts_with('{') || r == p)
}

#[test]
fn the_readme_calls_every_route_with_curl_and_each_call_succeeds() {
    let script = examples();
    let table: Vec<(String, &str)> = rats::serve::access::TABLE
        .iter()
        .map(|(method, route, _)| (method.to_string(), *route))
        .collect();
    let called = routes_called(&script);
    let calls = |(method, route): &(String, &str)| called.iter().any(|(m, path)| m == method && fits(route, path));
    let missing: Vec<_> = table.iter().filter(|r| !calls(r)).collect();
    assert!(missing.is_empty(), "README has no curl example for {missing:?}");
    let unknown: Vec<_> = called
        .iter()
        .filter(|(m, path)| !table.iter().any(|(method, route)| m == method && fits(route, path)))
        .collect();
    assert!(unknown.is_empty(), "README calls routes the server does not have: {unknown:?}");
    assert!(called.contains(&(Method::DELETE.to_string(), "/v1/keys/$(echo".into())));

    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), true);
    assign_title_families(&lake);
    let db = format!("sqlite://{}", dir.path().join("accounts.sqlite").display());
    // The examples' provider `corp`: the real one of the OIDC test.
    let provider_port = free_port();
    // A real mail server, so that a saved search may mail (the examples' round is an hour away).
    let mail = MailServer::start(dir.path());
    let settings = format!(
        "serve:\n  oidc:\n    providers:\n      - {{name: corp, issuer: 'http://127.0.0.1:{provider_port}', client_id: rats, client_secret: rats-test-secret, default_role: api_user}}\nsmtp:\n  url: \"smtp://localhost:{}?tls=required\"\n",
        mail.port
    );
    std::fs::write(dir.path().join("rats.yaml"), settings).expect("writes rats.yaml");
    let server = Server::start_on(dir.path(), &lake, &models, &["--open-registration"], Some(&db));
    let callback = format!("{}/v1/auth/oidc/corp/callback", server.base);
    let _provider = Provider::start(provider_port, &callback, &dir.path().join("provider.log"));
    let admin = user_with_key(dir.path(), &lake, Some(&db), "root", "admin");
    let api_user = user_with_key(dir.path(), &lake, Some(&db), "scripts", "api_user");
    add_with_password(dir.path(), &db, "ada", "analyst", "a long passphrase");
    server.wait_until("ready", |s| s.get("/ready").status == 200);

    let work = tempfile::tempdir().expect("tempdir");
    // The examples read the résumé from the repository, as they would in a clone, and write
    // their downloads into a folder of their own.
    let script = script.replace("fixtures/resumes/", &format!("{}/fixtures/resumes/", repo().display()));
    let output = run(std::process::Command::new("bash")
        .args(["-xeuo", "pipefail", "-c", &script])
        .current_dir(work.path())
        .env("API_URL", &server.base)
        .env("KEY", &api_user)
        .env("ADMIN_KEY", &admin)
        .env("PASSWORD", "a long passphrase"));
    assert!(
        output.status.success(),
        "the README's examples failed: {}\nstdout:\n{}",
        stderr(&output),
        String::from_utf8_lossy(&output.stdout)
    );
    let openapi = std::fs::read_to_string(work.path().join("openapi.json")).expect("openapi.json written");
    assert!(openapi.contains("\"openapi\""), "{openapi}");
}
