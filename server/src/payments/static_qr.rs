//! Static QRs: issuing one for a place with no till (registered at the bank, recorded with its
//! own till row), deactivating it, and taking each payment the bank reports for it — from a
//! signed callback, from polling, or from the sandbox customer — as a qrpay payment, once only
//! (its order reference is the QR's order and the bank's transaction id), with the events and
//! history of any other payment: `creating → pending → paid` in one transaction.

use super::bank::bounded;
use super::{Error, PaymentService};
use crate::db;
use crate::db::audit::Who;
use crate::db::payment::{self, PaymentChanges, PaymentRow};
use crate::db::static_qr::{self as store_qr, NewStaticPayment, NewStaticQr, StaticQr};
use crate::domain::{OrderRef, PaymentTrigger, new_public_id};
use crate::providers::{ProviderError, Refusal, StaticQrPayment, StaticQrRef, StaticQrRequest};
use std::time::Duration;

/// How long a bank call about a static QR may take at most.
const STATIC_CALL_LIMIT: Duration = Duration::from_secs(10);

/// A static QR to issue.
#[derive(Debug, Clone)]
pub struct IssueStaticQr<'a> {
    pub store_id: i64,
    /// By name; `None`: the store's default payment type.
    pub payment_type: Option<&'a str>,
    pub name: &'a str,
    pub purpose: Option<&'a str>,
    /// Kopecks; `None`: the customer types the amount.
    pub amount: Option<i64>,
}

pub(super) fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidState(message.into())
}

pub(super) fn bank_refused(action: &'static str, e: ProviderError) -> Error {
    match e {
        ProviderError::Rejected { code, message } => Error::BankRefused {
            action,
            refusal: Refusal::Refused,
            code,
            message,
        },
        ProviderError::NoAnswer(why) => invalid(format!("the bank did not answer: {why}")),
    }
}

impl PaymentService {
    fn static_ref(qr: &StaticQr) -> StaticQrRef<'_> {
        StaticQrRef {
            store_id: qr.store_id,
            qr_id: &qr.qr_id,
            order_ref: &qr.order_ref,
        }
    }

    /// Registers a static QR at the bank and records it (with its till row and audit row).
    #[tracing::instrument(skip_all, fields(store_id = req.store_id))]
    pub async fn issue_static_qr(
        &self,
        who: &Who<'_>,
        req: &IssueStaticQr<'_>,
    ) -> Result<StaticQr, Error> {
        let name = req.name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(invalid("name: 1-60 characters"));
        }
        let purpose = req.purpose.map(str::trim).filter(|p| !p.is_empty());
        if purpose.is_some_and(|p| p.chars().count() > 140) {
            return Err(invalid("purpose: at most 140 characters"));
        }
        if req.amount.is_some_and(|k| k <= 0) {
            return Err(invalid("amount: more than zero, or none"));
        }
        let (pt, provider) = self
            .usable_payment_type(req.store_id, 0, req.payment_type)
            .await?;
        if !provider.issues_static_qrs() {
            return Err(invalid(format!(
                "payment_type: the module {} issues no static QRs",
                pt.module
            )));
        }
        if store_qr::name_taken(&self.db, req.store_id, name).await? {
            return Err(invalid(format!("name: {name:?} is taken")));
        }
        let order = OrderRef::generate("s");
        let issued = bounded(
            STATIC_CALL_LIMIT.min(self.bank_call_timeout),
            provider.issue_static_qr(&StaticQrRequest {
                store_id: req.store_id,
                order_ref: order.as_str(),
                amount: req.amount,
                purpose,
            }),
        )
        .await
        .map_err(|e| bank_refused("to register the static QR", e))?;
        let key_hash = crate::auth::till_key::hash(&crate::auth::till_key::generate());
        let id = store_qr::create_static_qr(
            &self.db,
            who,
            NewStaticQr {
                store_id: req.store_id,
                payment_type_id: pt.payment_type_id,
                module: &pt.module,
                name,
                purpose,
                amount: req.amount,
                order_ref: order.as_str(),
                qr_id: &issued.qr_id,
                qr_payload: &issued.payload,
                test: provider.is_test(),
                till_key_hash: &key_hash,
            },
        )
        .await
        .map_err(|e| match e {
            db::ConfigError::Duplicate(what) => invalid(format!("name: {what} is taken")),
            other => Error::Internal(other.into()),
        })?;
        tracing::info!(static_qr_id = id, qr_id = %issued.qr_id, "static QR issued");
        self.static_qr(req.store_id, id).await
    }

    /// The store's static QR `id`.
    pub async fn static_qr(&self, store_id: i64, id: i64) -> Result<StaticQr, Error> {
        store_qr::get_static_qr(&self.db, store_id, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no static QR {id}")))
    }

    /// Annuls the static QR at the bank and marks it inactive (audited). A QR the bank cannot
    /// annul now stays active.
    pub async fn deactivate_static_qr(
        &self,
        who: &Who<'_>,
        store_id: i64,
        id: i64,
    ) -> Result<StaticQr, Error> {
        let qr = self.static_qr(store_id, id).await?;
        if !qr.active {
            return Ok(qr);
        }
        let provider = self.provider(&qr.module)?;
        bounded(
            STATIC_CALL_LIMIT.min(self.bank_call_timeout),
            provider.deactivate_static_qr(&Self::static_ref(&qr)),
        )
        .await
        .map_err(|e| bank_refused("to annul the static QR", e))?;
        store_qr::deactivate_static_qr(&self.db, who, store_id, id)
            .await
            .map_err(|e| Error::Internal(e.into()))?;
        self.static_qr(store_id, id).await
    }

    /// Takes a payment the bank reported for the static QR `qr` as a qrpay payment; `None` when
    /// it was taken before (the same transaction id), so that a repeated callback, a poll and a
    /// callback of the same payment make one payment.
    #[tracing::instrument(skip_all, fields(static_qr_id = qr.static_qr_id, transaction_id = %paid.transaction_id))]
    pub async fn take_static_payment(
        &self,
        qr: &StaticQr,
        paid: &StaticQrPayment,
    ) -> Result<Option<PaymentRow>, Error> {
        if paid.amount <= 0 {
            return Err(invalid("a static QR payment of no amount"));
        }
        let order_ref = format!("{}.{}", qr.order_ref, paid.transaction_id);
        let payment_id = new_public_id();
        let at = db::now();
        // Written first, read nothing before: on SQLite another process (the CLI beside the
        // server) then waits for the write lock instead of failing to upgrade a read.
        let mut tx = self.db.begin().await?;
        let inserted = store_qr::insert_static_payment(
            &mut tx,
            &NewStaticPayment {
                payment_id: &payment_id,
                qr,
                amount: paid.amount,
                receipt: &paid.transaction_id,
                order_ref: &order_ref,
                bank_order: &paid.order,
                at,
            },
        )
        .await;
        match inserted {
            Ok(()) => {}
            // Taken before (its order_ref is unique), or by another instance at this moment.
            Err(e) if db::is_unique_violation(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        let issued = PaymentChanges {
            qr_id: Some(qr.qr_id.clone()),
            qr_payload: Some(qr.qr_payload.clone()),
            ..Default::default()
        };
        let mut current = payment::get_payment_in(&mut tx, &payment_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("BUG: the payment inserted just now is gone"))?;
        for (trigger, changes) in [
            (PaymentTrigger::BankAccepted, issued),
            (
                PaymentTrigger::CustomerPaid,
                PaymentChanges {
                    bank_transaction_id: Some(paid.transaction_id.clone()),
                    paid_at: paid.paid_at,
                    ..Default::default()
                },
            ),
        ] {
            current = self
                .transition_in(
                    &mut tx,
                    current.current(),
                    trigger,
                    &changes,
                    Some("reported by the bank for the static QR"),
                )
                .await?
                .ok_or_else(|| anyhow::anyhow!("BUG: a new static QR payment did not move on"))?;
        }
        match tx.commit().await {
            Ok(()) => {}
            Err(e) if db::is_unique_violation(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(%payment_id, amount = paid.amount, "static QR payment taken");
        Ok(Some(current))
    }

    /// Asks the bank about every active static QR of the modules that issue them and takes the
    /// payments it reports that qrpay has not taken yet; how many it took. A bank that does not
    /// answer about one QR is logged and asked again next time.
    pub async fn poll_static_qrs(&self) -> Result<usize, Error> {
        let mut taken = 0;
        for module in self.providers.modules() {
            let Some(provider) = self.providers.get(module) else {
                continue;
            };
            if !provider.issues_static_qrs() {
                continue;
            }
            for qr in store_qr::active_of_module(&self.db, module, 500).await? {
                let reported = bounded(
                    STATIC_CALL_LIMIT.min(self.bank_call_timeout),
                    provider.static_qr_payments(&Self::static_ref(&qr)),
                )
                .await;
                match reported {
                    Ok(payments) => {
                        for paid in &payments {
                            if self.take_static_payment(&qr, paid).await?.is_some() {
                                taken += 1;
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(static_qr_id = qr.static_qr_id, error = %e, "polling a static QR")
                    }
                }
            }
        }
        Ok(taken)
    }

    /// The sandbox customer pays the store's sandbox static QR `id` (`amount` kopecks; a QR with
    /// a fixed amount takes only that).
    pub async fn sandbox_pay_static(
        &self,
        store_id: i64,
        id: i64,
        amount: Option<i64>,
    ) -> Result<PaymentRow, Error> {
        let qr = self.static_qr(store_id, id).await?;
        let sandbox = self.providers.sandbox();
        if qr.module != sandbox.module_name() {
            return Err(Error::NotSandboxPayment);
        }
        if !qr.active {
            return Err(invalid("the static QR is deactivated"));
        }
        let kopecks = match (qr.amount, amount) {
            (Some(fixed), Some(given)) if fixed != given => {
                return Err(invalid(format!(
                    "amount: this static QR takes {fixed} kopecks"
                )));
            }
            (Some(fixed), _) => fixed,
            (None, Some(given)) if given > 0 => given,
            (None, _) => return Err(invalid("amount: the customer must type an amount")),
        };
        let paid = sandbox
            .pay_static(&qr.qr_id, &qr.order_ref, kopecks)
            .map_err(|e| bank_refused("the payment", e))?;
        self.take_static_payment(&qr, &paid)
            .await?
            .ok_or_else(|| invalid("the sandbox reported a payment taken before"))
    }
}
