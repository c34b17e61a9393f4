//! Calls to the bank: each bounded by the payment type's response timeout (past it the answer is
//! "unknown", never a failure), and the one way to ask the bank what it knows of a payment.

use super::PaymentService;
use crate::db::payment::PaymentRow;
use crate::db::refund::RefundRow;
use crate::domain::Amount;
use crate::providers::{BankPaymentState, Provider, ProviderError, QrRef, RefundRequest};
use std::sync::Arc;
use std::time::Duration;

/// A provider and the QR a bank call is about.
type BankCall<'s, 'r> = (&'s Arc<dyn Provider>, QrRef<'r>);

impl PaymentService {
    /// The provider and the QR reference for a bank call about `row`; `None` when no QR was
    /// ever issued.
    fn qr_of<'r>(&self, row: &'r PaymentRow) -> Result<Option<BankCall<'_, 'r>>, ProviderError> {
        let Some(qr_id) = row.qr_id.as_deref() else {
            return Ok(None);
        };
        let provider = self.providers.get(&row.module).ok_or_else(|| {
            ProviderError::NoAnswer(format!("module {} is not installed", row.module))
        })?;
        let amount =
            Amount::parse(row.amount).map_err(|e| ProviderError::NoAnswer(e.to_string()))?;
        let qr = QrRef {
            store_id: row.store_id,
            qr_id,
            order_ref: &row.order_ref,
            amount,
        };
        Ok(Some((provider, qr)))
    }

    /// Annuls the payment's QR at the bank; answers with the bank's state afterwards.
    pub(super) async fn annul_at_bank(
        &self,
        row: &PaymentRow,
    ) -> Result<BankPaymentState, ProviderError> {
        let Some((provider, qr)) = self.qr_of(row)? else {
            return Ok(BankPaymentState::NotFound);
        };
        bounded(self.bank_timeout(row), provider.cancel_qr(&qr)).await
    }

    /// How long the bank is given to answer about `row`: its payment type's response timeout.
    pub(super) fn bank_timeout(&self, row: &PaymentRow) -> Duration {
        let total = (row.expires_at - row.created_at)
            .num_seconds()
            .clamp(1, 3600);
        Duration::from_secs(total as u64)
    }

    /// Asks the bank what it knows of the payment (bounded by the response timeout).
    pub(super) async fn ask_bank(
        &self,
        row: &PaymentRow,
    ) -> Result<BankPaymentState, ProviderError> {
        // No QR was ever handed out, so nobody can have paid it.
        let Some((provider, qr)) = self.qr_of(row)? else {
            return Ok(BankPaymentState::NotFound);
        };
        bounded(self.bank_timeout(row), provider.payment_status(&qr)).await
    }
}

/// What the bank is asked for a refund (the same every time: the refund id makes it idempotent).
pub(super) fn refund_request<'a>(
    payment: &'a PaymentRow,
    refund: &'a RefundRow,
) -> Result<RefundRequest<'a>, super::Error> {
    let amount = Amount::parse(refund.amount)
        .map_err(|e| anyhow::anyhow!("BUG: stored refund amount: {e}"))?;
    Ok(RefundRequest {
        store_id: payment.store_id,
        refund_ref: &refund.refund_ref,
        order_ref: &payment.order_ref,
        qr_id: payment.qr_id.as_deref(),
        transaction_id: payment.bank_transaction_id.as_deref(),
        amount,
        reason: refund.reason.as_deref(),
    })
}

/// Bounds a bank call: past the timeout it is `NoAnswer`, never a failure.
pub(super) async fn bounded<T>(
    timeout: Duration,
    call: impl std::future::Future<Output = Result<T, ProviderError>>,
) -> Result<T, ProviderError> {
    match tokio::time::timeout(timeout, call).await {
        Ok(result) => result,
        Err(_) => Err(ProviderError::NoAnswer(format!(
            "no answer within {} s",
            timeout.as_secs()
        ))),
    }
}
