//! A hung bank call stalls nobody else: the workers handle payments side by side, and every bank
//! call is bounded by `QRPAY_BANK_CALL_TIMEOUT` (never more than the authorization server's
//! timeout), so other payments still expire on time, a callback-less payment is still seen paid
//! by polling, and a till's create answers `unknown` within the bank call timeout.

use crate::helpers::{Backend, TestApp, fresh_database, new_key, spawn_app_with};
use crate::providers::Harness;
use qrpay::config::Settings;
use qrpay::db::audit::Who;
use qrpay::db::payment_type::{PaymentTypeFields, create_auth_server, save_payment_type};
use qrpay::db::store::find_store;
use qrpay::emulator::Faults;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Runs each case on both backends, with the app's settings adjusted by `configure`.
macro_rules! both_backends_with {
    ($($name:ident => $configure:expr),* $(,)?) => {$(
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = super::app_with(Backend::Sqlite, $configure).await {
                    super::$name(app).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = super::app_with(Backend::Postgres, $configure).await {
                    super::$name(app).await
                }
            }
        }
    )*};
}

both_backends_with!(
    a_hung_annulment_does_not_delay_other_payments_expiry => |s| {
        // No polls: the only bank calls after the creations are the expiry's annulments.
        s.pending_poll_interval = Duration::from_secs(60);
    },
    a_hung_poll_does_not_delay_seeing_another_payment_paid => |s| {
        s.pending_poll_interval = Duration::from_secs(1);
    },
    a_create_against_a_hung_bank_answers_unknown_within_the_bank_call_timeout => |s| {
        s.bank_call_timeout = Duration::from_secs(1);
    },
    more_payments_due_at_once_than_jobs_at_once_all_expire_within_one_interval => |s| {
        // A long interval: a worker that took only as many jobs as it had places per tick
        // (16) would need a tick per 16 payments.
        s.expiry_interval = Duration::from_secs(1);
        s.pending_poll_interval = Duration::from_secs(60);
    },
);

async fn more_payments_due_at_once_than_jobs_at_once_all_expire_within_one_interval(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let mut ids = Vec::new();
    for _ in 0..80 {
        ids.push(
            h.create(100, "fast").await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let last_deadline = expires_at(
        &h.app
            .get(&format!("/api/v1/payments/{}", ids[79]))
            .await
            .body,
    );
    let wait = (last_deadline - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    // The interval (1 s) and a margin for a loaded machine.
    tokio::time::sleep(wait + Duration::from_millis(1_800)).await;
    let mut open = Vec::new();
    for id in &ids {
        let p = h.app.get(&format!("/api/v1/payments/{id}")).await.body;
        if p["status"] != "expired" {
            open.push(p["status"].to_string());
        }
    }
    assert!(
        open.is_empty(),
        "{} of 80 not expired yet: {open:?}",
        open.len()
    );
}

async fn app_with(backend: Backend, configure: fn(&mut Settings)) -> Option<TestApp> {
    let (url, dir) = fresh_database(backend).await?;
    Some(spawn_app_with(&url, dir, configure).await)
}

/// Adds a Raiffeisen payment type `name` whose authorization server times out after `secs`.
async fn payment_type(h: &Harness, name: &str, secs: i64) {
    let store = find_store(&h.app.db, None).await.unwrap();
    let server = create_auth_server(&h.app.db, &Who::SEED, store.store_id, name, secs)
        .await
        .unwrap();
    save_payment_type(
        &h.app.db,
        &Who::SEED,
        None,
        PaymentTypeFields {
            store_id: store.store_id,
            auth_server_id: server,
            name,
            module: "raiffeisen",
            scan_customer_qr: false,
            enabled: true,
        },
    )
    .await
    .unwrap();
}

/// The next bank call (whoever makes it) hangs for a minute.
fn hang_next_call(h: &Harness) {
    h.emulator.as_ref().unwrap().bank.set_faults(Faults {
        hang: 1,
        hang_ms: 60_000,
        ..Faults::default()
    });
}

fn time(p: &Value, field: &str) -> chrono::DateTime<chrono::Utc> {
    p[field].as_str().unwrap().parse().unwrap()
}

fn expires_at(p: &Value) -> chrono::DateTime<chrono::Utc> {
    time(p, "expires_at")
}

async fn a_hung_annulment_does_not_delay_other_payments_expiry(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    payment_type(&h, "six", 6).await;
    let first = h.create(100, "six").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut others = Vec::new();
    for _ in 0..4 {
        others.push(h.create(100, "six").await);
    }
    // The first payment's annulment at its deadline hangs (for longer than its whole lifetime).
    hang_next_call(&h);

    let lags = futures::future::join_all(others.iter().map(|p| async {
        let seen = h.wait(p["id"].as_str().unwrap(), 20).await;
        (seen, chrono::Utc::now() - expires_at(p))
    }))
    .await;
    for (seen, lag) in &lags {
        assert_eq!(seen["status"], "expired", "{seen}");
        // Generous for a loaded machine; one at a time, they waited ~4.5 s behind the hang.
        assert!(
            *lag < chrono::Duration::seconds(2),
            "expired {lag} after its deadline, behind another payment's hung bank call"
        );
    }
    assert_eq!(
        h.emulator.as_ref().unwrap().bank.faults().hang,
        0,
        "the hang was taken by the first payment's annulment"
    );
    // The hung payment itself went `unknown` when its call gave up; the bank says its QR expired.
    let id = first["id"].as_str().unwrap();
    let seen = h.wait(id, 30).await;
    assert_eq!(seen["status"], "expired", "{seen}");
}

async fn a_hung_poll_does_not_delay_seeing_another_payment_paid(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let first = h.create(100, "normal").await;
    hang_next_call(&h);
    // The first payment's first poll (after 1 s) takes the hang.
    let bank = &h.emulator.as_ref().unwrap().bank;
    let started = Instant::now();
    while bank.faults().hang > 0 {
        assert!(started.elapsed() < Duration::from_secs(15), "never polled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let other = h.create(2500, "normal").await;
    let id = other["id"].as_str().unwrap();
    bank.set_faults(Faults {
        drop_callbacks: 1,
        ..Faults::default()
    });
    h.pay(id, false).await;
    let paid = Instant::now();
    let seen = h.wait(id, 40).await;
    assert_eq!(seen["status"], "paid", "{seen}");
    // First poll after 1 s; one at a time, it waited ~30 s (the hung call's whole lifetime).
    assert!(
        paid.elapsed() < Duration::from_secs(6),
        "seen paid {:?} after the customer paid, behind another payment's hung poll",
        paid.elapsed()
    );
    assert_eq!(bank.callbacks_delivered(), 0, "no callback told it");
    let first = h
        .app
        .get(&format!(
            "/api/v1/payments/{}",
            first["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(first.body["status"], "pending", "{}", first.body);
}

async fn a_create_against_a_hung_bank_answers_unknown_within_the_bank_call_timeout(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    hang_next_call(&h);
    let started = Instant::now();
    let r = h
        .app
        .create_payment_raw(
            &json!({"amount": 100, "receipt": "H-1", "payment_type": "normal"}).to_string(),
            &new_key(),
        )
        .await;
    let took = started.elapsed();
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (201, Some("unknown")),
        "{}",
        r.body
    );
    // A 1 s bank call timeout, a 30 s QR lifetime: the till is answered after ~1 s, not 30 s.
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    assert_eq!(
        expires_at(&r.body) - time(&r.body, "created_at"),
        chrono::Duration::seconds(30),
        "the QR's lifetime is still the authorization server's timeout"
    );
    // The bank never registered it (the call hung before it did): asked about the order, the
    // bank issues its QR now, and the payment waits for the customer with it.
    h.sync().await;
    let seen = h
        .app
        .get(&format!(
            "/api/v1/payments/{}",
            r.body["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(seen["status"], "pending", "{seen}");
    assert!(seen["qr"]["payload"].is_string(), "{seen}");
}
