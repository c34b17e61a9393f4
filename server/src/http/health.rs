//! Liveness and readiness.

use super::AppState;
use crate::db::{Db, read};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
}

async fn ping(db: &Db) -> Result<i64, sqlx::Error> {
    read!(db, |c| sqlx::query_scalar::<_, i64>("select 1")
        .fetch_one(c)
        .await)
}

async fn ready(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let db = state.payments.db();
    match ping(db).await {
        Ok(_) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "database": db.backend_name()})),
        ),
        Err(e) => {
            tracing::error!(error = %e, "readiness: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "not ready", "database": "unreachable"})),
            )
        }
    }
}
