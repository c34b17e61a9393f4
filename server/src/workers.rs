//! Background workers in the qrpay process: the loops that drive `payments/sync.rs` — expiry of
//! pending payments past their deadline (within one interval of it, also right after a restart)
//! and the sync of whatever is in doubt — and, on PostgreSQL, the listener that wakes this
//! instance's long-polls when another instance changes a payment.
//!
//! Each loop looks for work every interval and hands each payment or refund to a task of its
//! own, up to `JOBS_AT_ONCE` at a time, without waiting for the ones still running: a bank call
//! that hangs (for at most the bank call timeout) holds up only its own payment. A job comes
//! claimed (`payments::claims`), renewed while it runs: the same payment is never worked on
//! twice at once, also by several instances on one database.

use crate::db::notify::{Change, ChangeListener};
use crate::payments::{CLAIM_RENEW_EVERY, JOBS_AT_ONCE, Job, PaymentService};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::{Id, JoinHandle, JoinSet};

pub fn spawn(
    payments: Arc<PaymentService>,
    expiry_interval: Duration,
    sync_interval: Duration,
) -> Vec<JoinHandle<()>> {
    let expiry = tokio::spawn(run(
        payments.clone(),
        expiry_interval,
        "expiry",
        |p, room| async move { p.expiry_jobs(room).await },
    ));
    let sync = tokio::spawn(run(
        payments.clone(),
        sync_interval,
        "sync",
        move |p, room| async move { p.sync_jobs(sync_interval, room).await },
    ));
    let renew = tokio::spawn(renew_claims(payments.clone()));
    let static_qrs = tokio::spawn(poll_static_qrs(payments));
    vec![expiry, sync, renew, static_qrs]
}

/// How often the banks are asked about the payments of active static QRs (their callbacks are
/// the primary signal; this catches what a lost callback missed).
const STATIC_QR_POLL: Duration = Duration::from_secs(15);

/// Every [`STATIC_QR_POLL`]: takes the payments the banks report for active static QRs (each
/// once, so several instances polling at once are harmless).
async fn poll_static_qrs(payments: Arc<PaymentService>) {
    let mut tick = tokio::time::interval(STATIC_QR_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = payments.poll_static_qrs().await {
            tracing::warn!(error = %e, "polling static QRs failed");
        }
    }
}

/// On PostgreSQL: wakes this instance's long-polls on every payment change any instance makes
/// (and all of them after the listener reconnects). `None` on SQLite (one instance).
pub fn spawn_wakeups(payments: Arc<PaymentService>) -> Option<JoinHandle<()>> {
    let mut listener = ChangeListener::new(payments.db())?;
    Some(tokio::spawn(async move {
        loop {
            match listener.next().await {
                Change::Payment(id) => payments.wake_waiters(&id),
                Change::Missed => payments.wake_all_waiters(),
            }
        }
    }))
}

/// Renews the claims of the jobs running, well before they lapse.
async fn renew_claims(payments: Arc<PaymentService>) {
    let mut tick = tokio::time::interval(CLAIM_RENEW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = payments.renew_claims().await {
            tracing::warn!(error = %e, "cannot renew work claims");
        }
    }
}

/// Every `interval`: lists (and claims) as many jobs due (`due`) as there is room for, and
/// starts them.
async fn run<F, Fut>(payments: Arc<PaymentService>, interval: Duration, name: &str, due: F)
where
    F: Fn(Arc<PaymentService>, usize) -> Fut,
    Fut: Future<Output = Result<Vec<Job>, crate::payments::Error>>,
{
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut running = Running::default();
    loop {
        tick.tick().await;
        // A listing that filled every free place may have left more due: as places free up,
        // list again at once rather than at the next tick, so a backlog (after a restart, under
        // load) drains at the jobs' own pace.
        loop {
            running.reap();
            let room = JOBS_AT_ONCE.saturating_sub(running.tasks.len());
            if room == 0 {
                running.wait_for_one().await;
                continue;
            }
            match due(payments.clone(), room).await {
                Ok(jobs) => {
                    let full = jobs.len() >= room;
                    for job in jobs {
                        running.start(&payments, job).await;
                    }
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "{name} worker step failed");
                    break;
                }
            }
        }
    }
}

/// The jobs a worker has running, at most `JOBS_AT_ONCE`.
#[derive(Default)]
struct Running {
    tasks: JoinSet<()>,
    jobs: HashMap<Id, Job>,
}

impl Running {
    /// Forgets the jobs that have ended.
    fn reap(&mut self) {
        while let Some(ended) = self.tasks.try_join_next_with_id() {
            self.ended(ended);
        }
    }

    /// Waits until one running job ends (at once when none runs).
    async fn wait_for_one(&mut self) {
        if let Some(ended) = self.tasks.join_next_with_id().await {
            self.ended(ended);
        }
    }

    /// Starts the claimed `job` unless it is already running; first waits for a free place.
    async fn start(&mut self, payments: &Arc<PaymentService>, job: Job) {
        if self.jobs.values().any(|j| *j == job) {
            // Cannot happen while the claim holds (the listing skips claimed payments); the
            // running one keeps the claim.
            return;
        }
        while self.tasks.len() >= JOBS_AT_ONCE {
            self.wait_for_one().await;
        }
        let payments = payments.clone();
        let task = job.clone();
        let handle = self.tasks.spawn(async move {
            if let Err(e) = payments.run_claimed(&task).await {
                tracing::error!(job = ?task, error = %e, "background job failed");
            }
        });
        self.jobs.insert(handle.id(), job);
    }

    fn ended(&mut self, ended: Result<(Id, ()), tokio::task::JoinError>) {
        let id = match ended {
            Ok((id, ())) => id,
            Err(e) => {
                if e.is_panic() {
                    tracing::error!(error = %e, "a background job panicked");
                }
                e.id()
            }
        };
        self.jobs.remove(&id);
    }
}
