//! Till API v1 (`/api/v1`): payments, refunds, and the sandbox customer; the QR images are in
//! `qr_outputs`.
//! Every handler authenticates the till first, then parses, then calls the payment service.

use super::AppState;
use super::json::{ApiJson, MAX_BODY_BYTES};
use super::params::{ApiPath, ApiQuery};
use crate::auth::till_key::AuthenticatedTill;
use crate::domain::{Amount, Description, IdempotencyKey, InvalidValue, Receipt};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::payments::view::{OutputsView, PaymentView, PlateView, RefundView};
use crate::payments::{Answer, CreatePayment, Idempotent};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;
use utoipa::ToSchema;

/// The till API's routes; the sandbox customer's (`/api/v1/sandbox/*`) only when `sandbox` (not
/// in production mode, where they answer 404 like any unknown route).
pub fn router(sandbox: bool) -> Router<AppState> {
    let api = Router::new()
        .route("/api/v1/payments", post(create_payment).get(find_payments))
        .route("/api/v1/payments/{id}", get(get_payment))
        .route("/api/v1/payments/{id}/cancel", post(cancel_payment))
        .merge(super::qr_outputs::router())
        .route("/api/v1/payments/{id}/refunds", post(create_refund))
        .route("/api/v1/refunds/{id}", get(get_refund));
    let api = if sandbox {
        api.route("/api/v1/sandbox/payments/{id}/pay", post(sandbox_pay))
            .route(
                "/api/v1/sandbox/payments/{id}/decline",
                post(sandbox_decline),
            )
    } else {
        api
    };
    api.layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.body,
        )
            .into_response()
    }
}

/// Create a QR payment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePaymentBody {
    /// Kopecks, 1 … 100 000 000 000.
    #[schema(minimum = 1, maximum = 100_000_000_000i64, example = 12345)]
    pub amount: i64,
    /// The till's reference to its receipt: 1–64 printable characters.
    #[schema(
        example = "0042/17",
        min_length = 1,
        max_length = 64,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub receipt: String,
    /// The payment type's name; when absent, the till's default payment type, else the store's
    /// default (`unknown_payment_type` when neither is set).
    pub payment_type: Option<String>,
    /// What is paid for (≤ 140 characters); goes to the bank as the payment purpose.
    #[schema(max_length = 140, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub description: Option<String>,
    /// The code on the customer's phone, as the till's scanner read it: for payment types with
    /// «Сканировать QR-код покупателя» (required there, refused elsewhere with
    /// `customer_qr_not_supported`). The module charges it at once: the answer has the final
    /// status (`paid`, `declined`; `unknown`: ask again), `qr: null` and no `outputs`. A code
    /// the module cannot read is `invalid_field`. In the sandbox, a code starting `sandbox-ok`
    /// pays, one starting `sandbox-decline` is declined.
    #[schema(
        example = "sandbox-ok-1",
        max_length = 1024,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub customer_qr: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRefundBody {
    /// Kopecks; everything not yet refunded when absent.
    #[schema(minimum = 1, maximum = 100_000_000_000i64)]
    pub amount: Option<i64>,
    /// Why (≤ 140 characters). In the sandbox, a reason starting with `sandbox:decline` is declined.
    #[schema(max_length = 140, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub reason: Option<String>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PaymentList {
    pub payments: Vec<PaymentView>,
}

fn idempotency_key(headers: &HeaderMap) -> Result<IdempotencyKey, ApiError> {
    let raw = headers.get("idempotency-key").ok_or_else(|| {
        ApiError::field(
            ErrorCode::IdempotencyKeyMissing,
            "Idempotency-Key",
            "send an Idempotency-Key header (a unique value per operation; repeat it on retries)",
        )
    })?;
    let text = raw
        .to_str()
        .map_err(|_| ApiError::invalid("Idempotency-Key", "must be visible ASCII"))?;
    IdempotencyKey::parse(text)
        .map_err(|e| ApiError::field(ErrorCode::InvalidField, "Idempotency-Key", e.to_string()))
}

/// The customer's code as scanned: at most 1024 characters, no control characters; blank is none.
fn customer_qr(code: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(code) = code.filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    if code.chars().count() > 1024 || code.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "customer_qr",
            "must be at most 1024 characters, without control characters",
        )
        .ru(
            "QR-код покупателя (customer_qr) — не больше 1024 символов, без управляющих символов",
        ));
    }
    Ok(Some(code))
}

fn invalid_amount(e: InvalidValue) -> ApiError {
    ApiError::invalid("amount", e).ru(format!(
        "Сумма (amount) — целое положительное число копеек, не больше {}",
        app::i18n::format_money(Amount::MAX, app::i18n::Lang::Ru)
    ))
}

fn invalid_receipt(e: InvalidValue) -> ApiError {
    ApiError::invalid("receipt", e).ru(format!(
        "Номер чека (receipt) — от 1 до {} печатных символов",
        Receipt::MAX_CHARS
    ))
}

fn invalid_text(field: &str, e: InvalidValue) -> ApiError {
    ApiError::invalid(field, e).ru(format!(
        "Текст {field} — не больше {} символов, без управляющих символов",
        Description::MAX_CHARS
    ))
}

/// Scopes the body hash by the operation, so one key cannot stand for two different calls.
fn request_hash(operation: &str, body_hash: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(
        format!("{operation}\n{body_hash}").as_bytes(),
    ))
}

#[utoipa::path(
    post, path = "/api/v1/payments", tag = "payments",
    request_body = CreatePaymentBody,
    params(IdempotencyHeader),
    responses(
        (status = 201, description = "created; `status` is `pending` (QR issued) or `unknown` (ask again); with `customer_qr`, the charge's final status: `paid` or `declined` (or `unknown`), with no QR. A till with a cash-register link («кассовая ссылка») of the payment type's module takes the payment on its link: `qr.payload` is the till's fixed link and `outputs.plate` points to its printed plate", body = PaymentView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, description = "`till_busy`: the till's cash-register link is activated for another payment still open (`error.payment_id` names it): wait for it to end or cancel it, then ask again; `idempotency_key_reused`, `idempotency_request_in_progress`", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, description = "a field is invalid (`customer_qr`: a code the module cannot read); `missing_field` `customer_qr`: the payment type charges the customer's QR code and none was sent; `customer_qr_not_supported`: the payment type does not take one; `unknown_payment_type`: no such payment type, or none named and no default for the till or store; `payment_type_disabled`: the payment type is switched off, or it runs on a test module while qrpay is in production mode (the message says which)", body = ErrorBody),
        (status = 502, body = ErrorBody),
    ),
    security(("till_key" = []))
)]
async fn create_payment(
    State(state): State<AppState>,
    AuthenticatedTill(till): AuthenticatedTill,
    headers: HeaderMap,
    body: ApiJson<CreatePaymentBody>,
) -> Result<Answer, ApiError> {
    let key = idempotency_key(&headers)?;
    let b = body.value;
    let req = CreatePayment {
        amount: Amount::parse(b.amount).map_err(invalid_amount)?,
        receipt: Receipt::parse(&b.receipt).map_err(invalid_receipt)?,
        payment_type: b.payment_type,
        description: Description::parse(b.description.as_deref())
            .map_err(|e| invalid_text("description", e))?,
        customer_qr: customer_qr(b.customer_qr)?,
    };
    let hash = request_hash("create_payment", &body.canonical_hash);
    // In a task of its own: a till that hangs up must not cut the creation short (the payment
    // would stay `creating` until the expiry worker, and SQLite's statement lists must finish).
    let payments = state.payments.clone();
    tokio::spawn(async move {
        let idem = Idempotent {
            key: &key,
            request_hash: &hash,
        };
        payments.create_payment(&till, idem, req).await
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("payment creation task failed: {e}")))?
    .map_err(ApiError::from)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct WaitParams {
    /// Seconds to wait (0–60) for the status to leave `creating`/`pending`/`unknown`.
    #[param(minimum = 0, maximum = 60)]
    wait: Option<u32>,
}

fn wait_param(query: &HashMap<String, String>) -> Result<Duration, ApiError> {
    let Some(raw) = query.get("wait") else {
        return Ok(Duration::ZERO);
    };
    let secs: u64 = raw
        .parse()
        .map_err(|_| ApiError::invalid("wait", "must be a whole number of seconds"))?;
    if secs > 60 {
        return Err(ApiError::invalid("wait", "must be at most 60 seconds"));
    }
    Ok(Duration::from_secs(secs))
}

#[utoipa::path(
    get, path = "/api/v1/payments/{id}", tag = "payments",
    params(("id" = String, Path), WaitParams),
    responses(
        (status = 200, body = PaymentView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("till_key" = []))
)]
async fn get_payment(
    State(state): State<AppState>,
    AuthenticatedTill(till): AuthenticatedTill,
    ApiPath(id): ApiPath,
    ApiQuery(query): ApiQuery,
) -> Result<Json<PaymentView>, ApiError> {
    let wait = wait_param(&query)?;
    let row = state.payments.wait_for_payment(&till, &id, wait).await?;
    Ok(Json(state.payments.view(&row)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ReceiptParams {
    /// The till's receipt reference, exactly as sent when the payment was created.
    #[param(
        min_length = 1,
        max_length = 64,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    receipt: String,
}

#[utoipa::path(
    get, path = "/api/v1/payments", tag = "payments",
    params(ReceiptParams),
    responses((status = 200, body = PaymentList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("till_key" = []))
)]
async fn find_payments(
    State(state): State<AppState>,
    AuthenticatedTill(till): AuthenticatedTill,
    ApiQuery(query): ApiQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    let raw = query.get("receipt").ok_or_else(|| {
        ApiError::field(
            ErrorCode::MissingField,
            "receipt",
            "receipt: this query parameter is required",
        )
    })?;
    let receipt = Receipt::parse(raw).map_err(invalid_receipt)?;
    let rows = state.payments.payments_by_receipt(&till, &receipt).await?;
    let views: Vec<PaymentView> = rows.iter().map(|r| state.payments.view(r)).collect();
    Ok(Json(serde_json::json!({ "payments": views })))
}

#[utoipa::path(
    post, path = "/api/v1/payments/{id}/cancel", tag = "payments",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "the payment as it ended: `cancelled`, or `paid` if the customer won the race", body = PaymentView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody),
    ),
    security(("till_key" = []))
)]
async fn cancel_payment(
    State(state): State<AppState>,
    AuthenticatedTill(till): AuthenticatedTill,
    ApiPath(id): ApiPath,
) -> Result<Json<PaymentView>, ApiError> {
    let row = state.payments.cancel(&till, &id).await?;
    Ok(Json(state.payments.view(&row)))
}

/// The `Idempotency-Key` header (documentation only; `idempotency_key` reads it).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct IdempotencyHeader {
    /// Unique per operation (1–128 visible ASCII characters); a retry with the same key and body
    /// replays the first answer.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 128,
        pattern = "^[!-~]{1,128}$"
    )]
    idempotency_key: String,
}

#[utoipa::path(
    post, path = "/api/v1/payments/{id}/refunds", tag = "refunds",
    params(("id" = String, Path), IdempotencyHeader),
    request_body(content = CreateRefundBody, description = "`{}` or an empty body = refund everything left"),
    responses(
        (status = 201, description = "`completed`, `pending`/`unknown` (ask again) or `declined` by the bank", body = RefundView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`refund_exceeds_paid`, `payment_not_paid`, `idempotency_key_reused`", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody),
    ),
    security(("till_key" = []))
)]
async fn create_refund(
    State(state): State<AppState>,
    AuthenticatedTill(till): AuthenticatedTill,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
    body: ApiJson<CreateRefundBody>,
) -> Result<Answer, ApiError> {
    let key = idempotency_key(&headers)?;
    let amount = body
        .value
        .amount
        .map(Amount::parse)
        .transpose()
        .map_err(invalid_amount)?;
    let reason =
        Description::parse(body.value.reason.as_deref()).map_err(|e| invalid_text("reason", e))?;
    let hash = request_hash(&format!("refund {id}"), &body.canonical_hash);
    // In a task of its own, as creation: a till that hangs up must not cut the refund short
    // between the bank's answer and its record; it completes, and the same key replays it.
    let payments = state.payments.clone();
    tokio::spawn(async move {
        let idem = Idempotent {
            key: &key,
            request_hash: &hash,
        };
        payments.refund(&till, &id, idem, amount, reason).await
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("refund task failed: {e}")))?
    .map_err(ApiError::from)
}

#[utoipa::path(
    get, path = "/api/v1/refunds/{id}", tag = "refunds",
    params(("id" = String, Path)),
    responses((status = 200, body = RefundView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("till_key" = []))
)]
async fn get_refund(
    State(state): State<AppState>,
    AuthenticatedTill(till): AuthenticatedTill,
    ApiPath(id): ApiPath,
) -> Result<Json<RefundView>, ApiError> {
    let row = state.payments.refund_for(&till, &id).await?;
    Ok(Json(RefundView::from_row(&row)))
}

#[utoipa::path(
    post, path = "/api/v1/sandbox/payments/{id}/pay", tag = "sandbox",
    params(("id" = String, Path)),
    responses((status = 200, description = "the customer paid (sandbox payments only)", body = PaymentView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "no such payment, or qrpay runs in production mode (test modules off: this route does not exist)", body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("till_key" = []))
)]
async fn sandbox_pay(
    State(state): State<AppState>,
    AuthenticatedTill(till): AuthenticatedTill,
    ApiPath(id): ApiPath,
) -> Result<Json<PaymentView>, ApiError> {
    let row = state.payments.sandbox_customer(&till, &id, true).await?;
    Ok(Json(state.payments.view(&row)))
}

#[utoipa::path(
    post, path = "/api/v1/sandbox/payments/{id}/decline", tag = "sandbox",
    params(("id" = String, Path)),
    responses((status = 200, description = "the customer's bank declined (sandbox payments only)", body = PaymentView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "no such payment, or qrpay runs in production mode (test modules off: this route does not exist)", body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("till_key" = []))
)]
async fn sandbox_decline(
    State(state): State<AppState>,
    AuthenticatedTill(till): AuthenticatedTill,
    ApiPath(id): ApiPath,
) -> Result<Json<PaymentView>, ApiError> {
    let row = state.payments.sandbox_customer(&till, &id, false).await?;
    Ok(Json(state.payments.view(&row)))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "qrpay till API", version = "1", description = "QR payments (СБП) for tills and kiosks. Amounts are kopecks. Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`; `code` is one of ErrorCode."),
    paths(create_payment, get_payment, find_payments, cancel_payment, create_refund, get_refund, sandbox_pay, sandbox_decline),
    components(schemas(ErrorCode, ErrorBody, PaymentView, OutputsView, PlateView, RefundView, PaymentList, CreatePaymentBody, CreateRefundBody)),
    modifiers(&TillKeySecurity)
)]
pub struct ApiDoc;

struct TillKeySecurity;

impl utoipa::Modify for TillKeySecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "till_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("the till key from `qrpay till add`"))
                    .build(),
            ),
        );
    }
}
