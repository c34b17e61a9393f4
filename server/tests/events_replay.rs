//! `qrpay events replay`: the real binary re-publishes chosen events from the outbox with their
//! first message ids, leaves unsent ones to the relay, and refuses bad input.

use crate::events::{
    collect, drain, relay, set_url, setup, states, store_id, synthetic_events_with_key, with_broker,
};
use crate::helpers::TestApp;
use chrono::{DateTime, Utc};
use qrpay::db::outbox::{self, OutboxState};
use qrpay::db::payment_event::{NewOutbox, insert_outbox};
use qrpay::events::Topology;
use qrpay::events::broker::Subscriber;
use serde_json::json;
use std::collections::HashSet;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

with_broker!(replay_republishes_the_chosen_events_with_their_message_ids);
crate::both_backends!(replay_refuses_bad_input_and_a_store_without_a_broker);

/// Runs `qrpay --database-url <the app's> events replay <args>` with the default log filter.
async fn replay(app: &TestApp, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qrpay"));
    cmd.arg("--database-url")
        .arg(&app.database_url)
        .args(["events", "replay"])
        .args(args)
        .env_remove("QRPAY_AMQP_URL")
        .env_remove("RUST_LOG");
    tokio::task::spawn_blocking(move || cmd.output().expect("qrpay runs"))
        .await
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The events of payment `id` (its refunds' included), in the order they were written.
async fn events_of(app: &TestApp, id: &str) -> Vec<String> {
    let payloads = outbox::payloads(&app.db).await.unwrap();
    states(app)
        .await
        .into_iter()
        .zip(payloads)
        .filter(|(_, p)| {
            let v: serde_json::Value = serde_json::from_str(p).unwrap();
            v["payment"]["id"] == id || v["refund"]["payment_id"] == id
        })
        .map(|(s, _)| s.event_id)
        .collect()
}

fn ids(states: &[OutboxState]) -> HashSet<String> {
    states.iter().map(|s| s.event_id.clone()).collect()
}

/// The ids of the messages of `watched` that arrive, in order: waits until `count` came, then
/// listens a little longer for any more.
async fn arrivals(sub: &mut Subscriber, watched: &HashSet<String>, count: usize) -> Vec<String> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut linger = Instant::now() + Duration::from_secs(3600);
    while Instant::now() < linger.min(deadline) {
        let left = linger
            .min(deadline)
            .saturating_duration_since(Instant::now());
        if let Some(m) = sub.next(left).await {
            let id = m.unwrap().message_id.unwrap_or_default();
            if watched.contains(&id) {
                got.push(id);
            }
        }
        if got.len() >= count && linger > deadline {
            linger = Instant::now() + Duration::from_millis(500);
        }
    }
    assert!(got.len() >= count, "only {} of {count} arrived", got.len());
    got
}

fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

async fn replay_republishes_the_chosen_events_with_their_message_ids(app: TestApp, amqp: String) {
    set_url(&app, Some(&amqp)).await;
    let start = Utc::now() - chrono::Duration::seconds(1);
    // One event no queue is bound for (a key of three words: no test binds such a pattern).
    let key = format!("test.replay.{}", qrpay::domain::new_public_id());
    let unbound = synthetic_events_with_key(&app, 1, &key).await;
    let first = app.paid_payment(1000).await;
    app.refund(&first, json!({"amount": 300})).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let middle = Utc::now();
    let second = app.create_payment(500).await;
    let second = second["id"].as_str().unwrap().to_owned();
    app.cancel(&second).await;
    drain(&mut relay(&app), &app).await;
    // The consumer lost its queue: a new one sees only what is published from now on.
    let mut sub = Subscriber::bind_keys(&amqp, &["payment.*", "refund.*"])
        .await
        .unwrap();
    let all: HashSet<String> = &ids(&states(&app).await) - &unbound;
    assert_eq!(all.len(), 6);

    // One payment's events, in the order they were written, with the same message ids.
    let of_first = events_of(&app, &first).await;
    assert_eq!(
        of_first.len(),
        4,
        "created, paid, refund created and completed"
    );
    let out = replay(&app, &["--from", &at(start), "--payment", &first]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("re-published 4 events of payment {first} written")),
        "{}",
        stdout(&out)
    );
    let got = arrivals(&mut sub, &all, 4).await;
    assert_eq!(got, of_first, "only that payment's, each once, in order");

    // A time window: what was written from `middle` on is the second payment's.
    let window = replay(&app, &["--from", &at(middle), "--to", &at(Utc::now())]).await;
    assert!(window.status.success(), "{}", stderr(&window));
    assert!(stdout(&window).contains("re-published 2 events written"));
    let got = arrivals(&mut sub, &all, 2).await;
    assert_eq!(got, events_of(&app, &second).await);

    // Events still waiting are the relay's: a replay does not publish them ahead of it.
    let store = store_id(&app).await;
    let waiting = qrpay::domain::new_public_id();
    let mut tx = app.db.begin().await.unwrap();
    let payload = json!({"payment": {"id": first}}).to_string();
    insert_outbox(
        &mut tx,
        &NewOutbox {
            event_id: &waiting,
            store_id: store,
            till_id: None,
            routing_key: "payment.paid",
            payload: &payload,
            at: qrpay::db::now(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let everything = replay(&app, &["--from", &at(start), "--store", "main"]).await;
    assert!(everything.status.success(), "{}", stderr(&everything));
    let text = stdout(&everything);
    assert!(text.contains("re-published 7 of 7 events"), "{text}");
    assert!(
        text.contains("1 not published yet are left to the relay"),
        "{text}"
    );
    let mut watched = all.clone();
    watched.insert(waiting.clone());
    let got = arrivals(&mut sub, &watched, 6).await;
    assert_eq!(got.len(), 6, "each once, and not the waiting one");
    assert!(!got.contains(&waiting));
    // The unbound event was kept twice in the unrouted queue: by the relay and by the replay.
    let wanted = unbound.clone();
    let mut kept = Subscriber::unrouted(&amqp, &Topology::default(), move |m| {
        m.message_id.as_ref().is_some_and(|id| wanted.contains(id))
    })
    .await
    .unwrap();
    let copies = collect(&mut kept, &unbound, Duration::from_millis(500)).await;
    assert_eq!(copies.len(), 2);
    // No lapin dumps on stderr, whatever the broker does with the messages.
    let log = stderr(&everything) + &stderr(&out) + &stderr(&window);
    assert!(!log.contains("Server returned us a message"), "{log}");
}

async fn replay_refuses_bad_input_and_a_store_without_a_broker(app: TestApp) {
    let id = app.paid_payment(1000).await;
    let now = Utc::now();
    let hour = chrono::Duration::hours(1);
    let cases: [(Vec<String>, &str); 6] = [
        (
            vec!["--from".into(), "yesterday".into()],
            "like 2026-12-03T10:00:00+03:00",
        ),
        (vec!["--from".into(), "2026-12-03 10:00".into()], "RFC 3339"),
        (vec!["--from".into(), at(now + hour)], "is in the future"),
        (
            vec![
                "--from".into(),
                at(now - hour),
                "--to".into(),
                at(now - hour * 2),
            ],
            "is not after --from",
        ),
        (
            vec![
                "--from".into(),
                at(now - hour),
                "--payment".into(),
                "nope".into(),
            ],
            "no payment nope",
        ),
        (
            vec![
                "--from".into(),
                at(now - hour),
                "--store".into(),
                "nope".into(),
            ],
            "nope",
        ),
    ];
    for (args, says) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = replay(&app, &args).await;
        assert!(!out.status.success(), "{args:?}: {}", stdout(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    // Published events of a store with no broker (and no QRPAY_AMQP_URL): nothing is sent.
    let rows = outbox::next_batch(&app.db, store_id(&app).await, 100)
        .await
        .unwrap();
    let sent: Vec<i64> = rows.iter().map(|r| r.outbox_id).collect();
    outbox::mark_sent(&app.db, &sent, qrpay::db::now())
        .await
        .unwrap();
    let out = replay(&app, &["--from", &at(now - hour), "--payment", &id]).await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("store main has 2 events to replay but no RabbitMQ server"),
        "{}",
        stderr(&out)
    );
    // Nothing in the window is not an error.
    let out = replay(
        &app,
        &["--from", &at(now - hour * 3), "--to", &at(now - hour * 2)],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("no events written"),
        "{}",
        stdout(&out)
    );
}
