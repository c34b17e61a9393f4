//! The crash suite: a real `qrpay serve` under load (creations, customers paying, refunds) is
//! killed with SIGKILL mid-flight and started again on the same database. Then every key the
//! tills used answers with its payment or refund (a 409 "in progress" only within the recovery
//! window), nothing answered 201 is lost, nothing stays pending past its deadline + 2 s, refunds
//! never exceed the payment, and every payment ends as the bank has it.

use crate::helpers::{Backend, fresh_database, spawn_app_on};
use qrpay::db::audit::Who;
use qrpay::db::raiffeisen_setting::save_setting;
use qrpay::db::store::find_store;
use qrpay::emulator::{EmulatorConfig, EmulatorHandle, Faults};
use qrpay::providers::raiffeisen::wire::RaiffeisenQrStatus;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MERCHANT: &str = "MA0000000552";
const SECRET: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.crash-secret";
/// The QR's lifetime (the authorization server's timeout) and one bank call's limit.
const LIFETIME_SECS: i64 = 6;
const BANK_CALL_SECS: u64 = 2;
/// A claim's lease is its bank call limit + 10 s: past it a retry is answered.
const RECOVERY_LIMIT: Duration = Duration::from_secs(BANK_CALL_SECS + 10 + 5);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite() {
    crash_and_recover(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres() {
    crash_and_recover(Backend::Postgres).await
}

/// A till request, kept so it can be sent again with the same key after the crash.
#[derive(Clone, Debug)]
struct Sent {
    path: String,
    key: String,
    body: Value,
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(db: &str, port: u16) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qrpay"))
        .env("QRPAY_DATABASE_URL", db)
        .env_remove("QRPAY_AMQP_URL")
        .env("QRPAY_BANK_CALL_TIMEOUT", BANK_CALL_SECS.to_string())
        .env("QRPAY_OPS_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "error")
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("qrpay did not start");
}

/// The database with one store on the emulated bank and a till; returns the till's key.
async fn prepare(url: &str, dir: Option<Arc<tempfile::TempDir>>, bank: &EmulatorHandle) -> String {
    let app = spawn_app_on(url, dir, false).await;
    let store = find_store(&app.db, None).await.unwrap();
    save_setting(
        &app.db,
        &Who::SEED,
        store.store_id,
        &bank.base_url(),
        MERCHANT,
        Some(SECRET),
    )
    .await
    .unwrap();
    crate::providers::add_payment_type(&app, "crash", "raiffeisen", LIFETIME_SECS).await;
    app.key.clone()
}

fn qr_id_of(payment: &Value) -> Option<String> {
    let payload = payment["qr"]["payload"].as_str()?;
    let tail = payload.strip_prefix("https://qr.nspk.ru/")?;
    Some(tail.split('?').next()?.to_owned())
}

struct Load {
    http: reqwest::Client,
    base: String,
    key: String,
    bank: String,
    sent: Mutex<Vec<Sent>>,
    /// Payments answered 201 before the crash.
    answered: Mutex<Vec<String>>,
    stop: AtomicBool,
}

impl Load {
    async fn send(&self, sent: &Sent) -> Option<(u16, Value)> {
        self.sent.lock().unwrap().push(sent.clone());
        let r = self
            .http
            .post(format!("{}{}", self.base, sent.path))
            .bearer_auth(&self.key)
            .header("Idempotency-Key", &sent.key)
            .json(&sent.body)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .ok()?;
        let status = r.status().as_u16();
        Some((status, r.json().await.ok()?))
    }

    /// One till: creates payments; the customer pays half of them; paid ones are half refunded.
    async fn till(&self, n: usize) {
        let mut i = 0;
        while !self.stop.load(Ordering::Relaxed) {
            i += 1;
            let amount = 100 + (n * 1000 + i) as i64 % 4900;
            let create = Sent {
                path: "/api/v1/payments".into(),
                key: format!("c-{n}-{i}"),
                body: json!({"amount": amount, "receipt": format!("R-{n}-{i}"), "payment_type": "crash"}),
            };
            let Some((201, payment)) = self.send(&create).await else {
                continue;
            };
            let id = payment["id"].as_str().unwrap().to_owned();
            self.answered.lock().unwrap().push(id.clone());
            let Some(qr_id) = qr_id_of(&payment).filter(|_| i % 2 == 0) else {
                continue;
            };
            let _ = self
                .http
                .post(format!("{}/nspc-mock/v01/rfuture/payment/init", self.bank))
                .json(&json!({"qrId": qr_id, "amount": amount as f64 / 100.0}))
                .send()
                .await;
            let seen = self
                .http
                .get(format!("{}/api/v1/payments/{id}?wait=3", self.base))
                .bearer_auth(&self.key)
                .send()
                .await;
            let Ok(seen) = seen else { continue };
            let Ok(seen) = seen.json::<Value>().await else {
                continue;
            };
            if seen["status"] == "paid" {
                let refund = Sent {
                    path: format!("/api/v1/payments/{id}/refunds"),
                    key: format!("r-{n}-{i}"),
                    body: json!({"amount": amount / 2}),
                };
                let _ = self.send(&refund).await;
            }
        }
    }
}

async fn crash_and_recover(backend: Backend) {
    let Some((url, dir)) = fresh_database(backend).await else {
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bank = qrpay::emulator::spawn(
        EmulatorConfig {
            merchant_id: MERCHANT.into(),
            secret_key: SECRET.into(),
            callback_url: Some(format!(
                "http://127.0.0.1:{port}/api/v1/callbacks/raiffeisen"
            )),
            // Every bank call takes a while, so the kill finds some of them under way.
            faults: Faults {
                latency_ms: 120,
                ..Faults::default()
            },
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let key = prepare(&url, dir.clone(), &bank).await;

    let mut server = start(&url, port).await;
    let load = Arc::new(Load {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        key,
        bank: bank.base_url(),
        sent: Mutex::default(),
        answered: Mutex::default(),
        stop: AtomicBool::new(false),
    });
    let tills: Vec<_> = (0..8)
        .map(|n| {
            let load = load.clone();
            tokio::spawn(async move { load.till(n).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    load.stop.store(true, Ordering::Relaxed);
    for t in tills {
        t.await.unwrap();
    }
    let sent = load.sent.lock().unwrap().clone();
    let answered = load.answered.lock().unwrap().clone();
    assert!(
        sent.iter().filter(|s| s.key.starts_with("c-")).count() >= 10,
        "too little load to mean anything: {} requests",
        sent.len()
    );

    // Started again: every key answers with its payment or refund within the recovery window.
    let server = start(&url, port).await;
    let restarted = Instant::now();
    let mut window = Duration::ZERO;
    let mut in_progress = 0;
    let mut payments: Vec<String> = Vec::new();
    for s in &sent {
        let mut waited = false;
        let answer = loop {
            let r = load
                .http
                .post(format!("{}{}", server.base, s.path))
                .bearer_auth(&load.key)
                .header("Idempotency-Key", &s.key)
                .json(&s.body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            if status == 409 && body["error"]["code"] == "idempotency_request_in_progress" {
                assert!(
                    restarted.elapsed() < RECOVERY_LIMIT,
                    "{s:?} still in progress {:?} after the restart",
                    restarted.elapsed()
                );
                waited = true;
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            break (status, body);
        };
        if waited {
            in_progress += 1;
            window = window.max(restarted.elapsed());
        }
        let (status, body) = answer;
        if s.key.starts_with("c-") {
            assert_eq!(status, 201, "{s:?}: {body}");
            assert!(body["id"].is_string(), "{s:?}: {body}");
            payments.push(body["id"].as_str().unwrap().to_owned());
        } else {
            // A refund: taken (201), or refused as the payment stands (never a 5xx).
            assert!(status < 500, "{s:?}: {status} {body}");
        }
    }
    println!(
        "crash suite ({backend:?}): {} requests replayed, {in_progress} were still claimed by the \
         killed process; the last of them answered {:.1} s after the restart",
        sent.len(),
        window.as_secs_f64()
    );
    for id in &answered {
        assert!(
            payments.contains(id),
            "payment {id} answered before the crash was lost"
        );
    }

    // Nothing pending past its deadline + 2 s; in doubt settles; money adds up; bank agrees.
    tokio::time::sleep(Duration::from_secs(LIFETIME_SECS as u64 + 3)).await;
    let db = qrpay::db::Db::connect(&url).await.unwrap();
    let settle_by = Instant::now() + Duration::from_secs(15);
    let mut outcomes = std::collections::BTreeMap::<&str, usize>::new();
    for id in &payments {
        let row = loop {
            let row = qrpay::db::payment::get_payment(&db, id)
                .await
                .unwrap()
                .unwrap();
            let late = qrpay::db::now() - row.expires_at;
            if matches!(
                row.status(),
                qrpay::domain::PaymentStatus::Pending | qrpay::domain::PaymentStatus::Creating
            ) {
                assert!(
                    late < chrono::Duration::seconds(2),
                    "{id} is {} {late} past its deadline",
                    row.status().as_str()
                );
            }
            if row.status() != qrpay::domain::PaymentStatus::Unknown || Instant::now() > settle_by {
                break row;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let status = row.status();
        *outcomes.entry(status.as_str()).or_default() += 1;
        assert_ne!(
            status,
            qrpay::domain::PaymentStatus::Unknown,
            "{id} never settled"
        );
        assert!(
            row.refunded_amount <= row.amount,
            "{id}: refunded {} of {}",
            row.refunded_amount,
            row.amount
        );
        let at_bank = bank.bank.qrs_of_order(&row.order_ref);
        let bank_paid = at_bank.iter().any(|(_, s)| *s == RaiffeisenQrStatus::Paid);
        assert_eq!(
            status == qrpay::domain::PaymentStatus::Paid,
            bank_paid,
            "{id}: qrpay says {}, the bank {at_bank:?}",
            status.as_str()
        );
        if !status.is_open() {
            assert!(
                at_bank.iter().all(|(_, s)| *s != RaiffeisenQrStatus::New),
                "{id} is {} but its QR is live at the bank: {at_bank:?}",
                status.as_str()
            );
        }
    }
    println!("crash suite ({backend:?}): payments ended {outcomes:?}");
    drop(server);
}
