//! A till cancels a payment: the QR is annulled at the bank first, and whatever the bank then
//! says (annulled, or paid after all) is what the payment becomes.

use super::{Error, PaymentService};
use crate::db::payment::{PaymentChanges, PaymentRow};
use crate::db::till::TillIdentity;
use crate::domain::{PaymentStatus, PaymentTrigger};
use crate::providers::{BankPaymentState, ProviderError, Refusal};

impl PaymentService {
    /// The till cancels: the QR is annulled at the bank first; if the customer has already
    /// paid, the payment ends `paid` and the answer says so.
    #[tracing::instrument(skip_all, fields(payment_id = %payment_id))]
    pub async fn cancel(&self, till: &TillIdentity, payment_id: &str) -> Result<PaymentRow, Error> {
        let row = self.payment_for(till, payment_id).await?;
        match row.status() {
            // A customer's QR code charged in doubt has no QR to annul: the bank is asked how
            // the charge ended (the till is told to ask again while it does not know).
            PaymentStatus::Unknown if row.customer_qr.is_some() => {
                return Ok(self.settle_by_order(&row).await?.unwrap_or(row));
            }
            PaymentStatus::Pending | PaymentStatus::Unknown => {}
            PaymentStatus::Creating => {
                return Err(Error::InvalidState(
                    "the bank is still issuing the QR code; cancel again in a moment".into(),
                ));
            }
            PaymentStatus::Paid
            | PaymentStatus::Declined
            | PaymentStatus::Expired
            | PaymentStatus::Cancelled
            | PaymentStatus::Failed => return Ok(row),
        }
        let state = self.annul_at_bank(&row).await;
        let (trigger, changes, detail) = match &state {
            Ok(
                BankPaymentState::Cancelled
                | BankPaymentState::NotFound
                | BankPaymentState::Waiting,
            ) => (
                PaymentTrigger::TillCancelled,
                PaymentChanges::default(),
                None,
            ),
            Ok(other) => Self::trigger_for(other),
            Err(ProviderError::NoAnswer(why)) => (
                PaymentTrigger::BankNoAnswer,
                PaymentChanges::default(),
                Some(why.clone()),
            ),
            Err(ProviderError::Rejected { code, message }) => {
                return Err(Error::BankRefused {
                    action: "to annul the QR code",
                    refusal: Refusal::Refused,
                    code: code.clone(),
                    message: message.clone(),
                });
            }
        };
        self.apply(payment_id, trigger, changes, detail.as_deref())
            .await
    }
}
