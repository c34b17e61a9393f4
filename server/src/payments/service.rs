//! The payment service: creates payments through a provider, applies bank outcomes to the state
//! machine, refunds, and the background steps (expiry, sync) that workers drive.
//!
//! A status change is one guarded update plus a `payment_event` row and (for public statuses) an
//! `outbox` row, in one transaction. No transaction is ever held across a bank call.

use super::view::{PaymentView, RefundView};
use super::waiters::Waiters;
use crate::db::audit::Who;
use crate::db::config::{self, TillIdentity};
use crate::db::payments::{
    self as repo, CurrentPayment, NewEvent, NewOutbox, NewPayment, NewRefund, PaymentChanges,
    PaymentRow, RefundRow, StoredAnswer,
};
use crate::db::{self, Db, Tx};
use crate::domain::{
    Amount, Description, IdempotencyKey, OrderRef, PaymentId, Receipt, RefundId, new_public_id,
};
use crate::domain::{PaymentStatus, PaymentTrigger, RefundStatus, RefundTrigger, Transition};
use crate::error::{ApiError, ErrorCode};
use crate::providers::{
    BankPaymentState, BankRefundState, CallbackError, CreateQr, Provider, ProviderError, Providers,
    QrRef, RefundRequest,
};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A request to create a payment, already parsed.
pub struct CreatePayment {
    pub amount: Amount,
    pub receipt: Receipt,
    pub payment_type: Option<String>,
    pub description: Option<Description>,
    pub customer_qr: Option<String>,
}

/// A till request made idempotent by its key and the hash of what it asked.
pub struct Idempotent<'a> {
    pub key: &'a IdempotencyKey,
    pub request_hash: &'a str,
}

/// A provider and the QR a bank call is about.
type BankCall<'s, 'r> = (&'s Arc<dyn Provider>, QrRef<'r>);

/// Where and how to store a till's answer together with a status change.
struct Respond<'a> {
    till_id: i64,
    key: &'a str,
    render: &'a (dyn Fn(&PaymentRow) -> Answer + Send + Sync),
}

/// A JSON answer ready to send (also what an idempotent replay sends again).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
}

pub struct PaymentService {
    db: Db,
    providers: Providers,
    waiters: Waiters,
    public_url: String,
    /// First interval between polls of a pending payment of a module that polls (it backs off).
    pending_poll: Duration,
    /// When each polled pending payment is next due, and how many polls it has had.
    poll_plan: std::sync::Mutex<HashMap<String, (tokio::time::Instant, u32)>>,
}

/// Longest interval between two polls of one pending payment.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(30);
/// Who the audit log names for the automatic refund of a late payment.
pub const LATE_REFUND_LOGIN: &str = "qrpay:late-payment";

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
    Internal(#[from] ApiError),
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("BUG: views always serialize")
}

impl PaymentService {
    pub fn new(db: Db, providers: Providers, public_url: String) -> Self {
        Self {
            db,
            providers,
            waiters: Waiters::default(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            pending_poll: Duration::from_secs(2),
            poll_plan: Default::default(),
        }
    }

    /// How soon a pending payment of a polling module is first asked about (default 2 s).
    pub fn with_pending_poll_interval(mut self, interval: Duration) -> Self {
        self.pending_poll = interval.max(Duration::from_millis(10));
        self
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn providers(&self) -> &Providers {
        &self.providers
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn view(&self, row: &PaymentRow) -> PaymentView {
        PaymentView::from_row(row, &self.public_url)
    }

    fn provider(&self, module: &str) -> Result<&Arc<dyn Provider>, ApiError> {
        self.providers.get(module).ok_or_else(|| {
            ApiError::new(
                ErrorCode::ProviderUnavailable,
                format!("payment module {module:?} is not installed in this qrpay"),
            )
        })
    }

    // ---------- reading ----------

    /// The payment, if it belongs to the till's store.
    pub async fn payment_for(
        &self,
        till: &TillIdentity,
        payment_id: &str,
    ) -> Result<PaymentRow, ApiError> {
        let not_found = || ApiError::new(ErrorCode::NotFound, format!("no payment {payment_id}"));
        PaymentId::parse(payment_id).map_err(|_| not_found())?;
        let row = repo::get_payment(&self.db, payment_id)
            .await?
            .ok_or_else(not_found)?;
        same_store(till, row.store_id, "payment")?;
        Ok(row)
    }

    /// Long-poll: answers as soon as the payment leaves `creating`/`pending`/`unknown`, or after `wait`.
    pub async fn wait_for_payment(
        &self,
        till: &TillIdentity,
        payment_id: &str,
        wait: Duration,
    ) -> Result<PaymentRow, ApiError> {
        self.wait_with(payment_id, wait, || self.payment_for(till, payment_id))
            .await
    }

    /// The payment by its public id alone (the customer page: no till key, no store); `None`
    /// when there is no such payment.
    pub async fn public_payment(&self, payment_id: &str) -> Result<Option<PaymentRow>, ApiError> {
        if PaymentId::parse(payment_id).is_err() {
            return Ok(None);
        }
        Ok(repo::get_payment(&self.db, payment_id).await?)
    }

    /// Long-poll for the customer page, like `wait_for_payment` without a till.
    pub async fn wait_for_public_payment(
        &self,
        payment_id: &str,
        wait: Duration,
    ) -> Result<PaymentRow, ApiError> {
        let not_found = || ApiError::new(ErrorCode::NotFound, format!("no payment {payment_id}"));
        self.wait_with(payment_id, wait, || async {
            self.public_payment(payment_id).await?.ok_or_else(not_found)
        })
        .await
    }

    async fn wait_with<F, Fut>(
        &self,
        payment_id: &str,
        wait: Duration,
        read: F,
    ) -> Result<PaymentRow, ApiError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<PaymentRow, ApiError>>,
    {
        let mut row = read().await?;
        if wait.is_zero() || !row.status().is_open() {
            return Ok(row);
        }
        let deadline = tokio::time::Instant::now() + wait;
        let handle = self.waiters.subscribe(payment_id);
        loop {
            let notified = handle.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // Re-read after enabling, so a change between the two is never missed.
            row = read().await?;
            let now = tokio::time::Instant::now();
            if !row.status().is_open() || now >= deadline {
                return Ok(row);
            }
            let recheck = (deadline - now).min(Duration::from_secs(1));
            let _ = tokio::time::timeout(recheck, notified).await;
        }
    }

    pub async fn payments_by_receipt(
        &self,
        till: &TillIdentity,
        receipt: &Receipt,
    ) -> Result<Vec<PaymentRow>, ApiError> {
        Ok(repo::find_by_receipt(&self.db, till.store_id, receipt.as_str(), 100).await?)
    }

    pub async fn refund_for(
        &self,
        till: &TillIdentity,
        refund_id: &str,
    ) -> Result<RefundRow, ApiError> {
        let not_found = || ApiError::new(ErrorCode::NotFound, format!("no refund {refund_id}"));
        RefundId::parse(refund_id).map_err(|_| not_found())?;
        let row = repo::get_refund(&self.db, refund_id)
            .await?
            .ok_or_else(not_found)?;
        same_store(till, row.store_id, "refund")?;
        Ok(row)
    }

    // ---------- idempotency ----------

    /// The earlier answer to the same key, or `None` when the key is new.
    async fn replay(
        &self,
        till: &TillIdentity,
        idem: &Idempotent<'_>,
    ) -> Result<Option<Answer>, ApiError> {
        match repo::find_idempotency_key(&self.db, till.till_id, idem.key.as_str()).await? {
            None => Ok(None),
            Some(existing) => replay_of(existing, idem).map(Some),
        }
    }

    // ---------- creating ----------

    /// The payment type the request asks for, if the store has it, it is on, and its module
    /// can do what is asked.
    async fn payment_type_for(
        &self,
        till: &TillIdentity,
        req: &CreatePayment,
    ) -> Result<config::PaymentType, ApiError> {
        let payment_type = config::payment_type_for_payment(&self.db, till.store_id, req.payment_type.as_deref())
            .await?
            .ok_or_else(|| match &req.payment_type {
                Some(name) => ApiError::field(
                    ErrorCode::UnknownPaymentType,
                    "payment_type",
                    format!("payment_type: the store has no payment type {name:?}"),
                ),
                None => ApiError::field(
                    ErrorCode::UnknownPaymentType,
                    "payment_type",
                    "payment_type: the store has no enabled payment type; add one in the console or with `qrpay payment-type add`",
                ),
            })?;
        if !payment_type.enabled {
            return Err(ApiError::field(
                ErrorCode::PaymentTypeDisabled,
                "payment_type",
                format!("payment_type: {:?} is switched off", payment_type.name),
            ));
        }
        let provider = self.provider(&payment_type.module)?;
        if req.customer_qr.is_some()
            && !(payment_type.scan_customer_qr && provider.capabilities().customer_presented_qr)
        {
            return Err(ApiError::field(
                ErrorCode::CustomerQrNotSupported,
                "customer_qr",
                format!(
                    "customer_qr: payment type {:?} (module {}) does not read customers' QR codes",
                    payment_type.name, payment_type.module
                ),
            ));
        }

        Ok(payment_type)
    }

    #[tracing::instrument(skip_all, fields(till_id = till.till_id, amount = req.amount.kopecks()))]
    pub async fn create_payment(
        &self,
        till: &TillIdentity,
        idem: Idempotent<'_>,
        req: CreatePayment,
    ) -> Result<Answer, ApiError> {
        // A replay is found when the key is claimed below; only a request refused before that
        // (its payment type changed since) looks the key up here, so a retry still gets its answer.
        let payment_type = match self.payment_type_for(till, &req).await {
            Ok(pt) => pt,
            Err(refused) => return self.replay(till, &idem).await?.ok_or(refused),
        };
        let provider = self.provider(&payment_type.module)?.clone();

        let payment_id = PaymentId::new();
        let order_ref = OrderRef::generate("q");
        let created_at = db::now();
        let timeout = Duration::from_secs(payment_type.response_timeout_secs.max(1) as u64);
        let expires_at = created_at + chrono::Duration::seconds(payment_type.response_timeout_secs);

        let claim = repo::claim_and_insert_creating(
            &self.db,
            till.till_id,
            idem.key.as_str(),
            idem.request_hash,
            &NewPayment {
                payment_id: payment_id.as_str(),
                store_id: till.store_id,
                till_id: till.till_id,
                payment_type_id: payment_type.payment_type_id,
                module: &payment_type.module,
                amount: req.amount.kopecks(),
                receipt: req.receipt.as_str(),
                description: req.description.as_ref().map(Description::as_str),
                customer_qr: req.customer_qr.as_deref(),
                order_ref: order_ref.as_str(),
                expires_at,
                created_at,
            },
        )
        .await?;
        if let repo::Claim::Existing(existing) = claim {
            return replay_of(existing, &idem);
        }

        let asked = CreateQr {
            store_id: till.store_id,
            order_ref: order_ref.as_str(),
            amount: req.amount,
            description: req.description.as_ref().map(Description::as_str),
            expires_at,
        };
        let outcome = bounded(timeout, provider.create_qr(&asked)).await;
        let (trigger, changes) = match outcome {
            Ok(qr) => (
                PaymentTrigger::BankAccepted,
                PaymentChanges {
                    qr_id: Some(qr.qr_id),
                    qr_payload: Some(qr.payload),
                    ..Default::default()
                },
            ),
            Err(ProviderError::Rejected { code, message }) => (
                PaymentTrigger::BankRejected,
                PaymentChanges {
                    failure_code: Some(code),
                    failure_message: Some(message),
                    ..Default::default()
                },
            ),
            Err(ProviderError::NoAnswer(why)) => {
                tracing::warn!(payment_id = %payment_id, %why, "bank did not answer the QR registration");
                (PaymentTrigger::BankNoAnswer, PaymentChanges::default())
            }
        };

        let answer = match self
            .finish_creation(till, &idem, payment_id.as_str(), trigger, &changes)
            .await?
        {
            Some(answer) => answer,
            // The expiry worker judged it stuck meanwhile; answer with what it is now.
            None => {
                let mut tx = self.db.begin().await?;
                let row = repo::get_payment_in(&mut tx, payment_id.as_str())
                    .await?
                    .expect("BUG: the payment was inserted above");
                let answer = self.create_answer(&row);
                repo::save_idempotent_response(
                    &mut tx,
                    till.till_id,
                    idem.key.as_str(),
                    answer.status.as_u16(),
                    &answer.body,
                )
                .await?;
                tx.commit().await?;
                answer
            }
        };
        self.waiters.wake(payment_id.as_str());
        Ok(answer)
    }

    /// Moves a new payment out of `creating` with what the bank said, and stores the till's
    /// answer with it. `None` when the payment had already left `creating`.
    /// On SQLite: two round trips to the writer (the caller, the till API, runs creation in a
    /// task of its own, so it cannot be cut between them).
    async fn finish_creation(
        &self,
        till: &TillIdentity,
        idem: &Idempotent<'_>,
        payment_id: &str,
        trigger: PaymentTrigger,
        changes: &PaymentChanges,
    ) -> Result<Option<Answer>, ApiError> {
        let current = CurrentPayment {
            payment_id,
            status: PaymentStatus::Creating,
        };
        let Db::Sqlite { write, .. } = &self.db else {
            let render = |row: &PaymentRow| self.create_answer(row);
            let respond = Respond {
                till_id: till.till_id,
                key: idem.key.as_str(),
                render: &render,
            };
            let mut tx = self.db.begin().await?;
            let changed = self
                .transition_in(&mut tx, current, trigger, changes, None, Some(&respond))
                .await?;
            tx.commit().await?;
            return Ok(changed.and_then(|(_, answer)| answer));
        };
        let Some(Transition { status: to, late }) = PaymentStatus::Creating.next(trigger) else {
            return Ok(None);
        };
        let at = db::now();
        let mut rendered: Option<Answer> = None;
        let finish = |row: &PaymentRow| {
            let answer = self.create_answer(row);
            let outbox = to.event_name().map(|name| {
                let mut view = self.view(row);
                view.outputs = None;
                let o =
                    OutboxEntry::new(name, row.store_id, Some(row.till_id), "payment", &view, at)
                        .expect("BUG: views always serialize");
                repo::OwnedOutbox {
                    event_id: o.event_id,
                    store_id: o.store_id,
                    till_id: o.till_id,
                    routing_key: o.routing_key,
                    payload: o.payload,
                    at: o.at,
                }
            });
            let rows = repo::ChangeRows {
                payment_id: row.payment_id.clone(),
                from_status: PaymentStatus::Creating.as_str(),
                to_status: to.as_str(),
                trigger: trigger.as_str(),
                at,
                outbox,
                answer: Some(repo::OwnedAnswer {
                    till_id: till.till_id,
                    key: idem.key.as_str().to_owned(),
                    status: answer.status.as_u16(),
                    body: answer.body.clone(),
                }),
            };
            rendered = Some(answer);
            rows
        };
        let changed =
            repo::sqlite_change_in_two_trips(write, current, to, late, changes, at, finish).await?;
        Ok(changed.and(rendered))
    }

    /// The answer to a create request once the bank has spoken: the payment, or the refusal.
    fn create_answer(&self, row: &PaymentRow) -> Answer {
        match row.status() {
            PaymentStatus::Failed => {
                let err = ApiError::new(
                    ErrorCode::ProviderRejected,
                    format!(
                        "the bank refused to issue the QR code: {}: {}",
                        row.failure_code.as_deref().unwrap_or("?"),
                        row.failure_message.as_deref().unwrap_or("")
                    ),
                );
                Answer {
                    status: err.code().status(),
                    body: json(&err.body()),
                }
            }
            _ => Answer {
                status: StatusCode::CREATED,
                body: json(&self.view(row)),
            },
        }
    }

    // ---------- state changes ----------

    /// Applies `trigger` to `current` inside `tx`: guarded update, event row, outbox row and,
    /// with `respond`, the till's stored answer (rendered from the updated row).
    /// `None` when the state machine says nothing changes, or someone else changed the row first.
    async fn transition_in(
        &self,
        tx: &mut Tx,
        current: CurrentPayment<'_>,
        trigger: PaymentTrigger,
        changes: &PaymentChanges,
        detail: Option<&str>,
        respond: Option<&Respond<'_>>,
    ) -> Result<Option<(PaymentRow, Option<Answer>)>, ApiError> {
        let from = current.status;
        let Some(Transition { status: to, late }) = from.next(trigger) else {
            return Ok(None);
        };
        let at = db::now();
        let mut changes = changes.clone();
        if to == PaymentStatus::Paid && changes.paid_at.is_none() {
            changes.paid_at = Some(at);
        }
        let Some(row) = repo::update_status(tx, current, to, late, &changes, at).await? else {
            return Ok(None);
        };
        let outbox = match to.event_name() {
            Some(name) => {
                let mut view = self.view(&row);
                // Links for the till's screens are not news for the rest of the store.
                view.outputs = None;
                Some(OutboxEntry::new(
                    name,
                    row.store_id,
                    Some(row.till_id),
                    "payment",
                    &view,
                    at,
                )?)
            }
            None => None,
        };
        let answer = respond.map(|r| (r.render)(&row));
        let stored = match (respond, &answer) {
            (Some(r), Some(a)) => Some(StoredAnswer {
                till_id: r.till_id,
                key: r.key,
                status: a.status.as_u16(),
                body: &a.body,
            }),
            _ => None,
        };
        repo::record_change(
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
            outbox.as_ref().map(OutboxEntry::row).as_ref(),
            stored.as_ref(),
        )
        .await?;
        Ok(Some((row, answer)))
    }

    /// Applies `trigger` in its own transaction, then wakes long-pollers and, for a late payment,
    /// refunds it when the store says so. Returns the payment as it is afterwards.
    pub async fn apply(
        &self,
        payment_id: &str,
        trigger: PaymentTrigger,
        changes: PaymentChanges,
        detail: Option<&str>,
    ) -> Result<PaymentRow, ApiError> {
        let mut tx = self.db.begin().await?;
        let current = repo::get_payment_in(&mut tx, payment_id)
            .await?
            .ok_or_else(|| {
                ApiError::new(ErrorCode::NotFound, format!("no payment {payment_id}"))
            })?;
        let changed = self
            .transition_in(&mut tx, current.current(), trigger, &changes, detail, None)
            .await?;
        tx.commit().await?;
        let Some((row, _)) = changed else {
            // Someone else (a callback, a worker) may have changed the row after it was read:
            // answer with the row as it is now, not as it was.
            return Ok(repo::get_payment(&self.db, payment_id)
                .await?
                .unwrap_or(current));
        };
        self.waiters.wake(payment_id);
        if row.late && row.status() == PaymentStatus::Paid && row.refunded_amount == 0 {
            // The payment is paid either way; a refund that could not start is logged for the
            // console's "late payments needing attention" and does not fail this call.
            if let Err(e) = self.refund_late_payment(&row).await {
                tracing::error!(payment_id, error = %e, "late payment: automatic refund failed");
            }
            return Ok(repo::get_payment(&self.db, payment_id)
                .await?
                .unwrap_or(row));
        }
        Ok(row)
    }

    /// What the bank says of a payment, as a trigger of the state machine.
    fn trigger_for(state: &BankPaymentState) -> (PaymentTrigger, PaymentChanges, Option<String>) {
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
    ) -> Result<PaymentRow, ApiError> {
        let (trigger, changes, detail) = Self::trigger_for(state);
        self.apply(payment_id, trigger, changes, detail.as_deref())
            .await
    }

    /// The till cancels: the QR is annulled at the bank first; if the customer has already
    /// paid, the payment ends `paid` and the answer says so.
    #[tracing::instrument(skip_all, fields(payment_id = %payment_id))]
    pub async fn cancel(
        &self,
        till: &TillIdentity,
        payment_id: &str,
    ) -> Result<PaymentRow, ApiError> {
        let row = self.payment_for(till, payment_id).await?;
        match row.status() {
            PaymentStatus::Pending | PaymentStatus::Unknown => {}
            PaymentStatus::Creating => {
                return Err(ApiError::new(
                    ErrorCode::InvalidState,
                    "the bank is still issuing the QR code; cancel again in a moment",
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
                return Err(ApiError::new(
                    ErrorCode::ProviderRejected,
                    format!("the bank refused to annul the QR code: {code}: {message}"),
                ));
            }
        };
        self.apply(payment_id, trigger, changes, detail.as_deref())
            .await
    }

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

    async fn annul_at_bank(&self, row: &PaymentRow) -> Result<BankPaymentState, ProviderError> {
        let Some((provider, qr)) = self.qr_of(row)? else {
            return Ok(BankPaymentState::NotFound);
        };
        bounded(self.bank_timeout(row), provider.cancel_qr(&qr)).await
    }

    fn bank_timeout(&self, row: &PaymentRow) -> Duration {
        let total = (row.expires_at - row.created_at)
            .num_seconds()
            .clamp(1, 3600);
        Duration::from_secs(total as u64)
    }

    /// Asks the bank what it knows of the payment (bounded by the response timeout).
    async fn ask_bank(&self, row: &PaymentRow) -> Result<BankPaymentState, ProviderError> {
        // No QR was ever handed out, so nobody can have paid it.
        let Some((provider, qr)) = self.qr_of(row)? else {
            return Ok(BankPaymentState::NotFound);
        };
        bounded(self.bank_timeout(row), provider.payment_status(&qr)).await
    }

    // ---------- bank notifications ----------

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
        let row = repo::find_by_order_ref(&self.db, module, &notice.order_ref)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| CallbackError::UnknownOrder(notice.order_ref.clone()))?;
        tracing::info!(payment_id = %row.payment_id, claimed = %notice.claimed_status, "bank notification");
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

    /// Polls pending payments of modules whose callbacks may not come: first after the poll
    /// interval, then backing off by half each time up to 30 s. Returns how many it asked about.
    async fn poll_pending(&self) -> Result<usize, ApiError> {
        let mut asked = 0;
        for module in self.providers.modules() {
            let Some(provider) = self.providers.get(module) else {
                continue;
            };
            if !provider.polls_pending() {
                continue;
            }
            let pending =
                repo::payments_of_module(&self.db, module, PaymentStatus::Pending, 500).await?;
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
                let Some(row) = repo::get_payment(&self.db, &payment_id).await? else {
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

    // ---------- sandbox customer ----------

    /// The sandbox customer pays (`pay = true`) or is declined by their bank.
    pub async fn sandbox_customer(
        &self,
        till: &TillIdentity,
        payment_id: &str,
        pay: bool,
    ) -> Result<PaymentRow, ApiError> {
        let row = self.payment_for(till, payment_id).await?;
        if row.module != self.providers.sandbox().module_name() {
            return Err(ApiError::new(
                ErrorCode::NotSandboxPayment,
                "only payments of the sandbox module can be paid or declined this way",
            ));
        }
        let Some(qr_id) = row.qr_id.as_deref() else {
            return Err(ApiError::new(
                ErrorCode::QrNotAvailable,
                "the payment has no QR code to pay",
            ));
        };
        if !pay && !row.status().is_open() {
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                format!("a {} payment cannot be declined", row.status().as_str()),
            ));
        }
        let sandbox = self.providers.sandbox();
        let state = if pay {
            sandbox.pay(qr_id, row.amount)
        } else {
            sandbox.decline(qr_id, row.amount)
        };
        self.apply_bank_state(payment_id, &state).await
    }

    // ---------- refunds ----------

    #[tracing::instrument(skip_all, fields(payment_id = %payment_id))]
    pub async fn refund(
        &self,
        till: &TillIdentity,
        payment_id: &str,
        idem: Idempotent<'_>,
        amount: Option<Amount>,
        reason: Option<Description>,
    ) -> Result<Answer, ApiError> {
        let payment = self.payment_for(till, payment_id).await?;
        if let Some(answer) = self.replay(till, &idem).await? {
            return Ok(answer);
        }
        let at = db::now();
        let mut tx = self.db.begin().await?;
        if let Some(existing) = repo::claim_idempotency_key(
            &mut tx,
            till.till_id,
            idem.key.as_str(),
            idem.request_hash,
            at,
        )
        .await?
        {
            return replay_of(existing, &idem);
        }
        let login = format!("till:{}", till.name);
        let refund = self
            .start_refund(
                &mut tx,
                &payment,
                Some(till.till_id),
                amount,
                reason.as_ref().map(Description::as_str),
                None,
                &Who {
                    app_user_id: None,
                    login: &login,
                },
            )
            .await?;
        tx.commit().await?;

        let refund = self.ask_bank_to_refund(&payment, refund).await?;
        let answer = match self.refund_refusal(&payment.module, &refund) {
            // The refund stays on record as declined; the till gets the bank's refusal.
            Some(err) => Answer {
                status: err.code().status(),
                body: json(&err.body()),
            },
            None => Answer {
                status: StatusCode::CREATED,
                body: json(&RefundView::from_row(&refund)),
            },
        };
        let mut tx = self.db.begin().await?;
        repo::save_idempotent_response(
            &mut tx,
            till.till_id,
            idem.key.as_str(),
            answer.status.as_u16(),
            &answer.body,
        )
        .await?;
        tx.commit().await?;
        Ok(answer)
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
    ) -> Result<RefundRow, ApiError> {
        let payment = repo::get_payment(&self.db, payment_id)
            .await?
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such payment"))?;
        let refund_ref = console_refund_ref(idempotency_key);
        if let Some(existing) = repo::find_refund_by_ref(&self.db, &refund_ref).await? {
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
    async fn console_refund_raced(
        &self,
        refund_ref: &str,
        err: ApiError,
    ) -> Result<RefundRow, ApiError> {
        match repo::find_refund_by_ref(&self.db, refund_ref).await? {
            Some(existing) => Ok(existing),
            None => Err(err),
        }
    }

    /// The till error for a refund the bank refused outright (not declined as an outcome).
    fn refund_refusal(&self, module: &str, refund: &RefundRow) -> Option<ApiError> {
        if refund.status() != RefundStatus::Declined {
            return None;
        }
        let code = refund.failure_code.as_deref()?;
        let till_code = self.providers.get(module)?.till_error_for(code)?;
        Some(ApiError::new(
            till_code,
            format!(
                "the bank refused the refund: {code}: {}",
                refund.failure_message.as_deref().unwrap_or("")
            ),
        ))
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
    ) -> Result<RefundRow, ApiError> {
        let at = db::now();
        let current = repo::get_payment_in(tx, &payment.payment_id)
            .await?
            .expect("BUG: the payment was read above");
        if current.status() != PaymentStatus::Paid {
            return Err(ApiError::new(
                ErrorCode::PaymentNotPaid,
                format!(
                    "only paid payments can be refunded; this one is {}",
                    current.status().as_str()
                ),
            ));
        }
        let left = current.amount - current.refunded_amount;
        let kopecks = amount.map(Amount::kopecks).unwrap_or(left);
        let exceeds = || {
            ApiError::field(
                ErrorCode::RefundExceedsPaid,
                "amount",
                format!("amount: only {left} kopecks are left to refund"),
            )
        };
        if kopecks <= 0 || !repo::reserve_refund(tx, &payment.payment_id, kopecks, at).await? {
            return Err(exceeds());
        }
        let refund_id = RefundId::new();
        let refund_ref = match refund_ref {
            Some(r) => OrderRef::parse(r).map_err(|e| anyhow::anyhow!("BUG: refund ref: {e}"))?,
            None => OrderRef::generate("r"),
        };
        repo::insert_refund(
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
        let row = repo::get_refund_in(tx, refund_id.as_str())
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
    ) -> Result<(), ApiError> {
        let to_status = format!("refund_{}", to.as_str());
        let from_status = from.map(|f| format!("refund_{}", f.as_str()));
        let outbox = match to.event_name() {
            Some(name) => Some(OutboxEntry::new(
                name,
                refund.store_id,
                refund.till_id,
                "refund",
                &RefundView::from_row(refund),
                at,
            )?),
            None => None,
        };
        repo::record_change(
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
            outbox.as_ref().map(OutboxEntry::row).as_ref(),
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
    ) -> Result<RefundRow, ApiError> {
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
    ) -> Result<RefundRow, ApiError> {
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
        let current = repo::get_refund_in(&mut tx, refund_id)
            .await?
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no refund {refund_id}")))?;
        let from = current.status();
        let Some(to) = from.next(trigger) else {
            return Ok(current);
        };
        let failure_ref = failure.as_ref().map(|(c, m)| (c.as_str(), m.as_str()));
        if !repo::update_refund_status(&mut tx, refund_id, from, to, failure_ref, at).await? {
            return Ok(current);
        }
        if to == RefundStatus::Declined {
            repo::release_refund(&mut tx, &current.payment_id, current.amount, at).await?;
        }
        let row = repo::get_refund_in(&mut tx, refund_id)
            .await?
            .expect("BUG: the refund was just updated");
        self.record_refund_event(&mut tx, &row, Some(from), to, trigger_name(trigger), at)
            .await?;
        tx.commit().await?;
        self.waiters.wake(&current.payment_id);
        Ok(row)
    }

    /// A late payment (paid after expiry or cancel) is refunded in full when the store says so.
    async fn refund_late_payment(&self, payment: &PaymentRow) -> Result<(), ApiError> {
        let store = config::store_by_id(&self.db, payment.store_id)
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
                Some("late payment: automatic refund"),
                None,
                &Who {
                    app_user_id: None,
                    login: LATE_REFUND_LOGIN,
                },
            )
            .await?;
        tx.commit().await?;
        self.ask_bank_to_refund(payment, refund).await?;
        Ok(())
    }

    // ---------- background steps (driven by workers, callable from tests) ----------

    /// Annuls and expires every pending payment whose deadline has passed. Returns how many
    /// payments it looked at.
    pub async fn expire_due(&self) -> Result<usize, ApiError> {
        let due = repo::due_payments(&self.db, PaymentStatus::Pending, db::now(), 200).await?;
        for payment_id in &due {
            let Some(row) = repo::get_payment(&self.db, payment_id).await? else {
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
        let stuck = repo::due_payments(&self.db, PaymentStatus::Creating, db::now(), 200).await?;
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
    pub async fn sync_in_doubt(&self, older_than: Duration) -> Result<usize, ApiError> {
        let before = db::now() - chrono::Duration::from_std(older_than).unwrap_or_default();
        let unknown = repo::stale_payments(&self.db, PaymentStatus::Unknown, before, 100).await?;
        for payment_id in &unknown {
            let Some(row) = repo::get_payment(&self.db, payment_id).await? else {
                continue;
            };
            let Some(provider) = self.providers.get(&row.module) else {
                continue;
            };
            let state = match row.qr_id.as_deref() {
                // The QR was never handed out, so nobody can have paid it.
                None => Ok(BankPaymentState::NotFound),
                Some(qr_id) => {
                    let amount = Amount::parse(row.amount)
                        .map_err(|e| anyhow::anyhow!("stored amount: {e}"))?;
                    let qr = QrRef {
                        store_id: row.store_id,
                        qr_id,
                        order_ref: &row.order_ref,
                        amount,
                    };
                    bounded(self.bank_timeout(&row), provider.payment_status(&qr)).await
                }
            };
            match state {
                Ok(state) => {
                    self.apply_bank_state(payment_id, &state).await?;
                }
                Err(e) => tracing::warn!(%payment_id, error = %e, "payment still in doubt"),
            }
        }
        let polled = self.poll_pending().await?;
        let mut refunds =
            repo::refunds_in_status(&self.db, RefundStatus::Unknown, before, 100).await?;
        refunds
            .extend(repo::refunds_in_status(&self.db, RefundStatus::Pending, before, 100).await?);
        for refund_id in &refunds {
            let Some(refund) = repo::get_refund(&self.db, refund_id).await? else {
                continue;
            };
            let Some(payment) = repo::get_payment(&self.db, &refund.payment_id).await? else {
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
}

/// What the bank is asked for a refund (the same every time: the refund id makes it idempotent).
fn refund_request<'a>(
    payment: &'a PaymentRow,
    refund: &'a RefundRow,
) -> Result<RefundRequest<'a>, ApiError> {
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

/// The refund reference of a console refund: derived from its form's key (hashed, so any key
/// fits the bank's 40-character limit), so the same key always names the same refund.
fn console_refund_ref(key: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("rc{hex}")
}

/// A till sees and changes only its own store's payments and refunds.
fn same_store(till: &TillIdentity, store_id: i64, what: &str) -> Result<(), ApiError> {
    if store_id == till.store_id {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("the {what} belongs to another store"),
        ))
    }
}

fn trigger_name(t: RefundTrigger) -> &'static str {
    match t {
        RefundTrigger::BankCompleted => "bank_completed",
        RefundTrigger::BankDeclined => "bank_declined",
        RefundTrigger::BankInProgress => "bank_in_progress",
        RefundTrigger::BankNoAnswer => "bank_no_answer",
    }
}

/// The answer to a repeated key: the first answer again, or a conflict.
fn replay_of(existing: repo::IdempotencyRow, idem: &Idempotent<'_>) -> Result<Answer, ApiError> {
    if existing.request_hash != idem.request_hash {
        return Err(ApiError::field(
            ErrorCode::IdempotencyKeyReused,
            "Idempotency-Key",
            "this Idempotency-Key was already used for another request",
        ));
    }
    match (existing.response_status, existing.response_body) {
        (Some(status), Some(body)) => Ok(Answer {
            status: StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK),
            body,
        }),
        _ => Err(ApiError::new(
            ErrorCode::IdempotencyRequestInProgress,
            "the first request with this Idempotency-Key is still being processed; retry shortly",
        )),
    }
}

/// Bounds a bank call: past the timeout it is `NoAnswer`, never a failure.
async fn bounded<T>(
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

/// An outbox row: the event envelope (schema version 1) and its routing key.
struct OutboxEntry {
    event_id: String,
    store_id: i64,
    till_id: Option<i64>,
    routing_key: &'static str,
    payload: String,
    at: DateTime<Utc>,
}

impl OutboxEntry {
    fn new<T: serde::Serialize>(
        event: &'static str,
        store_id: i64,
        till_id: Option<i64>,
        entity: &str,
        body: &T,
        at: DateTime<Utc>,
    ) -> Result<Self, ApiError> {
        let event_id = new_public_id();
        let mut payload = serde_json::json!({
            "schema_version": 1,
            "event_id": event_id,
            "type": event,
            "occurred_at": at,
            "store_id": store_id,
            "till_id": till_id,
        });
        payload[entity] =
            serde_json::to_value(body).map_err(|e| anyhow::anyhow!("event body: {e}"))?;
        Ok(Self {
            event_id,
            store_id,
            till_id,
            routing_key: event,
            payload: payload.to_string(),
            at,
        })
    }

    fn row(&self) -> NewOutbox<'_> {
        NewOutbox {
            event_id: &self.event_id,
            store_id: self.store_id,
            till_id: self.till_id,
            routing_key: self.routing_key,
            payload: &self.payload,
            at: self.at,
        }
    }
}
