//! Raiffeisen cash-register links (`QRVariable`, notes §9–§10): registering a link
//! (`POST /sbp/v2/qrs`) or binding a bank-printed plate (`POST /sbp/v1/qr-drafts/{qrId}`), and
//! the orders API that activates the link for each payment: create (`POST /payment/v1/orders`),
//! follow (`GET /payment/v1/orders/{id}`), cancel (`DELETE`, `ORDER_HAS_FINAL_STATUS` meaning
//! "ask what it became"), refund by order (`POST|GET /payments/v1/orders/{orderId}/refunds/
//! {refundId}`). A payment through a link is known to the bank by its order, never by the QR,
//! which serves every sale of the till.

use super::order_wire::*;
use super::wire::{
    RaiffeisenAmount, RaiffeisenErrorOutcome, RaiffeisenQrType, RaiffeisenRegisterQrRequest,
};
use super::{
    RaiffeisenBank, RaiffeisenSettings, Reply, bank_date, clip, error_as_state, refund_state,
    rejected,
};
use crate::providers::{
    BankPaymentState, BankRefundState, CashLinkRef, CashLinkRequest, CreateQr, IssuedQr,
    OrderAtBank, ProviderError, QrRef, RefundRequest,
};
use chrono::{DateTime, Utc};

/// The body that activates `link` for the payment `req`.
pub fn order_request(req: &CreateQr<'_>, link: &CashLinkRef<'_>) -> RaiffeisenOrderRequest {
    RaiffeisenOrderRequest {
        id: req.order_ref.to_owned(),
        amount: RaiffeisenAmount::from_kopecks(req.amount.kopecks()),
        qr: RaiffeisenOrderQr {
            id: link.qr_id.to_owned(),
            additional_info: req.description.and_then(|d| clip(d, 140)),
            payment_details: req.description.and_then(|d| clip(d, 185)),
        },
        expiration_date: Some(bank_date(req.expires_at)),
        comment: None,
    }
}

/// What an order's status means for its payment (exhaustive).
pub fn order_state(order: &RaiffeisenOrder) -> BankPaymentState {
    match order.status.value {
        RaiffeisenOrderStatus::New => BankPaymentState::Waiting,
        RaiffeisenOrderStatus::Paid => BankPaymentState::Paid {
            transaction_id: None,
            paid_at: order
                .status
                .date
                .as_deref()
                .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
                .map(|d| d.with_timezone(&Utc)),
        },
        RaiffeisenOrderStatus::Cancelled => BankPaymentState::Cancelled,
        RaiffeisenOrderStatus::Expired => BankPaymentState::Expired,
    }
}

fn issued(link: &CashLinkRef<'_>) -> IssuedQr {
    IssuedQr {
        qr_id: link.qr_id.to_owned(),
        payload: link.payload.to_owned(),
    }
}

impl RaiffeisenBank {
    /// Registers a `QRVariable` for a till, or binds the plate `bind_qr_id`.
    pub(super) async fn register_cash_link(
        &self,
        req: &CashLinkRequest<'_>,
    ) -> Result<IssuedQr, ProviderError> {
        let s = self.settings(req.store_id).await?;
        let Some(qr_id) = req.bind_qr_id else {
            let body = RaiffeisenRegisterQrRequest {
                qr_type: RaiffeisenQrType::QrVariable,
                sbp_merchant_id: Some(s.sbp_merchant_id.clone()),
                order: None,
                amount: None,
                currency: None,
                qr_expiration_date: None,
                payment_details: None,
                additional_info: None,
                account: None,
            };
            return self.register(&s, &body).await;
        };
        let body =
            serde_json::to_string(&RaiffeisenQrDraftRequest::default()).expect("BUG: plain struct");
        match self
            .call::<super::wire::RaiffeisenRegisterQrResponse>(
                &s,
                reqwest::Method::POST,
                &format!("/sbp/v1/qr-drafts/{qr_id}"),
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

    /// `POST /payment/v1/orders`: the link, activated for the payment.
    pub(super) async fn activate_link(
        &self,
        req: &CreateQr<'_>,
        link: &CashLinkRef<'_>,
    ) -> Result<IssuedQr, ProviderError> {
        let s = self.settings(req.store_id).await?;
        self.create_order(&s, req, link).await
    }

    async fn create_order(
        &self,
        s: &RaiffeisenSettings,
        req: &CreateQr<'_>,
        link: &CashLinkRef<'_>,
    ) -> Result<IssuedQr, ProviderError> {
        let body = serde_json::to_string(&order_request(req, link)).expect("BUG: plain struct");
        match self
            .call::<RaiffeisenOrder>(s, reqwest::Method::POST, "/payment/v1/orders", Some(body))
            .await?
        {
            Reply::Ok(order) if order.qr.as_ref().is_none_or(|q| q.id == link.qr_id) => {
                Ok(issued(link))
            }
            Reply::Ok(order) => Err(ProviderError::NoAnswer(format!(
                "the bank answered the order with another QR ({:?})",
                order.qr.map(|q| q.id)
            ))),
            Reply::Error(code, message) => Err(rejected(&code, message)),
        }
    }

    async fn get_order(
        &self,
        s: &RaiffeisenSettings,
        order_ref: &str,
    ) -> Result<Reply<RaiffeisenOrder>, ProviderError> {
        self.call(
            s,
            reqwest::Method::GET,
            &format!("/payment/v1/orders/{order_ref}"),
            None,
        )
        .await
    }

    /// An order whose creation's answer was lost: asked about by its id; created now when the
    /// bank does not know it (the request never arrived).
    pub(super) async fn order_again(
        &self,
        req: &CreateQr<'_>,
        link: &CashLinkRef<'_>,
    ) -> Result<OrderAtBank, ProviderError> {
        let s = self.settings(req.store_id).await?;
        match self.get_order(&s, req.order_ref).await? {
            Reply::Ok(order) => Ok(match order_state(&order) {
                BankPaymentState::Paid { .. } => OrderAtBank::Paid,
                // Live, or closed already (the caller then closes the payment as the bank did).
                _ => OrderAtBank::Issued(issued(link)),
            }),
            Reply::Error(code, _) if code.outcome() == RaiffeisenErrorOutcome::NotFound => self
                .create_order(&s, req, link)
                .await
                .map(OrderAtBank::Issued),
            Reply::Error(code, message) => Err(rejected(&code, message)),
        }
    }

    /// The payment's order as the bank holds it.
    pub(super) async fn order_status(
        &self,
        qr: &QrRef<'_>,
    ) -> Result<BankPaymentState, ProviderError> {
        let s = self.settings(qr.store_id).await?;
        self.order_status_with(&s, qr).await
    }

    async fn order_status_with(
        &self,
        s: &RaiffeisenSettings,
        qr: &QrRef<'_>,
    ) -> Result<BankPaymentState, ProviderError> {
        match self.get_order(s, qr.order_ref).await? {
            // An order on another link (a notification names QRs without signing them) is not
            // this payment's.
            Reply::Ok(order) if order.qr.as_ref().is_some_and(|q| q.id != qr.qr_id) => {
                tracing::warn!(qr_id = qr.qr_id, "the bank holds this order on another QR");
                Ok(BankPaymentState::NotFound)
            }
            Reply::Ok(order) => Ok(order_state(&order)),
            Reply::Error(code, message) => error_as_state(code, message),
        }
    }

    /// `DELETE /payment/v1/orders/{id}`: the link is free again. A paid, expired or already
    /// cancelled order answers `ORDER_HAS_FINAL_STATUS`: then the order's own status decides.
    pub(super) async fn cancel_order(
        &self,
        qr: &QrRef<'_>,
    ) -> Result<BankPaymentState, ProviderError> {
        let s = self.settings(qr.store_id).await?;
        let path = format!("/payment/v1/orders/{}", qr.order_ref);
        match self.delete_at(&s, &path).await? {
            None => Ok(BankPaymentState::Cancelled),
            Some((code, message)) => match code.outcome() {
                RaiffeisenErrorOutcome::NotFound => Ok(BankPaymentState::NotFound),
                RaiffeisenErrorOutcome::AskState => self.order_status_with(&s, qr).await,
                RaiffeisenErrorOutcome::Rejected(_) => Err(rejected(&code, message)),
            },
        }
    }

    fn refund_path(req: &RefundRequest<'_>) -> String {
        format!(
            "/payments/v1/orders/{}/refunds/{}",
            req.order_ref, req.refund_ref
        )
    }

    /// `POST /payments/v1/orders/{orderId}/refunds/{refundId}`.
    pub(super) async fn refund_order(
        &self,
        req: &RefundRequest<'_>,
    ) -> Result<BankRefundState, ProviderError> {
        let s = self.settings(req.store_id).await?;
        let body = serde_json::to_string(&RaiffeisenOrderRefundRequest {
            amount: RaiffeisenAmount::from_kopecks(req.amount.kopecks()),
            payment_details: req.reason.and_then(|r| clip(r, 140)),
        })
        .expect("BUG: plain struct");
        match self
            .call::<RaiffeisenOrderRefundResponse>(
                &s,
                reqwest::Method::POST,
                &Self::refund_path(req),
                Some(body),
            )
            .await?
        {
            Reply::Ok(r) => Ok(refund_state(r.refund_status)),
            Reply::Error(code, message) => Err(rejected(&code, message)),
        }
    }

    /// `GET /payments/v1/orders/{orderId}/refunds/{refundId}`.
    pub(super) async fn order_refund_status(
        &self,
        req: &RefundRequest<'_>,
    ) -> Result<BankRefundState, ProviderError> {
        let s = self.settings(req.store_id).await?;
        match self
            .call::<RaiffeisenOrderRefundResponse>(
                &s,
                reqwest::Method::GET,
                &Self::refund_path(req),
                None,
            )
            .await?
        {
            Reply::Ok(r) => Ok(refund_state(r.refund_status)),
            Reply::Error(code, message) => Err(rejected(&code, message)),
        }
    }
}
