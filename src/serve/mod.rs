//! `rats serve`: the lake and the models on the network, as a JSON API on axum.
//!
//! One process holds the models in use and a snapshot of the lake in memory ([`state`]),
//! refreshes both when the registry or the lake moves (polling, and at once on SIGHUP), and
//! answers every route from them. Lake reads and model inference run on tokio's blocking pool,
//! never on the executor. Errors are RFC 9457 problem documents ([`problem`]); every request
//! gets an id, a log line and its metrics ([`observe`]); API routes pass a concurrency gate
//! and a time limit. SIGTERM and SIGINT stop accepting connections, let requests in flight
//! finish, and exit 0.

pub mod access;
pub mod alerts;
pub mod blocking;
pub mod companies;
pub mod cookies;
pub mod cors;
pub mod download;
pub mod extract;
pub mod filter;
pub mod limits;
pub mod live;
pub mod market;
pub mod matching_side;
pub mod metrics;
pub mod models;
pub mod observe;
pub mod oidc;
pub mod openapi;
pub mod problem;
pub mod redis;
pub mod redis_link;
pub mod routes;
pub mod shared_cache;
pub mod shared_limits;
pub mod state;
pub mod tls;
pub mod ttl_cache;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::{delete, get, patch, post};

use extract::BodyLimit;
use problem::Problem;
use state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {message}")]
    Bind { addr: SocketAddr, message: String },
    #[error("model: {0}")]
    Model(String),
    #[error("lake: {0}")]
    Lake(String),
    /// Silver gained a version while it was being read; the read starts again.
    #[error("the lake changed while it was being read")]
    LakeMoved,
    #[error("server: {0}")]
    Io(String),
    #[error("TLS: {0}")]
    Tls(String),
}

/// Every route, with its middleware: outermost the request's id, log line and metrics, then
/// the cross-origin guard ([`cors`]); for matched routes the route label, then who is calling and whether their role may
/// ([`access`]), then for `/v1` the concurrency gate and time limit, and a list as a file when
/// asked for one ([`download`]).
pub fn router(state: Arc<AppState>) -> Router {
    let body_limit = state.options.body_limit;
    let upload_limit = state.options.upload_limit;
    let api = Router::new()
        .route("/v1/predict/salary", post(routes::salary::predict))
        .route(
            "/v1/match/jobs",
            post(routes::matching::match_jobs)
                .layer::<_, std::convert::Infallible>(DefaultBodyLimit::max(upload_limit))
                .layer::<_, std::convert::Infallible>(axum::Extension(BodyLimit(upload_limit))),
        )
        .route("/v1/jobs", get(routes::jobs::list))
        .route("/v1/jobs/{posting_key}", get(routes::jobs::detail))
        .route("/v1/stats/overview", get(routes::stats::overview))
        .route("/v1/stats/salary", get(routes::stats::salary))
        .route("/v1/stats/postings", get(routes::stats::postings))
        .route("/v1/stats/skills", get(routes::stats::skills))
        .route("/v1/skills", get(routes::catalog::skills))
        .route("/v1/skills/{skill_id}", get(routes::catalog::skill))
        .route("/v1/companies", get(routes::catalog::companies))
        .route("/v1/models", get(routes::system::models))
        .route("/v1/me", get(routes::auth::me).patch(routes::auth::update_me))
        .route("/v1/keys", get(routes::keys::list).post(routes::keys::create))
        .route("/v1/keys/{key_id}", delete(routes::keys::revoke))
        .route("/v1/searches", get(routes::searches::list).post(routes::searches::create))
        .route(
            "/v1/searches/{search_id}",
            get(routes::searches::show)
                .patch(routes::searches::update)
                .delete(routes::searches::delete),
        )
        .route("/v1/searches/{search_id}/jobs", get(routes::searches::run))
        .route("/v1/users", get(routes::admin::users))
        .route("/v1/users/{user_name}", patch(routes::admin::update_user))
        .route("/v1/audit", get(routes::admin::audit))
        .route("/v1/auth/login", post(routes::auth::login))
        .route("/v1/auth/register", post(routes::auth::register))
        .route("/v1/auth/refresh", post(routes::auth::refresh))
        .route("/v1/auth/logout", post(routes::auth::logout))
        .route("/v1/auth/providers", get(routes::oidc::providers))
        .route("/v1/auth/oidc/{provider}/login", get(routes::oidc::login))
        .route("/v1/auth/oidc/{provider}/callback", get(routes::oidc::callback))
        // Innermost, so a list's download waits its turn at the gate and within the time limit.
        .route_layer(axum::middleware::from_fn(download::download))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), observe::limit));
    // A stream lasts as long as its client: no turn at the gate, no time limit.
    let streams = Router::new().route("/v1/stream", get(live::stream::stream));
    let operations = Router::new()
        .route("/health", get(routes::system::health))
        .route("/ready", get(routes::system::ready))
        .route("/metrics", get(routes::system::metrics))
        .route("/openapi.json", get(openapi::json_answer))
        .route("/docs", get(openapi::docs_answer));
    api.merge(streams)
        .merge(operations)
        .merge(crate::web::routes(upload_limit))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), access::authorize))
        .route_layer(axum::middleware::from_fn(observe::label_route))
        .fallback(|| async { Problem::not_found("no such route; the API's routes start with /v1/") })
        .method_not_allowed_fallback(|| async { Problem::method_not_allowed().into_response() })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::Extension(BodyLimit(body_limit)))
        .layer(axum::middleware::from_fn_with_state(state.clone(), cors::guard))
        // gzip for clients that accept it, except the live stream (its events would wait in the
        // compressor), images and answers under 32 bytes (tower-http's default predicate).
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::observe))
        .with_state(state)
}

/// Where the server listens: plain HTTP, or HTTPS with rustls.
pub enum Listening {
    Plain(tokio::net::TcpListener),
    Tls(tls::TlsListener),
}

/// Serves on `listening` until SIGTERM or SIGINT, then lets requests in flight finish. Models
/// and lake are loaded in the background: `/health` answers at once, `/ready` once they are.
pub async fn serve(listening: Listening, state: Arc<AppState>) -> Result<(), ServeError> {
    use axum::serve::ListenerExt;
    let refresher = tokio::spawn(keep_fresh(state.clone()));
    let follower = tokio::spawn(follow_lake(state.clone()));
    let stopping = state.clone();
    let stopped = async move {
        stop_signal().await;
        // Live streams never end by themselves: end them so their connections drain.
        stopping.stopping.send_replace(true);
    };
    let reporter = state
        .options
        .report_schedules
        .clone()
        .map(|config| tokio::spawn(send_due_reports(config)));
    let alerter = state
        .options
        .alert_mail
        .clone()
        .map(|config| tokio::spawn(alerts::mail_alerts(state.clone(), config)));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = match listening {
        Listening::Plain(tcp) => {
            // Small JSON answers go out at once rather than waiting for Nagle's algorithm.
            let tcp = tcp.tap_io(|stream| {
                let _ = stream.set_nodelay(true);
            });
            axum::serve(tcp, app).with_graceful_shutdown(stopped).await
        }
        // The TLS listener sets no-delay before the handshake.
        Listening::Tls(tls) => axum::serve(tls.tap_io(|_| ()), app).with_graceful_shutdown(stopped).await,
    };
    refresher.abort();
    follower.abort();
    for task in [reporter, alerter].into_iter().flatten() {
        task.abort();
    }
    served.map_err(|e| ServeError::Io(e.to_string()))
}

/// Sends the scheduled reports that are due, at start and then at the top of every minute, as
/// `rats report due` does from cron; the lake's lock and its deliveries table keep a report
/// from going out twice when both run (or several replicas do).
async fn send_due_reports(config: crate::report::due::DueConfig) {
    let config = Arc::new(config);
    loop {
        let pass = Arc::clone(&config);
        let rows = tokio::task::spawn_blocking(move || crate::report::due::run(&pass, chrono::Utc::now(), false)).await;
        match rows {
            Ok(Ok(rows)) => {
                for row in rows.iter().filter(|r| r.status == crate::report::due::DueStatus::Sent) {
                    tracing::info!(target: "rats::serve", schedule = row.schedule.id(), to = %row.schedule.to.join(", "), "report sent");
                }
            }
            Ok(Err(error)) => tracing::warn!(target: "rats::serve", %error, "the report schedules were not run"),
            Err(error) => tracing::error!(target: "rats::serve", %error, "the report schedules' pass stopped"),
        }
        let seconds_into_minute = chrono::Utc::now().timestamp().rem_euclid(60);
        tokio::time::sleep(std::time::Duration::from_secs(60 - u64::try_from(seconds_into_minute).unwrap_or(0))).await;
    }
}

/// Refreshes models and lake at start, every `refresh_every`, on SIGHUP, and when the live
/// feed sees a new commit.
async fn keep_fresh(state: Arc<AppState>) {
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    loop {
        state::refresh(&state).await;
        let hung_up = async {
            match hangup.as_mut() {
                Some(hangup) => hangup.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = tokio::time::sleep(state.options.refresh_every) => {}
            () = state.lake_moved.notified() => {}
            _ = hung_up => tracing::info!(target: "rats::serve", "SIGHUP: checking the registry and the lake now"),
        }
    }
}

/// Follows silver's log for the live feed every [`live::FOLLOW_EVERY`]; a failed pass is
/// logged once until one works again.
async fn follow_lake(state: Arc<AppState>) {
    let mut failing = None;
    loop {
        let worker = state.clone();
        let pass = tokio::task::spawn_blocking(move || worker.feed.catch_up(worker.market().as_deref(), worker.extractor.taxonomy()))
            .await
            .unwrap_or_else(|e| Err(ServeError::Lake(format!("the live feed's pass panicked: {e}"))));
        match pass {
            Ok(moved) => {
                if moved {
                    state.lake_moved.notify_one();
                }
                failing = None;
            }
            Err(error) => {
                let message = error.to_string();
                if failing.as_ref() != Some(&message) {
                    tracing::warn!(target: "rats::serve", %message, "the live feed cannot follow the lake's log");
                    failing = Some(message);
                }
            }
        }
        tokio::time::sleep(live::FOLLOW_EVERY).await;
    }
}

async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!(target: "rats::serve", "stopping: finishing the requests in flight");
}

/// Binds `addr` (port 0 picks a free port) and returns the listener and the address it got.
pub async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| ServeError::Bind {
        addr,
        message: e.to_string(),
    })?;
    let local = listener.local_addr().map_err(|e| ServeError::Io(e.to_string()))?;
    Ok((listener, local))
}
