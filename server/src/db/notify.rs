//! Payment change notifications between qrpay instances on one PostgreSQL: after a payment's
//! change commits, [`ChangeNotifier`] notifies [`CHANNEL`] with its id, and [`ChangeListener`]
//! hears them on a connection of its own (named `qrpay listener`), reconnecting whenever it
//! drops. SQLite serves one instance: neither.
//!
//! Until migration 0024 a trigger notified inside the change's own transaction. PostgreSQL
//! commits the transactions that notify one at a time, each holding a cluster-wide lock through
//! its WAL flush, so every status change waited for the others' flushes: with the trigger,
//! pgbench did 1,640 creations/s; without it, 2,980 (BENCHMARKS.md, issue 16). The notifier
//! sends the ids after the commit instead, many in one statement, in a transaction that writes
//! nothing (so nothing to flush while it holds that lock).

use super::Db;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::mpsc;

/// The notification channel; the payload is the payment id.
pub const CHANNEL: &str = "qrpay_payment";

/// The `application_name` of the listening connection (operators and tests find it by it).
pub const APPLICATION_NAME: &str = "qrpay listener";

/// How long to wait before trying to connect again after a failure.
const RETRY: Duration = Duration::from_secs(1);

/// What the listener heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// This payment's status changed (in any instance).
    Payment(String),
    /// The listener (re)connected: changes made while it was not listening went unheard.
    Missed,
}

pub struct ChangeListener {
    options: PgConnectOptions,
    listener: Option<PgListener>,
    /// Set while connecting fails, so that an outage is logged once, not every second.
    failing: bool,
}

impl ChangeListener {
    /// A listener on `db`'s PostgreSQL; `None` on SQLite. It connects on the first `next`.
    pub fn new(db: &Db) -> Option<Self> {
        let Db::Postgres(pool) = db else {
            return None;
        };
        let options = (*pool.connect_options())
            .clone()
            .application_name(APPLICATION_NAME);
        Some(Self {
            options,
            listener: None,
            failing: false,
        })
    }

    /// The next change. Never fails: a dropped connection is made again (every second while
    /// PostgreSQL refuses), and the first thing heard after a (re)connect is [`Change::Missed`].
    pub async fn next(&mut self) -> Change {
        loop {
            let Some(listener) = self.listener.as_mut() else {
                match self.connect().await {
                    Ok(listener) => {
                        if self.failing {
                            tracing::info!("payment change notifications are back");
                        }
                        self.failing = false;
                        self.listener = Some(listener);
                        return Change::Missed;
                    }
                    Err(e) => {
                        if !self.failing {
                            tracing::warn!(error = %e, "cannot listen for payment changes of other instances; long-polls re-read every second meanwhile");
                        }
                        self.failing = true;
                        tokio::time::sleep(RETRY).await;
                        continue;
                    }
                }
            };
            match listener.try_recv().await {
                Ok(Some(n)) => return Change::Payment(n.payload().to_owned()),
                // The connection dropped. sqlx may have made a new one already; a listener of
                // our own, on a fresh pool, is simpler to reason about.
                Ok(None) => {
                    tracing::warn!("the payment change notification connection dropped");
                    self.listener = None;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the payment change notification connection failed");
                    self.listener = None;
                }
            }
        }
    }

    async fn connect(&self) -> Result<PgListener, sqlx::Error> {
        // A pool of one connection for the listener alone: it never takes one of the
        // application's, and a broken one is dropped with its pool.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(self.options.clone());
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(listener)
    }
}

/// The most payment ids one notifying statement carries (a notification's payload is one id).
const IDS_AT_ONCE: usize = 500;

/// Tells the other instances which payments changed (see the module's notes).
pub struct ChangeNotifier {
    pool: PgPool,
    /// The sending task's queue, started on the first change (inside the runtime).
    ids: OnceLock<mpsc::UnboundedSender<String>>,
}

impl ChangeNotifier {
    /// A notifier on `db`'s PostgreSQL; `None` on SQLite.
    pub fn new(db: &Db) -> Option<Self> {
        let Db::Postgres(pool) = db else {
            return None;
        };
        Some(Self {
            pool: pool.clone(),
            ids: OnceLock::new(),
        })
    }

    /// `payment_id` changed, and the change is committed: the other instances hear of it
    /// within moments. Never waits; a notification that cannot be sent is logged, and the
    /// other instances' long-polls see the change on their next re-read (every second).
    pub fn changed(&self, payment_id: &str) {
        let ids = self.ids.get_or_init(|| {
            let (ids, queued) = mpsc::unbounded_channel();
            tokio::spawn(send_notifications(self.pool.clone(), queued));
            ids
        });
        let _ = ids.send(payment_id.to_owned());
    }
}

/// Sends what is queued, as it comes: one statement for all the ids waiting (at most
/// [`IDS_AT_ONCE`]). Ends when the notifier is dropped.
async fn send_notifications(pool: PgPool, mut queued: mpsc::UnboundedReceiver<String>) {
    let mut ids = Vec::new();
    while queued.recv_many(&mut ids, IDS_AT_ONCE).await > 0 {
        ids.sort_unstable();
        ids.dedup();
        let sent = sqlx::query("select pg_notify($1, id) from unnest($2::text[]) as id")
            .bind(CHANNEL)
            .bind(&ids)
            .execute(&pool)
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, payments = ids.len(), "cannot notify the other instances of payment changes; their long-polls see them on their next re-read");
        }
        ids.clear();
    }
}
