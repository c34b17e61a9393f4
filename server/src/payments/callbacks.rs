//! Bank notifications: the module verifies the signature and names the payment; what happened is
//! then asked of the bank, so nothing unsigned is ever believed.

use super::{Error, PaymentService};
use crate::db;
use crate::db::payment::{self, PaymentRow};
use crate::domain::PaymentStatus;
use crate::providers::{BankPaymentState, CallbackError, ProviderError};

/// Why a bank notification was not taken.
#[derive(Debug, thiserror::Error)]
pub enum CallbackFailure {
    #[error("no payment module {0:?} takes callbacks")]
    UnknownModule(String),
    #[error(transparent)]
    Refused(#[from] CallbackError),
    /// A genuine notice of a static QR that reports no payment (declined, in progress).
    #[error("the notification of static QR order {0:?} reports no payment")]
    NoPayment(String),
    /// The notice was genuine but the bank did not confirm it yet: the bank should send it again.
    #[error("the bank did not answer the status check: {0}")]
    BankSilent(String),
    #[error(transparent)]
    Internal(#[from] Error),
}

impl PaymentService {
    /// A bank notification: the module verifies its signature and names the payment; what
    /// happened is then asked of the bank, so nothing unsigned is ever believed. Applying the
    /// same notification twice changes nothing.
    #[tracing::instrument(skip_all, fields(module = %module))]
    pub async fn handle_callback(
        &self,
        module: &str,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Result<PaymentRow, CallbackFailure> {
        let provider = self
            .providers
            .get(module)
            .filter(|p| p.capabilities().callbacks)
            .ok_or_else(|| CallbackFailure::UnknownModule(module.to_owned()))?;
        let notice = provider.verify_callback(headers, body).await?;
        if let Some(qr) = db::static_qr::find_by_order(&self.db, module, &notice.order_ref)
            .await
            .map_err(Error::from)?
        {
            tracing::info!(static_qr_id = qr.static_qr_id, claimed = ?notice.claimed_status, "bank notification of a static QR");
            let Some(paid) = notice.static_payment else {
                return Err(CallbackFailure::NoPayment(notice.order_ref));
            };
            if let Some(row) = self.take_static_payment(&qr, &paid).await? {
                return Ok(row);
            }
            // Taken before (a repeated notification, or polling came first).
            return payment::find_static_payment(&self.db, qr.static_qr_id, &paid.transaction_id)
                .await
                .map_err(Error::from)?
                .ok_or_else(|| {
                    CallbackFailure::Internal(Error::Internal(anyhow::anyhow!(
                        "a static QR payment taken before is not found"
                    )))
                });
        }
        let row = payment::find_by_order_ref(&self.db, module, &notice.order_ref)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| CallbackError::UnknownOrder(notice.order_ref.clone()))?;
        tracing::info!(payment_id = %row.payment_id, claimed = ?notice.claimed_status, "bank notification");
        let silent = |e: ProviderError| CallbackFailure::BankSilent(e.to_string());
        if let Some(named) = notice
            .qr_id
            .as_deref()
            .filter(|q| row.qr_id.as_deref() != Some(*q))
        {
            // A QR qrpay never recorded for this order (the answer to its registration was
            // lost): if the bank says that QR of this order was paid, the payment was paid.
            let state = self.ask_bank_about_qr(&row, named).await.map_err(silent)?;
            if matches!(state, BankPaymentState::Paid { .. }) {
                let (trigger, mut changes, detail) = Self::trigger_for(&state);
                changes.qr_id = Some(named.to_owned());
                return Ok(self
                    .apply(&row.payment_id, trigger, changes, detail.as_deref())
                    .await?);
            }
        }
        if row.qr_id.is_none() {
            return match row.status() {
                PaymentStatus::Unknown => self
                    .settle_by_order(&row)
                    .await?
                    .ok_or_else(|| CallbackFailure::BankSilent("no answer about the order".into())),
                // Its registration is still under way: the bank is asked to send it again.
                PaymentStatus::Creating => Err(CallbackFailure::BankSilent(
                    "the QR registration is still under way".into(),
                )),
                _ => Ok(row),
            };
        }
        let state = self.ask_bank(&row).await.map_err(silent)?;
        Ok(self.apply_bank_state(&row.payment_id, &state).await?)
    }
}
