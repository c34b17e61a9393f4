//! Work claims of this instance's workers (see `db::claim`): the jobs listed by `sync` come
//! claimed, so that several qrpay instances on one database never work the same payment or
//! refund at once. The claims are renewed while their jobs run ([`PaymentService::renew_claims`],
//! every [`CLAIM_RENEW_EVERY`]) and handed back when they end; a claim whose instance died lapses
//! after [`CLAIM_LEASE`], and another instance takes the job over.

use super::sync::Job;
use super::{Error, PaymentService};
use crate::db::claim::{self, Claimant, Held};
use futures::FutureExt;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

/// How long a claim holds without being renewed.
pub const CLAIM_LEASE: Duration = Duration::from_secs(6);

/// How often the claims of running jobs are renewed (a third of the lease: two renewals may fail).
pub const CLAIM_RENEW_EVERY: Duration = Duration::from_secs(2);

/// This instance's name in `claimed_by`, and the jobs it holds claims for.
pub(super) struct Claims {
    holder: String,
    held: Mutex<HashSet<Job>>,
    /// Held while jobs are claimed and recorded as held, so that what is held can be read
    /// between two listings, never in the middle of one.
    pub(super) listing: tokio::sync::Mutex<()>,
}

impl Claims {
    pub(super) fn new() -> Self {
        Self {
            holder: format!("{}-{}", std::process::id(), crate::domain::new_public_id()),
            held: Mutex::default(),
            listing: tokio::sync::Mutex::new(()),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashSet<Job>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The payment and refund ids of `jobs`.
fn ids_of<'a>(jobs: impl IntoIterator<Item = &'a Job>) -> (Vec<String>, Vec<String>) {
    let (mut payments, mut refunds) = (Vec::new(), Vec::new());
    for job in jobs {
        match job {
            Job::Expire(id) | Job::Stuck(id) | Job::Resolve(id) | Job::Poll(id) => {
                payments.push(id.clone())
            }
            Job::Refund(id) => refunds.push(id.clone()),
        }
    }
    (payments, refunds)
}

impl PaymentService {
    /// This instance's claimant: its name, now, and the end of a fresh lease.
    pub(super) fn claimant(&self) -> Claimant<'_> {
        let now = crate::db::now();
        Claimant {
            holder: &self.claims.holder,
            now,
            until: now + chrono::Duration::from_std(CLAIM_LEASE).unwrap_or_default(),
        }
    }

    /// Records `jobs` as claimed by this instance (they are renewed until released).
    pub(super) fn hold(&self, jobs: &[Job]) {
        self.claims.held().extend(jobs.iter().cloned());
    }

    /// Waits (at most `limit`) until the jobs this instance's workers hold now have ended;
    /// false when there were none.
    pub(super) async fn await_own_jobs(&self, limit: Duration) -> bool {
        let running: Vec<Job> = {
            let _listing = self.claims.listing.lock().await;
            self.claims.held().iter().cloned().collect()
        };
        if running.is_empty() {
            return false;
        }
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline
            && running.iter().any(|j| self.claims.held().contains(j))
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// Runs a claimed job to its end, then hands its claim back — also when the job panics,
    /// or the claim would be renewed for as long as this instance lives.
    pub async fn run_claimed(&self, job: &Job) -> Result<(), Error> {
        let result = std::panic::AssertUnwindSafe(self.run_job(job))
            .catch_unwind()
            .await;
        self.release_claims(std::slice::from_ref(job)).await;
        match result {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// Hands the claims of `jobs` back; a failure only leaves them to lapse.
    pub async fn release_claims(&self, jobs: &[Job]) {
        let (payment_ids, refund_ids) = ids_of(jobs);
        let held = Held {
            payment_ids: &payment_ids,
            refund_ids: &refund_ids,
        };
        if let Err(e) = claim::release(&self.db, &self.claims.holder, held).await {
            tracing::warn!(error = %e, "cannot hand back work claims; they lapse by themselves");
        }
        let mut mine = self.claims.held();
        for job in jobs {
            mine.remove(job);
        }
    }

    /// Hands back every claim this instance holds (it is stopping; its jobs were cut short).
    pub async fn release_all_claims(&self) {
        let jobs: Vec<Job> = self.claims.held().iter().cloned().collect();
        if !jobs.is_empty() {
            self.release_claims(&jobs).await;
        }
    }

    /// Extends the claims of the jobs still running by a fresh lease.
    pub async fn renew_claims(&self) -> Result<(), Error> {
        let jobs: Vec<Job> = self.claims.held().iter().cloned().collect();
        if jobs.is_empty() {
            return Ok(());
        }
        let (payment_ids, refund_ids) = ids_of(&jobs);
        let held = Held {
            payment_ids: &payment_ids,
            refund_ids: &refund_ids,
        };
        let who = self.claimant();
        let renewed = claim::renew(&self.db, who.holder, held, who.until).await?;
        if renewed < jobs.len() as u64 {
            // A claim lapsed (renewals failed for a whole lease) and another instance may have
            // taken its job: the guarded status updates still keep the outcome single.
            // (Or a job ended and handed its claim back meanwhile.)
            tracing::debug!(
                held = jobs.len(),
                renewed,
                "some work claims were not renewed"
            );
        }
        Ok(())
    }
}
