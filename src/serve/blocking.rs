//! Work moved off the async threads (model inference, lake reads, document parsing) runs on
//! tokio's blocking pool inside the caller's span, so the spans it opens join the request's
//! trace instead of starting traces of their own.

use tokio::task::JoinError;

/// `work` on the blocking pool, in the current span.
pub async fn in_current_span<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, JoinError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work)).await
}
