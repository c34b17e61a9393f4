//! The background steps the workers drive (callable from tests): expiring what passed its
//! deadline (annulling the QR at the bank), and asking the bank about whatever is in doubt or,
//! for modules whose callbacks may never come, still pending. Each step is a list of [`Job`]s,
//! one per payment or refund, so that a bank call that hangs holds up only its own job: the
//! workers run up to [`JOBS_AT_ONCE`] side by side, and so do `expire_due` and `sync_in_doubt`.
//! Listing a job claims it for this instance (`claims`), so that another qrpay instance on the
//! same database leaves it alone until it ends.

use super::bank::{bounded, refund_request};
use super::{Error, PaymentService};
use crate::db::payment::{self, PaymentChanges, PaymentRow};
use crate::db::{self, claim, refund};
use crate::domain::{PaymentStatus, PaymentTrigger, RefundStatus};
use crate::providers::{BankPaymentState, BankRefundState, OrderAtBank, ProviderError};
use futures::StreamExt;
use std::collections::HashSet;
use std::time::Duration;

/// Longest interval between two polls of one pending payment.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(30);

/// How many jobs (each at most one or two bank calls) a worker runs at once.
pub const JOBS_AT_ONCE: usize = 16;

/// One piece of background work about one payment or refund (by its id).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Job {
    /// A pending payment past its deadline: annul its QR at the bank, then expire it.
    Expire(String),
    /// A payment stuck in `creating` past its deadline (qrpay stopped mid-call): in doubt.
    Stuck(String),
    /// A payment in doubt (`unknown`): ask the bank.
    Resolve(String),
    /// A pending payment of a module whose callbacks may not come: ask the bank.
    Poll(String),
    /// A refund in doubt or still pending: ask the bank (or send it again).
    Refund(String),
}

/// What the bank said when the console asked it («Спросить банк»).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankReply {
    /// About the payment's QR.
    Payment(BankPaymentState),
    /// About the order of a payment whose QR qrpay never learnt.
    Order(OrderAtBank),
    Refund(BankRefundState),
    /// A charge of a customer's QR, settled: the status it ended in.
    Settled(String),
    /// No clear answer: the sync worker asks again.
    NoAnswer(String),
    Refused {
        code: String,
        message: String,
    },
}

impl BankReply {
    fn of<T>(answer: Result<T, ProviderError>, said: fn(T) -> BankReply) -> BankReply {
        match answer {
            Ok(state) => said(state),
            Err(ProviderError::NoAnswer(why)) => BankReply::NoAnswer(why),
            Err(ProviderError::Rejected { code, message }) => BankReply::Refused { code, message },
        }
    }
}

impl PaymentService {
    /// A payment left in `creating` by a process that stopped mid-registration: nobody knows
    /// what the bank did, so it becomes `unknown` and is resolved by asking the bank.
    pub(super) async fn abandon_creation(&self, payment_id: &str) -> Result<PaymentRow, Error> {
        self.apply(
            payment_id,
            PaymentTrigger::BankNoAnswer,
            PaymentChanges::default(),
            Some("qrpay stopped while registering the QR"),
        )
        .await
    }

    /// Annuls and expires every pending payment whose deadline has passed (and that no other
    /// instance is working on), up to [`JOBS_AT_ONCE`] at a time. Returns how many payments it
    /// looked at itself.
    pub async fn expire_due(&self) -> Result<usize, Error> {
        self.run_by_hand(|| self.expiry_jobs(400)).await
    }

    /// Asks the bank about payments and refunds whose state is in doubt (`unknown`), about
    /// refunds still `pending`, and polls pending payments of modules that poll, up to
    /// [`JOBS_AT_ONCE`] at a time. Returns how many it asked about itself.
    pub async fn sync_in_doubt(&self, older_than: Duration) -> Result<usize, Error> {
        self.run_by_hand(|| self.sync_jobs(older_than, 800)).await
    }

    /// A step driven by hand (tests, beside the running workers): lists and runs the jobs
    /// `list` claims. What this instance's own workers hold is skipped by the listing, so it
    /// then waits for their jobs (any kind: an expiry under way may be what leaves a payment
    /// in doubt) and lists once more, so that on return the step's work is done.
    async fn run_by_hand<F, Fut>(&self, list: F) -> Result<usize, Error>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<Job>, Error>>,
    {
        let mut count = 0;
        for _ in 0..2 {
            count += self.run_jobs(list().await?).await?;
            // Each job is a bank call or two, each bounded by the bank call timeout.
            if !self.await_own_jobs(self.bank_call_timeout * 3).await {
                break;
            }
        }
        Ok(count)
    }

    /// Runs claimed `jobs`, up to [`JOBS_AT_ONCE`] at a time, each to its end (handing its
    /// claim back); the first error, if any.
    async fn run_jobs(&self, jobs: Vec<Job>) -> Result<usize, Error> {
        let count = jobs.len();
        let results: Vec<Result<(), Error>> = futures::stream::iter(&jobs)
            .map(|job| self.run_claimed(job))
            .buffer_unordered(JOBS_AT_ONCE)
            .collect()
            .await;
        results.into_iter().collect::<Result<(), Error>>()?;
        Ok(count)
    }

    /// The expiry worker's jobs, at most `limit`, each claimed for this instance (see
    /// `claims`; run them with `run_claimed`): pending payments past their deadline, earliest
    /// first, then payments stuck in `creating`: past their deadline (a QR's lifetime is never
    /// shorter than its bank call's limit), or older than any creation request can take (its
    /// bank call's limit + the lease margin: the request that made it died), whatever their
    /// deadline. A payment another instance is working on is left to it.
    pub async fn expiry_jobs(&self, limit: usize) -> Result<Vec<Job>, Error> {
        let _listing = self.claims.listing.lock().await;
        let now = db::now();
        let who = self.claimant();
        let abandoned = now - chrono::Duration::from_std(self.longest_lease()).unwrap_or_default();
        let mut jobs: Vec<Job> = Vec::new();
        for (status, job) in [
            (PaymentStatus::Pending, Job::Expire as fn(String) -> Job),
            (PaymentStatus::Creating, Job::Stuck),
        ] {
            let room = limit.saturating_sub(jobs.len());
            if room == 0 {
                break;
            }
            let ids = claim::claim_due_payments(&self.db, who, status, now, room as i64).await?;
            jobs.extend(ids.into_iter().map(job));
        }
        // A claimed payment is not claimed twice: one past both bounds comes once.
        let room = limit.saturating_sub(jobs.len());
        if room > 0 {
            let ids = claim::claim_stale_payments(
                &self.db,
                who,
                PaymentStatus::Creating,
                abandoned,
                room as i64,
            )
            .await?;
            jobs.extend(ids.into_iter().map(Job::Stuck));
        }
        self.hold(&jobs);
        Ok(jobs)
    }

    /// The sync worker's jobs, at most `limit`, each claimed for this instance: payments in
    /// doubt for longer than `older_than`, pending payments due a poll, and refunds in doubt or
    /// pending for longer than `older_than`.
    pub async fn sync_jobs(&self, older_than: Duration, limit: usize) -> Result<Vec<Job>, Error> {
        let _listing = self.claims.listing.lock().await;
        let before = db::now() - chrono::Duration::from_std(older_than).unwrap_or_default();
        let who = self.claimant();
        let mut jobs: Vec<Job> = Vec::new();
        if limit > 0 {
            let ids = claim::claim_stale_payments(
                &self.db,
                who,
                PaymentStatus::Unknown,
                before,
                limit as i64,
            )
            .await?;
            jobs.extend(ids.into_iter().map(Job::Resolve));
        }
        let room = limit.saturating_sub(jobs.len());
        if room > 0 {
            let due = self.polls_due(room).await?;
            let ids = claim::claim_payments(&self.db, who, PaymentStatus::Pending, &due).await?;
            jobs.extend(ids.into_iter().map(Job::Poll));
        }
        for status in [RefundStatus::Unknown, RefundStatus::Pending] {
            let room = limit.saturating_sub(jobs.len());
            if room == 0 {
                break;
            }
            let ids =
                claim::claim_stale_refunds(&self.db, who, status, before, room as i64).await?;
            jobs.extend(ids.into_iter().map(Job::Refund));
        }
        self.hold(&jobs);
        Ok(jobs)
    }

    /// Does one job. A bank that does not answer is logged, not an error: the job comes again.
    pub async fn run_job(&self, job: &Job) -> Result<(), Error> {
        match job {
            Job::Expire(payment_id) => self.expire(payment_id).await,
            Job::Stuck(payment_id) => {
                self.abandon_creation(payment_id).await?;
                Ok(())
            }
            Job::Resolve(payment_id) => self.resolve(payment_id).await,
            Job::Poll(payment_id) => {
                self.ask_about(payment_id, "polling a pending payment")
                    .await
            }
            Job::Refund(refund_id) => self.sync_refund(refund_id).await,
        }
    }

    /// Annuls the QR of a pending payment past its deadline, then expires it (or applies what
    /// the bank says happened instead; `unknown` when it does not answer).
    async fn expire(&self, payment_id: &str) -> Result<(), Error> {
        let Some(row) = payment::get_payment(&self.db, payment_id).await? else {
            return Ok(());
        };
        if row.status() != PaymentStatus::Pending {
            return Ok(());
        }
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
        Ok(())
    }

    /// Asks the bank about a payment and applies what it says (a payment still waiting stays
    /// as it is).
    async fn ask_about(&self, payment_id: &str, when: &'static str) -> Result<(), Error> {
        if let Some(Err(e)) = self.ask_and_apply(payment_id).await? {
            tracing::warn!(%payment_id, error = %e, "{when}");
        }
        Ok(())
    }

    /// Asks the bank about a payment's QR and applies what it says; what the bank said, or
    /// `None` when there is no such payment.
    async fn ask_and_apply(
        &self,
        payment_id: &str,
    ) -> Result<Option<Result<BankPaymentState, ProviderError>>, Error> {
        let Some(row) = payment::get_payment(&self.db, payment_id).await? else {
            return Ok(None);
        };
        let answer = self.ask_bank(&row).await;
        match &answer {
            Ok(BankPaymentState::Waiting) if row.status() == PaymentStatus::Pending => {}
            Ok(state) => {
                self.apply_bank_state(payment_id, state).await?;
            }
            Err(_) => {}
        }
        Ok(Some(answer))
    }

    /// «Спросить банк» from the console: the sync worker's question about a payment (its QR,
    /// or its order when qrpay never learnt the QR) or about one of its refunds, asked now and
    /// applied the same way. Returns what the bank said.
    #[tracing::instrument(skip_all, fields(payment_id = %payment_id))]
    pub async fn ask_bank_now(
        &self,
        payment_id: &str,
        refund_id: Option<&str>,
    ) -> Result<BankReply, Error> {
        let not_found = || Error::NotFound(format!("no payment {payment_id}"));
        if let Some(refund_id) = refund_id {
            let answer = self
                .ask_about_refund(refund_id)
                .await?
                .ok_or_else(|| Error::NotFound(format!("no refund {refund_id}")))?;
            return Ok(BankReply::of(answer, BankReply::Refund));
        }
        let row = payment::get_payment(&self.db, payment_id)
            .await?
            .ok_or_else(not_found)?;
        if row.customer_qr.is_some() && row.status() == PaymentStatus::Unknown {
            // A charge of the customer's QR: asked about as the sync worker asks.
            return Ok(match self.settle_by_order(&row).await? {
                Some(settled) => BankReply::Settled(settled.status),
                None => BankReply::NoAnswer("no answer about the charge".into()),
            });
        }
        if row.qr_id.is_none() && row.status() == PaymentStatus::Unknown {
            let answer = self.ask_bank_by_order(&row).await;
            self.settle_order(&row, answer.clone()).await?;
            return Ok(BankReply::of(answer, BankReply::Order));
        }
        let answer = self
            .ask_and_apply(payment_id)
            .await?
            .ok_or_else(not_found)?;
        Ok(BankReply::of(answer, BankReply::Payment))
    }

    /// A payment in doubt: asks the bank about its QR or, when qrpay never learnt the QR (the
    /// answer to its registration was lost), about its order.
    async fn resolve(&self, payment_id: &str) -> Result<(), Error> {
        let Some(row) = payment::get_payment(&self.db, payment_id).await? else {
            return Ok(());
        };
        if row.qr_id.is_some() {
            return self.ask_about(payment_id, "payment still in doubt").await;
        }
        if row.status() == PaymentStatus::Unknown && self.settle_by_order(&row).await?.is_none() {
            tracing::warn!(%payment_id, "payment still in doubt: the bank did not answer about its order");
        }
        Ok(())
    }

    /// Settles a payment in doubt whose QR qrpay never learnt by what the bank holds for its
    /// order: a paid order makes it paid; a live QR is adopted (and annulled at once when the
    /// deadline has passed: nobody was ever shown it); a refusal makes it failed. Only a
    /// bank that says no is a failure, never a bank that did not answer. `None` when the bank
    /// did not answer (it stays in doubt and is asked again).
    pub(super) async fn settle_by_order(
        &self,
        row: &PaymentRow,
    ) -> Result<Option<PaymentRow>, Error> {
        if let Some(customer_qr) = row.customer_qr.as_deref() {
            return self.settle_charge(row, customer_qr).await;
        }
        let answer = self.ask_bank_by_order(row).await;
        self.settle_order(row, answer).await
    }

    /// Settles a payment in doubt by what the bank said of its order (see `settle_by_order`).
    async fn settle_order(
        &self,
        row: &PaymentRow,
        answer: Result<OrderAtBank, ProviderError>,
    ) -> Result<Option<PaymentRow>, Error> {
        let payment_id = row.payment_id.as_str();
        let settled = match answer {
            Ok(OrderAtBank::Paid) => {
                self.apply(
                    payment_id,
                    PaymentTrigger::CustomerPaid,
                    PaymentChanges::default(),
                    Some("the bank holds a paid QR for this order"),
                )
                .await?
            }
            Ok(OrderAtBank::Issued(qr)) => {
                let adopted = self
                    .apply(
                        payment_id,
                        PaymentTrigger::BankAccepted,
                        PaymentChanges {
                            qr_id: Some(qr.qr_id.clone()),
                            qr_payload: Some(qr.payload),
                            ..Default::default()
                        },
                        Some("the bank holds a QR for this order: adopted"),
                    )
                    .await?;
                if adopted.status() == PaymentStatus::Pending && adopted.expires_at <= db::now() {
                    self.expire(payment_id).await?;
                    payment::get_payment(&self.db, payment_id)
                        .await?
                        .unwrap_or(adopted)
                } else if matches!(
                    adopted.status(),
                    PaymentStatus::Expired
                        | PaymentStatus::Cancelled
                        | PaymentStatus::Declined
                        | PaymentStatus::Failed
                ) {
                    // A payment qrpay had closed (support asked about its order): the bank
                    // holds no paid QR for it, and the one it answered with must not stay
                    // payable. The customer may have won the race for it.
                    let issued = PaymentRow {
                        qr_id: Some(qr.qr_id),
                        ..adopted.clone()
                    };
                    match self.annul_at_bank(&issued).await {
                        Ok(state @ BankPaymentState::Paid { .. }) => {
                            self.apply_bank_state(payment_id, &state).await?
                        }
                        Ok(_) => adopted,
                        Err(e) => {
                            tracing::warn!(%payment_id, error = %e, "annulling the QR the bank issued again for a closed payment");
                            adopted
                        }
                    }
                } else {
                    adopted
                }
            }
            Err(ProviderError::Rejected { code, message }) => {
                self.apply(
                    payment_id,
                    PaymentTrigger::BankRejected,
                    PaymentChanges {
                        failure_code: Some(code),
                        failure_message: Some(message.clone()),
                        ..Default::default()
                    },
                    Some(&message),
                )
                .await?
            }
            Err(ProviderError::NoAnswer(why)) => {
                tracing::warn!(%payment_id, %why, "asking the bank about an order");
                return Ok(None);
            }
        };
        Ok(Some(settled))
    }

    /// Settles a customer-presented QR charge in doubt by charging again (idempotent by order
    /// at the bank). `None` while the bank does not answer or has not decided.
    async fn settle_charge(
        &self,
        row: &PaymentRow,
        customer_qr: &str,
    ) -> Result<Option<PaymentRow>, Error> {
        let payment_id = row.payment_id.as_str();
        let (trigger, changes) = match self.charge_again(row, customer_qr).await {
            Ok(state) => Self::charged(state),
            Err(ProviderError::Rejected { code, message }) => Self::refused(code, message),
            Err(ProviderError::NoAnswer(why)) => {
                tracing::warn!(%payment_id, %why, "asking the bank about a customer QR charge");
                return Ok(None);
            }
        };
        if trigger == PaymentTrigger::BankNoAnswer {
            return Ok(None);
        }
        let detail = changes.failure_message.clone();
        Ok(Some(
            self.apply(payment_id, trigger, changes, detail.as_deref())
                .await?,
        ))
    }

    /// Asks the bank about a refund in doubt or pending, and applies the outcome.
    async fn sync_refund(&self, refund_id: &str) -> Result<(), Error> {
        self.ask_about_refund(refund_id).await?;
        Ok(())
    }

    /// Asks the bank about a refund (sending it again when the bank does not know it) and
    /// applies the outcome; what the bank said, or `None` when there is nothing to ask.
    async fn ask_about_refund(
        &self,
        refund_id: &str,
    ) -> Result<Option<Result<BankRefundState, ProviderError>>, Error> {
        let Some(refund) = refund::get_refund(&self.db, refund_id).await? else {
            return Ok(None);
        };
        let Some(payment) = payment::get_payment(&self.db, &refund.payment_id).await? else {
            return Ok(None);
        };
        let Some(provider) = self.providers.get(&payment.module) else {
            return Ok(None);
        };
        let timeout = self.bank_timeout(&payment);
        let request = refund_request(&payment, &refund)?;
        let outcome = match bounded(timeout, provider.refund_status(&request)).await {
            // The bank does not know the refund (our request never reached it): send it
            // again; the refund id makes that safe. Never decline on a failed look-up, or
            // the amount would be freed while the bank may still pay it out.
            Err(ProviderError::Rejected { .. }) => {
                bounded(timeout, provider.refund(&request)).await
            }
            other => other,
        };
        self.apply_refund_outcome(refund_id, outcome.clone())
            .await?;
        Ok(Some(outcome))
    }

    /// Pending payments of modules whose callbacks may not come that are due a poll (at most
    /// `limit`): first after the poll interval, then backing off by half each time up to 30 s.
    /// Each is booked for its next poll as it is handed out.
    async fn polls_due(&self, limit: usize) -> Result<Vec<String>, Error> {
        let mut due = Vec::new();
        for module in self.providers.modules() {
            let Some(provider) = self.providers.get(module) else {
                continue;
            };
            if !provider.polls_pending() {
                continue;
            }
            let pending =
                payment::payments_of_module(&self.db, module, PaymentStatus::Pending, 500).await?;
            let open: HashSet<&String> = pending.iter().collect();
            let now = tokio::time::Instant::now();
            let mut plan = self.poll_plan.lock().unwrap_or_else(|e| e.into_inner());
            plan.retain(|id, _| open.contains(id));
            for id in &pending {
                let (next, polls) = plan
                    .entry(id.clone())
                    .or_insert((now + self.pending_poll, 0));
                if *next > now || due.len() >= limit {
                    continue;
                }
                *polls += 1;
                let step = self
                    .pending_poll
                    .mul_f64(1.5f64.powi((*polls).min(20) as i32))
                    .min(MAX_POLL_INTERVAL);
                *next = now + step;
                due.push(id.clone());
            }
        }
        Ok(due)
    }
}
