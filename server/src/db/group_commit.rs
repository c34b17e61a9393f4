//! Group commit for SQLite: one writer task takes write units from a channel and runs as many as
//! are waiting (at most [`MAX_UNITS`]) in one transaction, commits once, then answers each unit.
//!
//! SQLite has one writer at a time; without this, each unit is its own `begin immediate` …
//! `commit`, and each commit appends the pages it touched to the WAL — the same last pages of
//! `payment`, its indexes, `payment_event`, `outbox` and `idempotency`, over and over. In one
//! batch those pages are written once, and the write connection is taken from the pool once.
//!
//! What stays as it was:
//! - durability: a unit's caller hears `Ok` only after the batch's `commit` (WAL,
//!   synchronous=NORMAL as before); a commit that fails fails every unit of the batch;
//! - isolation between units: each unit runs inside its own savepoint, opened and released by
//!   the unit's own SQL text ([`OPEN`], [`CLOSE`]: no extra round trip); a unit that fails is rolled back
//!   to its savepoint and the batch goes on without it;
//! - no early answers: every unit — also one that only read, found nothing to change, or failed
//!   — is answered after the commit, so what it saw of the batch (another unit's row, the row
//!   its insert collided with) is committed before its caller can act on it (read it from the
//!   read pool, answer a till);
//! - a caller that goes away (a till hanging up) drops only its answer: the unit runs to its
//!   end in the writer task, never leaving the connection inside a transaction.

use futures::FutureExt;
use futures::future::BoxFuture;
use sqlx::{SqliteConnection, SqlitePool};
use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, oneshot};

/// The most units one transaction takes.
pub const MAX_UNITS: usize = 64;

/// Batches committed and units they carried, by this process (for `/metrics`).
static BATCHES: AtomicU64 = AtomicU64::new(0);
static UNITS: AtomicU64 = AtomicU64::new(0);

/// (batches committed, units in them) by this process.
pub fn counts() -> (u64, u64) {
    (
        BATCHES.load(Ordering::Relaxed),
        UNITS.load(Ordering::Relaxed),
    )
}

/// What a unit's SQL starts with: a savepoint of its own inside the batch's transaction (in the
/// same query text as its first statement: no extra round trip).
pub const OPEN: &str = "savepoint unit;";
/// What a unit's SQL ends with when it succeeded.
pub const CLOSE: &str = "release unit;";
/// What undoes a unit's writes and closes its savepoint (a unit that decides to write nothing
/// runs it itself; a unit that fails gets it run for it).
pub const UNDO: &str = "rollback to unit; release unit;";

/// What a queued unit leaves behind: the call that answers its caller once the batch's commit
/// is known, and whether it failed (a failure ends the batch: see [`run_batch`]).
type Deliver = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job =
    Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (Deliver, bool)> + Send>;

/// The handle callers queue units on; clones share one writer task.
#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupCommit")
    }
}

impl GroupCommit {
    /// Starts the writer task on `write` (the pool of the one write connection). Other writers
    /// that take the connection from the pool run between batches.
    pub fn start(write: SqlitePool) -> GroupCommit {
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer(write, rx));
        GroupCommit { jobs }
    }

    /// Runs `unit` inside a batch's transaction and answers after the batch's commit. The
    /// unit's SQL starts with [`OPEN`] and, on success, ends with [`CLOSE`] (a unit that decides
    /// to write nothing runs [`UNDO`]); when it returns an error, [`UNDO`] is run for it.
    pub async fn run<T, F>(&self, unit: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, sqlx::Error>>
            + Send
            + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, sqlx::Error>>();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let ran = AssertUnwindSafe(unit(&mut *conn)).catch_unwind().await;
                match ran {
                    Ok(Ok(value)) => {
                        let deliver = move |committed: Result<(), String>| {
                            let _ = answer.send(committed.map(|()| value).map_err(not_committed));
                        };
                        (Box::new(deliver) as Deliver, false)
                    }
                    failed => {
                        // An error here only means the frame was closed already.
                        let _ = sqlx::query(UNDO).execute(&mut *conn).await;
                        // Answered after the commit too: what made it fail (another unit's row
                        // under a unique index) is then there for its caller to read. A unit
                        // that panicked drops its answer: its caller hears the writer went away.
                        let deliver = move |_: Result<(), String>| {
                            if let Ok(Err(e)) = failed {
                                let _ = answer.send(Err(e));
                            }
                        };
                        (Box::new(deliver) as Deliver, true)
                    }
                }
            })
        });
        let gone = || {
            sqlx::Error::Io(std::io::Error::other(
                "the SQLite writer did not run this write (see the log)",
            ))
        };
        self.jobs.send(job).map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?
    }
}

fn not_committed(why: String) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(format!(
        "the batch this write was part of did not commit: {why}"
    )))
}

/// The writer task: waits for units, then runs those waiting, batch after batch.
async fn writer(write: SqlitePool, mut rx: mpsc::UnboundedReceiver<Job>) {
    let mut queue: VecDeque<Job> = VecDeque::new();
    let mut received: Vec<Job> = Vec::with_capacity(MAX_UNITS);
    loop {
        if queue.is_empty() {
            if rx.recv_many(&mut received, MAX_UNITS).await == 0 {
                return;
            }
        } else {
            // Units left by a batch that ended early go first; top up with new ones.
            let room = MAX_UNITS.saturating_sub(queue.len());
            while received.len() < room {
                match rx.try_recv() {
                    Ok(job) => received.push(job),
                    Err(_) => break,
                }
            }
        }
        queue.extend(received.drain(..));
        let mut delivers: Vec<Deliver> = Vec::with_capacity(queue.len());
        let outcome = run_batch(&write, &mut queue, &mut delivers).await;
        if let Err(e) = &outcome {
            tracing::error!(error = %e, units = delivers.len(), "a SQLite write batch did not commit");
        }
        for deliver in delivers {
            deliver(outcome.clone());
        }
    }
}

/// Runs units from the front of `queue` (at most [`MAX_UNITS`]) in one transaction; what each
/// answers is pushed to `delivers`, to be called with the commit's outcome. A unit that fails
/// ends the batch after itself: some failures (a full disk, an I/O error) make SQLite roll the
/// whole transaction back, and the units after it would then run outside any transaction; the
/// commit that follows tells which it was, and the rest of the queue goes into the next batch.
async fn run_batch(
    write: &SqlitePool,
    queue: &mut VecDeque<Job>,
    delivers: &mut Vec<Deliver>,
) -> Result<(), String> {
    let mut conn = match write.acquire().await {
        Ok(conn) => conn,
        Err(e) => {
            // The units are dropped unrun: their callers hear the writer could not run them.
            queue.clear();
            return Err(e.to_string());
        }
    };
    if let Err(e) = sqlx::query("begin immediate").execute(&mut *conn).await {
        queue.clear();
        return Err(e.to_string());
    }
    for _ in 0..MAX_UNITS {
        let Some(job) = queue.pop_front() else { break };
        let (deliver, failed) = job(&mut conn).await;
        delivers.push(deliver);
        if failed {
            break;
        }
    }
    match sqlx::query("commit").execute(&mut *conn).await {
        Ok(_) => {
            BATCHES.fetch_add(1, Ordering::Relaxed);
            UNITS.fetch_add(delivers.len() as u64, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => {
            let _ = sqlx::query("rollback").execute(&mut *conn).await;
            Err(e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    async fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let db = Db::connect(&url).await.unwrap();
        let Db::Sqlite { write, .. } = &db else {
            unreachable!()
        };
        sqlx::query("create table t (k integer primary key, v text not null)")
            .execute(write)
            .await
            .unwrap();
        (dir, db)
    }

    fn parts(db: &Db) -> (&SqlitePool, &GroupCommit) {
        match db {
            Db::Sqlite { read, group, .. } => (read, group),
            Db::Postgres(_) => unreachable!(),
        }
    }

    /// Inserts `k` in a unit; `fail` makes its second statement break after the first wrote.
    async fn insert(group: &GroupCommit, k: i64, fail: bool) -> Result<i64, sqlx::Error> {
        let second = if fail {
            "insert into t (k, v) values ($1, null);"
        } else {
            "select 1;"
        };
        let sql = format!("{OPEN} insert into t (k, v) values ($1, 'x'); {second} {CLOSE}");
        group
            .run(move |conn| {
                Box::pin(async move {
                    sqlx::query(&sql).bind(k).execute(conn).await?;
                    Ok(k)
                })
            })
            .await
    }

    async fn keys(read: &SqlitePool) -> Vec<i64> {
        sqlx::query_scalar("select k from t order by k")
            .fetch_all(read)
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn units_waiting_together_commit_together_and_a_failed_one_alone_is_undone() {
        let (_dir, db) = db().await;
        let (read, group) = parts(&db);
        let results =
            futures::future::join_all((1..=200).map(|k| insert(group, k, k % 10 == 0))).await;
        for (k, r) in (1..=200).zip(&results) {
            assert_eq!(r.is_ok(), k % 10 != 0, "unit {k}: {r:?}");
        }
        // The failed units' first inserts were rolled back with them; every other unit stayed.
        let expected: Vec<i64> = (1..=200).filter(|k| k % 10 != 0).collect();
        assert_eq!(keys(read).await, expected);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_unit_is_answered_only_once_its_batch_is_committed() {
        let (_dir, db) = db().await;
        let (read, group) = parts(&db);
        // Each unit reads what the batch wrote so far (committed or not) and says how many
        // rows it saw; the caller then reads from the read pool, which sees only committed
        // rows: it must see at least as many, or the unit answered before its commit.
        let seen = futures::future::join_all((1..=100).map(|k| async move {
            let sql = format!("{OPEN} insert into t (k, v) values ($1, 'x'); {CLOSE}");
            let saw: i64 = group
                .run(move |conn| {
                    Box::pin(async move {
                        sqlx::query(&sql).bind(k).execute(&mut *conn).await?;
                        sqlx::query_scalar("select count(*) from t")
                            .fetch_one(&mut *conn)
                            .await
                    })
                })
                .await
                .unwrap();
            let committed: i64 = sqlx::query_scalar("select count(*) from t")
                .fetch_one(read)
                .await
                .unwrap();
            (saw, committed)
        }))
        .await;
        for (saw, committed) in seen {
            assert!(
                committed >= saw,
                "saw {saw} in the batch, {committed} committed"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_unit_that_panics_fails_alone_and_the_writer_goes_on() {
        let (_dir, db) = db().await;
        let (read, group) = parts(&db);
        let panicked = group
            .run(|conn| {
                Box::pin(async move {
                    let sql = format!("{OPEN} insert into t (k, v) values (1, 'x');");
                    sqlx::query(&sql).execute(&mut *conn).await?;
                    if true {
                        panic!("a bug in a unit");
                    }
                    Ok(())
                })
            })
            .await;
        assert!(panicked.is_err());
        assert_eq!(insert(group, 2, false).await.unwrap(), 2);
        assert_eq!(keys(read).await, vec![2]);
    }
}
