//! Background workers in the qrpay process: the loops that drive `payments/sync.rs` — expiry of
//! pending payments past their deadline (within one interval of it, also right after a restart)
//! and the sync of whatever is in doubt.
//!
//! Each loop looks for work every interval and hands each payment or refund to a task of its
//! own, up to `JOBS_AT_ONCE` at a time, without waiting for the ones still running: a bank call
//! that hangs (for at most the bank call timeout) holds up only its own payment, and the same
//! payment is never worked on twice at once.

use crate::payments::{JOBS_AT_ONCE, Job, PaymentService};
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
        |p| async move { p.expiry_jobs().await },
    ));
    let sync = tokio::spawn(run(payments, sync_interval, "sync", move |p| async move {
        p.sync_jobs(sync_interval).await
    }));
    vec![expiry, sync]
}

/// Every `interval`: lists the jobs due (`due`) and starts those not already running.
async fn run<F, Fut>(payments: Arc<PaymentService>, interval: Duration, name: &str, due: F)
where
    F: Fn(Arc<PaymentService>) -> Fut,
    Fut: Future<Output = Result<Vec<Job>, crate::payments::Error>>,
{
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut running = Running::default();
    loop {
        tick.tick().await;
        running.reap();
        match due(payments.clone()).await {
            Ok(jobs) => {
                for job in jobs {
                    running.start(&payments, job).await;
                }
            }
            Err(e) => tracing::error!(error = %e, "{name} worker step failed"),
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

    /// Starts `job` unless it is already running; first waits for a free place.
    async fn start(&mut self, payments: &Arc<PaymentService>, job: Job) {
        if self.jobs.values().any(|j| *j == job) {
            return;
        }
        while self.tasks.len() >= JOBS_AT_ONCE {
            if let Some(ended) = self.tasks.join_next_with_id().await {
                self.ended(ended);
            }
        }
        let payments = payments.clone();
        let task = job.clone();
        let handle = self.tasks.spawn(async move {
            if let Err(e) = payments.run_job(&task).await {
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
