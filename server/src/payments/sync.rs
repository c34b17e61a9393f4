//! The background steps the workers drive (callable from tests): expiring what passed its
//! deadline (annulling the QR at the bank), and asking the bank about whatever is in doubt or,
//! for modules whose callbacks may never come, still pending.

use super::bank::{bounded, refund_request};
use super::{Error, PaymentService};
use crate::db::payment::{self, PaymentChanges};
use crate::db::{self, refund};
use crate::domain::{PaymentStatus, PaymentTrigger, RefundStatus};
use crate::providers::{BankPaymentState, ProviderError};
use std::time::Duration;

/// Longest interval between two polls of one pending payment.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(30);

impl PaymentService {
    /// Annuls and expires every pending payment whose deadline has passed. Returns how many
    /// payments it looked at.
    pub async fn expire_due(&self) -> Result<usize, Error> {
        let due = payment::due_payments(&self.db, PaymentStatus::Pending, db::now(), 200).await?;
        for payment_id in &due {
            let Some(row) = payment::get_payment(&self.db, payment_id).await? else {
                continue;
            };
            let state = self.annul_at_bank(&row).await;
            let (trigger, changes, detail) = match &state {
                Ok(
                    BankPaymentState::Cancelled
                    | BankPaymentState::NotFound
                    | BankPaymentState::Expired
                    | BankPaymentState::Waiting,
                ) => (
                    PaymentTrigger::DeadlinePassed,
                    PaymentChanges::default(),
                    None,
                ),
                Ok(other) => Self::trigger_for(other),
                Err(e) => (
                    PaymentTrigger::BankNoAnswer,
                    PaymentChanges::default(),
                    Some(e.to_string()),
                ),
            };
            if let Err(e) = self
                .apply(payment_id, trigger, changes, detail.as_deref())
                .await
            {
                tracing::error!(%payment_id, error = %e, "expiring a payment failed");
            }
        }
        // A payment stuck in `creating` past its deadline (qrpay stopped mid-call) is in doubt.
        let stuck =
            payment::due_payments(&self.db, PaymentStatus::Creating, db::now(), 200).await?;
        for payment_id in &stuck {
            self.apply(
                payment_id,
                PaymentTrigger::BankNoAnswer,
                PaymentChanges::default(),
                Some("qrpay stopped while registering the QR"),
            )
            .await?;
        }
        Ok(due.len() + stuck.len())
    }

    /// Asks the bank about payments and refunds whose state is in doubt (`unknown`), and about
    /// refunds still `pending`. Returns how many it asked about.
    pub async fn sync_in_doubt(&self, older_than: Duration) -> Result<usize, Error> {
        let before = db::now() - chrono::Duration::from_std(older_than).unwrap_or_default();
        let unknown =
            payment::stale_payments(&self.db, PaymentStatus::Unknown, before, 100).await?;
        for payment_id in &unknown {
            let Some(row) = payment::get_payment(&self.db, payment_id).await? else {
                continue;
            };
            match self.ask_bank(&row).await {
                Ok(state) => {
                    self.apply_bank_state(payment_id, &state).await?;
                }
                Err(e) => tracing::warn!(%payment_id, error = %e, "payment still in doubt"),
            }
        }
        let polled = self.poll_pending().await?;
        let mut refunds =
            refund::refunds_in_status(&self.db, RefundStatus::Unknown, before, 100).await?;
        refunds
            .extend(refund::refunds_in_status(&self.db, RefundStatus::Pending, before, 100).await?);
        for refund_id in &refunds {
            let Some(refund) = refund::get_refund(&self.db, refund_id).await? else {
                continue;
            };
            let Some(payment) = payment::get_payment(&self.db, &refund.payment_id).await? else {
                continue;
            };
            let Some(provider) = self.providers.get(&payment.module) else {
                continue;
            };
            let timeout = self.bank_timeout(&payment);
            let outcome = match bounded(
                timeout,
                provider.refund_status(payment.store_id, &refund.refund_ref),
            )
            .await
            {
                // The bank does not know the refund (our request never reached it): send it
                // again; the refund id makes that safe. Never decline on a failed look-up, or
                // the amount would be freed while the bank may still pay it out.
                Err(ProviderError::Rejected { .. }) => {
                    let request = refund_request(&payment, &refund)?;
                    bounded(timeout, provider.refund(&request)).await
                }
                other => other,
            };
            self.apply_refund_outcome(refund_id, outcome).await?;
        }
        Ok(unknown.len() + refunds.len() + polled)
    }

    /// Polls pending payments of modules whose callbacks may not come: first after the poll
    /// interval, then backing off by half each time up to 30 s. Returns how many it asked about.
    async fn poll_pending(&self) -> Result<usize, Error> {
        let mut asked = 0;
        for module in self.providers.modules() {
            let Some(provider) = self.providers.get(module) else {
                continue;
            };
            if !provider.polls_pending() {
                continue;
            }
            let pending =
                payment::payments_of_module(&self.db, module, PaymentStatus::Pending, 500).await?;
            let now = tokio::time::Instant::now();
            let due: Vec<String> = {
                let mut plan = self.poll_plan.lock().unwrap_or_else(|e| e.into_inner());
                plan.retain(|id, _| pending.contains(id));
                pending
                    .iter()
                    .filter(|id| {
                        let (next, _) = plan
                            .entry((*id).clone())
                            .or_insert((now + self.pending_poll, 0));
                        *next <= now
                    })
                    .cloned()
                    .collect()
            };
            for payment_id in due {
                {
                    let mut plan = self.poll_plan.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some((next, polls)) = plan.get_mut(&payment_id) {
                        *polls += 1;
                        let step = self
                            .pending_poll
                            .mul_f64(1.5f64.powi((*polls).min(20) as i32))
                            .min(MAX_POLL_INTERVAL);
                        *next = now + step;
                    }
                }
                let Some(row) = payment::get_payment(&self.db, &payment_id).await? else {
                    continue;
                };
                asked += 1;
                match self.ask_bank(&row).await {
                    Ok(BankPaymentState::Waiting) => {}
                    Ok(state) => {
                        self.apply_bank_state(&payment_id, &state).await?;
                    }
                    Err(e) => tracing::warn!(%payment_id, error = %e, "polling a pending payment"),
                }
            }
        }
        Ok(asked)
    }
}
