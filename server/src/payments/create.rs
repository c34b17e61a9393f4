//! Creating a payment: the payment type and its module, the `Idempotency-Key` claimed together
//! with the new `creating` row, the bank's QR (outside any transaction), and the move out of
//! `creating` stored together with the till's answer.

use super::bank::bounded;
use super::idempotency::{Answer, Idempotent, json, lease_until};
use super::transitions::payment_event_row;
use super::view::PaymentView;
use super::{Error, PaymentService};
use crate::db;
use crate::db::idempotency::NewClaim;
use crate::db::payment::{self, CurrentPayment, NewPayment, PaymentChanges, PaymentRow};
use crate::db::payment_event::{self, ChangeRows, OwnedAnswer};
use crate::db::payment_type::{self, TillLink};
use crate::db::till::TillIdentity;
use crate::domain::{
    Amount, Description, OrderRef, PaymentId, PaymentStatus, PaymentTrigger, Receipt, Transition,
};
use crate::providers::{
    BankPaymentState, CashLinkRef, ChargeCustomerQr, CreateQr, ProviderError, Refusal,
};
use axum::http::StatusCode;

/// A request to create a payment, already parsed.
pub struct CreatePayment {
    pub amount: Amount,
    pub receipt: Receipt,
    pub payment_type: Option<String>,
    pub description: Option<Description>,
    pub customer_qr: Option<String>,
}

impl PaymentService {
    /// The payment type the request asks for, if the store has it, it is on, and its module
    /// can do what is asked.
    async fn payment_type_for(
        &self,
        till: &TillIdentity,
        req: &CreatePayment,
    ) -> Result<(payment_type::PaymentType, Option<TillLink>), Error> {
        let (payment_type, link, provider) = self
            .usable_payment_type_and_link(till.store_id, till.till_id, req.payment_type.as_deref())
            .await?;
        let reads_customer_qr =
            payment_type.scan_customer_qr && provider.capabilities().customer_presented_qr;
        match req.customer_qr.as_deref() {
            Some(_) if !reads_customer_qr => {
                return Err(Error::CustomerQrNotSupported {
                    payment_type: payment_type.name,
                    module: payment_type.module,
                });
            }
            Some(code) => provider
                .check_customer_qr(code)
                .map_err(Error::InvalidCustomerQr)?,
            // The payment type's till scans the customer's code: there is no QR to show.
            None if payment_type.scan_customer_qr => {
                return Err(Error::CustomerQrMissing(payment_type.name));
            }
            None => {}
        }

        Ok((payment_type, link))
    }

    #[tracing::instrument(skip_all, fields(till_id = till.till_id, amount = req.amount.kopecks()))]
    pub async fn create_payment(
        &self,
        till: &TillIdentity,
        idem: Idempotent<'_>,
        req: CreatePayment,
    ) -> Result<Answer, Error> {
        // A replay is found when the key is claimed below; only a request refused before that
        // (its payment type changed since) looks the key up here, so a retry still gets its answer.
        let (payment_type, link) = match self.payment_type_for(till, &req).await {
            Ok(found) => found,
            Err(refused) => return self.replay(till, &idem).await?.ok_or(refused),
        };
        let provider = self.provider(&payment_type.module)?.clone();
        // A till with a cash link of this module takes the payment on its link (a customer's
        // QR code is charged as always).
        let link = link.filter(|l| l.module == payment_type.module && req.customer_qr.is_none());

        let payment_id = PaymentId::new();
        let order_ref = OrderRef::generate("q");
        let created_at = db::now();
        let timeout = self.bank_call_limit(payment_type.response_timeout_secs);
        let expires_at = created_at + chrono::Duration::seconds(payment_type.response_timeout_secs);

        let claim = payment::claim_and_insert_creating(
            &self.db,
            &NewClaim {
                till_id: till.till_id,
                key: idem.key.as_str(),
                request_hash: idem.request_hash,
                at: created_at,
                lease_until: lease_until(created_at, timeout),
                payment_id: Some(payment_id.as_str()),
            },
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
                test: provider.is_test(),
                cash_link_qr_id: link.as_ref().map(|l| l.qr_id.as_str()),
            },
        )
        .await;
        let claim = match claim {
            Ok(claim) => claim,
            // The till's link is taken by an open payment (the partial unique index on
            // `payment`): the till must finish or cancel that one first.
            Err(e) if link.is_some() && db::is_unique_violation(&e) => {
                let open = db::cash_link::open_cash_link_payment(&self.db, till.till_id).await?;
                return Err(Error::TillBusy {
                    payment_id: open.unwrap_or_default(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        if let payment::Claim::Existing(existing) = claim {
            return self.replay_of(till, existing, &idem).await;
        }

        let description = req.description.as_ref().map(Description::as_str);
        let outcome = match req.customer_qr.as_deref() {
            Some(customer_qr) => {
                let charge = ChargeCustomerQr {
                    store_id: till.store_id,
                    order_ref: order_ref.as_str(),
                    amount: req.amount,
                    description,
                    customer_qr,
                };
                bounded(timeout, provider.charge_customer_qr(&charge))
                    .await
                    .map(Self::charged)
            }
            None => {
                let asked = CreateQr {
                    store_id: till.store_id,
                    order_ref: order_ref.as_str(),
                    amount: req.amount,
                    description,
                    expires_at,
                    cash_link: link.as_ref().map(|l| CashLinkRef {
                        qr_id: &l.qr_id,
                        payload: &l.payload,
                    }),
                };
                bounded(timeout, provider.create_qr(&asked))
                    .await
                    .map(|qr| {
                        (
                            PaymentTrigger::BankAccepted,
                            PaymentChanges {
                                qr_id: Some(qr.qr_id),
                                qr_payload: Some(qr.payload),
                                ..Default::default()
                            },
                        )
                    })
            }
        };
        let (trigger, changes) = match outcome {
            Ok(moved) => moved,
            Err(ProviderError::Rejected { code, message }) => Self::refused(code, message),
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
            // Someone moved it on meanwhile (the expiry worker judged it stuck, a retry judged
            // this request dead) and stored the answer with that move: answer the same.
            None => {
                let row = payment::get_payment(&self.db, payment_id.as_str())
                    .await?
                    .expect("BUG: the payment was inserted above");
                self.settle(till, &idem, &self.create_answer(&row)).await?
            }
        };
        self.changed(payment_id.as_str());
        Ok(answer)
    }

    /// What a customer-presented QR charge's answer does to the payment: paid or declined at
    /// once; a bank still deciding leaves it in doubt (asked again by charging again).
    pub(super) fn charged(state: BankPaymentState) -> (PaymentTrigger, PaymentChanges) {
        match state {
            BankPaymentState::Waiting => (PaymentTrigger::BankNoAnswer, PaymentChanges::default()),
            BankPaymentState::NotFound => (
                PaymentTrigger::BankRejected,
                PaymentChanges {
                    failure_code: Some("NOT_FOUND".into()),
                    failure_message: Some("the bank does not know this charge".into()),
                    ..Default::default()
                },
            ),
            other => {
                let (trigger, changes, _) = Self::trigger_for(&other);
                (trigger, changes)
            }
        }
    }

    /// Moves a new payment out of `creating` with what the bank said, and stores the till's
    /// answer with it. `None` when the payment had already left `creating`.
    /// On SQLite: one unit of the writer's batch, with the claim's unit before it (the caller,
    /// the till API, runs creation in a task of its own, so it cannot be cut between them).
    async fn finish_creation(
        &self,
        till: &TillIdentity,
        idem: &Idempotent<'_>,
        payment_id: &str,
        trigger: PaymentTrigger,
        changes: &PaymentChanges,
    ) -> Result<Option<Answer>, Error> {
        let Some(Transition { status: to, late }) = PaymentStatus::Creating.next(trigger) else {
            return Ok(None);
        };
        let current = CurrentPayment {
            payment_id,
            status: PaymentStatus::Creating,
        };
        let at = db::now();
        // Rendered in the database writer from the updated row (see `change_status`), so it
        // owns what it needs.
        let render = Render {
            public_url: self.public_url().to_owned(),
            till_answer: self.till_answer,
        };
        let till_id = till.till_id;
        let key = idem.key.as_str().to_owned();
        let finish = move |row: &PaymentRow| {
            let answer = render.create_answer(row);
            let outbox = to.event_name().map(|name| {
                payment_event_row(&render.public_url, name, row, at)
                    .expect("BUG: views always serialize")
            });
            let rows = ChangeRows {
                payment_id: row.payment_id.clone(),
                from_status: PaymentStatus::Creating.as_str(),
                to_status: to.as_str(),
                trigger: trigger.as_str(),
                at,
                outbox,
                answer: Some(OwnedAnswer {
                    till_id,
                    key,
                    status: answer.status.as_u16(),
                    body: answer.body.clone(),
                }),
            };
            (rows, answer)
        };
        let changed =
            payment_event::change_status(&self.db, current, to, late, changes, at, finish).await?;
        Ok(changed.map(|(_, answer)| answer))
    }

    /// The answer to a create request once the bank has spoken: the payment, or the refusal.
    pub(super) fn create_answer(&self, row: &PaymentRow) -> Answer {
        Render {
            public_url: self.public_url().to_owned(),
            till_answer: self.till_answer,
        }
        .create_answer(row)
    }
}

/// What renders a create request's answer, owned (it may run in the database's writer task).
struct Render {
    public_url: String,
    till_answer: super::TillAnswer,
}

impl Render {
    /// The answer to a create request once the bank has spoken: the payment, or the refusal.
    fn create_answer(&self, row: &PaymentRow) -> Answer {
        match row.status() {
            PaymentStatus::Failed => (self.till_answer)(&Error::BankRefused {
                action: "to issue the QR code",
                refusal: Refusal::Refused,
                code: row.failure_code.as_deref().unwrap_or("?").to_owned(),
                message: row.failure_message.as_deref().unwrap_or("").to_owned(),
            }),
            _ => Answer {
                status: StatusCode::CREATED,
                body: json(&PaymentView::from_row(row, &self.public_url)),
            },
        }
    }
}
