//! Applying a status move: the state machine (`domain::status`) says whether it is allowed, and
//! storage writes it as one guarded update plus its `payment_event` and (for public statuses)
//! `outbox` rows, in one transaction. No transaction is ever held across a bank call.

use super::view::PaymentView;
use super::{Error, PaymentService};
use crate::db::payment::{self, CurrentPayment, PaymentChanges, PaymentRow};
use crate::db::payment_event::{self, NewEvent, OwnedOutbox};
use crate::db::{self, Tx, idempotency};
use crate::domain::{PaymentStatus, PaymentTrigger, Transition, new_public_id};
use crate::providers::BankPaymentState;
use chrono::{DateTime, Utc};

impl PaymentService {
    /// Applies `trigger` to `current` inside `tx`: guarded update, event row and outbox row.
    /// `None` when the state machine says nothing changes, or someone else changed the row first.
    pub(super) async fn transition_in(
        &self,
        tx: &mut Tx,
        current: CurrentPayment<'_>,
        trigger: PaymentTrigger,
        changes: &PaymentChanges,
        detail: Option<&str>,
    ) -> Result<Option<PaymentRow>, Error> {
        let from = current.status;
        let Some(Transition { status: to, late }) = from.next(trigger) else {
            return Ok(None);
        };
        let at = db::now();
        let mut changes = changes.clone();
        if to == PaymentStatus::Paid && changes.paid_at.is_none() {
            changes.paid_at = Some(at);
        }
        let Some(row) = payment::update_status(tx, current, to, late, &changes, at).await? else {
            return Ok(None);
        };
        let outbox = match to.event_name() {
            Some(name) => Some(self.payment_event(name, &row, at)?),
            None => None,
        };
        payment_event::record_change(
            tx,
            &NewEvent {
                payment_id: current.payment_id,
                refund_id: None,
                from_status: Some(from.as_str()),
                to_status: to.as_str(),
                trigger: trigger.as_str(),
                detail,
                at,
            },
            outbox.as_ref().map(OwnedOutbox::row).as_ref(),
            None,
        )
        .await?;
        if from == PaymentStatus::Creating {
            // Its creation request did not move it on (it died, or is still waiting for the
            // bank): the answer that request would have given is stored with this move.
            let answer = self.create_answer(&row);
            let guarded = idempotency::Guarded::Payment {
                till_id: row.till_id,
                payment_id: current.payment_id,
            };
            idempotency::answer_unanswered(tx, guarded, answer.status.as_u16(), &answer.body)
                .await?;
        }
        Ok(Some(row))
    }

    /// The outbox row of a payment event.
    pub(super) fn payment_event(
        &self,
        name: &'static str,
        row: &PaymentRow,
        at: DateTime<Utc>,
    ) -> Result<OwnedOutbox, Error> {
        payment_event_row(self.public_url(), name, row, at)
    }

    /// Applies `trigger` in its own transaction, then wakes long-pollers and, for a late payment,
    /// refunds it when the store says so. Returns the payment as it is afterwards.
    pub async fn apply(
        &self,
        payment_id: &str,
        trigger: PaymentTrigger,
        changes: PaymentChanges,
        detail: Option<&str>,
    ) -> Result<PaymentRow, Error> {
        let mut tx = self.db.begin().await?;
        let current = payment::get_payment_in(&mut tx, payment_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no payment {payment_id}")))?;
        let changed = self
            .transition_in(&mut tx, current.current(), trigger, &changes, detail)
            .await?;
        tx.commit().await?;
        let Some(row) = changed else {
            // Someone else (a callback, a worker) may have changed the row after it was read:
            // answer with the row as it is now, not as it was.
            return Ok(payment::get_payment(&self.db, payment_id)
                .await?
                .unwrap_or(current));
        };
        self.changed(payment_id);
        if row.late && row.status() == PaymentStatus::Paid && row.refunded_amount == 0 {
            // The payment is paid either way; a refund that could not start is logged for the
            // console's "late payments needing attention" and does not fail this call.
            if let Err(e) = self.refund_late_payment(&row).await {
                tracing::error!(payment_id, error = %e, "late payment: automatic refund failed");
            }
            return Ok(payment::get_payment(&self.db, payment_id)
                .await?
                .unwrap_or(row));
        }
        Ok(row)
    }

    /// The move a bank's refusal makes, its code and words kept on the payment.
    pub(super) fn refused(code: String, message: String) -> (PaymentTrigger, PaymentChanges) {
        (
            PaymentTrigger::BankRejected,
            PaymentChanges {
                failure_code: Some(code),
                failure_message: Some(message),
                ..Default::default()
            },
        )
    }

    /// What the bank says of a payment, as a trigger of the state machine.
    pub(super) fn trigger_for(
        state: &BankPaymentState,
    ) -> (PaymentTrigger, PaymentChanges, Option<String>) {
        match state {
            BankPaymentState::Waiting => (
                PaymentTrigger::BankAccepted,
                PaymentChanges::default(),
                None,
            ),
            BankPaymentState::Paid {
                transaction_id,
                paid_at,
            } => (
                PaymentTrigger::CustomerPaid,
                PaymentChanges {
                    bank_transaction_id: transaction_id.clone(),
                    paid_at: *paid_at,
                    ..Default::default()
                },
                None,
            ),
            BankPaymentState::Declined { reason } => (
                PaymentTrigger::BankDeclined,
                PaymentChanges {
                    failure_code: Some("declined".into()),
                    failure_message: Some(reason.clone()),
                    ..Default::default()
                },
                Some(reason.clone()),
            ),
            BankPaymentState::Expired => (
                PaymentTrigger::DeadlinePassed,
                PaymentChanges::default(),
                None,
            ),
            BankPaymentState::Cancelled => (
                PaymentTrigger::TillCancelled,
                PaymentChanges::default(),
                None,
            ),
            BankPaymentState::NotFound => (
                PaymentTrigger::BankRejected,
                PaymentChanges {
                    failure_code: Some("not_found".into()),
                    failure_message: Some("the bank does not know this QR code".into()),
                    ..Default::default()
                },
                None,
            ),
        }
    }

    /// Applies what the bank said of a payment (a callback, a sync, the sandbox customer).
    pub async fn apply_bank_state(
        &self,
        payment_id: &str,
        state: &BankPaymentState,
    ) -> Result<PaymentRow, Error> {
        let (trigger, changes, detail) = Self::trigger_for(state);
        self.apply(payment_id, trigger, changes, detail.as_deref())
            .await
    }
}

/// An event's outbox row: the envelope (schema version 1) around `body`, routed by the event name.
pub(super) fn outbox_row<T: serde::Serialize>(
    event: &'static str,
    store_id: i64,
    till_id: Option<i64>,
    entity: &str,
    body: &T,
    at: DateTime<Utc>,
) -> Result<OwnedOutbox, Error> {
    let event_id = new_public_id();
    let mut payload = serde_json::json!({
        "schema_version": 1,
        "event_id": event_id,
        "type": event,
        "occurred_at": at,
        "store_id": store_id,
        "till_id": till_id,
    });
    payload[entity] = serde_json::to_value(body).map_err(|e| anyhow::anyhow!("event body: {e}"))?;
    Ok(OwnedOutbox {
        event_id,
        store_id,
        till_id,
        routing_key: event,
        payload: payload.to_string(),
        at,
    })
}

/// The outbox row of the payment event `name` (what [`PaymentService::payment_event`] gives,
/// for code that owns the public URL rather than the service).
pub(super) fn payment_event_row(
    public_url: &str,
    name: &'static str,
    row: &PaymentRow,
    at: DateTime<Utc>,
) -> Result<OwnedOutbox, Error> {
    let mut view = PaymentView::from_row(row, public_url);
    // Links for the till's screens are not news for the rest of the store.
    view.outputs = None;
    outbox_row(name, row.store_id, Some(row.till_id), "payment", &view, at)
}
