//! A signed SBP payment notification (`X-Api-Signature-SHA256` over
//! `amount|sbpMerchantId|order|paymentStatus|transactionDate`, HMAC-SHA256 with the store's
//! secret key): which payment — or which static QR, and its payment — it is about. The bank may
//! report an order (a till's cash link) in the ecom format instead (`{event, transaction{…}}`,
//! signed over `amount|publicId|orderId|status.value|status.date`); both are taken.

use super::order_wire::RaiffeisenOrderNotification;
use super::wire::{RaiffeisenPaymentNotification, SIGNATURE_HEADER, signature_matches};
use super::{MODULE, RaiffeisenBank, static_qr};
use crate::db;
use crate::providers::{CallbackError, CallbackNotice};

impl RaiffeisenBank {
    pub(super) async fn verify_notification(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<CallbackNotice, CallbackError> {
        if let Ok(order) = serde_json::from_slice::<RaiffeisenOrderNotification<'_>>(body) {
            return self.verify_order_notification(headers, order).await;
        }
        let notice: RaiffeisenPaymentNotification<'_> =
            serde_json::from_slice(body).map_err(|e| CallbackError::Malformed(e.to_string()))?;
        let signature = headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or(CallbackError::Unsigned)?;
        let payment = db::payment::find_by_order_ref(&self.db, MODULE, &notice.order)
            .await
            .map_err(|e| CallbackError::Malformed(format!("looking the order up: {e}")))?;
        // A static QR's payments share its order.
        let static_qr = match &payment {
            Some(_) => None,
            None => db::static_qr::find_by_order(&self.db, MODULE, &notice.order)
                .await
                .map_err(|e| CallbackError::Malformed(format!("looking the order up: {e}")))?,
        };
        // An order qrpay does not know is checked against the default key, so that a forged
        // notification and a stray genuine one get different answers.
        let store_id = payment
            .as_ref()
            .map(|p| p.store_id)
            .or(static_qr.as_ref().map(|q| q.store_id));
        let settings = match store_id {
            Some(store_id) => self.settings(store_id).await.ok(),
            None => self.defaults.0.clone(),
        }
        .ok_or_else(|| CallbackError::NotConfigured(notice.order.clone()))?;
        if !signature_matches(
            settings.secret_key.expose(),
            &notice.signed_string(),
            signature,
        ) {
            return Err(CallbackError::BadSignature);
        }
        if notice.sbp_merchant_id != settings.sbp_merchant_id {
            return Err(CallbackError::BadSignature);
        }
        let static_payment = match static_qr {
            Some(_) => static_qr::static_payment_of(&notice).map_err(CallbackError::Malformed)?,
            None if payment.is_none() => return Err(CallbackError::UnknownOrder(notice.order)),
            None => None,
        };
        Ok(CallbackNotice {
            order_ref: notice.order,
            qr_id: notice.qr_id,
            claimed_status: notice.payment_status,
            static_payment,
        })
    }

    /// An ecom-style notification about an order (a payment through a till's cash link).
    /// ASSUMPTION: the signature's `publicId` is the store's `sbpMerchantId` (see
    /// `RaiffeisenOrderNotification::signed_string`).
    async fn verify_order_notification(
        &self,
        headers: &http::HeaderMap,
        notice: RaiffeisenOrderNotification<'_>,
    ) -> Result<CallbackNotice, CallbackError> {
        let order = notice.transaction.order_id.clone();
        let signature = headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or(CallbackError::Unsigned)?;
        let payment = db::payment::find_by_order_ref(&self.db, MODULE, &order)
            .await
            .map_err(|e| CallbackError::Malformed(format!("looking the order up: {e}")))?;
        let settings = match &payment {
            Some(p) => self.settings(p.store_id).await.ok(),
            None => self.defaults.0.clone(),
        }
        .ok_or_else(|| CallbackError::NotConfigured(order.clone()))?;
        let signed = notice.signed_string(&settings.sbp_merchant_id);
        if !signature_matches(settings.secret_key.expose(), &signed, signature) {
            return Err(CallbackError::BadSignature);
        }
        if payment.is_none() {
            return Err(CallbackError::UnknownOrder(order));
        }
        let t = notice.transaction;
        Ok(CallbackNotice {
            order_ref: order,
            qr_id: t.payment_params.and_then(|p| p.qr_id),
            claimed_status: t.status.value,
            static_payment: None,
        })
    }
}
