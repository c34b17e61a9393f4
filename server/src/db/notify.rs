//! Payment change notifications between qrpay instances on one PostgreSQL: every status change
//! of a payment notifies [`CHANNEL`] with its id (a trigger, migration 0012, delivered when the
//! change commits), and [`ChangeListener`] hears them on a connection of its own (named
//! `qrpay listener`), reconnecting whenever it drops. SQLite serves one instance: no listener.

use super::Db;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use std::time::Duration;

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
