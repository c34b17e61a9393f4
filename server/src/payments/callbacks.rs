//! Bank notifications: the module verifies the signature and names the payment; what happened is
//! then asked of the bank, so nothing unsigned is ever believed.

use super::{Error, PaymentService};
use crate::db::payment::{self, PaymentRow};
use crate::providers::CallbackError;

/// Why a bank notification was not taken.
#[derive(Debug, thiserror::Error)]
pub enum CallbackFailure {
    #[error("no payment module {0:?} takes callbacks")]
    UnknownModule(String),
    #[error(transparent)]
    Refused(#[from] CallbackError),
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
        let row = payment::find_by_order_ref(&self.db, module, &notice.order_ref)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| CallbackError::UnknownOrder(notice.order_ref.clone()))?;
        tracing::info!(payment_id = %row.payment_id, claimed = ?notice.claimed_status, "bank notification");
        if row.qr_id.is_none() {
            // qrpay has not recorded the QR yet (or never got it): the sync worker settles it.
            return Ok(row);
        }
        let state = self
            .ask_bank(&row)
            .await
            .map_err(|e| CallbackFailure::BankSilent(e.to_string()))?;
        Ok(self.apply_bank_state(&row.payment_id, &state).await?)
    }
}
