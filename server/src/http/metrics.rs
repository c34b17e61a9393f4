//! `/metrics` in the Prometheus text format: the outbox backlog per store (from the database, so
//! every instance shows the same), and this process's relay counters and latencies.

use super::AppState;
use crate::db::outbox;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>) -> Response {
    let backlog = match outbox::backlog(state.payments.db()).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "metrics: cannot read the outbox backlog");
            return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response();
        }
    };
    let backlog: Vec<(String, i64, bool)> = backlog
        .into_iter()
        .map(|s| {
            let configured = s
                .rabbitmq_url
                .as_deref()
                .is_some_and(|u| !u.trim().is_empty())
                || state.events.has_default_url();
            (s.code, s.pending, configured)
        })
        .collect();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.events.render(&backlog),
    )
        .into_response()
}
