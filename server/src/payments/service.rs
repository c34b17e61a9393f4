//! The payment service: its state (storage, payment modules, long-poll waiters, the poll plan),
//! its constructor, and reading payments and refunds for a till (with long-poll). The journeys
//! that change them live beside it: `create`, `refunds`, `cancel`, `callbacks`, `sync`.

use super::Error;
use super::claims::Claims;
use super::idempotency::TillAnswer;
use super::view::PaymentView;
use super::waiters::Waiters;
use crate::db::Db;
use crate::db::notify::ChangeNotifier;
use crate::db::payment::{self, PaymentRow};
use crate::db::payment_type::{self, PaymentType, TillLink};
use crate::db::refund::{self, RefundRow};
use crate::db::till::TillIdentity;
use crate::domain::{PaymentId, Receipt, RefundId};
use crate::providers::{Provider, Providers};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub struct PaymentService {
    pub(super) db: Db,
    pub(super) providers: Providers,
    pub(super) waiters: Waiters,
    public_url: String,
    /// How a refusal is stored as the till's answer (the till API's error contract, from `http/`).
    pub(super) till_answer: TillAnswer,
    /// First interval between polls of a pending payment of a module that polls (it backs off).
    pub(super) pending_poll: Duration,
    /// The longest one bank call may take (capped per payment by its authorization server).
    pub(super) bank_call_timeout: Duration,
    /// When each polled pending payment is next due, and how many polls it has had.
    pub(super) poll_plan: std::sync::Mutex<HashMap<String, (tokio::time::Instant, u32)>>,
    /// Production mode: test modules are off (their payment types refuse payments).
    pub(super) production: bool,
    /// Set when the server stops: long-polls answer at once with the payment as it is.
    stopping: tokio::sync::watch::Sender<bool>,
    /// The work claims this instance's workers hold (see `claims`).
    pub(super) claims: Claims,
    /// Tells the other instances on the same PostgreSQL of a change (`None` on SQLite).
    notifier: Option<ChangeNotifier>,
}

impl PaymentService {
    /// `till_answer` renders a refusal as the till's answer, for idempotent replays
    /// (`http::errors::till_answer`).
    pub fn new(db: Db, providers: Providers, public_url: String, till_answer: TillAnswer) -> Self {
        Self {
            providers,
            waiters: Waiters::default(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            till_answer,
            pending_poll: Duration::from_secs(2),
            bank_call_timeout: Duration::from_secs(10),
            poll_plan: Default::default(),
            production: false,
            stopping: tokio::sync::watch::Sender::new(false),
            claims: Claims::new(),
            notifier: ChangeNotifier::new(&db),
            db,
        }
    }

    /// A payment's change (its status, a refund of it) is committed: its long-polls, in this
    /// process and in the other instances, read it again.
    pub(super) fn changed(&self, payment_id: &str) {
        self.waiters.wake(payment_id);
        if let Some(notifier) = &self.notifier {
            notifier.changed(payment_id);
        }
    }

    /// Wakes the long-polls on `payment_id` in this process (another instance changed it).
    pub fn wake_waiters(&self, payment_id: &str) {
        self.waiters.wake(payment_id);
    }

    /// Wakes every long-poll in this process to re-read its payment (changes made by other
    /// instances may have gone unnoticed, e.g. while the notification connection was down).
    pub fn wake_all_waiters(&self) {
        self.waiters.wake_all();
    }

    /// The server is stopping: every long-poll, waiting now or later, answers with the payment as
    /// it is instead of holding the shutdown for up to a minute.
    pub fn stop_waiting(&self) {
        self.stopping.send_replace(true);
    }

    /// How soon a pending payment of a polling module is first asked about (default 2 s).
    pub fn with_pending_poll_interval(mut self, interval: Duration) -> Self {
        self.pending_poll = interval.max(Duration::from_millis(10));
        self
    }

    /// The longest one bank call may take (default 10 s; `QRPAY_BANK_CALL_TIMEOUT`).
    pub fn with_bank_call_timeout(mut self, timeout: Duration) -> Self {
        self.bank_call_timeout = timeout.max(Duration::from_millis(100));
        self
    }

    /// Production mode (`--production`): payment types on test modules refuse payments.
    pub fn with_production(mut self, production: bool) -> Self {
        self.production = production;
        self
    }

    pub fn production(&self) -> bool {
        self.production
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

    pub(super) fn provider(&self, module: &str) -> Result<&Arc<dyn Provider>, Error> {
        self.providers
            .get(module)
            .ok_or_else(|| Error::ModuleNotInstalled(module.to_owned()))
    }

    /// The store's payment type `name` (`None`: the till's default, else the store's) and its
    /// module, when it is on and its module may take money here (installed; not a test module
    /// in production mode).
    pub(super) async fn usable_payment_type(
        &self,
        store_id: i64,
        till_id: i64,
        name: Option<&str>,
    ) -> Result<(PaymentType, &Arc<dyn Provider>), Error> {
        let (pt, _, provider) = self
            .usable_payment_type_and_link(store_id, till_id, name)
            .await?;
        Ok((pt, provider))
    }

    /// [`Self::usable_payment_type`], with the till's cash link (any module's) from the same read.
    pub(super) async fn usable_payment_type_and_link(
        &self,
        store_id: i64,
        till_id: i64,
        name: Option<&str>,
    ) -> Result<(PaymentType, Option<TillLink>, &Arc<dyn Provider>), Error> {
        let found = payment_type::payment_type_for_payment(&self.db, store_id, till_id, name)
            .await?
            .ok_or_else(|| Error::UnknownPaymentType(name.map(str::to_owned)))?;
        let link = found.cash_link();
        let pt = found.payment_type;
        if !pt.enabled {
            return Err(Error::PaymentTypeDisabled(pt.name));
        }
        let provider = self.provider(&pt.module)?;
        if self.production && provider.is_test() {
            return Err(Error::TestModuleOff {
                payment_type: pt.name,
                module: pt.module,
            });
        }
        Ok((pt, link, provider))
    }

    /// The payment, if it belongs to the till's store.
    pub async fn payment_for(
        &self,
        till: &TillIdentity,
        payment_id: &str,
    ) -> Result<PaymentRow, Error> {
        let not_found = || Error::NotFound(format!("no payment {payment_id}"));
        PaymentId::parse(payment_id).map_err(|_| not_found())?;
        let row = payment::get_payment(&self.db, payment_id)
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
    ) -> Result<PaymentRow, Error> {
        self.wait_with(payment_id, wait, || self.payment_for(till, payment_id))
            .await
    }

    /// The payment by its public id alone (the customer page: no till key, no store); `None`
    /// when there is no such payment.
    pub async fn public_payment(&self, payment_id: &str) -> Result<Option<PaymentRow>, Error> {
        if PaymentId::parse(payment_id).is_err() {
            return Ok(None);
        }
        Ok(payment::get_payment(&self.db, payment_id).await?)
    }

    /// Long-poll for the customer page, like `wait_for_payment` without a till.
    pub async fn wait_for_public_payment(
        &self,
        payment_id: &str,
        wait: Duration,
    ) -> Result<PaymentRow, Error> {
        let not_found = || Error::NotFound(format!("no payment {payment_id}"));
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
    ) -> Result<PaymentRow, Error>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<PaymentRow, Error>>,
    {
        let mut row = read().await?;
        if wait.is_zero() || !row.status().is_open() {
            return Ok(row);
        }
        let deadline = tokio::time::Instant::now() + wait;
        let handle = self.waiters.subscribe(payment_id);
        let mut stopping = self.stopping.subscribe();
        loop {
            let notified = handle.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // Re-read after enabling, so a change between the two is never missed.
            row = read().await?;
            let now = tokio::time::Instant::now();
            if !row.status().is_open() || now >= deadline || *stopping.borrow_and_update() {
                return Ok(row);
            }
            let recheck = (deadline - now).min(Duration::from_secs(1));
            tokio::select! {
                _ = tokio::time::timeout(recheck, notified) => {}
                _ = stopping.changed() => {}
            }
        }
    }

    pub async fn payments_by_receipt(
        &self,
        till: &TillIdentity,
        receipt: &Receipt,
    ) -> Result<Vec<PaymentRow>, Error> {
        Ok(payment::find_by_receipt(&self.db, till.store_id, receipt.as_str(), 100).await?)
    }

    pub async fn refund_for(
        &self,
        till: &TillIdentity,
        refund_id: &str,
    ) -> Result<RefundRow, Error> {
        let not_found = || Error::NotFound(format!("no refund {refund_id}"));
        RefundId::parse(refund_id).map_err(|_| not_found())?;
        let row = refund::get_refund(&self.db, refund_id)
            .await?
            .ok_or_else(not_found)?;
        same_store(till, row.store_id, "refund")?;
        Ok(row)
    }
}

/// A till sees and changes only its own store's payments and refunds.
fn same_store(till: &TillIdentity, store_id: i64, what: &'static str) -> Result<(), Error> {
    if store_id == till.store_id {
        Ok(())
    } else {
        Err(Error::Forbidden(what))
    }
}
