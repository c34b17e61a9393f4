//! `qrpay bank-emulator`: a stand-alone emulator of the Raiffeisen SBP contract subset qrpay uses
//! (register v1/v2, QR status and cancel, payment-info, refunds, callback settings; cash links:
//! `QRVariable`, qr-drafts, the orders API and refunds by order), plus the
//! bank's mock "customer pays" call, a decline, signed callbacks retried until 200, and fault
//! injection (latency, 5xx, hang, malformed JSON, a cut connection, dropped callback, declined refund) by flags or
//! `POST /api/emulator/faults`. State is in memory; the real client code runs against it over HTTP.

use crate::providers::raiffeisen::wire::{
    RaiffeisenAmount, RaiffeisenCallbackSettings, RaiffeisenPaymentInfo, RaiffeisenPaymentStatus,
    RaiffeisenQrInfo, RaiffeisenQrStatus, RaiffeisenQrType, RaiffeisenRefundRequest,
    RaiffeisenRefundResponse, RaiffeisenRefundStatus, RaiffeisenRegisterQrRequest,
    RaiffeisenRegisterQrResponse, SIGNATURE_HEADER, sign,
};
use crate::providers::sandbox::{nspk_payload, nspk_static_payload, qr_id_for};
use anyhow::Context;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Faults to inject. Counters apply to the next N bank calls (or callbacks, or refunds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every bank call, in milliseconds.
    pub latency_ms: u64,
    /// The next N bank calls answer 500 without doing anything.
    pub fail_5xx: u32,
    /// The next N bank calls never answer (they hang for `hang_ms`, default 10 minutes).
    pub hang: u32,
    pub hang_ms: u64,
    /// The next N bank calls are carried out but answer with malformed JSON.
    pub malformed: u32,
    /// The next N bank calls are carried out, then the connection drops mid-answer.
    pub cut: u32,
    /// The next N payment notifications are never sent.
    pub drop_callbacks: u32,
    /// The next N refunds are declined by the bank.
    pub decline_refunds: u32,
    /// The bank's clock is this many seconds ahead of the real one (negative: behind); its
    /// answers' `Date` header says so.
    pub clock_skew_s: i64,
}

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub merchant_id: String,
    pub secret_key: String,
    pub callback_url: Option<String>,
    pub faults: Faults,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QrState {
    New,
    Paid,
    Declined,
    Cancelled,
}

#[derive(Debug, Clone)]
struct Qr {
    qr_id: String,
    order: String,
    kopecks: Option<i64>,
    state: QrState,
    expires_at: Option<DateTime<FixedOffset>>,
    created_at: DateTime<Utc>,
    transaction_id: Option<i64>,
    transaction_date: Option<String>,
    refunded: i64,
    payload: String,
}

impl Qr {
    fn status(&self, now: DateTime<Utc>) -> RaiffeisenQrStatus {
        match self.state {
            QrState::New if self.expires_at.is_some_and(|e| e <= now) => {
                RaiffeisenQrStatus::Expired
            }
            QrState::New | QrState::Declined => RaiffeisenQrStatus::New,
            QrState::Paid => RaiffeisenQrStatus::Paid,
            QrState::Cancelled => RaiffeisenQrStatus::Cancelled,
        }
    }
}

#[derive(Debug, Clone)]
struct Refund {
    kopecks: i64,
    status: RaiffeisenRefundStatus,
}

#[derive(Default)]
struct Books {
    qrs: HashMap<String, Qr>,
    /// order → the QR registered for it last.
    orders: HashMap<String, String>,
    refunds: HashMap<String, Refund>,
    /// Static QRs (by QR id) and the payments each took.
    static_qrs: std::collections::HashSet<String>,
    static_paid: HashMap<String, Vec<static_qr::StaticPaid>>,
    /// Cash links (`QRVariable`, registered or bound) and the plates printed but not bound yet.
    links: HashMap<String, String>,
    drafts: std::collections::HashSet<String>,
    /// Orders activating a cash link, by order id.
    link_orders: HashMap<String, cash_link::LinkOrder>,
}

/// The emulated bank.
pub struct Bank {
    merchant_id: String,
    secret_key: String,
    callback_url: Mutex<Option<String>>,
    books: Mutex<Books>,
    faults: Mutex<Faults>,
    http: reqwest::Client,
    seq: AtomicU64,
    callbacks_delivered: Arc<AtomicU64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a handler panicked mid-update of a simulation.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn bank_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(serde_json::json!({"code": code, "message": message.into()})),
    )
        .into_response()
}

fn moscow_now() -> DateTime<FixedOffset> {
    let msk = FixedOffset::east_opt(3 * 3600).expect("BUG: +03:00 is a valid offset");
    Utc::now().with_timezone(&msk)
}

fn valid_order(order: &str) -> bool {
    (1..=40).contains(&order.len())
        && order
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl Bank {
    pub fn new(config: EmulatorConfig) -> Self {
        Self {
            merchant_id: config.merchant_id,
            secret_key: config.secret_key,
            callback_url: Mutex::new(config.callback_url),
            books: Mutex::default(),
            faults: Mutex::new(config.faults),
            http: reqwest::Client::builder()
                .tcp_nodelay(true)
                .timeout(Duration::from_secs(10))
                .build()
                .expect("BUG: static client settings"),
            seq: AtomicU64::new(1),
            callbacks_delivered: Arc::default(),
        }
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    pub fn faults(&self) -> Faults {
        lock(&self.faults).clone()
    }

    pub fn set_callback_url(&self, url: Option<String>) {
        *lock(&self.callback_url) = url;
    }

    pub fn callback_url(&self) -> Option<String> {
        lock(&self.callback_url).clone()
    }

    /// The QRs registered for `order`, oldest first, with their status now (what a test
    /// compares qrpay's view with).
    pub fn qrs_of_order(&self, order: &str) -> Vec<(String, RaiffeisenQrStatus)> {
        let books = lock(&self.books);
        let now = Utc::now();
        let mut qrs: Vec<&Qr> = books.qrs.values().filter(|q| q.order == order).collect();
        qrs.sort_by_key(|q| q.created_at);
        qrs.iter()
            .map(|q| (q.qr_id.clone(), q.status(now)))
            .collect()
    }

    /// Notifications the receiver has acknowledged with 200.
    pub fn callbacks_delivered(&self) -> u64 {
        self.callbacks_delivered.load(Ordering::Relaxed)
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|key| key == self.secret_key)
    }

    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// True when the `decline_refunds` fault declines this refund (and counts it down).
    fn refund_declined_by_fault(&self) -> bool {
        let mut faults = lock(&self.faults);
        let declined = faults.decline_refunds > 0;
        if declined {
            faults.decline_refunds -= 1;
        }
        declined
    }

    /// The customer pays the QR. `force` pays even an annulled or expired QR (the race a late
    /// payment comes from). Answers the bank's error code when it refuses.
    pub fn pay(
        &self,
        qr_id: &str,
        kopecks: Option<i64>,
        force: bool,
    ) -> Result<(), (StatusCode, &'static str, String)> {
        if let Some(paid) = self.pay_static(qr_id, kopecks) {
            return paid;
        }
        if let Some(paid) = self.pay_link(qr_id, kopecks, force) {
            return paid;
        }
        let now = Utc::now();
        let notice = {
            let mut books = lock(&self.books);
            let Some(qr) = books.qrs.get_mut(qr_id) else {
                return Err((
                    StatusCode::NOT_FOUND,
                    "ERROR.NOT_FOUND",
                    "QR-код не найден у данного партнера".into(),
                ));
            };
            let status = qr.status(now);
            if !(status == RaiffeisenQrStatus::New && qr.state == QrState::New
                || force && qr.state != QrState::Paid)
            {
                return Err((
                    StatusCode::BAD_REQUEST,
                    "ERROR.WRONG_QR_STATUS",
                    format!("QR-код в статусе {status:?} нельзя оплатить"),
                ));
            }
            if let (Some(want), Some(given)) = (qr.kopecks, kopecks)
                && want != given
            {
                return Err((
                    StatusCode::BAD_REQUEST,
                    "ERROR.INVALID_REQUEST",
                    "Передана некорректная сумма платежа".into(),
                ));
            }
            qr.state = QrState::Paid;
            qr.transaction_id = Some(self.next_seq() as i64);
            qr.transaction_date = Some(moscow_now().to_rfc3339_opts(SecondsFormat::Micros, false));
            qr.clone()
        };
        self.notify(&notice, RaiffeisenPaymentStatus::Success);
        Ok(())
    }

    /// The customer's bank declines the payment.
    pub fn decline(&self, qr_id: &str) -> Result<(), (StatusCode, &'static str, String)> {
        let notice = {
            let mut books = lock(&self.books);
            let Some(qr) = books.qrs.get_mut(qr_id) else {
                return Err((
                    StatusCode::NOT_FOUND,
                    "ERROR.NOT_FOUND",
                    "QR-код не найден у данного партнера".into(),
                ));
            };
            if qr.status(Utc::now()) != RaiffeisenQrStatus::New || qr.state != QrState::New {
                return Err((
                    StatusCode::BAD_REQUEST,
                    "ERROR.WRONG_QR_STATUS",
                    "QR-код нельзя отклонить".into(),
                ));
            }
            qr.state = QrState::Declined;
            qr.transaction_id = Some(self.next_seq() as i64);
            qr.transaction_date = Some(moscow_now().to_rfc3339_opts(SecondsFormat::Micros, false));
            qr.clone()
        };
        self.notify(&notice, RaiffeisenPaymentStatus::Declined);
        Ok(())
    }

    /// Sends the signed notification in the background, retrying until the receiver says 200.
    fn notify(&self, qr: &Qr, status: RaiffeisenPaymentStatus) {
        let amount = RaiffeisenAmount::from_kopecks(qr.kopecks.unwrap_or(0));
        let transaction_date = qr.transaction_date.clone().unwrap_or_default();
        let signed = format!(
            "{}|{}|{}|{}|{}",
            amount.text(),
            self.merchant_id,
            qr.order,
            status.as_str(),
            transaction_date
        );
        let body = serde_json::to_string(&EmulatorNotification {
            transaction_id: qr.transaction_id,
            qr_id: qr.qr_id.clone(),
            sbp_merchant_id: self.merchant_id.clone(),
            merchant_id: 1,
            amount,
            currency: "RUB",
            transaction_date,
            payment_status: status,
            additional_info: None,
            order: qr.order.clone(),
            create_date: qr
                .created_at
                .with_timezone(&moscow_now().timezone())
                .to_rfc3339_opts(SecondsFormat::Secs, false),
        })
        .expect("BUG: plain struct");
        self.deliver(&qr.qr_id, body, sign(&self.secret_key, &signed));
    }

    /// Posts a signed notification in the background, retrying until the receiver says 200
    /// (unless the `drop_callbacks` fault drops it).
    fn deliver(&self, about: &str, body: String, signature: String) {
        let Some(url) = self.callback_url() else {
            return;
        };
        {
            let mut faults = lock(&self.faults);
            if faults.drop_callbacks > 0 {
                faults.drop_callbacks -= 1;
                tracing::info!(about, "emulator: notification dropped (fault)");
                return;
            }
        }
        let http = self.http.clone();
        let delivered = self.callbacks_delivered.clone();
        tokio::spawn(async move {
            let mut delay = Duration::from_millis(50);
            for attempt in 1..=60 {
                let sent = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header(SIGNATURE_HEADER, &signature)
                    .body(body.clone())
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == StatusCode::OK => {
                        delivered.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    Ok(r) => {
                        tracing::info!(attempt, status = %r.status(), "emulator: notification not accepted; retrying")
                    }
                    Err(e) => {
                        tracing::info!(attempt, error = %e, "emulator: notification not delivered; retrying")
                    }
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            tracing::warn!("emulator: notification given up after 60 attempts");
        });
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EmulatorNotification {
    transaction_id: Option<i64>,
    qr_id: String,
    sbp_merchant_id: String,
    merchant_id: i64,
    amount: RaiffeisenAmount,
    currency: &'static str,
    transaction_date: String,
    payment_status: RaiffeisenPaymentStatus,
    additional_info: Option<String>,
    order: String,
    create_date: String,
}

type Shared = Arc<Bank>;

mod cash_link;
mod routes;
mod static_qr;
pub use routes::router;

/// A running emulator (tests and benchmarks start it in-process on port 0).
pub struct EmulatorHandle {
    pub addr: SocketAddr,
    pub bank: Shared,
    task: JoinHandle<()>,
}

impl EmulatorHandle {
    /// The API base URL to configure in qrpay (`http://ADDR/api`).
    pub fn base_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn bind(listen: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(listen)
        .await
        .with_context(|| format!("the bank emulator cannot listen on {listen}"))
}

pub async fn spawn(config: EmulatorConfig, listen: SocketAddr) -> anyhow::Result<EmulatorHandle> {
    let listener = bind(listen).await?;
    let addr = listener.local_addr()?;
    let bank = Arc::new(Bank::new(config));
    let app = router(bank.clone());
    let task = tokio::spawn(async move {
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "bank emulator stopped");
        }
    });
    Ok(EmulatorHandle { addr, bank, task })
}

/// `qrpay bank-emulator`: serves until Ctrl-C.
pub async fn run(config: EmulatorConfig, listen: SocketAddr) -> anyhow::Result<()> {
    let handle = spawn(config, listen).await?;
    tracing::info!(
        "Raiffeisen bank emulator on {} (callbacks to {})",
        handle.base_url(),
        handle
            .bank
            .callback_url()
            .unwrap_or_else(|| "nowhere yet".into())
    );
    eprintln!("bank emulator: base URL {}", handle.base_url());
    tokio::signal::ctrl_c().await.ok();
    Ok(())
}
