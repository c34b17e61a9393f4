//! Raiffeisen static QRs (`QRStatic`): registering one (`POST /sbp/v2/qrs`, with or without an
//! amount), the payment the bank reports for it (`GET /sbp/v1/qr/{qrId}/payment-info`: the
//! documents do not say which of several payments it gives, so callbacks stay the primary
//! signal), annulling it (`DELETE /sbp/v2/qrs/{qrId}`), and a signed notification of one of its
//! payments.

use super::wire::{
    RaiffeisenAmount, RaiffeisenErrorOutcome, RaiffeisenPaymentNotification,
    RaiffeisenPaymentStatus, RaiffeisenQrType, RaiffeisenRegisterQrRequest, kopecks_of,
};
use super::{RaiffeisenBank, Reply, clip, no_answer, rejected};
use crate::providers::{IssuedQr, ProviderError, StaticQrPayment, StaticQrRef, StaticQrRequest};
use chrono::{DateTime, Utc};

/// The register body for a static QR: no expiry (it lives until annulled), the amount and its
/// currency only when fixed.
pub fn static_register_request(
    merchant_id: &str,
    req: &StaticQrRequest<'_>,
) -> RaiffeisenRegisterQrRequest {
    RaiffeisenRegisterQrRequest {
        qr_type: RaiffeisenQrType::QrStatic,
        sbp_merchant_id: Some(merchant_id.to_owned()),
        order: Some(req.order_ref.to_owned()),
        amount: req.amount.map(RaiffeisenAmount::from_kopecks),
        currency: req.amount.map(|_| "RUB".to_owned()),
        qr_expiration_date: None,
        payment_details: req.purpose.and_then(|d| clip(d, 185)),
        additional_info: req.purpose.and_then(|d| clip(d, 140)),
        account: None,
    }
}

/// The payment a paid notification of a static QR reports (its amount, order and date are
/// signed); `None` for any other status.
pub fn static_payment_of(
    notice: &RaiffeisenPaymentNotification<'_>,
) -> Result<Option<StaticQrPayment>, String> {
    if notice.payment_status != RaiffeisenPaymentStatus::Success.as_str() {
        return Ok(None);
    }
    let transaction_id = notice
        .transaction_id
        .ok_or("a static QR's payment notification without transactionId")?;
    let amount = kopecks_of(notice.amount.get())
        .filter(|k| *k > 0)
        .ok_or("the notification's amount is not a ruble amount")?;
    Ok(Some(StaticQrPayment {
        transaction_id: transaction_id.to_string(),
        amount,
        order: notice.order.clone(),
        paid_at: wire_date(&notice.transaction_date),
    }))
}

impl RaiffeisenBank {
    pub(super) async fn register_static(
        &self,
        req: &StaticQrRequest<'_>,
    ) -> Result<IssuedQr, ProviderError> {
        let s = self.settings(req.store_id).await?;
        self.register(&s, &static_register_request(&s.sbp_merchant_id, req))
            .await
    }

    pub(super) async fn payments_of_static(
        &self,
        qr: &StaticQrRef<'_>,
    ) -> Result<Vec<StaticQrPayment>, ProviderError> {
        let s = self.settings(qr.store_id).await?;
        let info = match self.payment_info(&s, qr.qr_id).await? {
            Reply::Ok(info) => info,
            Reply::Error(code, _) if code.outcome() == RaiffeisenErrorOutcome::NotFound => {
                return Ok(Vec::new());
            }
            Reply::Error(code, message) => return Err(rejected(&code, message)),
        };
        let paid = match info.payment_status {
            RaiffeisenPaymentStatus::Success => true,
            RaiffeisenPaymentStatus::Declined
            | RaiffeisenPaymentStatus::InProgress
            | RaiffeisenPaymentStatus::NoInfo => false,
        };
        if !paid {
            return Ok(Vec::new());
        }
        let (Some(transaction_id), Some(amount)) = (
            info.transaction_id,
            info.amount.as_ref().and_then(RaiffeisenAmount::kopecks),
        ) else {
            return Err(no_answer(
                "the bank's payment-info",
                "a paid static QR without transactionId or amount",
            ));
        };
        Ok(vec![StaticQrPayment {
            transaction_id: transaction_id.to_string(),
            amount,
            order: info.order.unwrap_or_else(|| qr.order_ref.to_owned()),
            paid_at: info.transaction_date.as_deref().and_then(wire_date),
        }])
    }

    pub(super) async fn annul_static(&self, qr: &StaticQrRef<'_>) -> Result<(), ProviderError> {
        let s = self.settings(qr.store_id).await?;
        match self.delete_qr(&s, qr.qr_id).await? {
            None => Ok(()),
            Some((code, message)) => match code.outcome() {
                // Gone, expired or already annulled: it cannot be paid either way.
                RaiffeisenErrorOutcome::NotFound | RaiffeisenErrorOutcome::AskState => Ok(()),
                RaiffeisenErrorOutcome::Rejected(_) => Err(rejected(&code, message)),
            },
        }
    }
}

/// A date as the bank writes it (ISO-8601 with an offset), in UTC.
fn wire_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}
