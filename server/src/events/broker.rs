//! The RabbitMQ side (lapin): a publisher with confirms for the relay, and a subscriber with its
//! own exclusive queue for `qrpay events tail` and the tests.

use super::EXCHANGE;
use super::outbox::properties;
use crate::db::outbox::OutboxRow;
use crate::domain::amqp_url::redact;
use futures::StreamExt;
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind};
use std::time::{Duration, Instant};

/// How long connecting (TCP + AMQP handshake) may take before the broker counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

async fn connect(url: &str, name: &str) -> Result<(Connection, Channel), String> {
    let props = ConnectionProperties::default().with_connection_name(name.into());
    let conn = tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect(url, props))
        .await
        .map_err(|_| format!("no answer from {} within 5 s", redact(url)))?
        .map_err(|e| format!("cannot connect to {}: {e}", redact(url)))?;
    let channel = conn
        .create_channel()
        .await
        .map_err(|e| format!("cannot open a channel: {e}"))?;
    channel
        .exchange_declare(
            EXCHANGE.into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(|e| format!("cannot declare the exchange {EXCHANGE}: {e}"))?;
    Ok((conn, channel))
}

/// A connection and a confirm-mode channel to one broker.
pub struct Publisher {
    conn: Connection,
    channel: Channel,
}

/// What became of a batch: the broker acknowledged the first `acked` messages; if that is not all
/// of them, `error` says why the rest failed. Unroutable messages count as acknowledged (the broker
/// took them; nobody listens for that key) and are listed so the relay can log them.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub acked: usize,
    pub error: Option<String>,
    pub unroutable: Vec<usize>,
}

impl Publisher {
    pub async fn connect(url: &str) -> Result<Self, String> {
        let (conn, channel) = connect(url, "qrpay outbox relay").await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| format!("cannot enable publisher confirms: {e}"))?;
        Ok(Self { conn, channel })
    }

    pub fn is_open(&self) -> bool {
        self.conn.status().connected() && self.channel.status().connected()
    }

    /// Publishes the rows in order (mandatory, so unroutable messages come back), then waits for
    /// all the confirms at once: one round trip per batch instead of one per message.
    pub async fn publish_batch(
        &self,
        rows: &[OutboxRow],
        confirm_timeout: Duration,
    ) -> BatchOutcome {
        let mut pending = Vec::with_capacity(rows.len());
        let mut error = None;
        for row in rows {
            let published = self
                .channel
                .basic_publish(
                    EXCHANGE.into(),
                    row.routing_key.as_str().into(),
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
        let deadline = Instant::now() + confirm_timeout;
        let mut outcome = BatchOutcome::default();
        for (i, confirm) in pending.into_iter().enumerate() {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, confirm).await {
                Ok(Ok(Confirmation::Ack(returned))) => {
                    if returned.is_some() {
                        outcome.unroutable.push(i);
                    }
                    outcome.acked += 1;
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
        if outcome.acked < rows.len() {
            outcome.error =
                Some(error.unwrap_or_else(|| "the broker did not confirm every message".into()));
        }
        outcome
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

/// A consumer on its own exclusive, auto-deleted queue bound to `qrpay.events`.
pub struct Subscriber {
    _conn: Connection,
    consumer: lapin::Consumer,
}

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
        let (conn, channel) = connect(url, "qrpay events tail").await?;
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
        for key in keys {
            channel
                .queue_bind(
                    queue.name().clone(),
                    EXCHANGE.into(),
                    (*key).into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(|e| format!("cannot bind the queue to {EXCHANGE}: {e}"))?;
        }
        let consumer = channel
            .basic_consume(
                queue.name().clone(),
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
            consumer,
        })
    }

    /// The next message, or `None` when none comes within `wait` (or the connection closed).
    pub async fn next(&mut self, wait: Duration) -> Option<Result<Received, String>> {
        let delivery = match tokio::time::timeout(wait, self.consumer.next()).await {
            Ok(Some(Ok(d))) => d,
            Ok(Some(Err(e))) => return Some(Err(format!("consumer failed: {e}"))),
            Ok(None) | Err(_) => return None,
        };
        let p = &delivery.properties;
        let body = serde_json::from_slice(&delivery.data).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&delivery.data).into_owned())
        });
        Some(Ok(Received {
            routing_key: delivery.routing_key.to_string(),
            message_id: p.message_id().as_ref().map(|s| s.to_string()),
            content_type: p.content_type().as_ref().map(|s| s.to_string()),
            delivery_mode: *p.delivery_mode(),
            timestamp: *p.timestamp(),
            store_id: header_int(p.headers(), "store_id"),
            till_id: header_int(p.headers(), "till_id"),
            body,
        }))
    }
}
