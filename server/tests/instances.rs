//! Several qrpay instances on one database: a long-poll on one instance is woken by a change made
//! on another at once (PostgreSQL `LISTEN/NOTIFY`, with the 1 s re-read as the fallback, also
//! while the notification connection is down), and the expiry worker of two instances annuls
//! each due payment at the bank exactly once (work claims with a lease).

use crate::helpers::db::{Arg, execute_with};
use crate::helpers::{Backend, TestApp, fresh_database, spawn_app_with};
use crate::providers::Harness;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use qrpay::db::Db;
use qrpay::db::audit::Who;
use qrpay::db::raiffeisen_setting::save_setting;
use qrpay::db::store::find_store;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Two instances (A, B) on one fresh database, with their workers running.
async fn two_instances(
    backend: Backend,
    configure: fn(&mut qrpay::config::Settings),
) -> Option<(TestApp, TestApp)> {
    let (url, dir) = fresh_database(backend).await?;
    let a = spawn_app_with(&url, dir.clone(), configure).await;
    let b = spawn_app_with(&url, dir, configure).await;
    Some((a, b))
}

/// Creates a payment on A, long-polls it on A, pays it through B; how long after the payment
/// A's long-poll answered.
async fn cross_instance_wakeup(a: &TestApp, b: &TestApp) -> Duration {
    let p = a.create_payment(100).await;
    let id = p["id"].as_str().unwrap().to_owned();
    let poll = {
        let (client, url, key) = (
            a.client.clone(),
            format!("{}/api/v1/payments/{id}?wait=20", a.base),
            a.key.clone(),
        );
        tokio::spawn(async move {
            let r = client.get(url).bearer_auth(key).send().await.unwrap();
            let body: Value = r.json().await.unwrap();
            (Instant::now(), body)
        })
    };
    // Let the long-poll reach its wait (a change before it would be answered by its first read).
    tokio::time::sleep(Duration::from_millis(30)).await;
    let paid_at = Instant::now();
    let r = b.pay(&id).await;
    assert_eq!(r.body["status"], "paid", "{}", r.body);
    let (answered_at, body) = poll.await.unwrap();
    assert_eq!(body["status"], "paid", "{body}");
    answered_at.saturating_duration_since(paid_at)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_on_one_instance_sees_a_payment_paid_through_another_at_once() {
    let Some((a, b)) = two_instances(Backend::Postgres, |_| {}).await else {
        return;
    };
    let mut lags = Vec::new();
    for _ in 0..50 {
        let lag = cross_instance_wakeup(&a, &b).await;
        // Generous for a loaded machine: with only the 1 s re-read, half of them wait > 500 ms.
        assert!(
            lag < Duration::from_millis(500),
            "A saw B's change {lag:?} after it was made"
        );
        lags.push(lag);
    }
    lags.sort();
    eprintln!(
        "cross-instance wake-up over {} payments: p50 {:?}, p99 {:?}",
        lags.len(),
        percentile(&lags, 50),
        percentile(&lags, 99)
    );
}

/// The test database's name, from its URL.
fn database_name(url: &str) -> String {
    let path = url.split('?').next().unwrap();
    path.rsplit('/').next().unwrap().to_owned()
}

/// Runs `sql` on the server's maintenance database (not the test database itself).
async fn admin_execute(sql: &str) {
    let base = std::env::var("QRPAY_TEST_DATABASE_URL").unwrap();
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(sql).execute(&mut conn).await.unwrap();
}

/// How many notification connections (`LISTEN`) are open on the test database.
async fn listeners(a: &TestApp) -> i64 {
    let Db::Postgres(pool) = &a.db else {
        unreachable!("a PostgreSQL case")
    };
    sqlx::query_scalar(
        "select count(*) from pg_stat_activity where datname = current_database() \
         and application_name = 'qrpay listener'",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wake_ups_come_back_after_the_notification_connection_drops() {
    let Some((a, b)) = two_instances(Backend::Postgres, |_| {}).await else {
        return;
    };
    // Warm both pools, so that the requests below need no new connection.
    futures::future::join_all((0..4).map(|_| cross_instance_wakeup(&a, &b))).await;
    let started = Instant::now();
    while listeners(&a).await < 2 {
        assert!(started.elapsed() < Duration::from_secs(5), "no listener");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The listeners' connections are cut, and cannot come back for now.
    let name = database_name(&a.database_url);
    admin_execute(&format!(
        "alter database {name} with allow_connections false"
    ))
    .await;
    admin_execute(&format!(
        "select pg_terminate_backend(pid) from pg_stat_activity \
             where datname = '{name}' and application_name = 'qrpay listener'"
    ))
    .await;
    // Meanwhile the 1 s re-read still answers.
    let lag = cross_instance_wakeup(&a, &b).await;
    assert!(
        lag < Duration::from_millis(2500),
        "without notifications A saw B's change only after {lag:?}"
    );

    // Connections allowed again: the listeners come back, and with them the instant wake-ups.
    admin_execute(&format!(
        "alter database {name} with allow_connections true"
    ))
    .await;
    let started = Instant::now();
    while listeners(&a).await < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the listeners did not reconnect"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..10 {
        let lag = cross_instance_wakeup(&a, &b).await;
        assert!(
            lag < Duration::from_millis(500),
            "after the reconnect A saw B's change {lag:?} after it was made"
        );
    }
}

// ---------- two expiry workers, one annulment ----------

/// A slow bank in front of the emulator: every call takes 300 ms more, and is counted by
/// method and path, so that two workers on the same payment would both be seen calling.
#[derive(Clone)]
struct CountingBank {
    target: String,
    http: reqwest::Client,
    calls: Arc<Mutex<HashMap<String, u32>>>,
}

async fn forward(
    State(bank): State<CountingBank>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, Bytes) {
    let path = uri.path().to_owned();
    *bank
        .calls
        .lock()
        .unwrap()
        .entry(format!("{method} {path}"))
        .or_default() += 1;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let mut req = bank
        .http
        .request(method, format!("{}{path}{query}", bank.target))
        .body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            req = req.header(name, value);
        }
    }
    let r = req.send().await.unwrap();
    let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
    let mut out = HeaderMap::new();
    if let Some(ct) = r.headers().get("content-type") {
        out.insert("content-type", ct.clone());
    }
    (status, out, r.bytes().await.unwrap())
}

async fn spawn_counting_bank(target: String) -> (String, CountingBank) {
    let bank = CountingBank {
        target,
        http: reqwest::Client::new(),
        calls: Arc::default(),
    };
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(bank.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), bank)
}

/// No polls of pending payments: the only bank calls after the creations are the annulments.
fn no_polls(s: &mut qrpay::config::Settings) {
    s.pending_poll_interval = Duration::from_secs(60);
    s.expiry_interval = Duration::from_millis(50);
}

/// PostgreSQL only: SQLite serves one instance (two processes' writers on one file would fail
/// each other's read-then-write transactions with `SQLITE_BUSY`, and retries annul again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_annul_each_due_payment_at_the_bank_once() {
    let Some((a, b)) = two_instances(Backend::Postgres, no_polls).await else {
        return;
    };
    let h = Harness::raiffeisen(a).await;
    let emulator = h.emulator.as_ref().unwrap().base_url();
    let (proxy, bank) = spawn_counting_bank(emulator.trim_end_matches("/api").to_owned()).await;
    let store = find_store(&h.app.db, None).await.unwrap();
    save_setting(
        &h.app.db,
        &Who::SEED,
        store.store_id,
        &format!("{proxy}/api"),
        "MA0000000552",
        // A new address takes the key typed again.
        Some("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.test-secret"),
    )
    .await
    .unwrap();

    // Twelve payments with a 2 s QR lifetime: both instances' expiry workers find them due at
    // once, and each annulment takes 300 ms at the bank.
    let payments: Vec<String> = futures::future::join_all((0..12).map(|_| h.create(100, "fast")))
        .await
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    for id in &payments {
        let seen = h.wait(id, 20).await;
        assert_eq!(seen["status"], "expired", "{seen}");
    }
    // Whatever was still under way ends.
    tokio::time::sleep(Duration::from_millis(700)).await;

    let calls = bank.calls.lock().unwrap().clone();
    for id in &payments {
        let row = qrpay::db::payment::get_payment(&b.db, id)
            .await
            .unwrap()
            .unwrap();
        let qr_id = row.qr_id.unwrap();
        let annulments = calls
            .get(&format!("DELETE /api/sbp/v2/qrs/{qr_id}"))
            .copied()
            .unwrap_or(0);
        assert_eq!(
            annulments, 1,
            "payment {id} annulled {annulments} times: {calls:?}"
        );
        let events = qrpay::db::payment_event::events_of(&b.db, id)
            .await
            .unwrap();
        let expired = events.iter().filter(|e| e.to_status == "expired").count();
        assert_eq!(expired, 1, "{events:?}");
    }
}

// ---------- a claim of an instance that died ----------

crate::both_backends!(a_payment_another_instance_claimed_is_skipped_until_its_claim_lapses);

async fn a_payment_another_instance_claimed_is_skipped_until_its_claim_lapses(app: TestApp) {
    let p = app.create_payment(100).await;
    let id = p["id"].as_str().unwrap();
    // Past its deadline, and claimed by another instance for 1.5 s more (then it died).
    let now = qrpay::db::now();
    execute_with(
        &app,
        "update payment set expires_at = $2, claimed_by = 'another-instance', \
         claimed_until = $3 where payment_id = $1",
        &[
            Arg::Text(id),
            Arg::Time(now - chrono::Duration::seconds(1)),
            Arg::Time(now + chrono::Duration::milliseconds(1500)),
        ],
    )
    .await;
    // Skipped, not waited for.
    let started = Instant::now();
    app.payments.expire_due().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    let r = app.get(&format!("/api/v1/payments/{id}")).await;
    assert_eq!(r.body["status"], "pending", "{}", r.body);
    // Its claim lapses: this instance's expiry worker takes the payment over.
    let r = app.get(&format!("/api/v1/payments/{id}?wait=10")).await;
    assert_eq!(r.body["status"], "expired", "{}", r.body);
    let taken_over = started.elapsed();
    assert!(
        taken_over >= Duration::from_millis(1200) && taken_over < Duration::from_secs(4),
        "expired {taken_over:?} after the other claim was found"
    );
}

/// The notifier (db/notify.rs) tells the listeners of every payment it is given, after the
/// change is committed; and the table itself no longer notifies (migration 0024 dropped the
/// trigger whose notification serialized every status change's commit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notifier_sends_each_changed_payment_and_the_table_no_longer_does() {
    use qrpay::db::notify::{Change, ChangeListener, ChangeNotifier};
    let Some((url, _dir)) = fresh_database(Backend::Postgres).await else {
        return;
    };
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let mut listener = ChangeListener::new(&db).expect("PostgreSQL has a listener");
    assert_eq!(
        listener.next().await,
        Change::Missed,
        "first, the (re)connect"
    );

    let notifier = ChangeNotifier::new(&db).expect("PostgreSQL has a notifier");
    for id in ["p1", "p2", "p1", "p3"] {
        notifier.changed(id);
    }
    let mut heard = std::collections::BTreeSet::new();
    while heard.len() < 3 {
        match tokio::time::timeout(Duration::from_secs(5), listener.next()).await {
            Ok(Change::Payment(id)) => {
                heard.insert(id);
            }
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => panic!("heard only {heard:?}"),
        }
    }
    assert_eq!(heard.into_iter().collect::<Vec<_>>(), ["p1", "p2", "p3"]);

    let Db::Postgres(pool) = &db else {
        unreachable!("a PostgreSQL case")
    };
    let notifying: i64 = sqlx::query_scalar(
        "select count(*) from pg_trigger where tgrelid = 'payment'::regclass \
         and tgname = 'payment_status_changed'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(notifying, 0, "the status-change trigger is gone");
}
