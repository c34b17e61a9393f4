//! The `raiffeisen` module: Raiffeisen SBP dynamic QR payments over HTTPS (reqwest, rustls), with
//! settings per store and signed callbacks. Wire types live in `wire`.
//!
//! The body's `code` wins whatever the HTTP status; 5xx, connection errors and bodies that do not
//! parse are `NoAnswer` (the sync worker asks again), never a failure.

mod callback;
pub mod order_wire;
pub mod orders;
pub mod settings;
pub mod static_qr;
pub mod wire;

pub use settings::*;

use super::{
    BankPaymentState, BankRefundState, CallbackError, CallbackNotice, Capabilities,
    CashLinkRequest, CreateQr, IssuedQr, OrderAtBank, Provider, ProviderError, QrRef,
    RefundRequest, Refusal, StaticQrPayment, StaticQrRef, StaticQrRequest,
};
use crate::db::{self, Db};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use std::time::Duration;
use wire::*;

pub struct RaiffeisenBank {
    db: Db,
    defaults: RaiffeisenDefaults,
    http: reqwest::Client,
}

fn no_answer(what: &str, e: impl std::fmt::Display) -> ProviderError {
    ProviderError::NoAnswer(format!("{what}: {e}"))
}

/// What came back from one HTTP call, before it is read as the expected type.
enum Reply<T> {
    Ok(T),
    Error(RaiffeisenErrorCode, String),
}

/// The body's `code` wins whatever the status; then 5xx is no answer, 401/403 a refusal of the key.
fn interpret<T: DeserializeOwned>(
    status: StatusCode,
    body: &[u8],
) -> Result<Reply<T>, ProviderError> {
    if let Ok(err) = serde_json::from_slice::<RaiffeisenErrorBody>(body)
        && (err.code.starts_with("ERROR.") || err.code.starts_with("ORDER_"))
    {
        let message = err.message.unwrap_or_default();
        return Ok(Reply::Error(RaiffeisenErrorCode::parse(&err.code), message));
    }
    if status.is_server_error() {
        return Err(ProviderError::NoAnswer(format!(
            "the bank answered {status}"
        )));
    }
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return Err(ProviderError::Rejected {
            code: "UNAUTHORIZED".into(),
            message: "the bank did not accept the merchant's secret key".into(),
        });
    }
    if !status.is_success() {
        return Err(ProviderError::Rejected {
            code: format!("HTTP_{}", status.as_u16()),
            message: format!("the bank answered {status}"),
        });
    }
    serde_json::from_slice(body)
        .map(Reply::Ok)
        .map_err(|e| no_answer("the bank's answer does not parse", e))
}

/// Sends a request to the bank: its status and body, or `NoAnswer`.
async fn send(req: reqwest::RequestBuilder) -> Result<(StatusCode, bytes::Bytes), ProviderError> {
    // reqwest's error text names the URL, never the headers: the key stays out of logs.
    let resp = req
        .send()
        .await
        .map_err(|e| no_answer("calling the bank", e))?;
    let status = resp.status();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| no_answer("reading the bank's answer", e))?;
    Ok((status, bytes))
}

fn rejected(code: &RaiffeisenErrorCode, message: String) -> ProviderError {
    ProviderError::Rejected {
        code: code.as_str().to_owned(),
        message,
    }
}

/// Text trimmed to at most `max` characters (the bank counts characters).
fn clip(text: &str, max: usize) -> Option<String> {
    let t: String = text.trim().chars().take(max).collect();
    let t = t.trim_end().to_owned();
    (!t.is_empty()).then_some(t)
}

impl RaiffeisenBank {
    pub fn new(db: Db, defaults: RaiffeisenDefaults) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true)
            .build()
            .expect("BUG: the HTTP client builds with static settings");
        Self { db, defaults, http }
    }

    /// The bank address of the `QRPAY_RAIFFEISEN_*` settings, if they are set.
    pub fn default_base_url(&self) -> Option<&str> {
        self.defaults.0.as_ref().map(|s| s.base_url.as_str())
    }

    /// The store's own settings, else the environment's.
    pub async fn settings(&self, store_id: i64) -> Result<RaiffeisenSettings, ProviderError> {
        let row = db::raiffeisen_setting::setting_of_store(&self.db, store_id)
            .await
            .map_err(|e| no_answer("reading the store's Raiffeisen settings", e))?;
        if let Some(row) = row {
            let secret_key =
                SecretKey::parse(&row.secret_key).map_err(|why| ProviderError::Rejected {
                    code: "NOT_CONFIGURED".into(),
                    message: format!("the store's Raiffeisen secret key is unusable: {why}"),
                })?;
            return Ok(RaiffeisenSettings {
                base_url: row.base_url,
                sbp_merchant_id: row.sbp_merchant_id,
                secret_key,
            });
        }
        self.defaults
            .0
            .clone()
            .ok_or_else(|| ProviderError::Rejected {
                code: "NOT_CONFIGURED".into(),
                message:
                    "Raiffeisen is not configured for this store: run `qrpay raiffeisen configure`"
                        .into(),
            })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        s: &RaiffeisenSettings,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Reply<T>, ProviderError> {
        let url = format!("{}{path}", s.base_url);
        let mut req = self
            .http
            .request(method, &url)
            .bearer_auth(s.secret_key.expose());
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body);
        }
        let (status, bytes) = send(req).await?;
        interpret(status, &bytes)
    }

    async fn payment_info(
        &self,
        s: &RaiffeisenSettings,
        qr_id: &str,
    ) -> Result<Reply<RaiffeisenPaymentInfo>, ProviderError> {
        self.call(
            s,
            reqwest::Method::GET,
            &format!("/sbp/v1/qr/{qr_id}/payment-info"),
            None,
        )
        .await
    }

    async fn state_of(
        &self,
        s: &RaiffeisenSettings,
        qr: &QrRef<'_>,
    ) -> Result<BankPaymentState, ProviderError> {
        let qr_id = qr.qr_id;
        let info = match self.payment_info(s, qr_id).await? {
            Reply::Ok(info) => info,
            Reply::Error(code, message) => return error_as_state(code, message),
        };
        // A QR of another order (a notification names QRs without signing them) is not this
        // payment's: as far as this payment goes, the bank does not know it.
        if info.order.as_deref().is_some_and(|o| o != qr.order_ref) {
            tracing::warn!(qr_id, "the bank holds this QR for another order");
            return Ok(BankPaymentState::NotFound);
        }
        match info.payment_status {
            RaiffeisenPaymentStatus::Success => {
                return Ok(BankPaymentState::Paid {
                    transaction_id: info.transaction_id.map(|t| t.to_string()),
                    paid_at: info
                        .transaction_date
                        .as_deref()
                        .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
                        .map(|d| d.with_timezone(&Utc)),
                });
            }
            RaiffeisenPaymentStatus::Declined => {
                return Ok(BankPaymentState::Declined {
                    reason: "the customer's bank declined the payment".into(),
                });
            }
            // Not paid yet: the QR's own status tells cancelled and expired apart from waiting.
            RaiffeisenPaymentStatus::InProgress | RaiffeisenPaymentStatus::NoInfo => {}
        }
        let qr: RaiffeisenQrInfo = match self
            .call(
                s,
                reqwest::Method::GET,
                &format!("/sbp/v2/qrs/{qr_id}"),
                None,
            )
            .await?
        {
            Reply::Ok(qr) => qr,
            Reply::Error(code, message) => return error_as_state(code, message),
        };
        Ok(match qr.qr_status {
            RaiffeisenQrStatus::New
            | RaiffeisenQrStatus::InProgress
            | RaiffeisenQrStatus::Inactive => BankPaymentState::Waiting,
            // Paid between the two calls: the next poll reads the payment's details.
            RaiffeisenQrStatus::Paid => BankPaymentState::Paid {
                transaction_id: None,
                paid_at: None,
            },
            RaiffeisenQrStatus::Cancelled => BankPaymentState::Cancelled,
            RaiffeisenQrStatus::Expired => BankPaymentState::Expired,
        })
    }

    /// `POST /sbp/v2/qrs`: the QR the bank registered.
    async fn register(
        &self,
        s: &RaiffeisenSettings,
        request: &RaiffeisenRegisterQrRequest,
    ) -> Result<IssuedQr, ProviderError> {
        let body = serde_json::to_string(request).expect("BUG: plain struct");
        match self
            .call::<RaiffeisenRegisterQrResponse>(
                s,
                reqwest::Method::POST,
                "/sbp/v2/qrs",
                Some(body),
            )
            .await?
        {
            Reply::Ok(qr) => Ok(IssuedQr {
                qr_id: qr.qr_id,
                payload: qr.payload,
            }),
            Reply::Error(code, message) => Err(rejected(&code, message)),
        }
    }

    /// `DELETE /sbp/v2/qrs/{qrId}`: `None` when the bank annulled the QR (200, an empty body),
    /// else the bank's error.
    async fn delete_qr(
        &self,
        s: &RaiffeisenSettings,
        qr_id: &str,
    ) -> Result<Option<(RaiffeisenErrorCode, String)>, ProviderError> {
        self.delete_at(s, &format!("/sbp/v2/qrs/{qr_id}")).await
    }

    /// `DELETE {path}`: `None` when the bank did it (200, an empty body), else the bank's error.
    async fn delete_at(
        &self,
        s: &RaiffeisenSettings,
        path: &str,
    ) -> Result<Option<(RaiffeisenErrorCode, String)>, ProviderError> {
        let url = format!("{}{path}", s.base_url);
        let (status, bytes) =
            send(self.http.delete(&url).bearer_auth(s.secret_key.expose())).await?;
        if status.is_success() && bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        Ok(match interpret::<serde_json::Value>(status, &bytes)? {
            Reply::Ok(_) => None,
            Reply::Error(code, message) => Some((code, message)),
        })
    }

    /// A harmless authenticated call for `qrpay doctor`: asks about a QR that does not exist.
    /// `Ok` with the bank's clock (its `Date` header) when the bank answered and took the
    /// credentials; `Rejected` when it refused them (401/403); `NoAnswer` otherwise.
    pub async fn probe(&self, store_id: i64) -> Result<Option<DateTime<Utc>>, ProviderError> {
        let s = self.settings(store_id).await?;
        let url = format!("{}/sbp/v2/qrs/qrpay-doctor-probe", s.base_url);
        let resp = tokio::time::timeout(
            Duration::from_secs(10),
            self.http
                .get(&url)
                .bearer_auth(s.secret_key.expose())
                .send(),
        )
        .await
        .map_err(|_| no_answer("calling the bank", "no answer within 10 s"))?
        .map_err(|e| no_answer("calling the bank", e))?;
        let status = resp.status();
        if matches!(status.as_u16(), 401 | 403) {
            return Err(ProviderError::Rejected {
                code: status.as_u16().to_string(),
                message: "the bank refused the merchant id or secret key".into(),
            });
        }
        if status.is_server_error() {
            return Err(no_answer("calling the bank", format!("HTTP {status}")));
        }
        Ok(resp
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
            .map(|d| d.with_timezone(&Utc)))
    }

    /// Registers qrpay's callback URL with the bank (`POST /settings/v1/callback`); the store's
    /// key then signs the notifications.
    pub async fn register_callback(
        &self,
        store_id: i64,
        callback_url: &str,
    ) -> Result<String, ProviderError> {
        let s = self.settings(store_id).await?;
        let body = serde_json::to_string(&RaiffeisenCallbackSettings {
            callback_url: callback_url.to_owned(),
        })
        .expect("BUG: plain struct");
        match self
            .call::<RaiffeisenCallbackSettings>(
                &s,
                reqwest::Method::POST,
                "/settings/v1/callback",
                Some(body),
            )
            .await?
        {
            Reply::Ok(answer) => Ok(answer.callback_url),
            Reply::Error(code, message) => Err(rejected(&code, message)),
        }
    }
}

fn error_as_state(
    code: RaiffeisenErrorCode,
    message: String,
) -> Result<BankPaymentState, ProviderError> {
    match code.outcome() {
        RaiffeisenErrorOutcome::NotFound => Ok(BankPaymentState::NotFound),
        RaiffeisenErrorOutcome::Rejected(_) | RaiffeisenErrorOutcome::AskState => {
            Err(rejected(&code, message))
        }
    }
}

fn refund_state(status: RaiffeisenRefundStatus) -> BankRefundState {
    match status {
        RaiffeisenRefundStatus::InProgress => BankRefundState::InProgress,
        RaiffeisenRefundStatus::Completed => BankRefundState::Completed,
        RaiffeisenRefundStatus::Declined => BankRefundState::Declined {
            code: "DECLINED".into(),
            message: "the bank declined the refund".into(),
        },
    }
}

/// The deadline as the bank writes dates: ISO-8601 with an offset.
pub fn bank_date(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The register body qrpay sends for a payment.
pub fn register_request(merchant_id: &str, req: &CreateQr<'_>) -> RaiffeisenRegisterQrRequest {
    RaiffeisenRegisterQrRequest {
        qr_type: RaiffeisenQrType::QrDynamic,
        sbp_merchant_id: Some(merchant_id.to_owned()),
        order: Some(req.order_ref.to_owned()),
        amount: Some(RaiffeisenAmount::from_kopecks(req.amount.kopecks())),
        currency: Some("RUB".into()),
        qr_expiration_date: Some(bank_date(req.expires_at)),
        payment_details: req.description.and_then(|d| clip(d, 185)),
        additional_info: req.description.and_then(|d| clip(d, 140)),
        account: None,
    }
}

/// Calls about cash-link payments go to the orders API (`orders.rs`); the rest is here.
#[async_trait]
impl Provider for RaiffeisenBank {
    fn module(&self) -> &'static str {
        MODULE
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            dynamic_qr: true,
            cash_link: true,
            customer_presented_qr: false,
            partial_refund: true,
            callbacks: true,
            test: false,
        }
    }

    fn polls_pending(&self) -> bool {
        true
    }

    fn refusal_of(&self, bank_code: &str) -> Option<Refusal> {
        if !bank_code.starts_with("ERROR.") {
            // `DECLINED` and the like are outcomes, not errors.
            return None;
        }
        Some(match RaiffeisenErrorCode::parse(bank_code).outcome() {
            RaiffeisenErrorOutcome::Rejected(refusal) => refusal,
            RaiffeisenErrorOutcome::NotFound | RaiffeisenErrorOutcome::AskState => Refusal::Refused,
        })
    }

    #[tracing::instrument(skip_all, fields(order = %req.order_ref))]
    async fn create_qr(&self, req: &CreateQr<'_>) -> Result<IssuedQr, ProviderError> {
        if let Some(link) = &req.cash_link {
            return self.activate_link(req, link).await;
        }
        let s = self.settings(req.store_id).await?;
        self.register(&s, &register_request(&s.sbp_merchant_id, req))
            .await
    }

    #[tracing::instrument(skip_all, fields(order = %req.order_ref))]
    async fn register_again(&self, req: &CreateQr<'_>) -> Result<OrderAtBank, ProviderError> {
        if let Some(link) = &req.cash_link {
            return self.order_again(req, link).await;
        }
        match self.create_qr(req).await {
            Ok(qr) => Ok(OrderAtBank::Issued(qr)),
            // "A QR with this order number and successful payments is already registered".
            Err(ProviderError::Rejected { code, .. })
                if RaiffeisenErrorCode::parse(&code)
                    == RaiffeisenErrorCode::OrderNumberAlreadyRegistered =>
            {
                Ok(OrderAtBank::Paid)
            }
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(skip_all, fields(qr_id = %qr.qr_id))]
    async fn payment_status(&self, qr: &QrRef<'_>) -> Result<BankPaymentState, ProviderError> {
        if qr.cash_link {
            return self.order_status(qr).await;
        }
        let s = self.settings(qr.store_id).await?;
        self.state_of(&s, qr).await
    }

    #[tracing::instrument(skip_all, fields(qr_id = %qr.qr_id))]
    async fn cancel_qr(&self, qr: &QrRef<'_>) -> Result<BankPaymentState, ProviderError> {
        if qr.cash_link {
            return self.cancel_order(qr).await;
        }
        let s = self.settings(qr.store_id).await?;
        match self.delete_qr(&s, qr.qr_id).await? {
            None => Ok(BankPaymentState::Cancelled),
            Some((code, message)) => match code.outcome() {
                RaiffeisenErrorOutcome::NotFound => Ok(BankPaymentState::NotFound),
                // Paid, expired or already cancelled: the bank's own view decides.
                RaiffeisenErrorOutcome::AskState => self.state_of(&s, qr).await,
                RaiffeisenErrorOutcome::Rejected(_) => Err(rejected(&code, message)),
            },
        }
    }

    #[tracing::instrument(skip_all, fields(refund = %req.refund_ref))]
    async fn refund(&self, req: &RefundRequest<'_>) -> Result<BankRefundState, ProviderError> {
        if req.cash_link {
            return self.refund_order(req).await;
        }
        let s = self.settings(req.store_id).await?;
        let body = RaiffeisenRefundRequest {
            amount: RaiffeisenAmount::from_kopecks(req.amount.kopecks()),
            order: req.order_ref.to_owned(),
            refund_id: req.refund_ref.to_owned(),
            payment_details: req.reason.and_then(|r| clip(r, 140)),
            transaction_id: req.transaction_id.and_then(|t| t.parse().ok()),
        };
        let body = serde_json::to_string(&body).expect("BUG: plain struct");
        match self
            .call::<RaiffeisenRefundResponse>(
                &s,
                reqwest::Method::POST,
                "/sbp/v1/refund",
                Some(body),
            )
            .await?
        {
            Reply::Ok(r) => Ok(refund_state(r.refund_status)),
            Reply::Error(code, message) => Err(rejected(&code, message)),
        }
    }

    #[tracing::instrument(skip_all, fields(refund = %req.refund_ref))]
    async fn refund_status(
        &self,
        req: &RefundRequest<'_>,
    ) -> Result<BankRefundState, ProviderError> {
        if req.cash_link {
            return self.order_refund_status(req).await;
        }
        let refund_ref = req.refund_ref;
        let s = self.settings(req.store_id).await?;
        match self
            .call::<RaiffeisenRefundResponse>(
                &s,
                reqwest::Method::GET,
                &format!("/sbp/v1/refund/{refund_ref}"),
                None,
            )
            .await?
        {
            Reply::Ok(r) => Ok(refund_state(r.refund_status)),
            Reply::Error(code, message) => Err(rejected(&code, message)),
        }
    }

    #[tracing::instrument(skip_all, fields(store_id = req.store_id))]
    async fn issue_cash_link(&self, req: &CashLinkRequest<'_>) -> Result<IssuedQr, ProviderError> {
        self.register_cash_link(req).await
    }

    fn issues_static_qrs(&self) -> bool {
        true
    }

    #[tracing::instrument(skip_all, fields(order = %req.order_ref))]
    async fn issue_static_qr(&self, req: &StaticQrRequest<'_>) -> Result<IssuedQr, ProviderError> {
        self.register_static(req).await
    }

    #[tracing::instrument(skip_all, fields(qr_id = %qr.qr_id))]
    async fn static_qr_payments(
        &self,
        qr: &StaticQrRef<'_>,
    ) -> Result<Vec<StaticQrPayment>, ProviderError> {
        self.payments_of_static(qr).await
    }

    #[tracing::instrument(skip_all, fields(qr_id = %qr.qr_id))]
    async fn deactivate_static_qr(&self, qr: &StaticQrRef<'_>) -> Result<(), ProviderError> {
        self.annul_static(qr).await
    }

    async fn verify_callback(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<CallbackNotice, CallbackError> {
        self.verify_notification(headers, body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Amount;

    #[test]
    fn the_register_body_carries_exact_rubles_the_deadline_and_trimmed_texts() {
        let long = format!("  {}  ", "Ж".repeat(300));
        let req = CreateQr {
            store_id: 1,
            order_ref: "q01ABC",
            amount: Amount::parse(111000).unwrap(),
            description: Some(&long),
            expires_at: DateTime::parse_from_rfc3339("2026-11-29T18:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            cash_link: None,
        };
        let body = serde_json::to_string(&register_request("MA0000000552", &req)).unwrap();
        assert!(body.contains("\"amount\":1110.00"), "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["qrType"], "QRDynamic");
        assert_eq!(v["currency"], "RUB");
        assert_eq!(v["order"], "q01ABC");
        assert_eq!(v["qrExpirationDate"], "2026-11-29T18:00:00+00:00");
        assert_eq!(v["paymentDetails"].as_str().unwrap().chars().count(), 185);
        assert_eq!(v["additionalInfo"].as_str().unwrap().chars().count(), 140);
        let one = CreateQr {
            amount: Amount::parse(1).unwrap(),
            description: None,
            ..req
        };
        let body = serde_json::to_string(&register_request("MA0000000552", &one)).unwrap();
        assert!(body.contains("\"amount\":0.01"), "{body}");
        assert!(!body.contains("paymentDetails"), "{body}");
    }

    #[test]
    fn the_body_code_wins_over_the_http_status() {
        let err =
            r#"{"code":"ERROR.MERCHANT_NOT_REGISTERED","message":"Партнер не зарегистрирован"}"#
                .as_bytes();
        for status in [
            StatusCode::OK,
            StatusCode::BAD_REQUEST,
            StatusCode::INTERNAL_SERVER_ERROR,
        ] {
            match interpret::<RaiffeisenQrInfo>(status, err).unwrap() {
                Reply::Error(code, message) => {
                    assert_eq!(code, RaiffeisenErrorCode::MerchantNotRegistered);
                    assert!(message.contains("Партнер"));
                }
                Reply::Ok(_) => panic!("an error body is never a success"),
            }
        }
        assert!(matches!(
            interpret::<RaiffeisenQrInfo>(StatusCode::BAD_GATEWAY, b"<html>"),
            Err(ProviderError::NoAnswer(_))
        ));
        assert!(matches!(
            interpret::<RaiffeisenQrInfo>(StatusCode::OK, b"{\"qrId\":"),
            Err(ProviderError::NoAnswer(_))
        ));
        assert!(matches!(
            interpret::<RaiffeisenQrInfo>(StatusCode::UNAUTHORIZED, b""),
            Err(ProviderError::Rejected { .. })
        ));
    }
}
