//! Payment events to RabbitMQ through the outbox, against the real broker
//! (`QRPAY_TEST_AMQP_URL`; without it these cases print a notice and pass, unless
//! `QRPAY_TEST_REQUIRE_SERVICES=1`), and the outbox clean-up.

use crate::helpers::{Backend, TestApp, fresh_database, spawn_app_with};
use qrpay::db::audit::Who;
use qrpay::db::outbox::{self, OutboxState};
use qrpay::db::payment_event::{NewOutbox, insert_outbox};
use qrpay::domain::AmqpUrl;
use qrpay::events::broker::{Received, Subscriber};
use qrpay::events::{EventsMonitor, Relay, RelayConfig};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// A port nothing listens on: the broker is "down".
const CLOSED_PORT_URL: &str = "amqp://guest:guest@127.0.0.1:1/%2f";

/// Runs a case on both databases with a broker (`QRPAY_TEST_AMQP_URL`).
macro_rules! with_broker {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(t) = super::setup($crate::helpers::Backend::Sqlite).await {
                    super::$name(t.0, t.1).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(t) = super::setup($crate::helpers::Backend::Postgres).await {
                    super::$name(t.0, t.1).await
                }
            }
        }
    )*};
}
pub(crate) use with_broker;

with_broker!(
    each_state_change_is_published_once_with_its_key_and_body,
    events_wait_without_a_broker_and_through_an_outage_then_go_out_in_order,
    a_relay_stopped_mid_batch_loses_nothing_and_duplicates_keep_their_message_id,
    two_relays_on_one_database_publish_each_event_once,
    the_running_relay_picks_up_a_new_broker_url_and_health_reports_it,
);

/// The broker URL for tests, or `None` (with a notice) when none is configured.
pub fn amqp_url() -> Option<String> {
    match std::env::var("QRPAY_TEST_AMQP_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var("QRPAY_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("QRPAY_TEST_REQUIRE_SERVICES=1 but QRPAY_TEST_AMQP_URL is not set");
            }
            eprintln!("notice: QRPAY_TEST_AMQP_URL is not set; skipping a RabbitMQ test");
            None
        }
    }
}

/// An app whose relay does not run by itself (the test drives relays), and the broker URL.
pub(crate) async fn setup(backend: Backend) -> Option<(TestApp, String)> {
    let amqp = amqp_url()?;
    let (url, dir) = fresh_database(backend).await?;
    let app = spawn_app_with(&url, dir, |s| s.relay = false).await;
    Some((app, amqp))
}

pub(crate) fn relay_config() -> RelayConfig {
    RelayConfig {
        batch: 200,
        idle: Duration::from_millis(10),
        lease: Duration::from_secs(1),
        confirm_timeout: Duration::from_secs(5),
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        ..RelayConfig::default()
    }
}

pub(crate) fn relay(app: &TestApp) -> Relay {
    Relay::new(app.db.clone(), relay_config(), app.events.clone())
}

pub(crate) async fn store_id(app: &TestApp) -> i64 {
    qrpay::db::store::find_store(&app.db, None)
        .await
        .unwrap()
        .store_id
}

pub(crate) async fn set_url(app: &TestApp, url: Option<&str>) {
    let url = url.map(|u| AmqpUrl::parse(u).unwrap());
    qrpay::db::store::set_rabbitmq_url(&app.db, &Who::SEED, store_id(app).await, url.as_ref())
        .await
        .unwrap();
}

pub(crate) async fn states(app: &TestApp) -> Vec<OutboxState> {
    outbox::states(&app.db).await.unwrap()
}

/// Steps the relay until nothing is left unsent (bounded).
pub(crate) async fn drain(relay: &mut Relay, app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let report = relay.step().await.unwrap();
        if states(app).await.iter().all(|s| s.sent_at.is_some()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox never drained: {report:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Receives messages whose `message_id` is one of `ids` until each has come at least once, then
/// keeps listening `linger` longer to catch duplicates. Messages of other tests are skipped.
pub(crate) async fn collect(
    sub: &mut Subscriber,
    ids: &HashSet<String>,
    linger: Duration,
) -> Vec<Received> {
    collect_more(sub, ids, HashSet::new(), linger).await
}

/// [`collect`], when the events in `seen` have already been received.
pub(crate) async fn collect_more(
    sub: &mut Subscriber,
    ids: &HashSet<String>,
    mut seen: HashSet<String>,
    linger: Duration,
) -> Vec<Received> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < ids.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "only {} of {} events arrived",
            seen.len(),
            ids.len()
        );
        if let Some(m) = sub.next(left).await {
            let m = m.unwrap();
            if m.message_id.as_ref().is_some_and(|id| ids.contains(id)) {
                seen.insert(m.message_id.clone().unwrap());
                got.push(m);
            }
        }
    }
    while let Some(m) = sub.next(linger).await {
        let m = m.unwrap();
        if m.message_id.as_ref().is_some_and(|id| ids.contains(id)) {
            got.push(m);
        }
    }
    got
}

pub(crate) fn event_ids(states: &[OutboxState]) -> HashSet<String> {
    states.iter().map(|s| s.event_id.clone()).collect()
}

/// The id of the payment an event is about.
fn payment_of(body: &Value) -> String {
    body["payment"]["id"]
        .as_str()
        .or(body["refund"]["payment_id"].as_str())
        .expect("an event names its payment")
        .to_owned()
}

/// Checks that, per payment, the events arrived in the order they were written (the first
/// arrival of each event counts; later ones are duplicates).
fn assert_in_order_per_payment(received: &[Received], written: &[OutboxState]) {
    let position: HashMap<&str, usize> = written
        .iter()
        .enumerate()
        .map(|(i, s)| (s.event_id.as_str(), i))
        .collect();
    let mut first_seen = HashSet::new();
    let mut last_by_payment: HashMap<String, usize> = HashMap::new();
    for m in received {
        let id = m.message_id.clone().unwrap();
        if !first_seen.insert(id.clone()) {
            continue;
        }
        let pos = position[id.as_str()];
        let payment = payment_of(&m.body);
        if let Some(prev) = last_by_payment.insert(payment.clone(), pos) {
            assert!(
                prev < pos,
                "payment {payment}: event #{pos} arrived after #{prev}"
            );
        }
    }
}

async fn synthetic_events(app: &TestApp, count: usize) -> HashSet<String> {
    synthetic_events_with_key(app, count, "payment.paid").await
}

pub(crate) async fn synthetic_events_with_key(
    app: &TestApp,
    count: usize,
    key: &str,
) -> HashSet<String> {
    let store = store_id(app).await;
    let mut ids = HashSet::new();
    let mut tx = app.db.begin().await.unwrap();
    for i in 0..count {
        let event_id = qrpay::domain::new_public_id();
        let at = qrpay::db::now();
        let payload = json!({"schema_version": 1, "event_id": event_id, "type": "payment.paid",
            "occurred_at": at, "store_id": store, "till_id": null,
            "payment": {"id": format!("p-{}", i % 50), "n": i}});
        insert_outbox(
            &mut tx,
            &NewOutbox {
                event_id: &event_id,
                store_id: store,
                till_id: None,
                routing_key: key,
                payload: &payload.to_string(),
                at,
            },
        )
        .await
        .unwrap();
        ids.insert(event_id);
    }
    tx.commit().await.unwrap();
    ids
}

async fn each_state_change_is_published_once_with_its_key_and_body(app: TestApp, amqp: String) {
    set_url(&app, Some(&amqp)).await;
    // Not `#`: the unrouted cases (events_unrouted.rs) rely on nobody listening to their keys.
    let mut sub = Subscriber::bind_keys(&amqp, &["payment.*", "refund.*"])
        .await
        .unwrap();
    let p = app.create_payment(500).await;
    app.cancel(p["id"].as_str().unwrap()).await;
    let paid = app.paid_payment(1000).await;
    let r = app.refund(&paid, json!({"amount": 300})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let d = app.create_payment(700).await;
    app.decline(d["id"].as_str().unwrap()).await;

    let mut relay = relay(&app);
    drain(&mut relay, &app).await;
    let written = states(&app).await;
    let keys: Vec<&str> = written.iter().map(|s| s.routing_key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "payment.created",
            "payment.cancelled",
            "payment.created",
            "payment.paid",
            "refund.created",
            "refund.completed",
            "payment.created",
            "payment.declined"
        ]
    );
    let received = collect(&mut sub, &event_ids(&written), Duration::from_millis(500)).await;
    assert_eq!(
        received.len(),
        written.len(),
        "exactly one message per state change"
    );
    let payloads = outbox::payloads(&app.db).await.unwrap();
    let store = store_id(&app).await;
    for ((m, state), payload) in received.iter().zip(&written).zip(&payloads) {
        assert_eq!(m.message_id.as_deref(), Some(state.event_id.as_str()));
        assert_eq!(m.routing_key, state.routing_key);
        assert_eq!(m.body, serde_json::from_str::<Value>(payload).unwrap());
        assert_eq!(m.body["type"], state.routing_key.as_str());
        assert_eq!(m.content_type.as_deref(), Some("application/json"));
        assert_eq!(m.delivery_mode, Some(2), "persistent");
        assert!(m.timestamp.is_some_and(|t| t > 1_700_000_000));
        assert_eq!(m.store_id, Some(store));
        assert_eq!(m.till_id, m.body["till_id"].as_i64());
        assert!(state.sent_at.is_some() && state.attempts == 1);
    }
    assert_eq!(
        relay.step().await.unwrap().published,
        0,
        "nothing is sent twice"
    );
}

async fn events_wait_without_a_broker_and_through_an_outage_then_go_out_in_order(
    app: TestApp,
    amqp: String,
) {
    let mut sub = Subscriber::bind(&amqp, "payment.*").await.unwrap();
    let mut relay = relay(&app);
    let ids: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(app.paid_payment(100).await);
        }
        v
    };
    // No URL: the events wait, and their count shows.
    let report = relay.step().await.unwrap();
    assert_eq!((report.published, report.waiting_without_url), (0, 6));
    let metrics = app
        .client
        .get(format!("{}/metrics", app.ops))
        .send()
        .await
        .unwrap();
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("qrpay_outbox_backlog{store=\"main\",broker=\"unset\"} 6"),
        "{text}"
    );

    // The broker is down: nothing is marked sent, the failure is recorded and visible.
    set_url(&app, Some(CLOSED_PORT_URL)).await;
    let report = relay.step().await.unwrap();
    assert_eq!((report.published, report.failed_stores), (0, 1));
    let held = states(&app).await;
    assert!(held.iter().all(|s| s.sent_at.is_none()));
    assert!(held[0].attempts >= 1 && held[0].last_error.is_some());
    let ready: Value = app
        .client
        .get(format!("{}/readyz", app.ops))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        ready["status"], "ready",
        "a broker outage does not make qrpay unready"
    );
    assert_eq!(
        ready["broker"]["stores"]["main"]["state"], "unreachable",
        "{ready}"
    );
    // Changes go on while the broker is down; the till never waits for it.
    for id in &ids[..2] {
        app.refund(id, json!({"amount": 50})).await;
    }
    let also = app.create_payment(100).await;
    app.cancel(also["id"].as_str().unwrap()).await;
    for _ in 0..3 {
        relay.step().await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert!(states(&app).await.iter().all(|s| s.sent_at.is_none()));

    // The right URL: everything goes out, in order, none lost.
    set_url(&app, Some(&amqp)).await;
    drain(&mut relay, &app).await;
    let written = states(&app).await;
    let payment_events: Vec<OutboxState> = written
        .iter()
        .filter(|s| s.routing_key.starts_with("payment."))
        .cloned()
        .collect();
    assert_eq!(payment_events.len(), 8);
    let received = collect(
        &mut sub,
        &event_ids(&payment_events),
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(received.len(), payment_events.len(), "each exactly once");
    let order: Vec<&str> = received
        .iter()
        .map(|m| m.message_id.as_deref().unwrap())
        .collect();
    let expected: Vec<&str> = payment_events.iter().map(|s| s.event_id.as_str()).collect();
    assert_eq!(order, expected, "in the order they were written");
    assert_in_order_per_payment(&received, &payment_events);
    assert!(app.events.failures_total() >= 1);
}

async fn a_relay_stopped_mid_batch_loses_nothing_and_duplicates_keep_their_message_id(
    app: TestApp,
    amqp: String,
) {
    set_url(&app, Some(&amqp)).await;
    let ids = synthetic_events(&app, 3000).await;
    let mut sub = Subscriber::bind(&amqp, "payment.paid").await.unwrap();
    let first = tokio::spawn(relay(&app).run(Arc::new(Notify::new())));
    // Kill the first relay as soon as its first message arrives: mid-batch, holding its lease.
    let first_message = loop {
        let m = sub
            .next(Duration::from_secs(10))
            .await
            .expect("a first event")
            .unwrap();
        if m.message_id.as_ref().is_some_and(|id| ids.contains(id)) {
            break m;
        }
    };
    first.abort();
    let _ = first.await;
    let unsent = states(&app)
        .await
        .iter()
        .filter(|s| s.sent_at.is_none())
        .count();
    assert!(unsent > 0, "the relay was stopped before it finished");

    // A new relay (another lease holder) takes over once the dead one's lease runs out.
    let mut second = relay(&app);
    drain(&mut second, &app).await;
    let seen = HashSet::from([first_message.message_id.clone().unwrap()]);
    let mut received = vec![first_message];
    received.extend(collect_more(&mut sub, &ids, seen, Duration::from_millis(300)).await);
    let distinct: HashSet<&str> = received
        .iter()
        .map(|m| m.message_id.as_deref().unwrap())
        .collect();
    assert_eq!(distinct.len(), ids.len(), "no event is lost");
    let written = states(&app).await;
    assert_in_order_per_payment(&received, &written);
    eprintln!(
        "restart mid-batch: {} messages for {} events ({} duplicates, detectable by message_id)",
        received.len(),
        ids.len(),
        received.len() - ids.len()
    );
}

async fn two_relays_on_one_database_publish_each_event_once(app: TestApp, amqp: String) {
    set_url(&app, Some(&amqp)).await;
    let mut sub = Subscriber::bind(&amqp, "payment.paid").await.unwrap();
    let ids = synthetic_events(&app, 2000).await;
    let config = RelayConfig {
        lease: Duration::from_secs(15),
        ..relay_config()
    };
    let (stop_a, stop_b) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let a = Relay::new(
        app.db.clone(),
        config.clone(),
        Arc::new(EventsMonitor::default()),
    );
    let b = Relay::new(app.db.clone(), config, Arc::new(EventsMonitor::default()));
    let (ta, tb) = (
        tokio::spawn(a.run(stop_a.clone())),
        tokio::spawn(b.run(stop_b.clone())),
    );
    let received = collect(&mut sub, &ids, Duration::from_millis(500)).await;
    stop_a.notify_one();
    stop_b.notify_one();
    let _ = (ta.await, tb.await);
    assert_eq!(received.len(), ids.len(), "each event published once");
    assert!(
        states(&app)
            .await
            .iter()
            .all(|s| s.sent_at.is_some() && s.attempts == 1)
    );
}

async fn the_running_relay_picks_up_a_new_broker_url_and_health_reports_it(
    app: TestApp,
    amqp: String,
) {
    // This app runs its own relay, as `qrpay serve` does.
    let (url, dir) = (app.database_url.clone(), app.dir.clone());
    drop(app);
    let app = spawn_app_with(&url, dir, |_| {}).await;
    let mut sub = Subscriber::bind(&amqp, "payment.created").await.unwrap();
    app.create_payment(100).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let text = app
        .client
        .get(format!("{}/metrics", app.ops))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("qrpay_outbox_backlog{store=\"main\",broker=\"unset\"} 1"),
        "{text}"
    );

    set_url(&app, Some(&amqp)).await;
    let written = states(&app).await;
    let received = collect(&mut sub, &event_ids(&written), Duration::from_millis(100)).await;
    assert_eq!(received.len(), 1);
    let deadline = Instant::now() + Duration::from_secs(5);
    while states(&app).await.iter().any(|s| s.sent_at.is_none()) {
        assert!(Instant::now() < deadline, "the row was never marked sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ready: Value = app
        .client
        .get(format!("{}/readyz", app.ops))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["broker"]["relay"], "running");
    assert_eq!(
        ready["broker"]["stores"]["main"]["state"], "connected",
        "{ready}"
    );
    assert!(
        !ready.to_string().contains("guest:guest"),
        "no password in /readyz"
    );
    let text = app
        .client
        .get(format!("{}/metrics", app.ops))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("qrpay_outbox_backlog{store=\"main\",broker=\"set\"} 0"),
        "{text}"
    );
    assert!(text.contains("qrpay_events_published_total 1"), "{text}");
    assert!(text.contains("qrpay_outbox_lag_seconds_count 1"), "{text}");
}

crate::both_backends!(old_published_events_are_cleaned_up_and_unsent_ones_never);

async fn old_published_events_are_cleaned_up_and_unsent_ones_never(app: TestApp) {
    let store = store_id(&app).await;
    synthetic_events(&app, 5000).await;
    let rows = outbox::next_batch(&app.db, store, 10_000).await.unwrap();
    assert_eq!(rows.len(), 5000);
    let ids: Vec<i64> = rows.iter().map(|r| r.outbox_id).collect();
    let day = chrono::Duration::days(1);
    let now = chrono::Utc::now();
    // 4,100 published ten days ago (more than one clean-up batch), 500 yesterday, 400 never.
    outbox::mark_sent(&app.db, &ids[..4100], now - day * 10)
        .await
        .unwrap();
    outbox::mark_sent(&app.db, &ids[4100..4600], now - day)
        .await
        .unwrap();
    let keep = Duration::from_secs(7 * 24 * 3600);
    assert_eq!(
        qrpay::startup::clean_outbox_once(&app.db, keep)
            .await
            .unwrap(),
        4100
    );
    let left = states(&app).await;
    assert_eq!(left.len(), 900);
    assert_eq!(left.iter().filter(|s| s.sent_at.is_none()).count(), 400);
    assert!(
        left.iter()
            .filter_map(|s| s.sent_at)
            .all(|at| at > now - day * 2)
    );
    // Nothing more to do.
    assert_eq!(
        qrpay::startup::clean_outbox_once(&app.db, keep)
            .await
            .unwrap(),
        0
    );
}
