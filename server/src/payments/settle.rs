//! The support action on a reconciliation's "paid at the bank, not in qrpay": ask the bank about
//! the payment's order, by the same road the sync worker settles a payment in doubt
//! (`settle_by_order`), so a payment the bank holds as paid becomes paid here — late when qrpay
//! had given up on it, and then refunded or not by the store's late-payment rule. Audited.

use super::{Error, PaymentService};
use crate::db::audit::{self, Change, Who};
use crate::db::payment;
use crate::domain::PaymentStatus;

/// What asking the bank about a payment's order came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// qrpay had it as paid already: nothing was asked.
    AlreadyPaid,
    /// The bank holds it as paid: now paid in qrpay (`late` when qrpay had expired or cancelled
    /// it; `refunded` when the store's rule refunded it at once).
    Paid { late: bool, refunded: bool },
    /// The bank holds no paid QR for the order: nothing changed.
    NotPaid,
    /// The bank did not answer: nothing changed; ask again later.
    NoAnswer,
}

impl Settled {
    /// The outcome's code (the console's message, the audit row).
    pub fn code(self) -> &'static str {
        match self {
            Self::AlreadyPaid => "already_paid",
            Self::Paid {
                late: true,
                refunded: true,
            } => "paid_late_refunded",
            Self::Paid { late: true, .. } => "paid_late",
            Self::Paid { .. } => "paid",
            Self::NotPaid => "not_paid",
            Self::NoAnswer => "no_answer",
        }
    }
}

impl PaymentService {
    /// Asks the bank about `payment_id`'s order and applies what it holds (see the module).
    #[tracing::instrument(skip_all, fields(payment_id = %payment_id))]
    pub async fn settle_with_bank(
        &self,
        who: &Who<'_>,
        payment_id: &str,
    ) -> Result<Settled, Error> {
        let row = payment::get_payment(&self.db, payment_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no payment {payment_id}")))?;
        let before = row.status.clone();
        let outcome = if row.status() == PaymentStatus::Paid {
            Settled::AlreadyPaid
        } else {
            match self.settle_by_order(&row).await? {
                None => Settled::NoAnswer,
                Some(after) if after.status() == PaymentStatus::Paid => Settled::Paid {
                    late: after.late,
                    // A refund under way reserves its amount at once.
                    refunded: after.refunded_amount > 0,
                },
                Some(_) => Settled::NotPaid,
            }
        };
        let after = payment::get_payment(&self.db, payment_id)
            .await?
            .map(|p| p.status)
            .unwrap_or_default();
        let mut tx = self.db.begin().await?;
        audit::record(
            &mut tx,
            who,
            Change {
                store_id: Some(row.store_id),
                action: "ask_bank",
                entity: "payment",
                entity_id: payment_id.to_owned(),
                before: Some(serde_json::json!({"status": before})),
                after: Some(serde_json::json!({"status": after, "outcome": outcome.code()})),
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(login = %who.login, outcome = outcome.code(), "asked the bank about a payment's order");
        Ok(outcome)
    }
}
