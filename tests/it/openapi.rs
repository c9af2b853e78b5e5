//! `/openapi.json` and `/docs` against the server itself: the document is valid OpenAPI 3.1
//! (Python's `openapi-spec-validator`), a walk that calls every documented operation at least
//! once gets only documented statuses and media types, and each JSON answer validates against
//! its documented schema (Python's `jsonschema`, `tests/it/openapi_check.py`). The reference page
//! loads nothing from elsewhere.

use std::collections::BTreeSet;
use std::io::Write;

use reqwest::Method;
use serde_json::{Value, json};

use crate::accounts::add_with_password;
use crate::serve::{Answer, Server, private_copy, user_with_key};
use crate::support::{repo, run, stderr};

/// The answers of a walk, each with the route template it was sent to.
struct Walk<'a> {
    server: &'a Server,
    exchanges: Vec<Value>,
}

impl Walk<'_> {
    /// Sends `method path` (with `body` as JSON, and the admin's key unless `bearer` says
    /// otherwise: `Some("")` sends no credentials) and records the answer under `route`.
    fn send(&mut self, method: Method, route: &str, path: &str, body: Option<&Value>, bearer: Option<&str>) -> Answer {
        let url = format!("{}{path}", self.server.base);
        let name = method.to_string();
        let mut request = match bearer {
            None => self.server.client.request(method, url),
            Some(credential) => {
                let request = reqwest::blocking::Client::new().request(method, url);
                if credential.is_empty() {
                    request
                } else {
                    request.bearer_auth(credential)
                }
            }
        };
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = Server::answer(request);
        let content_type = answer.headers.get("content-type").and_then(|v| v.to_str().ok());
        // Only JSON answers are checked against a schema; the page and the metrics are text.
        let body = if content_type.is_some_and(|t| t.contains("json")) {
            answer.body.clone()
        } else {
            Value::Null
        };
        self.exchanges.push(json!({
            "method": name,
            "route": route,
            "status": answer.status,
            "content_type": content_type,
            "body": body,
        }));
        answer
    }

    fn get(&mut self, route: &str, path: &str) -> Answer {
        self.send(Method::GET, route, path, None, None)
    }
}

#[test]
fn the_document_is_valid_openapi_and_every_answer_of_a_full_walk_fits_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let db = format!("sqlite://{}", dir.path().join("accounts.sqlite").display());
    let server = Server::start_on(dir.path(), &lake, &models, &[], Some(&db));
    server.wait_until("ready", |s| s.get("/ready").status == 200);
    add_with_password(dir.path(), &db, "ada", "analyst", "a long passphrase");
    let api_user = user_with_key(dir.path(), &lake, Some(&db), "bob", "api_user");
    let mut walk = Walk {
        server: &server,
        exchanges: Vec::new(),
    };

    for route in ["/health", "/ready", "/metrics", "/openapi.json", "/docs"] {
        assert_eq!(walk.get(route, route).status, 200, "{route}");
    }
    let document = walk.get("/openapi.json", "/openapi.json").body;

    let posting = json!({"title": "Senior Data Engineer", "location": "San Francisco, CA", "skills": ["python"], "years_experience": 6});
    let salary = "/v1/predict/salary";
    assert_eq!(walk.send(Method::POST, salary, salary, Some(&posting), None).status, 200);
    assert_eq!(
        walk.send(Method::POST, salary, salary, Some(&json!({"postings": [posting]})), None)
            .status,
        200
    );
    assert_eq!(
        walk.send(Method::POST, salary, salary, Some(&json!({"title": ""})), None).status,
        422
    );
    let resume = json!({"resume": "Data engineer, six years of Python, SQL and Apache Spark on AWS.", "top": 3});
    assert_eq!(
        walk.send(Method::POST, "/v1/match/jobs", "/v1/match/jobs", Some(&resume), None)
            .status,
        200
    );

    let page = walk.get("/v1/jobs", "/v1/jobs?limit=2&sort=salary");
    assert_eq!(page.status, 200, "{}", page.body);
    let key = page.body["jobs"][0]["posting_key"].as_str().expect("a posting").to_string();
    let job = "/v1/jobs/{posting_key}";
    assert_eq!(walk.get(job, &format!("/v1/jobs/{key}")).status, 200);
    assert_eq!(walk.get(job, "/v1/jobs/no-such-posting").status, 404);
    assert_eq!(walk.get("/v1/jobs", "/v1/jobs?salary_min=lots").status, 422);
    for (route, query) in [
        ("/v1/stats/overview", ""),
        ("/v1/stats/salary", "?by=seniority"),
        ("/v1/stats/postings", "?by=month&split=remote_type"),
        ("/v1/stats/skills", "?limit=5"),
        ("/v1/skills", "?limit=3"),
        ("/v1/companies", "?limit=3"),
        ("/v1/companies", "?sort=long_open&offset=1&location=WA"),
        ("/v1/models", ""),
        ("/v1/me", ""),
        ("/v1/users", ""),
        ("/v1/audit", "?limit=5"),
    ] {
        let answer = walk.get(route, &format!("{route}{query}"));
        assert_eq!(answer.status, 200, "{route}: {}", answer.body);
    }
    // A stream that ends after its start, and one refused (the walk reads whole answers).
    assert_eq!(walk.get("/v1/stream", "/v1/stream?backlog=2&follow=false").status, 200);
    assert_eq!(walk.get("/v1/stream", "/v1/stream?backlog=5000").status, 422);
    assert_eq!(walk.get("/v1/skills/{skill_id}", "/v1/skills/python").status, 200);
    assert_eq!(walk.get("/v1/skills/{skill_id}", "/v1/skills/no-such-skill").status, 404);

    let made = walk.send(Method::POST, "/v1/keys", "/v1/keys", Some(&json!({"label": "walk"})), None);
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(walk.get("/v1/keys", "/v1/keys").status, 200);
    let revoke = format!("/v1/keys/{}", made.body["id"]);
    assert_eq!(walk.send(Method::DELETE, "/v1/keys/{key_id}", &revoke, None, None).status, 204);

    let user = "/v1/users/{user_name}";
    let premium = json!({"tier": "premium"});
    let changed = walk.send(Method::PATCH, user, "/v1/users/ada", Some(&premium), None);
    assert_eq!(
        (changed.status, &changed.body["user"]["tier"]),
        (200, &json!("premium")),
        "{}",
        changed.body
    );
    assert_eq!(walk.send(Method::PATCH, user, "/v1/users/nobody", Some(&premium), None).status, 404);
    assert_eq!(
        walk.send(Method::PATCH, user, "/v1/users/ada", Some(&json!({"tier": "admin"})), None)
            .status,
        422
    );

    let address = json!({"email": "walker@example.org"});
    let me = walk.send(Method::PATCH, "/v1/me", "/v1/me", Some(&address), None);
    assert_eq!((me.status, &me.body["user"]["email"]), (200, &address["email"]), "{}", me.body);
    assert_eq!(
        walk.send(Method::PATCH, "/v1/me", "/v1/me", Some(&json!({"email": "walker"})), None)
            .status,
        422
    );
    let removed = walk.send(Method::PATCH, "/v1/me", "/v1/me", Some(&json!({"email": null})), None);
    assert_eq!(removed.body["user"]["email"], Value::Null, "{}", removed.body);
    let ada = walk.send(
        Method::PATCH,
        user,
        "/v1/users/ada",
        Some(&json!({"email": "ada@example.org"})),
        None,
    );
    assert_eq!(ada.body["user"]["email"], "ada@example.org", "{}", ada.body);

    let search = json!({"name": "remote data", "filter": {"title": "data"}, "sort": "salary"});
    let saved = walk.send(Method::POST, "/v1/searches", "/v1/searches", Some(&search), None);
    assert_eq!(saved.status, 201, "{}", saved.body);
    assert_eq!(
        walk.send(Method::POST, "/v1/searches", "/v1/searches", Some(&search), None).status,
        422
    );
    assert_eq!(walk.get("/v1/searches", "/v1/searches").status, 200);
    let one = format!("/v1/searches/{}", saved.body["id"]);
    assert_eq!(walk.get("/v1/searches/{search_id}", &one).status, 200);
    assert_eq!(
        walk.get("/v1/searches/{search_id}/jobs", &format!("{one}/jobs?limit=2")).status,
        200
    );
    let no_mail = walk.send(
        Method::PATCH,
        "/v1/searches/{search_id}",
        &one,
        Some(&json!({"email": false})),
        None,
    );
    assert_eq!((no_mail.status, &no_mail.body["email"]), (200, &json!(false)), "{}", no_mail.body);
    let mail = walk.send(Method::PATCH, "/v1/searches/{search_id}", &one, Some(&json!({"email": true})), None);
    assert_eq!(mail.status, 422, "this walk's server has no mail server: {}", mail.body);
    assert_eq!(walk.send(Method::DELETE, "/v1/searches/{search_id}", &one, None, None).status, 204);
    assert_eq!(walk.get("/v1/searches/{search_id}", &one).status, 404);

    let login = "/v1/auth/login";
    let wrong = json!({"username": "ada", "password": "not it"});
    assert_eq!(walk.send(Method::POST, login, login, Some(&wrong), Some("")).status, 401);
    let right = json!({"username": "ada", "password": "a long passphrase"});
    let session = walk.send(Method::POST, login, login, Some(&right), Some(""));
    assert_eq!(session.status, 200, "{}", session.body);
    let refresh = json!({"refresh_token": session.body["refresh_token"]});
    let rotated = walk.send(Method::POST, "/v1/auth/refresh", "/v1/auth/refresh", Some(&refresh), Some(""));
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let logout = json!({"refresh_token": rotated.body["refresh_token"]});
    assert_eq!(
        walk.send(Method::POST, "/v1/auth/logout", "/v1/auth/logout", Some(&logout), Some(""))
            .status,
        204
    );
    // No provider is configured here (tests/it/oidc.rs signs in through a real one).
    assert_eq!(walk.get("/v1/auth/providers", "/v1/auth/providers").status, 200);
    let oidc_login = "/v1/auth/oidc/{provider}/login";
    assert_eq!(walk.get(oidc_login, "/v1/auth/oidc/corp/login?next=/").status, 404);
    let callback = "/v1/auth/oidc/{provider}/callback";
    assert_eq!(walk.get(callback, "/v1/auth/oidc/corp/callback?code=c&state=s").status, 404);
    let register = "/v1/auth/register";
    assert_eq!(walk.send(Method::POST, register, register, Some(&right), Some("")).status, 403);
    assert_eq!(walk.send(Method::GET, "/v1/jobs", "/v1/jobs", None, Some("")).status, 401);
    assert_eq!(
        walk.send(Method::GET, "/v1/users", "/v1/users", None, Some(api_user.as_str()))
            .status,
        403
    );

    // Every operation the document names was called at least once.
    let called: BTreeSet<(String, String)> = walk
        .exchanges
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap_or_default().to_string(),
                e["route"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let documented: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(route, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .map(|method| (method.to_ascii_uppercase(), route.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        documented.difference(&called).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "operations the walk did not call"
    );

    let document_file = dir.path().join("openapi.json");
    std::fs::write(&document_file, document.to_string()).expect("writes the document");
    let exchanges_file = dir.path().join("exchanges.jsonl");
    let mut lines = std::fs::File::create(&exchanges_file).expect("creates");
    for exchange in &walk.exchanges {
        writeln!(lines, "{exchange}").expect("writes");
    }
    let checked = std::process::Command::new("python3")
        .arg(repo().join("tests/it/openapi_check.py"))
        .arg(&document_file)
        .arg(&exchanges_file)
        .output()
        .expect("python3 runs");
    assert!(
        checked.status.success(),
        "answers that do not fit the document:\n{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[test]
fn the_reference_page_reads_the_document_and_may_reach_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &[]);
    let page = Server::answer(reqwest::blocking::Client::new().get(format!("{}/docs", server.base)));
    assert_eq!(page.status, 200);
    let policy = page
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"),
        "{policy}"
    );
    let html = page.body.as_str().expect("HTML text");
    assert!(html.contains("fetch(\"/openapi.json\")"), "the page reads the document");
    for outside in ["http://", "https://", "//cdn", "src=\""] {
        assert!(!html.contains(outside), "the page refers to {outside}");
    }
}

/// `/docs` in a real browser (Debian chromium through playwright-core, `tests/node/docs-page.mjs`):
/// every operation of the document rendered with its link, and "Try it" answering with the key a
/// person types — with no script error, no refused request, and nothing fetched from elsewhere
/// (the page's content security policy is in force).
#[test]
fn the_reference_page_works_in_a_real_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lake, models) = private_copy(dir.path(), false);
    let server = Server::start(dir.path(), &lake, &models, &[]);
    let key = user_with_key(dir.path(), &lake, None, "browser", "analyst");
    let output = run(std::process::Command::new("node")
        .arg(repo().join("tests/node/docs-page.mjs"))
        .args([&server.base, &key]));
    assert!(output.status.success(), "the browser: {}", stderr(&output));
    let seen: Value = serde_json::from_slice(&output.stdout).expect("the page's report");
    assert_eq!(seen["problems"], json!([]), "{seen}");
    assert_eq!(seen["origins"], json!([server.base]), "only this server is reached");
    assert_eq!(seen["title"], format!("rats {}", env!("CARGO_PKG_VERSION")));

    let document = server.get("/openapi.json").body;
    let mut expected: Vec<String> = document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("a path item").values())
        .map(|operation| operation["operationId"].as_str().expect("an id").to_string())
        .collect();
    expected.sort();
    let mut rendered: Vec<String> = serde_json::from_value(seen["operations"].clone()).expect("ids");
    rendered.sort();
    assert_eq!(rendered, expected, "every operation is on the page once");
    let links: Vec<String> = serde_json::from_value(seen["links"].clone()).expect("links");
    assert_eq!(links.len(), expected.len());
    assert!(
        links
            .iter()
            .all(|link| expected.contains(&link.trim_start_matches('#').to_string()))
    );

    let me = seen["me"]["shown"].as_str().expect("an answer");
    assert!(me.starts_with("200 ") && me.contains("\"name\": \"browser\""), "{me}");
    assert_eq!(
        seen["salary"]["proposed"],
        json!({"title": ""}),
        "the page proposes the required fields"
    );
    let salary = seen["salary"]["shown"].as_str().expect("an answer");
    assert!(salary.starts_with("200 ") && salary.contains("\"estimate\""), "{salary}");
}
