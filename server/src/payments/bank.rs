//! Calls to the bank: each bounded by the bank call timeout (`QRPAY_BANK_CALL_TIMEOUT`), never more
//! than the payment type's response timeout (past it the answer is "unknown", never a failure),
//! and the one way to ask the bank what it knows of a payment.

use super::PaymentService;
use crate::db::payment::PaymentRow;
use crate::db::refund::RefundRow;
use crate::domain::Amount;
use crate::providers::{
    BankPaymentState, CashLinkRef, ChargeCustomerQr, CreateQr, OrderAtBank, Provider,
    ProviderError, QrRef, RefundRequest,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Bank calls made by this process, by outcome: answered, no clear answer, refused (`/metrics`).
static BANK_CALLS: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
const OUTCOMES: [&str; 3] = ["ok", "no_answer", "rejected"];

/// `(outcome, calls)` since the process started: `ok`, `no_answer` (timeout, network, 5xx, an
/// unreadable answer), `rejected` (the bank refused).
pub fn bank_call_counts() -> [(&'static str, u64); 3] {
    std::array::from_fn(|i| (OUTCOMES[i], BANK_CALLS[i].load(Ordering::Relaxed)))
}

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
            cash_link: row.cash_link_qr_id.is_some(),
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

    /// How long the bank is given to answer about `row`.
    pub(super) fn bank_timeout(&self, row: &PaymentRow) -> Duration {
        self.bank_call_limit((row.expires_at - row.created_at).num_seconds())
    }

    /// How long one bank call may take for a payment type whose authorization server times out
    /// after `response_timeout_secs`: the bank call timeout, never more than that. The QR's
    /// lifetime (the time the customer has to pay) stays the response timeout.
    pub(super) fn bank_call_limit(&self, response_timeout_secs: i64) -> Duration {
        call_limit(self.bank_call_timeout, response_timeout_secs)
    }

    /// Asks the bank what it holds for the payment's `order` (one bounded call): for a payment
    /// whose registration's answer was lost, so qrpay never learnt its QR. The bank takes no
    /// expiry in the past: past the deadline the order is asked for with a minute's expiry,
    /// and the caller annuls whatever QR comes back.
    pub(super) async fn ask_bank_by_order(
        &self,
        row: &PaymentRow,
    ) -> Result<OrderAtBank, ProviderError> {
        let provider = self.providers.get(&row.module).ok_or_else(|| {
            ProviderError::NoAnswer(format!("module {} is not installed", row.module))
        })?;
        let amount =
            Amount::parse(row.amount).map_err(|e| ProviderError::NoAnswer(e.to_string()))?;
        let soonest = crate::db::now() + chrono::Duration::seconds(60);
        let asked = CreateQr {
            store_id: row.store_id,
            order_ref: &row.order_ref,
            amount,
            description: row.description.as_deref(),
            expires_at: row.expires_at.max(soonest),
            cash_link: cash_link_of(row),
        };
        bounded(self.bank_timeout(row), provider.register_again(&asked)).await
    }

    /// Asks the bank again about a customer-presented QR charge in doubt (one bounded call):
    /// charging is idempotent by order, so this answers with the first charge's outcome.
    pub(super) async fn charge_again(
        &self,
        row: &PaymentRow,
        customer_qr: &str,
    ) -> Result<BankPaymentState, ProviderError> {
        let provider = self.providers.get(&row.module).ok_or_else(|| {
            ProviderError::NoAnswer(format!("module {} is not installed", row.module))
        })?;
        let amount =
            Amount::parse(row.amount).map_err(|e| ProviderError::NoAnswer(e.to_string()))?;
        let charge = ChargeCustomerQr {
            store_id: row.store_id,
            order_ref: &row.order_ref,
            amount,
            description: row.description.as_deref(),
            customer_qr,
        };
        bounded(self.bank_timeout(row), provider.charge_customer_qr(&charge)).await
    }

    /// Asks the bank about a QR a notification named for this payment's order, which qrpay
    /// never recorded (one bounded call; the module checks the QR is the order's).
    pub(super) async fn ask_bank_about_qr(
        &self,
        row: &PaymentRow,
        qr_id: &str,
    ) -> Result<BankPaymentState, ProviderError> {
        let named = PaymentRow {
            qr_id: Some(qr_id.to_owned()),
            ..row.clone()
        };
        self.ask_bank(&named).await
    }

    /// Asks the bank what it knows of the payment (one bounded call).
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
        // A static QR's payment: the order the bank gave it (its transaction id names it).
        order_ref: payment.bank_order.as_deref().unwrap_or(&payment.order_ref),
        qr_id: payment.qr_id.as_deref(),
        transaction_id: payment.bank_transaction_id.as_deref(),
        amount,
        reason: refund.reason.as_deref(),
        cash_link: payment.cash_link_qr_id.is_some(),
    })
}

/// The till's cash link a payment activated, as the bank is asked about it again: its QR id and
/// the link (the payment's own payload once it has one; before that, the QR id stands in, as
/// nobody has been shown anything yet).
fn cash_link_of(row: &PaymentRow) -> Option<CashLinkRef<'_>> {
    row.cash_link_qr_id.as_deref().map(|qr_id| CashLinkRef {
        qr_id,
        payload: row
            .qr_payload
            .as_deref()
            .or(row.till_cash_link_payload.as_deref())
            .unwrap_or(qr_id),
    })
}

fn call_limit(bank_call_timeout: Duration, response_timeout_secs: i64) -> Duration {
    let response_timeout = Duration::from_secs(response_timeout_secs.clamp(1, 3600) as u64);
    bank_call_timeout.min(response_timeout)
}

/// Bounds a bank call: past the timeout it is `NoAnswer`, never a failure. Every bank call goes
/// through here, so this is where they are counted.
pub(super) async fn bounded<T>(
    timeout: Duration,
    call: impl std::future::Future<Output = Result<T, ProviderError>>,
) -> Result<T, ProviderError> {
    let result = match tokio::time::timeout(timeout, call).await {
        Ok(result) => result,
        Err(_) => Err(ProviderError::NoAnswer(format!(
            "no answer within {:.1} s",
            timeout.as_secs_f64()
        ))),
    };
    let outcome = match &result {
        Ok(_) => 0,
        Err(ProviderError::NoAnswer(_)) => 1,
        Err(ProviderError::Rejected { .. }) => 2,
    };
    BANK_CALLS[outcome].fetch_add(1, Ordering::Relaxed);
    result
}

#[cfg(test)]
mod tests {
    use super::{bank_call_counts, bounded, call_limit};
    use crate::providers::ProviderError;
    use std::time::Duration;

    #[tokio::test]
    async fn bank_calls_are_counted_by_outcome() {
        let before = bank_call_counts();
        let short = Duration::from_millis(20);
        let _ = bounded(short, async { Ok::<_, ProviderError>(()) }).await;
        let _ = bounded(short, std::future::pending::<Result<(), ProviderError>>()).await;
        let _ = bounded(short, async {
            Err::<(), _>(ProviderError::Rejected {
                code: "X".into(),
                message: "no".into(),
            })
        })
        .await;
        let after = bank_call_counts();
        for i in 0..3 {
            // Other tests may call the bank at the same time: at least one more each.
            assert!(after[i].1 > before[i].1, "{before:?} -> {after:?}");
        }
    }

    #[test]
    fn a_bank_call_is_bounded_by_its_own_timeout_never_above_the_authorization_servers() {
        let ten = Duration::from_secs(10);
        assert_eq!(call_limit(ten, 120), ten);
        assert_eq!(call_limit(ten, 3), Duration::from_secs(3));
        assert_eq!(call_limit(ten, 0), Duration::from_secs(1));
        assert_eq!(
            call_limit(Duration::from_secs(600), 7200),
            Duration::from_secs(600)
        );
    }
}
