//! Liveness and readiness.
//!
//! `/readyz` needs the database (503 without it) and reports each store's broker as the outbox
//! relay last saw it, without making readiness depend on it: a broker outage only delays events
//! (they wait in the outbox), so taking qrpay out of a load balancer for it would stop tills
//! taking payments for nothing.

use super::AppState;
use crate::db::{Db, read};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

/// `/healthz`, on the public address (load balancers and tills may ask it).
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(|| async { "ok" }))
}

/// `/readyz` (it names stores and broker states), on the operations address only.
pub fn ops_router() -> Router<AppState> {
    router().route("/readyz", get(ready))
}

async fn ping(db: &Db) -> Result<i64, sqlx::Error> {
    read!(db, |c| sqlx::query_scalar::<_, i64>(
        "select cast(1 as bigint)"
    )
    .fetch_one(c)
    .await)
}

async fn ready(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let db = state.payments.db();
    let broker = json!({
        "relay": if state.events.relay_running() { "running" } else { "off" },
        "stores": state.events.brokers(),
    });
    match ping(db).await {
        Ok(_) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "database": db.backend_name(), "broker": broker})),
        ),
        Err(e) => {
            tracing::error!(error = %e, "readiness: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "not ready", "database": "unreachable", "broker": broker})),
            )
        }
    }
}
