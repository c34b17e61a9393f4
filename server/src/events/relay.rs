//! The outbox relay: publishes each store's unsent outbox rows, oldest first, to the store's
//! broker (`store.rabbitmq_url`, else `QRPAY_AMQP_URL`), and marks them sent only after the ack.
//!
//! Order: a store's rows go out in `outbox_id` order, one batch at a time, by one relay at a time
//! (a per-store lease in `outbox_lease`, so several qrpay processes on one PostgreSQL never publish
//! a store's events side by side). When a batch fails part-way, only the acknowledged prefix is
//! marked sent and the rest is retried from its first row, so a payment's events never overtake
//! each other; a retried message may arrive twice (at-least-once: consumers drop duplicates by
//! `message_id`). Failures back off exponentially per store; the URL is read every step, so a
//! changed setting applies at once. Till requests only write rows: they never wait for a broker.

use super::Topology;
use super::broker::{Publisher, Unrouted, republish_advice};
use super::monitor::{BrokerState, EventsMonitor};
use crate::db::outbox::{self as repo, StoreBacklog};
use crate::db::{Db, now};
use crate::domain::AmqpUrl;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The broker for stores without their own «RabbitMQ сервер» (`QRPAY_AMQP_URL`).
    pub default_url: Option<AmqpUrl>,
    /// Rows published per batch (one round of confirms).
    pub batch: i64,
    /// Pause between steps when there was nothing to publish.
    pub idle: Duration,
    /// How long a store's publishing lease lasts; renewed while the relay works on the store.
    pub lease: Duration,
    /// How long to wait for the broker's confirms of one batch.
    pub confirm_timeout: Duration,
    /// First and longest pause after a failure (it doubles in between).
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// The exchange and the unrouted queue (tests use their own names).
    pub topology: Topology,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            default_url: None,
            batch: 500,
            idle: Duration::from_millis(20),
            lease: Duration::from_secs(15),
            confirm_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
            topology: Topology::default(),
        }
    }
}

/// What one step did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// Events the broker acknowledged (and that are now marked sent).
    pub published: usize,
    /// Stores whose publishing failed in this step (they back off).
    pub failed_stores: usize,
    /// Events waiting because their store has no broker URL.
    pub waiting_without_url: i64,
    /// Stores skipped because another relay holds their lease.
    pub leased_elsewhere: usize,
    /// True when some store had more rows than one batch: step again at once.
    pub more: bool,
}

/// Rows acknowledged by the broker whose `sent_at` is being written.
struct Marking {
    ids: Vec<i64>,
    task: tokio::task::JoinHandle<Result<(), sqlx::Error>>,
}

/// At most this many batches of a store may wait to be marked sent before the relay waits too.
const MAX_PENDING_MARKS: usize = 4;

struct Backoff {
    url: AmqpUrl,
    failures: u32,
    retry_at: Instant,
}

pub struct Relay {
    db: Db,
    config: RelayConfig,
    monitor: Arc<EventsMonitor>,
    holder: String,
    publishers: HashMap<AmqpUrl, Publisher>,
    backoff: HashMap<i64, Backoff>,
    /// Leases this relay holds, and until when it need not renew them.
    leases: HashMap<i64, Instant>,
    warned_no_url: HashMap<i64, Instant>,
    /// Brokers whose exchange lacks the alternate exchange, told to the operator once.
    warned_republish: HashSet<AmqpUrl>,
    /// When each store last logged events kept in the unrouted queue.
    logged_unrouted: HashMap<i64, Instant>,
    marks: HashMap<i64, Vec<Marking>>,
}

impl Relay {
    pub fn new(db: Db, config: RelayConfig, monitor: Arc<EventsMonitor>) -> Self {
        let holder = format!("{}-{}", std::process::id(), crate::domain::new_public_id());
        Self {
            db,
            config,
            monitor,
            holder,
            publishers: HashMap::new(),
            backoff: HashMap::new(),
            leases: HashMap::new(),
            warned_no_url: HashMap::new(),
            warned_republish: HashSet::new(),
            logged_unrouted: HashMap::new(),
            marks: HashMap::new(),
        }
    }

    /// This relay's name in `outbox_lease`.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Runs steps until `stop` is notified, then hands its leases back. Stopping mid-batch loses
    /// nothing: rows not yet marked sent go out again (duplicates carry the same `message_id`).
    pub async fn run(mut self, stop: Arc<Notify>) {
        self.monitor.set_relay_running(true);
        let stopped = stop.notified();
        tokio::pin!(stopped);
        loop {
            let pause = tokio::select! {
                _ = &mut stopped => break,
                step = self.step() => match step {
                    Ok(report) if report.more => Duration::ZERO,
                    Ok(_) => self.config.idle,
                    Err(e) => {
                        // The database is unreachable: do not spin (and log) every few ms.
                        tracing::error!(error = %e, "outbox relay step failed");
                        self.config.backoff_max.min(Duration::from_secs(1))
                    }
                },
            };
            if !pause.is_zero() {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        }
        self.monitor.set_relay_running(false);
        if let Err(e) = self.release().await {
            tracing::warn!(error = %e, "cannot hand back the outbox leases; they expire by themselves");
        }
        for (_, p) in self.publishers.drain() {
            p.close().await;
        }
    }

    /// One pass over the stores with unsent events: at most one batch per store.
    pub async fn step(&mut self) -> Result<StepReport, sqlx::Error> {
        let mut report = StepReport::default();
        let stores = repo::backlog_capped(&self.db, self.config.batch + 1).await?;
        let mut urls_in_use = Vec::new();
        for store in &stores {
            let url = self.url_for(store);
            if let Some(url) = &url {
                urls_in_use.push(url.clone());
            }
            if store.pending == 0 {
                continue;
            }
            let Some(url) = url else {
                self.monitor
                    .set_broker(&store.code, BrokerState::NotConfigured);
                self.warn_no_url(store);
                report.waiting_without_url += store.pending;
                continue;
            };
            if let Some(b) = self.backoff.get(&store.store_id)
                && b.url == url
                && Instant::now() < b.retry_at
            {
                continue;
            }
            if !self.hold_lease(store.store_id).await? {
                report.leased_elsewhere += 1;
                continue;
            }
            match self.publish_store(store, &url).await? {
                Ok(published) => {
                    self.backoff.remove(&store.store_id);
                    report.published += published;
                    if published as i64 == self.config.batch && store.pending > published as i64 {
                        report.more = true;
                    }
                }
                Err(()) => report.failed_stores += 1,
            }
        }
        // Connections to URLs no store uses any more (the setting changed) are closed.
        let stale: Vec<AmqpUrl> = self
            .publishers
            .keys()
            .filter(|u| !urls_in_use.contains(u))
            .cloned()
            .collect();
        for url in stale {
            if let Some(p) = self.publishers.remove(&url) {
                p.close().await;
            }
        }
        Ok(report)
    }

    /// Waits for the store's finished markings (all of them when too many are pending) and returns
    /// the ids still being marked, which must not be published again meanwhile.
    async fn reap_marks(&mut self, store_id: i64) -> std::collections::HashSet<i64> {
        let Some(marks) = self.marks.get_mut(&store_id) else {
            return Default::default();
        };
        let mut still = Vec::new();
        let wait_all = marks.len() >= MAX_PENDING_MARKS;
        for m in marks.drain(..) {
            if !wait_all && !m.task.is_finished() {
                still.push(m);
                continue;
            }
            match m.task.await {
                Ok(Ok(())) => {}
                // The rows stay unsent and go out again: a duplicate, never a loss.
                Ok(Err(e)) => tracing::error!(error = %e, "cannot mark published events sent"),
                Err(e) => tracing::error!(error = %e, "marking published events sent failed"),
            }
        }
        let ids = still.iter().flat_map(|m| m.ids.iter().copied()).collect();
        *marks = still;
        ids
    }

    /// Waits until every acknowledged row is marked sent.
    pub async fn flush(&mut self) {
        let stores: Vec<i64> = self.marks.keys().copied().collect();
        for store_id in stores {
            for m in self.marks.remove(&store_id).unwrap_or_default() {
                if let Ok(Err(e)) = m.task.await {
                    tracing::error!(error = %e, "cannot mark published events sent");
                }
            }
        }
    }

    /// Gives up this relay's leases, so that another relay can take over at once.
    pub async fn release(&mut self) -> Result<(), sqlx::Error> {
        self.flush().await;
        self.leases.clear();
        repo::release_leases(&self.db, &self.holder).await
    }

    fn url_for(&self, store: &StoreBacklog) -> Option<AmqpUrl> {
        store
            .rabbitmq_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| AmqpUrl::from_stored(u.to_owned()))
            .or_else(|| self.config.default_url.clone())
    }

    fn warn_no_url(&mut self, store: &StoreBacklog) {
        let due = self
            .warned_no_url
            .get(&store.store_id)
            .is_none_or(|at| at.elapsed() > Duration::from_secs(60));
        if due {
            tracing::warn!(
                store = %store.code,
                pending = store.pending,
                "events wait in the outbox: the store has no RabbitMQ server and QRPAY_AMQP_URL is not set"
            );
            self.warned_no_url.insert(store.store_id, Instant::now());
        }
    }

    async fn hold_lease(&mut self, store_id: i64) -> Result<bool, sqlx::Error> {
        if self
            .leases
            .get(&store_id)
            .is_some_and(|fresh_until| Instant::now() < *fresh_until)
        {
            return Ok(true);
        }
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or_default();
        let taken = repo::take_lease(&self.db, store_id, &self.holder, now() + lease).await?;
        if taken {
            // Renew when half of it is gone, so a batch never runs past the lease.
            self.leases
                .insert(store_id, Instant::now() + self.config.lease / 2);
        } else {
            self.leases.remove(&store_id);
        }
        Ok(taken)
    }

    /// Publishes one batch of the store's rows. `Ok(Err(()))`: the broker failed (recorded, backed off).
    async fn publish_store(
        &mut self,
        store: &StoreBacklog,
        url: &AmqpUrl,
    ) -> Result<Result<usize, ()>, sqlx::Error> {
        let in_flight = self.reap_marks(store.store_id).await;
        let mut rows = repo::next_batch(
            &self.db,
            store.store_id,
            self.config.batch + in_flight.len() as i64,
        )
        .await?;
        rows.retain(|r| !in_flight.contains(&r.outbox_id));
        rows.truncate(self.config.batch as usize);
        if rows.is_empty() {
            return Ok(Ok(0));
        }
        if self.publishers.get(url).is_some_and(|p| !p.is_open()) {
            self.publishers.remove(url);
        }
        if !self.publishers.contains_key(url) {
            match Publisher::connect(url, &self.config.topology).await {
                Ok(p) => {
                    tracing::info!(store = %store.code, broker = %url, "connected to the broker");
                    if let Unrouted::Republished { refused } = p.unrouted()
                        && self.warned_republish.insert(url.clone())
                    {
                        let advice = republish_advice(url, &self.config.topology, refused);
                        tracing::warn!("{advice}");
                    }
                    self.publishers.insert(url.clone(), p);
                }
                Err(error) => {
                    self.fail(store, url, rows[0].outbox_id, &error).await?;
                    return Ok(Err(()));
                }
            }
        }
        let publisher = self
            .publishers
            .get(url)
            .expect("BUG: the publisher was inserted above");
        let started = Instant::now();
        let outcome = publisher
            .publish_batch(&rows, self.config.confirm_timeout)
            .await;
        let acked = &rows[..outcome.acked];
        let at = now();
        // Marking sent runs beside the next batch instead of before it: on SQLite it queues for
        // the one writer behind till requests, and the next events should not wait for that.
        let ids: Vec<i64> = acked.iter().map(|r| r.outbox_id).collect();
        if !ids.is_empty() {
            let db = self.db.clone();
            let task = tokio::spawn({
                let ids = ids.clone();
                async move { repo::mark_sent(&db, &ids, at).await }
            });
            self.marks
                .entry(store.store_id)
                .or_default()
                .push(Marking { ids, task });
        }
        let lags: Vec<Duration> = acked
            .iter()
            .map(|r| (at - r.created_at).to_std().unwrap_or_default())
            .collect();
        self.monitor
            .published(acked.len() as u64, started.elapsed(), &lags);
        if let Some(&first) = outcome.kept_unrouted.first() {
            self.monitor.unroutable(outcome.kept_unrouted.len() as u64);
            // At most one line a minute per store: where nobody listens, every event comes back.
            let due = self
                .logged_unrouted
                .get(&store.store_id)
                .is_none_or(|at| at.elapsed() > Duration::from_secs(60));
            if due {
                self.logged_unrouted.insert(store.store_id, Instant::now());
                tracing::info!(
                    store = %store.code,
                    events = outcome.kept_unrouted.len(),
                    first_event_id = %rows[first].event_id,
                    routing_key = %rows[first].routing_key,
                    queue = %self.config.topology.unrouted,
                    "no queue is bound for these events; they are kept in the unrouted queue (logged once a minute)"
                );
            }
        }
        match outcome.error {
            None => {
                self.monitor.set_broker(
                    &store.code,
                    BrokerState::Connected {
                        url: url.redacted(),
                    },
                );
                Ok(Ok(acked.len()))
            }
            Some(error) => {
                let failed = rows[outcome.acked].outbox_id;
                if let Some(p) = self.publishers.remove(url) {
                    p.close().await;
                }
                self.fail(store, url, failed, &error).await?;
                Ok(Err(()))
            }
        }
    }

    async fn fail(
        &mut self,
        store: &StoreBacklog,
        url: &AmqpUrl,
        outbox_id: i64,
        error: &str,
    ) -> Result<(), sqlx::Error> {
        self.monitor.failed();
        self.monitor.set_broker(
            &store.code,
            BrokerState::Unreachable {
                url: url.redacted(),
                error: error.to_owned(),
            },
        );
        let failures = match self.backoff.get(&store.store_id) {
            Some(b) if &b.url == url => b.failures + 1,
            _ => 1,
        };
        let pause = self
            .config
            .backoff_min
            .saturating_mul(1u32 << (failures - 1).min(16))
            .min(self.config.backoff_max);
        tracing::warn!(
            store = %store.code,
            broker = %url,
            pending = store.pending,
            retry_in_ms = pause.as_millis() as u64,
            %error,
            "cannot publish events; they wait in the outbox"
        );
        self.backoff.insert(
            store.store_id,
            Backoff {
                url: url.clone(),
                failures,
                retry_at: Instant::now() + pause,
            },
        );
        repo::mark_failed(&self.db, outbox_id, error).await
    }
}
