//! `qrpay events replay`: publishes events again from the outbox (published ones are kept
//! `QRPAY_OUTBOX_RETENTION_DAYS`, 7 by default) for a consumer that lost its queue. The messages
//! are the ones first published — same `message_id`, body and headers — so a consumer that saw
//! some of them drops the duplicates. Events still waiting in the outbox are left to the relay.

use super::Topology;
use super::broker::{Publisher, Unrouted, republish_advice};
use crate::db::Db;
use crate::db::outbox::{self as repo, ReplayRange};
use crate::domain::AmqpUrl;
use std::collections::HashMap;
use std::time::Duration;

/// Rows published per round of confirms.
const BATCH: i64 = 500;
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);

/// What the replay did for one store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreReplay {
    pub code: String,
    /// The broker, without its password.
    pub broker: String,
    /// Events in the range that were published before (what the replay sends).
    pub matching: usize,
    /// Events published again and acknowledged by the broker.
    pub republished: usize,
    /// Of those, events no queue was bound for, kept in the unrouted queue.
    pub kept_unrouted: usize,
    /// Events in the range still waiting in the outbox: the relay publishes them.
    pub waiting: usize,
}

/// What the replay did; `error` is why it stopped early (the counts say how far it got).
#[derive(Debug, Default)]
pub struct ReplayReport {
    pub stores: Vec<StoreReplay>,
    pub error: Option<String>,
    /// The operator advice of a broker whose exchange lacks the alternate exchange.
    pub advice: Vec<String>,
}

impl ReplayReport {
    pub fn republished(&self) -> usize {
        self.stores.iter().map(|s| s.republished).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(
        "store {code} has {count} events to replay but no RabbitMQ server: set one (qrpay events url --store {code} URL) or pass --amqp-url / QRPAY_AMQP_URL"
    )]
    NoBroker { code: String, count: i64 },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Publishes again every published event in `range`, store by store, oldest first, to each
/// store's broker (`store.rabbitmq_url`, else `default_url`). Nothing is sent when a store with
/// events to replay has no broker.
pub async fn replay(
    db: &Db,
    range: &ReplayRange,
    default_url: Option<&AmqpUrl>,
    topology: &Topology,
) -> Result<ReplayReport, ReplayError> {
    let counts = repo::replay_counts(db, range).await?;
    let mut plan = Vec::new();
    for c in counts {
        let url = c.rabbitmq_url.clone().or_else(|| default_url.cloned());
        if url.is_none() && c.published > 0 {
            return Err(ReplayError::NoBroker {
                code: c.code,
                count: c.published,
            });
        }
        plan.push((c, url));
    }
    let mut replayer = Replayer {
        db,
        range,
        topology,
        publishers: HashMap::new(),
        report: ReplayReport::default(),
    };
    for (count, url) in plan {
        let mut done = StoreReplay {
            code: count.code.clone(),
            broker: url.as_ref().map_or_else(|| "-".into(), AmqpUrl::redacted),
            matching: count.published as usize,
            republished: 0,
            kept_unrouted: 0,
            waiting: count.waiting as usize,
        };
        let stopped = match url {
            Some(url) if count.published > 0 => {
                replayer.store(count.store_id, &url, &mut done).await?
            }
            _ => None,
        };
        replayer.report.stores.push(done);
        if let Some(error) = stopped {
            replayer.report.error = Some(format!("store {}: {error}", count.code));
            break;
        }
    }
    for (_, p) in replayer.publishers.drain() {
        p.close().await;
    }
    Ok(replayer.report)
}

struct Replayer<'a> {
    db: &'a Db,
    range: &'a ReplayRange,
    topology: &'a Topology,
    publishers: HashMap<AmqpUrl, Publisher>,
    report: ReplayReport,
}

impl Replayer<'_> {
    /// Publishes one store's rows; `Ok(Some(error))` when the broker failed part-way.
    async fn store(
        &mut self,
        store_id: i64,
        url: &AmqpUrl,
        done: &mut StoreReplay,
    ) -> Result<Option<String>, sqlx::Error> {
        if !self.publishers.contains_key(url) {
            match Publisher::connect(url, self.topology).await {
                Ok(p) => {
                    if let Unrouted::Republished { refused } = p.unrouted() {
                        let advice = republish_advice(url, self.topology, refused);
                        self.report.advice.push(advice);
                    }
                    self.publishers.insert(url.clone(), p);
                }
                Err(e) => return Ok(Some(e)),
            }
        }
        let publisher = self
            .publishers
            .get(url)
            .expect("BUG: the publisher was inserted above");
        let mut after = 0;
        loop {
            let rows = repo::replay_batch(self.db, self.range, store_id, after, BATCH).await?;
            let Some(last) = rows.last() else {
                return Ok(None);
            };
            after = last.outbox_id;
            let outcome = publisher.publish_batch(&rows, CONFIRM_TIMEOUT).await;
            done.republished += outcome.acked;
            done.kept_unrouted += outcome.kept_unrouted.len();
            if let Some(error) = outcome.error {
                return Ok(Some(error));
            }
        }
    }
}
