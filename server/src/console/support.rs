//! Support actions on one payment (support and admin): refund, cancel (the till's road: the QR
//! is annulled at the bank), «Спросить банк» (the sync worker's question, asked now) and
//! «Отправить события заново» (the outbox replay of `qrpay events replay --payment`). Each is
//! checked when asked, kept by `confirm` until confirmed, checked again and done then, and
//! audited with who did it.

use super::{ConsoleBackend, confirm, internal, who};
use crate::db::{self, audit::Change, outbox::ReplayRange, payment::PaymentRow};
use crate::domain::{Amount, AmqpUrl};
use crate::events::replay::{ReplayError, replay};
use crate::payments::{self, BankReply};
use crate::providers::{BankPaymentState, BankRefundState, OrderAtBank};
use app::backend::support::{ActionResult, SupportAction, SupportPort, SupportState};
use app::backend::{Actor, Role};
use app::error::{ConsoleError, FormErrors};
use app::i18n::Msg;
use axum::http::request::Parts;
use serde_json::json;

#[async_trait::async_trait]
impl SupportPort for ConsoleBackend {
    async fn ask_confirmation(
        &self,
        parts: &Parts,
        actor: &Actor,
        payment_id: &str,
        action: SupportAction,
    ) -> Result<(), ConsoleError> {
        support_only(actor)?;
        let p = self.store_payment(actor, payment_id).await?;
        let action = self.check(&p, action).await?;
        confirm::keep(parts, actor, payment_id, action).await
    }

    async fn confirm_action(
        &self,
        parts: &Parts,
        actor: &Actor,
        payment_id: &str,
        token: &str,
    ) -> Result<SupportAction, ConsoleError> {
        support_only(actor)?;
        let action = confirm::take(parts, actor, payment_id, token).await?;
        let p = self.store_payment(actor, payment_id).await?;
        // The world may have moved since the question: what is no longer possible is refused.
        self.check(&p, action.clone()).await?;
        let (outcome, detail) = self.perform(actor, p, &action, token).await?;
        let result = ActionResult {
            action: action.clone(),
            outcome,
            detail,
        };
        confirm::keep_result(parts, payment_id, result).await?;
        Ok(action)
    }

    async fn support_state(
        &self,
        parts: &Parts,
        actor: &Actor,
        payment_id: &str,
    ) -> Result<SupportState, ConsoleError> {
        support_only(actor)?;
        Ok(SupportState {
            confirmation: confirm::peek(parts, actor, payment_id).await?,
            result: confirm::last_result(parts, payment_id).await?,
        })
    }
}

/// A second check behind the server fn's `require`: support actions are for support and admins.
fn support_only(actor: &Actor) -> Result<(), ConsoleError> {
    if actor.role >= Role::Support {
        Ok(())
    } else {
        Err(ConsoleError::Forbidden)
    }
}

fn form_error(m: Msg) -> ConsoleError {
    ConsoleError::Invalid(FormErrors {
        form: Some(m),
        ..Default::default()
    })
}

fn amount_error(m: Msg) -> ConsoleError {
    let mut f = FormErrors::default();
    f.field("amount", m);
    ConsoleError::Invalid(f)
}

impl ConsoleBackend {
    /// The payment, when it is of the actor's store.
    async fn store_payment(
        &self,
        actor: &Actor,
        payment_id: &str,
    ) -> Result<PaymentRow, ConsoleError> {
        let store = self.store_of(actor).await?;
        db::payment::get_payment(&self.db, payment_id)
            .await
            .map_err(internal)?
            .filter(|p| p.store_id == store.store_id)
            .ok_or(ConsoleError::NotFound)
    }

    fn service(&self) -> Result<&payments::service::PaymentService, ConsoleError> {
        self.payments
            .as_deref()
            .ok_or_else(|| internal("the console has no payment service"))
    }

    /// Whether `action` can be done on `p` now; the action as it will be done (a full refund's
    /// amount, the number of events to publish again).
    async fn check(
        &self,
        p: &PaymentRow,
        action: SupportAction,
    ) -> Result<SupportAction, ConsoleError> {
        let open = matches!(p.status.as_str(), "pending" | "unknown");
        match action {
            SupportAction::Refund { amount, reason } => {
                if p.status != "paid" {
                    return Err(amount_error(Msg::RefundNotPaid));
                }
                let left = p.amount - p.refunded_amount;
                let amount = if amount == 0 { left } else { amount };
                if amount <= 0 || amount > left {
                    return Err(amount_error(Msg::RefundExceedsLeft));
                }
                Ok(SupportAction::Refund { amount, reason })
            }
            SupportAction::Cancel { .. } if open => Ok(SupportAction::Cancel { amount: p.amount }),
            SupportAction::Cancel { .. } => Err(form_error(Msg::CancelNotOpen)),
            SupportAction::AskBank { refund_id: None } if open => {
                Ok(SupportAction::AskBank { refund_id: None })
            }
            SupportAction::AskBank { refund_id: None } => Err(form_error(Msg::AskBankNothing)),
            SupportAction::AskBank {
                refund_id: Some(id),
            } => {
                let refund = db::refund::get_refund(&self.db, &id)
                    .await
                    .map_err(internal)?
                    .filter(|r| r.payment_id == p.payment_id)
                    .ok_or(ConsoleError::NotFound)?;
                if matches!(refund.status.as_str(), "pending" | "unknown") {
                    Ok(SupportAction::AskBank {
                        refund_id: Some(id),
                    })
                } else {
                    Err(form_error(Msg::AskBankNothing))
                }
            }
            SupportAction::Republish { .. } => {
                let counts = db::outbox::replay_counts(&self.db, &replay_range(p))
                    .await
                    .map_err(internal)?;
                let events: i64 = counts.iter().map(|c| c.published).sum();
                if events == 0 {
                    return Err(form_error(Msg::RepublishNothing));
                }
                let has_broker = counts.iter().all(|c| c.rabbitmq_url.is_some())
                    || self.health.amqp_url.is_some();
                if !has_broker {
                    return Err(form_error(Msg::RepublishNoBroker));
                }
                Ok(SupportAction::Republish { events })
            }
        }
    }

    /// Does a confirmed action and writes its audit row; the outcome in the console's words.
    async fn perform(
        &self,
        actor: &Actor,
        p: PaymentRow,
        action: &SupportAction,
        token: &str,
    ) -> Result<(Msg, Option<String>), ConsoleError> {
        let payment_id = p.payment_id.clone();
        let before = p.status.clone();
        let (audit_action, outcome, detail, after) = match action {
            SupportAction::Refund { amount, reason } => {
                // The refund writes its own audit row with the money.
                return self
                    .refund(actor, &payment_id, *amount, reason.as_deref(), token)
                    .await;
            }
            SupportAction::Cancel { .. } => {
                let (outcome, detail, status) =
                    match self.service()?.cancel_by_console(&actor.login, p).await {
                        Ok(row) => (
                            match row.status.as_str() {
                                "paid" => Msg::CancelPaidMeanwhile,
                                "unknown" => Msg::CancelInDoubt,
                                _ => Msg::CancelDone,
                            },
                            None,
                            row.status,
                        ),
                        Err(payments::Error::BankRefused { code, message, .. }) => (
                            Msg::CancelRefused,
                            Some(format!("{code}: {message}")),
                            before.clone(),
                        ),
                        Err(payments::Error::InvalidState(_)) => {
                            return Err(form_error(Msg::CancelNotOpen));
                        }
                        Err(e) => return Err(internal(e)),
                    };
                let after = json!({ "status": status, "outcome": outcome, "bank_detail": detail });
                ("cancel", outcome, detail, after)
            }
            SupportAction::AskBank { refund_id } => {
                let reply = self
                    .service()?
                    .ask_bank_now(&payment_id, refund_id.as_deref())
                    .await
                    .map_err(internal)?;
                let (outcome, detail) = bank_said(&reply);
                let now = self.store_payment(actor, &payment_id).await?;
                let after = json!({
                    "status": now.status,
                    "refund_id": refund_id,
                    "outcome": outcome,
                    "bank_detail": detail,
                });
                ("ask_bank", outcome, detail, after)
            }
            SupportAction::Republish { .. } => {
                let (outcome, count) = self.republish(&p).await?;
                let after = json!({ "status": before, "events": count, "outcome": outcome });
                ("republish", outcome, Some(count.to_string()), after)
            }
        };
        let change = Change {
            store_id: Some(actor.store_id),
            action: audit_action,
            entity: "payment",
            entity_id: payment_id.clone(),
            before: Some(json!({ "status": before })),
            after: Some(after),
        };
        db::audit::record_alone(&self.db, &who(actor), change)
            .await
            .map_err(internal)?;
        tracing::info!(payment_id, login = %crate::telemetry::quoted(&actor.login), action = audit_action, "console support action");
        Ok((outcome, detail))
    }

    /// A confirmed refund, keyed by its confirmation's token: two posts of one token that race
    /// past the session still make one refund.
    async fn refund(
        &self,
        actor: &Actor,
        payment_id: &str,
        amount: i64,
        reason: Option<&str>,
        token: &str,
    ) -> Result<(Msg, Option<String>), ConsoleError> {
        let amount = Amount::parse(amount).map_err(|_| form_error(Msg::RefundBadAmount))?;
        let key = format!("console:{payment_id}:{token}");
        match self
            .service()?
            .refund_by_console(&who(actor), payment_id, Some(amount), reason, &key)
            .await
        {
            Ok(r) if r.status == "declined" => {
                tracing::warn!(payment_id, refund_id = %r.refund_id, "console refund declined by the bank");
                Err(form_error(Msg::RefundDeclined))
            }
            Ok(r) => {
                tracing::info!(payment_id, refund_id = %r.refund_id, amount = r.amount, "console refund");
                Ok((Msg::RefundSent, None))
            }
            Err(payments::Error::NotPaid(_)) => Err(form_error(Msg::RefundNotPaid)),
            Err(payments::Error::RefundExceeds { .. }) => Err(form_error(Msg::RefundExceedsLeft)),
            Err(payments::Error::NotFound(_)) => Err(ConsoleError::NotFound),
            Err(e) => Err(internal(e)),
        }
    }

    /// Publishes the payment's published events again to its store's broker.
    async fn republish(&self, p: &PaymentRow) -> Result<(Msg, usize), ConsoleError> {
        let default_url = self
            .health
            .amqp_url
            .as_deref()
            .map(AmqpUrl::parse)
            .transpose()
            .map_err(internal)?;
        let topology = crate::events::Topology::default();
        match replay(&self.db, &replay_range(p), default_url.as_ref(), &topology).await {
            Ok(report) => match &report.error {
                None => Ok((Msg::RepublishDone, report.republished())),
                Some(e) => {
                    tracing::warn!(payment_id = %p.payment_id, error = %e, "console republish stopped");
                    Ok((Msg::RepublishFailed, report.republished()))
                }
            },
            Err(ReplayError::NoBroker { .. }) => Err(form_error(Msg::RepublishNoBroker)),
            Err(e) => Err(internal(e)),
        }
    }
}

/// Every event of the payment and its refunds, from its creation until now.
fn replay_range(p: &PaymentRow) -> ReplayRange {
    ReplayRange {
        from: p.created_at - chrono::Duration::seconds(1),
        to: db::now() + chrono::Duration::seconds(1),
        store_id: Some(p.store_id),
        payment_id: Some(p.payment_id.clone()),
    }
}

/// What the bank said, in the console's words, and its own words when it gave any.
fn bank_said(reply: &BankReply) -> (Msg, Option<String>) {
    match reply {
        BankReply::Payment(s) => match s {
            BankPaymentState::Waiting => (Msg::BankSaysWaiting, None),
            BankPaymentState::Paid { transaction_id, .. } => {
                (Msg::BankSaysPaid, transaction_id.clone())
            }
            BankPaymentState::Declined { reason } => (Msg::BankSaysDeclined, Some(reason.clone())),
            BankPaymentState::Expired => (Msg::BankSaysExpired, None),
            BankPaymentState::Cancelled => (Msg::BankSaysCancelled, None),
            BankPaymentState::NotFound => (Msg::BankSaysNotFound, None),
        },
        BankReply::Order(o) => match o {
            OrderAtBank::Paid => (Msg::BankSaysPaid, None),
            OrderAtBank::Issued(_) => (Msg::BankSaysIssued, None),
        },
        BankReply::Refund(r) => match r {
            BankRefundState::Completed => (Msg::BankSaysRefundCompleted, None),
            BankRefundState::InProgress => (Msg::BankSaysRefundInProgress, None),
            BankRefundState::Declined { code, message } => (
                Msg::BankSaysRefundDeclined,
                Some(format!("{code}: {message}")),
            ),
        },
        BankReply::Settled(status) => match status.as_str() {
            "paid" => (Msg::BankSaysPaid, None),
            "declined" => (Msg::BankSaysDeclined, None),
            "failed" => (Msg::BankSaysRefused, None),
            _ => (Msg::BankSaysWaiting, None),
        },
        BankReply::NoAnswer(why) => (Msg::BankSaysNoAnswer, Some(why.clone())),
        BankReply::Refused { code, message } => {
            (Msg::BankSaysRefused, Some(format!("{code}: {message}")))
        }
    }
}
