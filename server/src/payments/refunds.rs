//! Refunds: from a till (idempotent by its key) or the console (idempotent by its form's key),
//! and of a late payment; the amount is reserved on the payment before the bank is asked, and a
//! declined refund gives it back.

use super::bank::{bounded, refund_request};
use super::idempotency::{Answer, Idempotent, json, lease_until};
use super::transitions::outbox_row;
use super::view::RefundView;
use super::{Error, PaymentService};
use crate::db::audit::Who;
use crate::db::idempotency::NewClaim;
use crate::db::payment::{self, PaymentRow};
use crate::db::payment_event::{self, NewEvent, OwnedOutbox};
use crate::db::refund::{self, NewRefund, RefundRow};
use crate::db::store;
use crate::db::till::TillIdentity;
use crate::db::{self, Tx, idempotency};
use crate::domain::{
    Amount, Description, OrderRef, PaymentStatus, RefundId, RefundStatus, RefundTrigger,
};
use crate::providers::{BankRefundState, ProviderError};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};

impl PaymentService {
    #[tracing::instrument(skip_all, fields(payment_id = %payment_id))]
    pub async fn refund(
        &self,
        till: &TillIdentity,
        payment_id: &str,
        idem: Idempotent<'_>,
        amount: Option<Amount>,
        reason: Option<Description>,
    ) -> Result<Answer, Error> {
        let payment = self.payment_for(till, payment_id).await?;
        if let Some(answer) = self.replay(till, &idem).await? {
            return Ok(answer);
        }
        let at = db::now();
        let mut tx = self.db.begin().await?;
        let claim = NewClaim {
            till_id: till.till_id,
            key: idem.key.as_str(),
            request_hash: idem.request_hash,
            at,
            lease_until: lease_until(at, self.bank_timeout(&payment)),
            payment_id: None,
        };
        if let Some(existing) = idempotency::claim_idempotency_key(&mut tx, &claim).await? {
            drop(tx);
            return self.replay_of(till, existing, &idem).await;
        }
        let login = Who::till_login(&till.name);
        let refund = self
            .start_refund(
                &mut tx,
                &payment,
                Some(till.till_id),
                amount,
                reason.as_ref().map(Description::as_str),
                None,
                &Who::till(&login),
            )
            .await?;
        idempotency::link_refund(&mut tx, till.till_id, idem.key.as_str(), &refund.refund_id)
            .await?;
        tx.commit().await?;

        // Whoever moved the refund on (this request, or the sync worker first) stored the answer
        // with that move; a refund the bank still works on is answered here.
        let refund = self.ask_bank_to_refund(&payment, refund).await?;
        self.settle(till, &idem, &self.refund_answer(&payment.module, &refund))
            .await
    }

    /// The till's answer to a refund once the bank has spoken: the refund, or the bank's refusal
    /// (the refund stays on record as declined).
    pub(super) fn refund_answer(&self, module: &str, refund: &RefundRow) -> Answer {
        match self.refund_refusal(module, refund) {
            Some(err) => (self.till_answer)(&err),
            None => Answer {
                status: StatusCode::CREATED,
                body: json(&RefundView::from_row(refund)),
            },
        }
    }

    /// A refund asked for in the console (no till): the same core as [`Self::refund`]. The
    /// `idempotency_key` (from the console form's one-time nonce) names the refund, so the same
    /// form sent twice refunds once and the second call returns the first refund.
    #[tracing::instrument(skip_all, fields(payment_id = %payment_id))]
    pub async fn refund_by_console(
        &self,
        who: &Who<'_>,
        payment_id: &str,
        amount: Option<Amount>,
        reason: Option<&str>,
        idempotency_key: &str,
    ) -> Result<RefundRow, Error> {
        let payment = payment::get_payment(&self.db, payment_id)
            .await?
            .ok_or_else(|| Error::NotFound("no such payment".into()))?;
        let refund_ref = console_refund_ref(idempotency_key);
        if let Some(existing) = refund::find_refund_by_ref(&self.db, &refund_ref).await? {
            return Ok(existing);
        }
        let mut tx = self.db.begin().await?;
        let started = self
            .start_refund(
                &mut tx,
                &payment,
                None,
                amount,
                reason,
                Some(&refund_ref),
                who,
            )
            .await;
        let refund = match started {
            Ok(r) => match tx.commit().await {
                Ok(()) => r,
                Err(e) => return self.console_refund_raced(&refund_ref, e.into()).await,
            },
            Err(e) => return self.console_refund_raced(&refund_ref, e).await,
        };
        self.ask_bank_to_refund(&payment, refund).await
    }

    /// After a failed console refund: the refund a concurrent same-key request made, else `err`.
    async fn console_refund_raced(&self, refund_ref: &str, err: Error) -> Result<RefundRow, Error> {
        match refund::find_refund_by_ref(&self.db, refund_ref).await? {
            Some(existing) => Ok(existing),
            None => Err(err),
        }
    }

    /// The error for a refund the bank refused outright (not declined as an outcome).
    fn refund_refusal(&self, module: &str, refund: &RefundRow) -> Option<Error> {
        if refund.status() != RefundStatus::Declined {
            return None;
        }
        let code = refund.failure_code.as_deref()?;
        let refusal = self.providers.get(module)?.refusal_of(code)?;
        Some(Error::BankRefused {
            action: "the refund",
            refusal,
            code: code.to_owned(),
            message: refund.failure_message.as_deref().unwrap_or("").to_owned(),
        })
    }

    /// Reserves the amount on the payment and records a pending refund with its audit row (`who`
    /// asked for it), in `tx`.
    #[allow(clippy::too_many_arguments)]
    async fn start_refund(
        &self,
        tx: &mut Tx,
        payment: &PaymentRow,
        till_id: Option<i64>,
        amount: Option<Amount>,
        reason: Option<&str>,
        refund_ref: Option<&str>,
        who: &Who<'_>,
    ) -> Result<RefundRow, Error> {
        let at = db::now();
        let current = payment::get_payment_in(tx, &payment.payment_id)
            .await?
            .expect("BUG: the payment was read above");
        if current.status() != PaymentStatus::Paid {
            return Err(Error::NotPaid(current.status()));
        }
        let left = current.amount - current.refunded_amount;
        let kopecks = amount.map(Amount::kopecks).unwrap_or(left);
        if kopecks <= 0 || !refund::reserve_refund(tx, &payment.payment_id, kopecks, at).await? {
            return Err(Error::RefundExceeds { left });
        }
        let refund_id = RefundId::new();
        let refund_ref = match refund_ref {
            Some(r) => OrderRef::parse(r).map_err(|e| anyhow::anyhow!("BUG: refund ref: {e}"))?,
            None => OrderRef::generate("r"),
        };
        refund::insert_refund(
            tx,
            &NewRefund {
                refund_id: refund_id.as_str(),
                payment_id: &payment.payment_id,
                store_id: payment.store_id,
                till_id,
                amount: kopecks,
                reason,
                refund_ref: refund_ref.as_str(),
                at,
            },
            who,
        )
        .await?;
        let row = refund::get_refund_in(tx, refund_id.as_str())
            .await?
            .expect("BUG: the refund was just inserted");
        self.record_refund_event(
            tx,
            &row,
            None,
            RefundStatus::Pending,
            "refund_requested",
            at,
        )
        .await?;
        Ok(row)
    }

    async fn record_refund_event(
        &self,
        tx: &mut Tx,
        refund: &RefundRow,
        from: Option<RefundStatus>,
        to: RefundStatus,
        trigger: &str,
        at: DateTime<Utc>,
    ) -> Result<(), Error> {
        let to_status = format!("refund_{}", to.as_str());
        let from_status = from.map(|f| format!("refund_{}", f.as_str()));
        let outbox = match to.event_name() {
            Some(name) => Some(outbox_row(
                name,
                refund.store_id,
                refund.till_id,
                "refund",
                &RefundView::from_row(refund),
                at,
            )?),
            None => None,
        };
        payment_event::record_change(
            tx,
            &NewEvent {
                payment_id: &refund.payment_id,
                refund_id: Some(&refund.refund_id),
                from_status: from_status.as_deref(),
                to_status: &to_status,
                trigger,
                detail: refund.failure_message.as_deref(),
                at,
            },
            outbox.as_ref().map(OwnedOutbox::row).as_ref(),
            None,
        )
        .await?;
        Ok(())
    }

    /// Sends the refund to the bank and records the outcome.
    async fn ask_bank_to_refund(
        &self,
        payment: &PaymentRow,
        refund: RefundRow,
    ) -> Result<RefundRow, Error> {
        let provider = self.provider(&payment.module)?.clone();
        let request = refund_request(payment, &refund)?;
        let outcome = bounded(self.bank_timeout(payment), provider.refund(&request)).await;
        self.apply_refund_outcome(&refund.refund_id, outcome).await
    }

    /// Applies what the bank said of a refund.
    pub async fn apply_refund_outcome(
        &self,
        refund_id: &str,
        outcome: Result<BankRefundState, ProviderError>,
    ) -> Result<RefundRow, Error> {
        let (trigger, failure) = match &outcome {
            Ok(BankRefundState::Completed) => (RefundTrigger::BankCompleted, None),
            Ok(BankRefundState::InProgress) => (RefundTrigger::BankInProgress, None),
            Ok(BankRefundState::Declined { code, message }) => (
                RefundTrigger::BankDeclined,
                Some((code.clone(), message.clone())),
            ),
            Err(ProviderError::Rejected { code, message }) => (
                RefundTrigger::BankDeclined,
                Some((code.clone(), message.clone())),
            ),
            Err(ProviderError::NoAnswer(_)) => (RefundTrigger::BankNoAnswer, None),
        };
        let at = db::now();
        let mut tx = self.db.begin().await?;
        let current = refund::get_refund_in(&mut tx, refund_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no refund {refund_id}")))?;
        let from = current.status();
        let Some(to) = from.next(trigger) else {
            return Ok(current);
        };
        let failure_ref = failure.as_ref().map(|(c, m)| (c.as_str(), m.as_str()));
        if !refund::update_refund_status(&mut tx, refund_id, from, to, failure_ref, at).await? {
            return Ok(current);
        }
        if to == RefundStatus::Declined {
            refund::release_refund(&mut tx, &current.payment_id, current.amount, at).await?;
        }
        let row = refund::get_refund_in(&mut tx, refund_id)
            .await?
            .expect("BUG: the refund was just updated");
        self.record_refund_event(&mut tx, &row, Some(from), to, trigger_name(trigger), at)
            .await?;
        if from == RefundStatus::Pending {
            self.answer_refund_claim(&mut tx, &row).await?;
        }
        tx.commit().await?;
        self.changed(&current.payment_id);
        Ok(row)
    }

    /// A late payment (paid after expiry or cancel) is refunded in full when the store says so.
    pub(super) async fn refund_late_payment(&self, payment: &PaymentRow) -> Result<(), Error> {
        let store = store::store_by_id(&self.db, payment.store_id)
            .await
            .map_err(|e| anyhow::anyhow!("store of a payment: {e}"))?;
        if !store.refund_late_payments {
            tracing::warn!(payment_id = %payment.payment_id, "late payment kept: the store does not refund late payments");
            return Ok(());
        }
        tracing::warn!(payment_id = %payment.payment_id, "late payment: refunding it in full");
        let mut tx = self.db.begin().await?;
        let refund = self
            .start_refund(
                &mut tx,
                payment,
                None,
                None,
                Some(LATE_REFUND_REASON),
                None,
                &Who::LATE_PAYMENT,
            )
            .await?;
        tx.commit().await?;
        self.ask_bank_to_refund(payment, refund).await?;
        Ok(())
    }
}

/// The reason qrpay gives its automatic refund of a late payment (the console tells it apart by it).
pub const LATE_REFUND_REASON: &str = "late payment: automatic refund";

/// The refund reference of a console refund: derived from its form's key (hashed, so any key
/// fits the bank's 40-character limit), so the same key always names the same refund.
fn console_refund_ref(key: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("rc{hex}")
}

fn trigger_name(t: RefundTrigger) -> &'static str {
    match t {
        RefundTrigger::BankCompleted => "bank_completed",
        RefundTrigger::BankDeclined => "bank_declined",
        RefundTrigger::BankInProgress => "bank_in_progress",
        RefundTrigger::BankNoAnswer => "bank_no_answer",
    }
}
