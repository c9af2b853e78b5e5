//! Who may call what: the one table of route × role, enforced in one place ([`authorize`])
//! for every route. A route missing from the table is refused to everyone, so a new route is
//! closed until it is listed here; `tests/it/accounts.rs` walks every route with every role
//! and with no credentials.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::accounts::keys::looks_like_key;
use crate::accounts::secrets::same_bytes;
use crate::accounts::tiers::Tier;
use crate::accounts::{Role, User};

use super::cookies;
use super::extract::client_address;
use super::limits::Decision;
use super::problem::{Problem, internal};
use super::state::AppState;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Signed-in users with one of these roles.
    Roles(&'static [Role]),
}

const EVERY_ROLE: Access = Access::Roles(&[Role::Admin, Role::Analyst, Role::ApiUser]);
const ADMIN: Access = Access::Roles(&[Role::Admin]);

/// Method, route pattern, access. The README's route × role table is this table.
pub const TABLE: &[(Method, &str, Access)] = &[
    (Method::GET, "/health", Access::Public),
    (Method::GET, "/ready", Access::Public),
    (Method::GET, "/metrics", Access::Public),
    (Method::GET, "/openapi.json", Access::Public),
    (Method::GET, "/docs", Access::Public),
    (Method::POST, "/v1/auth/login", Access::Public),
    (Method::POST, "/v1/auth/register", Access::Public),
    (Method::POST, "/v1/auth/refresh", Access::Public),
    (Method::POST, "/v1/auth/logout", Access::Public),
    (Method::GET, "/v1/auth/providers", Access::Public),
    (Method::GET, "/v1/auth/oidc/{provider}/login", Access::Public),
    (Method::GET, "/v1/auth/oidc/{provider}/callback", Access::Public),
    (Method::GET, "/v1/me", EVERY_ROLE),
    (Method::PATCH, "/v1/me", EVERY_ROLE),
    (Method::POST, "/v1/predict/salary", EVERY_ROLE),
    (Method::POST, "/v1/match/jobs", EVERY_ROLE),
    (Method::GET, "/v1/jobs", EVERY_ROLE),
    (Method::GET, "/v1/jobs/{posting_key}", EVERY_ROLE),
    (Method::GET, "/v1/stats/overview", EVERY_ROLE),
    (Method::GET, "/v1/stats/salary", EVERY_ROLE),
    (Method::GET, "/v1/stats/postings", EVERY_ROLE),
    (Method::GET, "/v1/stats/skills", EVERY_ROLE),
    (Method::GET, "/v1/skills", EVERY_ROLE),
    (Method::GET, "/v1/skills/{skill_id}", EVERY_ROLE),
    (Method::GET, "/v1/companies", EVERY_ROLE),
    (Method::GET, "/v1/stream", EVERY_ROLE),
    (Method::GET, "/v1/models", EVERY_ROLE),
    (Method::GET, "/v1/keys", EVERY_ROLE),
    (Method::POST, "/v1/keys", EVERY_ROLE),
    (Method::DELETE, "/v1/keys/{key_id}", EVERY_ROLE),
    (Method::GET, "/v1/searches", EVERY_ROLE),
    (Method::POST, "/v1/searches", EVERY_ROLE),
    (Method::GET, "/v1/searches/{search_id}", EVERY_ROLE),
    (Method::PATCH, "/v1/searches/{search_id}", EVERY_ROLE),
    (Method::DELETE, "/v1/searches/{search_id}", EVERY_ROLE),
    (Method::GET, "/v1/searches/{search_id}/jobs", EVERY_ROLE),
    (Method::GET, "/v1/users", ADMIN),
    (Method::PATCH, "/v1/users/{user_name}", ADMIN),
    (Method::GET, "/v1/audit", ADMIN),
];

/// The access rule of a route; `None` (refused) for one not in the table.
pub fn access_of(method: &Method, route: &str) -> Option<Access> {
    // HEAD is answered by the GET route.
    let method = if method == Method::HEAD { &Method::GET } else { method };
    TABLE
        .iter()
        .find(|(m, r, _)| m == method && *r == route)
        .map(|(_, _, access)| *access)
}

/// The signed-in caller of a request, for handlers (`Extension<Caller>`).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    /// The API key used, when it was one.
    pub key_id: Option<i64>,
}

/// Inside the router (the matched route is known): finds the caller from the bearer
/// credential, spends one request of the caller's rate-limit budget on `/v1` routes (429 when
/// none is left), then lets the request through, or answers 401 (no or bad credentials) or 403
/// (a role the route does not allow). Refusals of presented credentials are audited, and every
/// `/v1` answer carries the `RateLimit-*` headers of the budget it spent.
pub async fn authorize(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let client = client_address(request.extensions());
    // The dashboard's pages are open: they send a person without a session to sign in.
    let page = crate::web::is_page(request.method(), &route);
    let Some(access) = access_of(request.method(), &route).or(page.then_some(Access::Public)) else {
        return Problem::forbidden("route_not_open", "this route is not open to any role").into_response();
    };
    // A page's form cannot send a header: it echoes the CSRF token in its address instead.
    let echo_in_query = page.then(|| csrf_in_query(request.uri().query())).flatten();
    let credential = Credential::of(request.headers(), request.method(), echo_in_query);
    let caller = match caller_of(&state, credential, &route, client.as_deref()).await {
        // A page with an expired or foreign session cookie is shown as to a person signed out
        // (the sign-in page), not answered with a problem document.
        Err(_) if page => Ok(None),
        caller => caller,
    };
    // The API, and the pages that do what an API route does (signing in, matching a CV,
    // downloading a table), spend the caller's rate budget; the other pages only read what the
    // snapshot already holds.
    // A page's table downloaded as a file (`format=…`) is an API call by another address.
    let page_download = page
        && request.method() == Method::GET
        && request
            .uri()
            .query()
            .is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(name, _)| name == "format"));
    let budget = if route.starts_with("/v1/") || page_download || (crate::web::spends_budget(&route) && request.method() == Method::POST) {
        let known = caller.as_ref().ok().and_then(Option::as_ref);
        match spend(&state, &route, known, client.as_deref()).await {
            Ok(decision) => Some(decision),
            Err(refused) => {
                let retry_after = refused.retry_after.unwrap_or(1);
                let answer = if page {
                    crate::web::too_many_requests(&state, &route, retry_after)
                } else {
                    Problem::rate_limited(retry_after).into_response()
                };
                return with_rate_headers(answer, refused);
            }
        }
    } else {
        None
    };
    let response = match caller {
        Err(problem) => problem.into_response(),
        Ok(caller) => match admit(&state, access, caller, &route, client.as_deref(), request.method()).await {
            Err(problem) => problem.into_response(),
            Ok(caller) => {
                if let Some(caller) = caller {
                    request.extensions_mut().insert(caller);
                }
                next.run(request).await
            }
        },
    };
    match budget {
        Some(decision) => with_rate_headers(response, decision),
        None => response,
    }
}

/// The caller when the route's access rule lets them in; 401 or 403 (audited) otherwise.
async fn admit(
    state: &AppState,
    access: Access,
    caller: Option<Caller>,
    route: &str,
    client: Option<&str>,
    method: &Method,
) -> Result<Option<Caller>, Problem> {
    let Access::Roles(roles) = access else {
        return Ok(caller);
    };
    let Some(caller) = caller else {
        return Err(Problem::unauthenticated(
            "unauthenticated",
            "send an access token or an API key as `Authorization: Bearer …`",
        ));
    };
    if !roles.contains(&caller.user.role) {
        let detail = format!("role {} may not use {method} {route}", caller.user.role);
        state
            .accounts
            .audit("denied", Some(caller.user.id), Some(route), client, &detail)
            .await;
        return Err(Problem::forbidden("forbidden", detail));
    }
    Ok(Some(caller))
}

/// Sign-in (with a password or a provider) and sign-up: a tighter budget per client address,
/// against password guessing and floods of provider round trips.
const LOGIN_ROUTES: [&str; 5] = [
    "/login",
    "/v1/auth/login",
    "/v1/auth/register",
    "/v1/auth/oidc/{provider}/login",
    "/v1/auth/oidc/{provider}/callback",
];

/// Spends one request of the budget of the key, the user, or (without valid credentials) the
/// client address; sign-in routes spend the address's login budget too. `Err` with the refusing
/// decision when a budget is spent.
async fn spend(state: &AppState, route: &str, caller: Option<&Caller>, client: Option<&str>) -> Result<Decision, Decision> {
    let limits = &state.options.rate_limits;
    let address = client.unwrap_or("unknown");
    if LOGIN_ROUTES.contains(&route) {
        let decision = state.limiter.check(&format!("login:{address}"), limits.login).await;
        if !decision.allowed {
            state.metrics.rate_limited("login");
            return Err(decision);
        }
    }
    let (bucket, tier) = match caller {
        Some(caller) => (
            caller
                .key_id
                .map_or_else(|| format!("user:{}", caller.user.id), |key| format!("key:{key}")),
            caller.user.rate_tier(),
        ),
        None => (format!("ip:{address}"), Tier::Anonymous),
    };
    let decision = state.limiter.check(&bucket, limits.of(tier)).await;
    if decision.allowed {
        Ok(decision)
    } else {
        state.metrics.rate_limited(tier.as_str());
        Err(decision)
    }
}

/// `RateLimit-Limit` (the burst), `RateLimit-Remaining`, `RateLimit-Reset` (seconds until the
/// budget is whole again), as the IETF draft on rate-limit headers names them.
fn with_rate_headers(mut response: Response, decision: Decision) -> Response {
    let headers = response.headers_mut();
    headers.insert("ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(decision.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(decision.reset_seconds));
    response
}

/// What a request presents: a bearer token or key, or a browser's session cookie with the
/// CSRF token it echoed (needed when the request changes something).
enum Credential {
    None,
    Bearer(String),
    Cookie {
        access_token: String,
        csrf_echo: Option<String>,
        changes_state: bool,
    },
}

impl Credential {
    /// `Authorization: Bearer` first (scripts), else the session cookie (browsers), whose CSRF
    /// echo is the header or else (a page's form) `echo_in_query`.
    fn of(headers: &axum::http::HeaderMap, method: &Method, echo_in_query: Option<String>) -> Credential {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            return Credential::Bearer(bearer(value.to_str().unwrap_or_default()).to_string());
        }
        match cookies::cookie(headers, cookies::ACCESS) {
            Some(access_token) => Credential::Cookie {
                access_token,
                csrf_echo: headers
                    .get(cookies::CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
                    .or(echo_in_query),
                changes_state: cookies::changes_state(method),
            },
            None => Credential::None,
        }
    }
}

/// The `csrf` field of a query string.
fn csrf_in_query(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "csrf")
        .map(|(_, value)| value.into_owned())
}

/// The credential of an `Authorization: Bearer …` value (empty for any other scheme).
fn bearer(value: &str) -> &str {
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map_or("", str::trim)
}

/// The caller a credential names: `None` without one, 401 when it is malformed, forged,
/// expired, revoked, or names a disabled user, 403 when a cookie-authenticated request that
/// changes something lacks the session's CSRF token.
async fn caller_of(state: &AppState, credential: Credential, route: &str, client: Option<&str>) -> Result<Option<Caller>, Problem> {
    let accounts = &state.accounts;
    let refused = |event: &'static str, detail: String| async move {
        accounts.audit(event, None, Some(route), client, &detail).await;
        Problem::unauthenticated("invalid_credentials", detail)
    };
    let (token, csrf) = match credential {
        Credential::None => return Ok(None),
        Credential::Bearer(credential) if looks_like_key(&credential) => {
            let found = accounts
                .user_of_key(&credential)
                .await
                .map_err(|e| internal("checking an API key", &e))?;
            return match found {
                Some((user, key_id)) => Ok(Some(Caller {
                    user,
                    key_id: Some(key_id),
                })),
                None => Err(refused("bad_key", "the API key is unknown, revoked, or its user is disabled".into()).await),
            };
        }
        Credential::Bearer(token) => (token, None),
        Credential::Cookie {
            access_token,
            csrf_echo,
            changes_state,
        } => (access_token, changes_state.then_some(csrf_echo)),
    };
    let claims = match accounts.verify_access_token(&token) {
        Ok(claims) => claims,
        Err(error) => return Err(refused("bad_token", format!("access token refused: {error}")).await),
    };
    let user = match claims.sub.parse::<i64>() {
        Ok(id) => accounts.user_by_id(id).await.map_err(|e| internal("reading a user", &e))?,
        Err(_) => None,
    };
    let Some(user) = user.filter(User::is_active) else {
        return Err(refused("bad_token", "the token's user is disabled or gone".into()).await);
    };
    if let Some(echo) = csrf {
        let expected = accounts.csrf_token(&claims.sid);
        if !echo.is_some_and(|echo| same_bytes(echo.as_bytes(), expected.as_bytes())) {
            let detail = format!(
                "a cookie-authenticated request to {route} without the session's {} header",
                cookies::CSRF_HEADER
            );
            accounts.audit("csrf_failed", Some(user.id), Some(route), client, &detail).await;
            return Err(Problem::forbidden("csrf_failed", detail));
        }
    }
    Ok(Some(Caller { user, key_id: None }))
}
