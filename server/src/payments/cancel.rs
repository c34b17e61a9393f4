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
        self.cancel_row(row, None).await
    }

    /// Support cancels a payment from the console (the caller checked its store): the till's
    /// road, with the console user named in the timeline (`console:<login>`), and the till's
    /// long-poll answers `cancelled` like after its own cancel.
    #[tracing::instrument(skip_all, fields(payment_id = %row.payment_id))]
    pub async fn cancel_by_console(
        &self,
        login: &str,
        row: PaymentRow,
    ) -> Result<PaymentRow, Error> {
        self.cancel_row(row, Some(&format!("console:{login}")))
            .await
    }

    async fn cancel_row(&self, row: PaymentRow, by: Option<&str>) -> Result<PaymentRow, Error> {
        let payment_id = row.payment_id.clone();
        let payment_id = payment_id.as_str();
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
                by.map(str::to_owned),
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
