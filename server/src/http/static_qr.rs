//! The sandbox customer of a static QR: `POST /api/v1/sandbox/static-qrs/{id}/pay` pays one of
//! the till's store's sandbox static QRs (the amount typed when the QR has none), as the bank
//! would report it: a new paid test payment. Not in production mode.

use super::AppState;
use super::params::ApiPath;
use crate::auth::till_key::AuthenticatedTill;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::payments::view::PaymentView;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;

pub fn router(sandbox: bool) -> Router<AppState> {
    if sandbox {
        Router::new().route(
            "/api/v1/sandbox/static-qrs/{id}/pay",
            post(sandbox_pay_static),
        )
    } else {
        Router::new()
    }
}

/// What the customer pays.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayStaticBody {
    /// Kopecks; required when the QR has no fixed amount, and equal to it when it has.
    pub amount: Option<i64>,
}

#[utoipa::path(
    post, path = "/api/v1/sandbox/static-qrs/{id}/pay", tag = "sandbox",
    params(("id" = i64, Path, description = "the static QR's id (console «Статические QR», `qrpay static-qr list`)")),
    request_body(content = PayStaticBody, description = "optional"),
    responses((status = 200, description = "the new paid test payment (sandbox static QRs only)", body = PaymentView), (status = 400, description = "the body is not the JSON described (invalid_json)", body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, description = "a field is invalid", body = ErrorBody), (status = 404, description = "no such static QR in the till's store, or production mode (no such route)", body = ErrorBody), (status = 409, description = "not a sandbox QR, deactivated, or a wrong amount", body = ErrorBody)),
    security(("till_key" = []))
)]
async fn sandbox_pay_static(
    State(state): State<AppState>,
    AuthenticatedTill(till): AuthenticatedTill,
    ApiPath(id): ApiPath,
    body: Bytes,
) -> Result<Json<PaymentView>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::NotFound, "no such static QR"))?;
    let body: PayStaticBody = if body.iter().all(u8::is_ascii_whitespace) {
        PayStaticBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("invalid JSON: {e}")))?
    };
    let amount = body.amount;
    let row = state
        .payments
        .sandbox_pay_static(till.store_id, id, amount)
        .await?;
    Ok(Json(state.payments.view(&row)))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(sandbox_pay_static), components(schemas(PayStaticBody)))]
pub struct StaticQrDoc;
