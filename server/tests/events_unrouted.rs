//! Events no queue is bound for are kept in `qrpay.events.unrouted`, never dropped: through the
//! alternate exchange, and on a broker where an older qrpay declared `qrpay.events` without it
//! (qrpay then re-publishes what the broker returns). The cases that shape the broker use
//! exchanges of their own (`Topology::named`) and remove them at the end.

use crate::events::{
    collect, drain, relay_config, set_url, setup, states, synthetic_events_with_key, with_broker,
};
use crate::helpers::TestApp;
use lapin::options::{ExchangeDeclareOptions, ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};
use qrpay::events::broker::{Publisher, Received, Subscriber, Unrouted};
use qrpay::events::{Relay, RelayConfig, Topology};
use std::collections::HashSet;
use std::time::Duration;

with_broker!(
    an_event_no_queue_is_bound_for_lands_in_the_unrouted_queue,
    with_the_alternate_exchange_the_broker_keeps_unrouted_events_with_their_routing_key,
    an_exchange_declared_without_the_alternate_exchange_still_keeps_every_event,
);

/// A key of three words: no test binds a pattern that matches it (`payment.*` takes one word).
fn unbound_key() -> String {
    format!("test.unrouted.{}", qrpay::domain::new_public_id())
}

/// Exchanges and a queue of this test's own, removed by [`Scratch::remove`].
struct Scratch {
    topology: Topology,
    conn: Connection,
    channel: Channel,
}

impl Scratch {
    async fn new(amqp: &str) -> Self {
        let name = format!("qrpay.test.{}", qrpay::domain::new_public_id());
        let conn = Connection::connect(amqp, ConnectionProperties::default())
            .await
            .unwrap();
        let channel = conn.create_channel().await.unwrap();
        Self {
            topology: Topology::named(&name),
            conn,
            channel,
        }
    }

    /// Declares the exchange as qrpay did before it had an alternate exchange.
    async fn declare_as_an_older_qrpay(&self) {
        self.channel
            .exchange_declare(
                self.topology.exchange.as_str().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
    }

    async fn delete_unrouted_queue(&self) {
        self.channel
            .queue_delete(
                self.topology.unrouted.as_str().into(),
                QueueDeleteOptions::default(),
            )
            .await
            .unwrap();
    }

    fn relay(&self, app: &TestApp) -> Relay {
        let config = RelayConfig {
            topology: self.topology.clone(),
            ..relay_config()
        };
        Relay::new(app.db.clone(), config, app.events.clone())
    }

    async fn remove(self) {
        let t = &self.topology;
        let _ = self
            .channel
            .queue_delete(t.unrouted.as_str().into(), QueueDeleteOptions::default())
            .await;
        for exchange in [&t.exchange, &t.unrouted] {
            let _ = self
                .channel
                .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                .await;
        }
        let _ = self.conn.close(200, "bye".into()).await;
    }
}

/// Takes from the unrouted queue of `topology` the messages of `ids`, leaving the others there.
async fn unrouted(amqp: &str, topology: &Topology, ids: &HashSet<String>) -> Subscriber {
    let wanted = ids.clone();
    Subscriber::unrouted(amqp, topology, move |m: &Received| {
        m.message_id.as_ref().is_some_and(|id| wanted.contains(id))
    })
    .await
    .unwrap()
}

fn ids_of(received: &[Received]) -> Vec<String> {
    received
        .iter()
        .map(|m| m.message_id.clone().unwrap())
        .collect()
}

async fn an_event_no_queue_is_bound_for_lands_in_the_unrouted_queue(app: TestApp, amqp: String) {
    // The real names: on a fresh broker through the alternate exchange, on one where an older
    // qrpay declared qrpay.events through qrpay's re-publishing; kept either way.
    set_url(&app, Some(&amqp)).await;
    let key = unbound_key();
    let ids = synthetic_events_with_key(&app, 5, &key).await;
    drain(&mut crate::events::relay(&app), &app).await;
    assert!(states(&app).await.iter().all(|s| s.attempts == 1));
    let mut kept = unrouted(&amqp, &Topology::default(), &ids).await;
    let received = collect(&mut kept, &ids, Duration::from_millis(200)).await;
    assert_eq!(received.len(), 5, "each event once");
    for m in &received {
        assert_eq!(m.body["event_id"].as_str(), m.message_id.as_deref());
        assert_eq!(m.delivery_mode, Some(2), "persistent");
    }
}

async fn with_the_alternate_exchange_the_broker_keeps_unrouted_events_with_their_routing_key(
    app: TestApp,
    amqp: String,
) {
    let scratch = Scratch::new(&amqp).await;
    let t = scratch.topology.clone();
    let probe = Publisher::connect(&amqp, &t).await.unwrap();
    assert_eq!(probe.unrouted(), &Unrouted::AlternateExchange);
    probe.close().await;
    let mut listener = Subscriber::bind_to(&amqp, &t, &["payment.paid"])
        .await
        .unwrap();
    set_url(&app, Some(&amqp)).await;
    let key = unbound_key();
    let lost = synthetic_events_with_key(&app, 5, &key).await;
    let routed = synthetic_events_with_key(&app, 3, "payment.paid").await;
    drain(&mut scratch.relay(&app), &app).await;

    let got = collect(&mut listener, &routed, Duration::from_millis(200)).await;
    assert_eq!(got.len(), 3, "bound events reach their queue as before");
    let everything: HashSet<String> = lost.union(&routed).cloned().collect();
    let mut kept = unrouted(&amqp, &t, &everything).await;
    let received = collect(&mut kept, &lost, Duration::from_millis(300)).await;
    assert_eq!(
        ids_of(&received).into_iter().collect::<HashSet<_>>(),
        lost,
        "only the unbound events are in the unrouted queue, each once"
    );
    assert!(received.iter().all(|m| m.routing_key == key));
    assert_eq!(
        app.events.unroutable_total(),
        0,
        "the broker kept them itself"
    );
    scratch.remove().await;
}

async fn an_exchange_declared_without_the_alternate_exchange_still_keeps_every_event(
    app: TestApp,
    amqp: String,
) {
    let scratch = Scratch::new(&amqp).await;
    let t = scratch.topology.clone();
    scratch.declare_as_an_older_qrpay().await;
    let probe = Publisher::connect(&amqp, &t).await.unwrap();
    match probe.unrouted() {
        Unrouted::Republished { refused } => {
            assert!(refused.contains("alternate-exchange"), "{refused}")
        }
        other => panic!("the broker accepted a changed declaration: {other:?}"),
    }
    probe.close().await;
    let mut listener = Subscriber::bind_to(&amqp, &t, &["payment.paid"])
        .await
        .unwrap();
    set_url(&app, Some(&amqp)).await;
    let mut relay = scratch.relay(&app);
    let key = unbound_key();
    let lost = synthetic_events_with_key(&app, 5, &key).await;
    let routed = synthetic_events_with_key(&app, 3, "payment.paid").await;
    drain(&mut relay, &app).await;
    let got = collect(&mut listener, &routed, Duration::from_millis(200)).await;
    assert_eq!(got.len(), 3);
    assert_eq!(
        app.events.unroutable_total(),
        5,
        "returned and re-published"
    );
    assert!(states(&app).await.iter().all(|s| s.attempts == 1));
    let mut kept = unrouted(&amqp, &t, &lost).await;
    let received = collect(&mut kept, &lost, Duration::from_millis(300)).await;
    assert_eq!(
        ids_of(&received).into_iter().collect::<HashSet<_>>(),
        lost,
        "only the unbound events are in the unrouted queue, each once"
    );
    drop(kept);

    // The queue disappears under the connected relay: events are not marked sent, and go to
    // the queue once the relay has declared it again.
    scratch.delete_unrouted_queue().await;
    let later = synthetic_events_with_key(&app, 2, &key).await;
    let report = relay.step().await.unwrap();
    assert_eq!((report.published, report.failed_stores), (0, 1));
    let held: Vec<_> = states(&app)
        .await
        .into_iter()
        .filter(|s| later.contains(&s.event_id))
        .collect();
    assert!(held.iter().all(|s| s.sent_at.is_none()), "{held:?}");
    assert!(
        held[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("no queue")),
        "{held:?}"
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    drain(&mut relay, &app).await;
    let mut kept = unrouted(&amqp, &t, &later).await;
    let received = collect(&mut kept, &later, Duration::from_millis(300)).await;
    assert_eq!(ids_of(&received).into_iter().collect::<HashSet<_>>(), later);
    assert!(
        received.iter().all(|m| m.body["type"] == "payment.paid"),
        "the body is the event as written"
    );
    scratch.remove().await;
}
