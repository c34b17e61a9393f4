//! Idempotent till requests: the key and request hash a request comes with, the answer stored
//! under them, and the replay of that answer when the same request comes again.
//!
//! A key never stays "in progress" longer than the work it guards: whoever moves the payment or
//! refund on (the request, a worker, a callback) stores the till's answer in the same
//! transaction, and a retry of a claim whose request died gets the payment or refund as it is
//! now. Only a claim within its lease (its request still working) answers 409 in progress.

use super::{Error, PaymentService};
use crate::db::idempotency::{self, IdempotencyRow};
use crate::db::payment;
use crate::db::refund::{self, RefundRow};
use crate::db::till::TillIdentity;
use crate::db::{self, Tx};
use crate::domain::{IdempotencyKey, PaymentStatus, RefundStatus};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Added to the longest a request's work may take (its bank call) to make its claim's lease: a
/// claim unanswered past it belongs to a request whose process died.
const LEASE_MARGIN: Duration = Duration::from_secs(10);

/// Until when a request that starts `at` and waits at most `bound` for the bank holds its key.
pub(super) fn lease_until(at: DateTime<Utc>, bound: Duration) -> DateTime<Utc> {
    at + chrono::Duration::from_std(bound + LEASE_MARGIN).unwrap_or(chrono::Duration::MAX)
}

/// A till request made idempotent by its key and the hash of what it asked.
pub struct Idempotent<'a> {
    pub key: &'a IdempotencyKey,
    pub request_hash: &'a str,
}

/// A JSON answer ready to send (also what an idempotent replay sends again).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
}

/// How a refusal becomes the till's stored answer; set by whoever builds the service (the till
/// API's error contract lives in `http/`, above this layer).
pub type TillAnswer = fn(&Error) -> Answer;

/// A view as the body of an answer.
pub(super) fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("BUG: views always serialize")
}

impl PaymentService {
    /// The longest a request may hold its key unanswered: its bank call's limit + the margin.
    pub(super) fn longest_lease(&self) -> Duration {
        self.bank_call_timeout + LEASE_MARGIN
    }

    /// The earlier answer to the same key, or `None` when the key is new.
    pub(super) async fn replay(
        &self,
        till: &TillIdentity,
        idem: &Idempotent<'_>,
    ) -> Result<Option<Answer>, Error> {
        match idempotency::find_idempotency_key(&self.db, till.till_id, idem.key.as_str()).await? {
            None => Ok(None),
            Some(existing) => self.replay_of(till, existing, idem).await.map(Some),
        }
    }

    /// The answer to a repeated key: the stored answer; else, once the work it guards has moved
    /// on or its request died, the payment or refund as it is now; else a conflict.
    pub(super) async fn replay_of(
        &self,
        till: &TillIdentity,
        existing: IdempotencyRow,
        idem: &Idempotent<'_>,
    ) -> Result<Answer, Error> {
        if existing.request_hash != idem.request_hash {
            return Err(Error::KeyReused);
        }
        if let (Some(status), Some(body)) = (existing.response_status, existing.response_body) {
            return Ok(Answer {
                status: StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK),
                body,
            });
        }
        // Claims made before leases existed belong to a process that has since restarted.
        let died = existing.lease_until.is_none_or(|until| until <= db::now());
        if let Some(payment_id) = &existing.payment_id {
            return self.creation_replay(till, idem, payment_id, died).await;
        }
        if let Some(refund_id) = &existing.refund_id {
            return self.refund_replay(till, idem, refund_id, died).await;
        }
        Err(Error::RequestInProgress)
    }

    /// A creation whose answer is not stored: in progress while its request may still be
    /// registering the QR; once its process died, the payment is in doubt (`unknown`, resolved
    /// by asking the bank) and that is the answer.
    async fn creation_replay(
        &self,
        till: &TillIdentity,
        idem: &Idempotent<'_>,
        payment_id: &str,
        died: bool,
    ) -> Result<Answer, Error> {
        let row = payment::get_payment(&self.db, payment_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no payment {payment_id}")))?;
        let row = match row.status() {
            PaymentStatus::Creating if !died => return Err(Error::RequestInProgress),
            // Moving it on stores its answer (see `transitions.rs`).
            PaymentStatus::Creating => self.abandon_creation(payment_id).await?,
            _ => row,
        };
        self.settle(till, idem, &self.create_answer(&row)).await
    }

    /// A refund whose answer is not stored: in progress while its request may still be waiting
    /// for the bank; once the refund moved on or its request died, the refund as it is now (a
    /// refund still `pending` is sent again by the sync worker; its answer is stored when it
    /// moves on).
    async fn refund_replay(
        &self,
        till: &TillIdentity,
        idem: &Idempotent<'_>,
        refund_id: &str,
        died: bool,
    ) -> Result<Answer, Error> {
        let row = refund::get_refund(&self.db, refund_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no refund {refund_id}")))?;
        let pending = row.status() == RefundStatus::Pending;
        if pending && !died {
            return Err(Error::RequestInProgress);
        }
        let module = self.module_of(&row.payment_id).await?;
        let answer = self.refund_answer(&module, &row);
        if pending {
            return Ok(answer);
        }
        self.settle(till, idem, &answer).await
    }

    /// The payment module of a payment.
    async fn module_of(&self, payment_id: &str) -> Result<String, Error> {
        Ok(payment::get_payment(&self.db, payment_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no payment {payment_id}")))?
            .module)
    }

    /// Stores `answer` under the key unless another is stored already, and returns the stored one
    /// (whoever moved the payment or refund first answered for it).
    pub(super) async fn settle(
        &self,
        till: &TillIdentity,
        idem: &Idempotent<'_>,
        answer: &Answer,
    ) -> Result<Answer, Error> {
        let mut tx = self.db.begin().await?;
        let stored = idempotency::save_idempotent_response(
            &mut tx,
            till.till_id,
            idem.key.as_str(),
            answer.status.as_u16(),
            &answer.body,
        )
        .await?;
        tx.commit().await?;
        if stored {
            return Ok(answer.clone());
        }
        match idempotency::find_idempotency_key(&self.db, till.till_id, idem.key.as_str()).await? {
            Some(IdempotencyRow {
                response_status: Some(status),
                response_body: Some(body),
                ..
            }) => Ok(Answer {
                status: StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK),
                body,
            }),
            _ => Ok(answer.clone()),
        }
    }

    /// In `tx`, where a refund moves on: stores the till's answer for a claim on it still
    /// waiting for one (its request may have died, or hung up).
    pub(super) async fn answer_refund_claim(
        &self,
        tx: &mut Tx,
        refund: &RefundRow,
    ) -> Result<(), Error> {
        // Only a till's refund has a claim.
        let Some(till_id) = refund.till_id else {
            return Ok(());
        };
        let guarded = idempotency::Guarded::Refund {
            till_id,
            refund_id: &refund.refund_id,
        };
        if !idempotency::has_unanswered_claim(tx, guarded).await? {
            return Ok(());
        }
        let module = payment::get_payment_in(tx, &refund.payment_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no payment {}", refund.payment_id)))?
            .module;
        let answer = self.refund_answer(&module, refund);
        idempotency::answer_unanswered(tx, guarded, answer.status.as_u16(), &answer.body).await?;
        Ok(())
    }
}
