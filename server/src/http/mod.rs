//! The till API's HTTP surface, with one `AppState`: payments and refunds (`till_api`), their QR
//! images (`qr_outputs`), bank callbacks, the customer page, health, metrics and the OpenAPI document;
//! `errors` turns `payments::Error` into the till API's error contract. The console's routes
//! are in `console`.

pub mod callbacks;
pub mod cash_link;
pub mod customer_page;
pub mod errors;
pub mod health;
pub mod json;
pub mod language;
pub mod metrics;
pub mod params;
pub mod qr_outputs;
pub mod static_qr;
pub mod till_api;

use crate::auth::till_key::HasDb;
use crate::db::Db;
use crate::error::{ApiError, ErrorCode};
use crate::payments::PaymentService;
use axum::Router;
use axum::http::{HeaderName, Request};
use axum::routing::get;
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

#[derive(Clone)]
pub struct AppState {
    pub payments: Arc<PaymentService>,
    /// Rendered QR images (PNG, SVG, ESC/POS) per payment.
    pub qr_cache: Arc<crate::qr::cache::QrCache>,
    /// The outbox relay's broker states and counters, for `/readyz` and `/metrics`.
    pub events: Arc<crate::events::EventsMonitor>,
}

impl HasDb for AppState {
    fn db(&self) -> &Db {
        self.payments.db()
    }
}

/// The API part of the application (till API, health, OpenAPI), with its state applied.
pub fn api_router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let sandbox = !state.payments.production();
    Router::new()
        .merge(till_api::router(sandbox))
        .merge(static_qr::router(sandbox))
        .merge(callbacks::router())
        .merge(health::router())
        .merge(customer_page::router())
        .merge(cash_link::router())
        .route("/api/v1/openapi.json", get(|| async { axum::Json(openapi()) }))
        .route("/api/{*rest}", axum::routing::any(|| async { api_not_found() }))
        .method_not_allowed_fallback(|| async {
            ApiError::new(ErrorCode::MethodNotAllowed, "this route does not take that method")
        })
        .with_state(state)
        .layer(axum::middleware::from_fn(language::error_language))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                // The path stays percent-encoded; the request id is the client's: quoted. `till` and
                // `store` are filled in once the till's key is checked.
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %crate::telemetry::quoted(id), till = tracing::field::Empty, store = tracing::field::Empty)
            }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// The operations router (`/readyz`, `/metrics`, `/healthz`), served on its own address
/// (`QRPAY_OPS_LISTEN`, loopback by default): what it tells (store codes, backlogs, broker
/// states) is for the operator's monitoring, not for the internet.
pub fn ops_router(state: AppState) -> Router {
    Router::new()
        .merge(health::ops_router())
        .merge(metrics::router())
        .with_state(state)
        .layer(axum::middleware::from_fn(language::error_language))
}

fn api_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "no such API route; see /api/v1/openapi.json",
    )
}

/// The OpenAPI document, generated from the handlers and types so it cannot drift.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = till_api::ApiDoc::openapi();
    doc.merge(callbacks::CallbacksDoc::openapi());
    doc.merge(qr_outputs::QrOutputsDoc::openapi());
    doc.merge(static_qr::StaticQrDoc::openapi());
    doc
}
