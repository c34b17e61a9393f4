//! The RabbitMQ side (lapin): the exchanges and the queue qrpay declares, a publisher with
//! confirms for the relay and the replay, and a subscriber with its own exclusive queue for
//! `qrpay events tail` and the tests.
//!
//! An event no binding takes must be kept, never dropped: `qrpay.events` is declared with the
//! alternate exchange `qrpay.events.unrouted` (fanout), whose durable queue of the same name keeps
//! it. A broker where an older qrpay declared `qrpay.events` without that argument refuses the new
//! declaration (406 PRECONDITION_FAILED); there qrpay publishes `mandatory`, and each event the
//! broker returns is re-published straight to the queue, with confirms, before it counts as sent.

use super::Topology;
use super::outbox::properties;
use crate::db::outbox::OutboxRow;
use crate::domain::amqp_url::redact;
use futures::StreamExt;
use lapin::options::{
    BasicConsumeOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Confirmation, Connection, ConnectionProperties, ErrorKind, ExchangeKind};
use std::time::{Duration, Instant};

/// How long connecting (TCP + AMQP handshake) may take before the broker counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How the broker keeps the events no binding of the exchange takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unrouted {
    /// The exchange has its alternate exchange: the broker puts them in the queue itself.
    AlternateExchange,
    /// The exchange was declared earlier without it (`refused` is the broker's answer to the
    /// new declaration): the broker returns them and qrpay re-publishes each to the queue.
    Republished { refused: String },
}

/// True for the broker's 406 PRECONDITION_FAILED (a declaration that differs from the existing
/// object's); the broker closes the channel after it.
fn precondition_failed(e: &lapin::Error) -> bool {
    matches!(e.kind(), ErrorKind::ProtocolError(err) if err.get_id() == 406)
}

async fn open_channel(conn: &Connection) -> Result<Channel, String> {
    conn.create_channel()
        .await
        .map_err(|e| format!("cannot open a channel: {e}"))
}

const DURABLE: ExchangeDeclareOptions = ExchangeDeclareOptions {
    passive: false,
    durable: true,
    auto_delete: false,
    internal: false,
    nowait: false,
};

/// Declares the alternate exchange, its queue and the topic exchange; returns a usable channel
/// (a refused declaration closes the one it came on) and how unrouted events are kept.
pub async fn declare(conn: &Connection, t: &Topology) -> Result<(Channel, Unrouted), String> {
    let mut channel = open_channel(conn).await?;
    channel
        .exchange_declare(
            t.unrouted.as_str().into(),
            ExchangeKind::Fanout,
            DURABLE,
            FieldTable::default(),
        )
        .await
        .map_err(|e| format!("cannot declare the exchange {}: {e}", t.unrouted))?;
    let queue = channel
        .queue_declare(
            t.unrouted.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await;
    if let Err(e) = queue {
        // The operator made the queue with arguments of their own (a quorum queue, a length
        // limit): theirs is kept as it is.
        if !precondition_failed(&e) {
            return Err(format!("cannot declare the queue {}: {e}", t.unrouted));
        }
        channel = open_channel(conn).await?;
        channel
            .queue_declare(
                t.unrouted.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| format!("cannot use the queue {}: {e}", t.unrouted))?;
    }
    channel
        .queue_bind(
            t.unrouted.as_str().into(),
            t.unrouted.as_str().into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| {
            format!(
                "cannot bind the queue {0} to the exchange {0}: {e}",
                t.unrouted
            )
        })?;
    let mut args = FieldTable::default();
    args.insert(
        "alternate-exchange".into(),
        AMQPValue::LongString(t.unrouted.as_str().into()),
    );
    let declared = channel
        .exchange_declare(
            t.exchange.as_str().into(),
            ExchangeKind::Topic,
            DURABLE,
            args,
        )
        .await;
    match declared {
        Ok(()) => Ok((channel, Unrouted::AlternateExchange)),
        Err(e) if precondition_failed(&e) => {
            let channel = open_channel(conn).await?;
            channel
                .exchange_declare(
                    t.exchange.as_str().into(),
                    ExchangeKind::Topic,
                    ExchangeDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    FieldTable::default(),
                )
                .await
                .map_err(|e| format!("cannot use the exchange {}: {e}", t.exchange))?;
            let refused = match e.kind() {
                ErrorKind::ProtocolError(err) => err.get_message().to_string(),
                _ => e.to_string(),
            };
            Ok((channel, Unrouted::Republished { refused }))
        }
        Err(e) => Err(format!("cannot declare the exchange {}: {e}", t.exchange)),
    }
}

/// The one line that tells the operator of a broker where `Unrouted::Republished` holds what
/// happens and how to let the broker keep unroutable events by itself.
pub fn republish_advice(url: &str, t: &Topology, refused: &str) -> String {
    let vhost = url
        .parse::<lapin::uri::AMQPUri>()
        .map(|u| u.vhost)
        .unwrap_or_else(|_| "/".into());
    let pattern = format!("^{}$", t.exchange.replace('.', "\\."));
    format!(
        "the exchange {ex} on {broker} exists without the alternate exchange {un} (declared by an \
         older qrpay; the broker said: {refused}); qrpay itself puts every event the broker returns \
         unroutable into the queue {un}, so none is lost. To let the broker do it, add a policy: \
         rabbitmqctl set_policy -p '{vhost}' --apply-to exchanges qrpay-events-unrouted \
         '{pattern}' '{{\"alternate-exchange\":\"{un}\"}}' (or delete the exchange {ex}: qrpay \
         declares it again, and consumers bind their queues again); ignore this if such a policy \
         is already set",
        ex = t.exchange,
        un = t.unrouted,
        broker = redact(url),
    )
}

/// Whether the broker at `url` has the exchange `exchange` (a passive declaration, which
/// changes nothing); `Err` when the broker cannot be reached.
pub async fn exchange_exists(url: &str, exchange: &str) -> Result<bool, String> {
    let conn = connect(url, "qrpay doctor").await?;
    let channel = open_channel(&conn).await?;
    let passive = ExchangeDeclareOptions {
        passive: true,
        ..DURABLE
    };
    let found = channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            passive,
            FieldTable::default(),
        )
        .await;
    let _ = conn.close(200, "doctor done".into()).await;
    match found {
        Ok(()) => Ok(true),
        Err(e) if matches!(e.kind(), ErrorKind::ProtocolError(err) if err.get_id() == 404) => {
            Ok(false)
        }
        Err(e) => Err(format!("the broker refused the check: {e}")),
    }
}

async fn connect(url: &str, name: &str) -> Result<Connection, String> {
    let props = ConnectionProperties::default().with_connection_name(name.into());
    tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect(url, props))
        .await
        .map_err(|_| format!("no answer from {} within 5 s", redact(url)))?
        .map_err(|e| format!("cannot connect to {}: {e}", redact(url)))
}

/// A connection and a confirm-mode channel to one broker.
pub struct Publisher {
    conn: Connection,
    channel: Channel,
    topology: Topology,
    unrouted: Unrouted,
}

/// What became of a batch: the broker acknowledged the first `acked` messages; if that is not all
/// of them, `error` says why the rest failed. `kept_unrouted` lists the acknowledged messages
/// that no binding took, which the broker returned and qrpay put in the unrouted queue itself.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub acked: usize,
    pub error: Option<String>,
    pub kept_unrouted: Vec<usize>,
}

/// Confirms of one round of publishes: the first `acked` were acknowledged, `returned` of them
/// (indexes) came back unroutable.
struct Confirmed {
    acked: usize,
    returned: Vec<usize>,
    error: Option<String>,
}

impl Publisher {
    /// Connects and declares `topology` (see [`declare`]).
    pub async fn connect(url: &str, topology: &Topology) -> Result<Self, String> {
        let conn = connect(url, "qrpay outbox relay").await?;
        let (channel, unrouted) = declare(&conn, topology).await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| format!("cannot enable publisher confirms: {e}"))?;
        Ok(Self {
            conn,
            channel,
            topology: topology.clone(),
            unrouted,
        })
    }

    pub fn is_open(&self) -> bool {
        self.conn.status().connected() && self.channel.status().connected()
    }

    /// How this broker keeps the events no binding takes.
    pub fn unrouted(&self) -> &Unrouted {
        &self.unrouted
    }

    /// Publishes the rows in order (mandatory, so unroutable messages come back), then waits for
    /// all the confirms at once: one round trip per batch instead of one per message. Messages
    /// the broker returned are re-published to the unrouted queue (through the default exchange)
    /// and count as acknowledged only once that is confirmed.
    pub async fn publish_batch(
        &self,
        rows: &[OutboxRow],
        confirm_timeout: Duration,
    ) -> BatchOutcome {
        let exchange = self.topology.exchange.as_str();
        let first = self
            .publish(
                rows.iter().map(|r| (exchange, r.routing_key.as_str(), r)),
                confirm_timeout,
            )
            .await;
        let mut outcome = BatchOutcome {
            acked: first.acked,
            error: first.error,
            kept_unrouted: Vec::new(),
        };
        if first.returned.is_empty() {
            return outcome;
        }
        let queue = self.topology.unrouted.as_str();
        let again = self
            .publish(
                first.returned.iter().map(|&i| ("", queue, &rows[i])),
                confirm_timeout,
            )
            .await;
        // The first returned row the queue did not take ends the acknowledged prefix: it and
        // everything after it go out again later (duplicates, never a loss).
        let lost =
            (0..first.returned.len()).find(|j| *j >= again.acked || again.returned.contains(j));
        match lost {
            None => outcome.kept_unrouted = first.returned,
            Some(j) => {
                outcome.acked = first.returned[j];
                outcome.kept_unrouted = first.returned[..j].to_vec();
                outcome.error = Some(again.error.unwrap_or_else(|| {
                    format!("the broker has no queue {queue} to keep an unroutable event in")
                }));
            }
        }
        outcome
    }

    async fn publish<'r>(
        &self,
        messages: impl Iterator<Item = (&str, &str, &'r OutboxRow)>,
        confirm_timeout: Duration,
    ) -> Confirmed {
        let mut pending = Vec::new();
        let mut error = None;
        for (exchange, routing_key, row) in messages {
            let published = self
                .channel
                .basic_publish(
                    exchange.into(),
                    routing_key.into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..Default::default()
                    },
                    row.payload.as_bytes(),
                    properties(row),
                )
                .await;
            match published {
                Ok(confirm) => pending.push(confirm),
                Err(e) => {
                    error = Some(format!("publish failed: {e}"));
                    break;
                }
            }
        }
        let wanted = pending.len() + usize::from(error.is_some());
        let deadline = Instant::now() + confirm_timeout;
        let mut out = Confirmed {
            acked: 0,
            returned: Vec::new(),
            error: None,
        };
        for (i, confirm) in pending.into_iter().enumerate() {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, confirm).await {
                Ok(Ok(Confirmation::Ack(returned))) => {
                    if returned.is_some() {
                        out.returned.push(i);
                    }
                    out.acked += 1;
                }
                Ok(Ok(Confirmation::NotRequested)) => {
                    error = Some("BUG: the channel is not in confirm mode".into());
                    break;
                }
                Ok(Ok(Confirmation::Nack(_))) => {
                    error = Some("the broker refused the message (nack)".into());
                    break;
                }
                Ok(Err(e)) => {
                    error = Some(format!("no confirm: {e}"));
                    break;
                }
                Err(_) => {
                    error = Some(format!(
                        "no confirm within {} s",
                        confirm_timeout.as_secs_f32()
                    ));
                    break;
                }
            }
        }
        if out.acked < wanted {
            out.error =
                Some(error.unwrap_or_else(|| "the broker did not confirm every message".into()));
        }
        out
    }

    pub async fn close(self) {
        let _ = self.conn.close(200, "bye".into()).await;
    }
}

/// A message as a consumer received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub routing_key: String,
    pub message_id: Option<String>,
    pub content_type: Option<String>,
    pub delivery_mode: Option<u8>,
    pub timestamp: Option<u64>,
    pub store_id: Option<i64>,
    pub till_id: Option<i64>,
    pub body: serde_json::Value,
}

/// Which of the unrouted queue's messages a [`Subscriber`] takes; the others stay in the queue.
type Wanted = Box<dyn Fn(&Received) -> bool + Send + Sync>;

/// A consumer: on its own exclusive, auto-deleted queue bound to the exchange, or on the shared
/// unrouted queue, where it takes only the messages it wants and leaves the rest there.
pub struct Subscriber {
    _conn: Connection,
    channel: Channel,
    source: Source,
}

enum Source {
    /// The broker pushes every message of the subscriber's own queue.
    Own(lapin::Consumer),
    /// The shared unrouted queue is read by `basic_get`, only while [`Subscriber::next`] runs:
    /// a pushing consumer would hold (unacknowledged, in its buffer) messages other readers of
    /// the queue are waiting for whenever its owner is busy elsewhere.
    Shared { queue: String, wanted: Wanted },
}

/// How long a reader of the shared queue waits before looking through it again.
const SHARED_POLL: Duration = Duration::from_millis(20);

fn header_int(headers: &Option<FieldTable>, name: &str) -> Option<i64> {
    match headers.as_ref()?.inner().get(name)? {
        AMQPValue::LongLongInt(v) => Some(*v),
        AMQPValue::LongInt(v) => Some(i64::from(*v)),
        _ => None,
    }
}

impl Subscriber {
    /// Binds a fresh queue with the routing-key pattern `key` (`#` for everything,
    /// `payment.*`, `refund.completed`, ...).
    pub async fn bind(url: &str, key: &str) -> Result<Self, String> {
        Self::bind_keys(url, &[key]).await
    }

    /// Like [`Subscriber::bind`], with several routing-key patterns on the one queue.
    pub async fn bind_keys(url: &str, keys: &[&str]) -> Result<Self, String> {
        Self::bind_to(url, &Topology::default(), keys).await
    }

    /// Like [`Subscriber::bind_keys`], on the exchange of `topology`.
    pub async fn bind_to(url: &str, topology: &Topology, keys: &[&str]) -> Result<Self, String> {
        let conn = connect(url, "qrpay events tail").await?;
        let (channel, _) = declare(&conn, topology).await?;
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| format!("cannot declare a queue: {e}"))?;
        let exchange = &topology.exchange;
        for key in keys {
            channel
                .queue_bind(
                    queue.name().clone(),
                    exchange.as_str().into(),
                    (*key).into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(|e| format!("cannot bind the queue to {exchange}: {e}"))?;
        }
        Self::consume(conn, channel, queue.name().as_str()).await
    }

    /// Consumes the unrouted queue of `topology`, taking (and acknowledging) only the messages
    /// `wanted` accepts; the others go back to the queue for whoever wants them.
    pub async fn unrouted(
        url: &str,
        topology: &Topology,
        wanted: impl Fn(&Received) -> bool + Send + Sync + 'static,
    ) -> Result<Self, String> {
        let conn = connect(url, "qrpay events unrouted").await?;
        let (channel, _) = declare(&conn, topology).await?;
        Ok(Self {
            _conn: conn,
            channel,
            source: Source::Shared {
                queue: topology.unrouted.clone(),
                wanted: Box::new(wanted),
            },
        })
    }

    async fn consume(conn: Connection, channel: Channel, queue: &str) -> Result<Self, String> {
        let consumer = channel
            .basic_consume(
                queue.into(),
                "".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| format!("cannot consume: {e}"))?;
        Ok(Self {
            _conn: conn,
            channel,
            source: Source::Own(consumer),
        })
    }

    /// The next message, or `None` when none comes within `wait` (or the connection closed).
    pub async fn next(&mut self, wait: Duration) -> Option<Result<Received, String>> {
        let deadline = Instant::now() + wait;
        match &mut self.source {
            Source::Own(consumer) => match tokio::time::timeout(wait, consumer.next()).await {
                Ok(Some(Ok(d))) => Some(Ok(received(&d))),
                Ok(Some(Err(e))) => Some(Err(format!("consumer failed: {e}"))),
                Ok(None) | Err(_) => None,
            },
            Source::Shared { queue, wanted } => loop {
                match take_wanted(&self.channel, queue, wanted).await {
                    Ok(Some(r)) => return Some(Ok(r)),
                    Ok(None) if Instant::now() >= deadline => return None,
                    Ok(None) => tokio::time::sleep(SHARED_POLL).await,
                    Err(e) => return Some(Err(e)),
                }
            },
        }
    }
}

/// Looks through the shared queue once: the first message `wanted` accepts is acknowledged and
/// returned; the ones passed over go back to the queue, in their order, when the look ends.
async fn take_wanted(
    channel: &Channel,
    queue: &str,
    wanted: &Wanted,
) -> Result<Option<Received>, String> {
    let mut passed = None;
    let mut found = None;
    while let Some(m) = channel
        .basic_get(queue.into(), BasicGetOptions { no_ack: false })
        .await
        .map_err(|e| format!("cannot read {queue}: {e}"))?
    {
        let r = received(&m.delivery);
        let tag = m.delivery.delivery_tag;
        if wanted(&r) {
            channel
                .basic_ack(tag, Default::default())
                .await
                .map_err(|e| format!("cannot acknowledge: {e}"))?;
            found = Some(r);
            break;
        }
        passed = Some(tag);
    }
    if let Some(last) = passed {
        let all_before = BasicNackOptions {
            multiple: true,
            requeue: true,
        };
        channel
            .basic_nack(last, all_before)
            .await
            .map_err(|e| format!("cannot give messages back: {e}"))?;
    }
    Ok(found)
}

fn received(delivery: &lapin::message::Delivery) -> Received {
    let p = &delivery.properties;
    let body = serde_json::from_slice(&delivery.data).unwrap_or_else(|_| {
        serde_json::Value::String(String::from_utf8_lossy(&delivery.data).into_owned())
    });
    Received {
        routing_key: delivery.routing_key.to_string(),
        message_id: p.message_id().as_ref().map(|s| s.to_string()),
        content_type: p.content_type().as_ref().map(|s| s.to_string()),
        delivery_mode: *p.delivery_mode(),
        timestamp: *p.timestamp(),
        store_id: header_int(p.headers(), "store_id"),
        till_id: header_int(p.headers(), "till_id"),
        body,
    }
}
