//! Bank notifications: `POST /api/v1/callbacks/{module}`. No till key: the module checks the
//! signature. 200 once processed or already known; unsigned, forged or malformed ones get 401/400
//! and a log line, and change nothing.

use super::AppState;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::payments::CallbackFailure;
use crate::providers::CallbackError;
use crate::telemetry::quoted;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/callbacks/{module}", post(bank_callback))
}

/// A bank notification; the module checks its signature, then asks the bank before anything
/// changes.
#[utoipa::path(
    post, path = "/api/v1/callbacks/{module}", tag = "callbacks",
    params(("module" = String, Path, description = "payment module, e.g. raiffeisen")),
    request_body(content = String, content_type = "application/json", description = "the bank's notification, verbatim (Raiffeisen: signed in X-Api-Signature-SHA256)"),
    responses(
        (status = 200, description = "processed, or already known"),
        (status = 400, description = "malformed notification (invalid_json)", body = ErrorBody),
        (status = 401, description = "unsigned or forged notification (unauthorized)", body = ErrorBody),
        (status = 404, description = "no such module, or it takes no callbacks (not_found)", body = ErrorBody),
        (status = 504, description = "the bank did not confirm the notification yet; send it again (provider_timeout)", body = ErrorBody),
    )
)]
async fn bank_callback(
    State(state): State<AppState>,
    Path(module): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match state
        .payments
        .handle_callback(&module, &headers, &body)
        .await
    {
        Ok(row) => axum::Json(serde_json::json!({
            "status": "ok",
            "payment_status": row.status().as_str(),
        }))
        .into_response(),
        Err(CallbackFailure::Refused(CallbackError::UnknownOrder(order))) => {
            // Genuine, but not a payment of this qrpay: accepting it stops the bank's retries.
            tracing::warn!(
                module = %quoted(&module),
                order = %quoted(&order),
                "bank notification for an unknown order ignored"
            );
            axum::Json(serde_json::json!({"status": "ignored"})).into_response()
        }
        Err(CallbackFailure::NoPayment(order)) => {
            tracing::info!(
                module = %quoted(&module),
                order = %quoted(&order),
                "static QR notification without a payment"
            );
            axum::Json(serde_json::json!({"status": "ignored"})).into_response()
        }
        Err(failure) => {
            // The module name comes from the path, the failure may quote the body: escaped.
            tracing::warn!(
                module = %quoted(&module),
                error = ?failure.to_string(),
                "bank notification refused"
            );
            callback_error(failure).into_response()
        }
    }
}

fn callback_error(failure: CallbackFailure) -> ApiError {
    match failure {
        CallbackFailure::UnknownModule(m) => ApiError::new(
            ErrorCode::NotFound,
            format!("payment module {m:?} takes no callbacks"),
        ),
        CallbackFailure::Refused(CallbackError::NotSupported) => ApiError::new(
            ErrorCode::NotFound,
            "this payment module takes no callbacks",
        ),
        CallbackFailure::Refused(CallbackError::Malformed(why)) => ApiError::new(
            ErrorCode::InvalidJson,
            format!("malformed notification: {why}"),
        ),
        CallbackFailure::Refused(
            e @ (CallbackError::Unsigned
            | CallbackError::BadSignature
            | CallbackError::NotConfigured(_)
            | CallbackError::UnknownOrder(_)),
        ) => ApiError::new(ErrorCode::Unauthorized, e.to_string()),
        // Answered 200 above; kept here so the mapping stays exhaustive.
        CallbackFailure::NoPayment(_) => {
            ApiError::new(ErrorCode::NotFound, "the notification reports no payment")
        }
        CallbackFailure::BankSilent(_) => ApiError::new(
            ErrorCode::ProviderTimeout,
            "the bank did not confirm the notification yet; send it again",
        ),
        CallbackFailure::Internal(e) => e.into(),
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(bank_callback))]
pub struct CallbacksDoc;
