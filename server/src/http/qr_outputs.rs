//! The QR of a payment for the till's outputs (`/api/v1/payments/{id}/qr.*`): PNG for a kiosk
//! screen or customer display, SVG, and ESC/POS bytes for the receipt printer; rendered once per
//! payment and variant (`qr::cache`).

use super::AppState;
use super::params::{ApiPath, ApiQuery};
use crate::auth::till_key::AuthenticatedTill;
use crate::db::payment::PaymentRow;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::qr::{self, cache as qr_cache, escpos};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// The QR routes (merged into the till API's).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/payments/{id}/qr.png", get(qr_png))
        .route("/api/v1/payments/{id}/qr.svg", get(qr_svg))
        .route("/api/v1/payments/{id}/qr.escpos", get(qr_escpos))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct SizeParams {
    /// Image side in pixels, 64–4096 (default 256); rounded down to whole modules.
    #[param(minimum = 64, maximum = 4096)]
    size: Option<u32>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct PngParams {
    /// Image side in pixels, 64–4096 (default 256); rounded down to whole modules.
    #[param(minimum = 64, maximum = 4096)]
    size: Option<u32>,
    /// `1`: a 1-bit black-and-white PNG for monochrome customer displays (default `0`).
    #[param(inline)]
    mono: Option<Flag>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct EscposParams {
    /// `native` (`GS ( k`, the printer draws the QR) or `raster` (`GS v 0` bitmap); default: the till's setting.
    #[param(inline)]
    mode: Option<EscposMode>,
    /// Printable width in dots: 384 (58 mm) or 576 (80 mm); default: the till's setting.
    #[param(inline)]
    width: Option<PaperWidth>,
    /// `1` (default): print «Оплата по QR-коду СБП», the amount and the deadline (CP866); `0`: the QR only.
    #[param(inline)]
    text: Option<Flag>,
}

/// A yes/no query flag as the till API reads it.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
enum Flag {
    #[serde(rename = "1")]
    One,
    #[serde(rename = "0")]
    Zero,
    #[serde(rename = "true")]
    True,
    #[serde(rename = "false")]
    False,
}

/// How the printer gets the QR.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum EscposMode {
    Native,
    Raster,
}

/// Printable width in dots (documentation only: the two widths the API takes).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
enum PaperWidth {
    #[serde(rename = "384")]
    Dots384,
    #[serde(rename = "576")]
    Dots576,
}

fn size_param(query: &HashMap<String, String>) -> Result<u32, ApiError> {
    let Some(raw) = query.get("size") else {
        return Ok(256);
    };
    let size: u32 = raw
        .parse()
        .map_err(|_| ApiError::invalid("size", "must be a whole number of pixels"))?;
    if !(qr::MIN_SIZE..=qr::MAX_SIZE).contains(&size) {
        return Err(ApiError::invalid(
            "size",
            format!("must be {}-{} pixels", qr::MIN_SIZE, qr::MAX_SIZE),
        ));
    }
    Ok(size)
}

fn flag_param(
    query: &HashMap<String, String>,
    name: &str,
    default: bool,
) -> Result<bool, ApiError> {
    match query.get(name).map(String::as_str) {
        None => Ok(default),
        Some("1" | "true") => Ok(true),
        Some("0" | "false") => Ok(false),
        Some(_) => Err(ApiError::invalid(name, "must be 1 or 0")),
    }
}

/// The payment (of the till's store) and its QR payload.
async fn payment_with_qr(
    state: &AppState,
    till: &crate::db::till::TillIdentity,
    id: &str,
) -> Result<(PaymentRow, String), ApiError> {
    let row = state.payments.payment_for(till, id).await?;
    let payload = row.qr_payload.clone().ok_or_else(|| {
        ApiError::new(
            ErrorCode::QrNotAvailable,
            "the bank has not issued a QR code for this payment",
        )
    })?;
    Ok((row, payload))
}

#[utoipa::path(
    get, path = "/api/v1/payments/{id}/qr.png", tag = "qr",
    params(("id" = String, Path), PngParams),
    responses((status = 200, content_type = "image/png", body = Vec<u8>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("till_key" = []))
)]
async fn qr_png(
    State(state): State<AppState>,
    AuthenticatedTill(till): AuthenticatedTill,
    ApiPath(id): ApiPath,
    ApiQuery(query): ApiQuery,
) -> Result<Response, ApiError> {
    let size = size_param(&query)?;
    let mono = flag_param(&query, "mono", false)?;
    let (row, payload) = payment_with_qr(&state, &till, &id).await?;
    let bytes = state.qr_cache.get_or_render(
        &row.payment_id,
        qr_cache::Variant::Png { size, mono },
        || {
            if mono {
                qr::png_mono(&payload, size)
            } else {
                qr::png(&payload, size)
            }
        },
    )?;
    Ok(image(bytes, "image/png"))
}

#[utoipa::path(
    get, path = "/api/v1/payments/{id}/qr.svg", tag = "qr",
    params(("id" = String, Path), SizeParams),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("till_key" = []))
)]
async fn qr_svg(
    State(state): State<AppState>,
    AuthenticatedTill(till): AuthenticatedTill,
    ApiPath(id): ApiPath,
    ApiQuery(query): ApiQuery,
) -> Result<Response, ApiError> {
    let size = size_param(&query)?;
    let (row, payload) = payment_with_qr(&state, &till, &id).await?;
    let bytes =
        state
            .qr_cache
            .get_or_render(&row.payment_id, qr_cache::Variant::Svg { size }, || {
                Ok(qr::svg(&payload, size)?.into_bytes())
            })?;
    Ok(image(bytes, "image/svg+xml"))
}

#[utoipa::path(
    get, path = "/api/v1/payments/{id}/qr.escpos", tag = "qr",
    params(("id" = String, Path), EscposParams),
    responses(
        (status = 200, description = "ESC/POS bytes to send to the receipt printer as they are (a fragment: no reset, no cut)", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("till_key" = []))
)]
async fn qr_escpos(
    State(state): State<AppState>,
    AuthenticatedTill(till): AuthenticatedTill,
    ApiPath(id): ApiPath,
    ApiQuery(query): ApiQuery,
) -> Result<Response, ApiError> {
    let mode = query
        .get("mode")
        .map(|m| {
            escpos::Mode::parse(m)
                .ok_or_else(|| ApiError::invalid("mode", "must be native or raster"))
        })
        .transpose()?;
    let width = query
        .get("width")
        .map(|w| {
            w.parse::<u32>()
                .ok()
                .filter(|w| escpos::WIDTHS.contains(w))
                .ok_or_else(|| {
                    ApiError::invalid("width", "must be 384 (58 mm) or 576 (80 mm) dots")
                })
        })
        .transpose()?;
    let with_text = flag_param(&query, "text", true)?;
    let (row, payload) = payment_with_qr(&state, &till, &id).await?;
    let outputs = row.till_outputs();
    let mode = mode.unwrap_or_else(|| outputs.default_mode());
    let width = width.unwrap_or(outputs.paper_width);
    let variant = qr_cache::Variant::Escpos {
        native: mode == escpos::Mode::Native,
        width,
        text: with_text,
    };
    let bytes = match state.qr_cache.get(&row.payment_id, &variant) {
        Some(hit) => hit,
        None => {
            let text = if with_text {
                let store = crate::db::store::store_by_id(state.payments.db(), row.store_id)
                    .await
                    .map_err(|e| anyhow::anyhow!("the payment's store: {e}"))?;
                Some(escpos::ReceiptText {
                    amount_kopecks: row.amount,
                    expires_at: row.expires_at,
                    time_zone: store.time_zone,
                })
            } else {
                None
            };
            let bytes = bytes::Bytes::from(escpos::receipt_marked(
                &payload,
                mode,
                width,
                text.as_ref(),
                row.test,
            )?);
            state.qr_cache.put(&row.payment_id, variant, bytes.clone());
            bytes
        }
    };
    Ok(image(bytes, "application/octet-stream"))
}

fn image(bytes: bytes::Bytes, content_type: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // The payload of a payment never changes.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=86400, immutable"),
            ),
        ],
        bytes,
    )
        .into_response()
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(qr_png, qr_svg, qr_escpos))]
pub struct QrOutputsDoc;
