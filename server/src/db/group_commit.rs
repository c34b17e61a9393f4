//! Group commit for SQLite: one writer thread takes write units from a channel and runs as many
//! as are waiting (at most [`MAX_UNITS`]) in one transaction, commits once, then answers each
//! unit.
//!
//! SQLite has one writer at a time; without this, each unit is its own `begin immediate` …
//! `commit`, and each commit appends the pages it touched to the WAL — the same last pages of
//! `payment`, its indexes, `payment_event`, `outbox` and `idempotency`, over and over. In one
//! batch those pages are written once, and the write connection is taken from the pool once.
//!
//! The writer runs a batch on its own thread, straight on the write connection's SQLite handle
//! (rusqlite over the handle sqlx lends while it holds it: `lock_handle`), so a batch costs one
//! hand-over of the connection instead of a message to sqlx's connection thread and back for
//! every statement — those thread switches were most of a creation's cost (BENCHMARKS.md,
//! issue 16). The connection stays the pool's one writer: other writes (the console's, the
//! workers') take it between loans — when the queue runs dry, or after at most [`HOLD_BATCHES`]
//! batches or [`HOLD_FOR`] of a steady stream.
//!
//! What stays as it was:
//! - durability: a unit's caller hears `Ok` only after the batch's `commit` (WAL,
//!   synchronous=NORMAL as before); a commit that fails fails every unit of the batch;
//! - isolation between units: each unit runs inside its own savepoint; a unit that fails (or
//!   panics) is rolled back to it and the batch goes on without it;
//! - no early answers: every unit — also one that only read, found nothing to change, or failed
//!   — is answered after the commit, so what it saw of the batch (another unit's row, the row
//!   its insert collided with) is committed before its caller can act on it (read it from the
//!   read pool, answer a till);
//! - a caller that goes away (a till hanging up) drops only its answer: the unit runs to its
//!   end in the writer, never leaving the connection inside a transaction.

use sqlx::SqlitePool;
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

/// What a queued unit leaves behind: the call that answers its caller once the batch's commit
/// is known, and whether it failed (a failure ends the batch: see [`run_batch`]).
type Deliver = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&rusqlite::Connection) -> (Deliver, bool) + Send>;

/// What the writer thread is asked to do.
enum Msg {
    Unit(Job),
    /// Finalize the statements it keeps prepared on the connection (before the pool closes it:
    /// SQLite refuses to close a connection with statements left), then answer.
    Release(oneshot::Sender<()>),
}

/// The handle callers queue units on; clones share one writer thread.
#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::UnboundedSender<Msg>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupCommit")
    }
}

impl GroupCommit {
    /// Starts the writer thread on `write` (the pool of the one write connection; taken from
    /// the pool for each batch, so other writers run between batches). Must be called inside
    /// the tokio runtime that the pool runs on; the thread ends when the last handle is dropped.
    pub fn start(write: SqlitePool) -> GroupCommit {
        let (jobs, rx) = mpsc::unbounded_channel();
        let runtime = tokio::runtime::Handle::current();
        std::thread::Builder::new()
            .name("qrpay-writer".into())
            .spawn(move || writer(runtime, write, rx))
            .expect("the SQLite writer thread starts");
        GroupCommit { jobs }
    }

    /// Runs `unit` inside a batch's transaction, in a savepoint of its own, and answers after
    /// the batch's commit. When it returns an error (or panics), what it wrote is rolled back.
    /// `unit` runs on the writer thread: it must not block on anything but SQLite.
    pub async fn run<T, F>(&self, unit: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T, sqlx::Error> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, sqlx::Error>>();
        let job: Job = Box::new(move |conn| {
            let ran = cached(conn, "savepoint unit")
                .map_err(super::inline::sqlx_error)
                .map(|()| std::panic::catch_unwind(AssertUnwindSafe(|| unit(conn))));
            let ran = match ran {
                Ok(Ok(Ok(value))) => cached(conn, "release unit")
                    .map(|()| value)
                    .map_err(|e| Some(super::inline::sqlx_error(e))),
                Ok(Ok(Err(e))) => Err(Some(e)),
                Err(e) => Err(Some(e)),
                // A unit that panicked drops its answer: its caller hears the writer went away.
                Ok(Err(_panic)) => Err(None),
            };
            match ran {
                Ok(value) => {
                    let deliver = move |committed: Result<(), String>| {
                        let _ = answer.send(committed.map(|()| value).map_err(not_committed));
                    };
                    (Box::new(deliver) as Deliver, false)
                }
                Err(failed) => {
                    // An error here only means the savepoint was closed already.
                    let _ = conn.execute_batch("rollback to unit; release unit");
                    // Answered after the commit too: what made it fail (another unit's row
                    // under a unique index) is then there for its caller to read.
                    let deliver = move |_: Result<(), String>| {
                        if let Some(e) = failed {
                            let _ = answer.send(Err(e));
                        }
                    };
                    (Box::new(deliver) as Deliver, true)
                }
            }
        });
        let gone = || {
            sqlx::Error::Io(std::io::Error::other(
                "the SQLite writer did not run this write (see the log)",
            ))
        };
        self.jobs.send(Msg::Unit(job)).map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?
    }

    /// Finalizes the statements the writer keeps prepared on the write connection; the next
    /// batch prepares them again. [`super::Db::close`] calls it before closing the pool.
    pub async fn release_statements(&self) {
        let (done, released) = oneshot::channel();
        if self.jobs.send(Msg::Release(done)).is_ok() {
            let _ = released.await;
        }
    }
}

/// Runs a statement without parameters, prepared once per batch (a unit's savepoint is opened
/// and released for every unit: preparing them each time was a tenth of the writer's time).
fn cached(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.raw_execute().map(|_| ())
}

fn not_committed(why: String) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(format!(
        "the batch this write was part of did not commit: {why}"
    )))
}

/// The writer's rusqlite connection over the write connection's SQLite handle, kept from batch
/// to batch so that its statements stay prepared (preparing them for every batch was a fifth of
/// the writer's time). Used only while sqlx lends the handle (`lock_handle`). The pool never
/// retires the write connection on its own (no lifetime or idle limit, see `Db::connect`), and
/// the statements are finalized before it is closed ([`Msg::Release`]) or dropped (the thread's
/// end), so the handle under them stays open while they live.
struct Lite {
    handle: *mut rusqlite::ffi::sqlite3,
    conn: rusqlite::Connection,
}

impl Lite {
    /// The connection over `handle`: the kept one, or a new one (statements prepared anew).
    fn over(
        kept: &mut Option<Lite>,
        handle: *mut rusqlite::ffi::sqlite3,
    ) -> rusqlite::Result<&rusqlite::Connection> {
        if kept.as_ref().is_some_and(|l| l.handle != handle) {
            // Another handle: the connection was replaced after all. Its statements cannot be
            // finalized safely now; leaking them (a few kilobytes) is.
            std::mem::forget(kept.take());
        }
        if kept.is_none() {
            // SAFETY: `handle` is open and lent to this thread by sqlx's `lock_handle` for
            // the batch; a connection made with `from_handle` never closes it.
            let conn = unsafe { rusqlite::Connection::from_handle(handle) }?;
            conn.set_prepared_statement_cache_capacity(64);
            *kept = Some(Lite { handle, conn });
        }
        Ok(&kept.as_ref().expect("set above").conn)
    }
}

/// The most batches, and the longest time, the writer keeps the write connection lent to it
/// while units keep coming; then it gives the connection back to the pool, so the other writers
/// (the console's, the workers') wait for at most this long.
const HOLD_BATCHES: u32 = 16;
const HOLD_FOR: std::time::Duration = std::time::Duration::from_millis(20);

/// Moves what is waiting on the channel to `queue` (up to [`MAX_UNITS`]) and `releases`.
fn top_up(
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    queue: &mut VecDeque<Job>,
    releases: &mut Vec<oneshot::Sender<()>>,
) {
    while queue.len() < MAX_UNITS {
        match rx.try_recv() {
            Ok(Msg::Unit(job)) => queue.push_back(job),
            Ok(Msg::Release(done)) => releases.push(done),
            Err(_) => break,
        }
    }
}

/// Answers the units of a batch with its outcome (and drops the rest of the queue when no unit
/// ran: no connection, or no transaction — their callers hear the writer could not run them).
fn deliver_all(outcome: &Result<(), String>, delivers: Vec<Deliver>, queue: &mut VecDeque<Job>) {
    if outcome.is_err() && delivers.is_empty() {
        queue.clear();
    }
    if let Err(e) = outcome {
        tracing::error!(error = %e, units = delivers.len(), "a SQLite write batch did not commit");
    }
    for deliver in delivers {
        deliver(outcome.clone());
    }
}

/// The writer thread: waits for units, then runs those waiting, batch after batch.
///
/// Borrowing the write connection's handle from sqlx costs two thread hand-overs (to sqlx's
/// connection thread and back), and on a busy machine the wait for that thread to be scheduled
/// was a tenth of a batch's cycle; so while units keep coming, consecutive batches run on one
/// loan (at most [`HOLD_BATCHES`] batches or [`HOLD_FOR`]), and the connection goes back to the
/// pool as soon as the queue is empty.
fn writer(
    runtime: tokio::runtime::Handle,
    write: SqlitePool,
    mut rx: mpsc::UnboundedReceiver<Msg>,
) {
    let mut queue: VecDeque<Job> = VecDeque::new();
    let mut kept: Option<Lite> = None;
    // A release asked for while units wait is answered after their batch.
    let mut releases: Vec<oneshot::Sender<()>> = Vec::new();
    loop {
        if queue.is_empty() && releases.is_empty() {
            match rx.blocking_recv() {
                Some(Msg::Unit(job)) => queue.push_back(job),
                Some(Msg::Release(done)) => releases.push(done),
                None => break,
            }
        }
        // Units left by a batch that ended early go first; top up with new ones.
        top_up(&mut rx, &mut queue, &mut releases);
        let release = !releases.is_empty();
        runtime.block_on(async {
            // The pool's connection, and its SQLite handle lent by sqlx's connection thread
            // (which makes no call on it until the guard is dropped).
            let mut conn = match write.acquire().await {
                Ok(conn) => conn,
                Err(e) => return deliver_all(&Err(e.to_string()), Vec::new(), &mut queue),
            };
            let mut handle = match conn.lock_handle().await {
                Ok(handle) => handle,
                Err(e) => return deliver_all(&Err(e.to_string()), Vec::new(), &mut queue),
            };
            let handle = handle.as_raw_handle().as_ptr();
            let since = std::time::Instant::now();
            for batch in 1.. {
                let mut delivers: Vec<Deliver> = Vec::with_capacity(queue.len());
                let outcome = if queue.is_empty() {
                    Ok(())
                } else {
                    Lite::over(&mut kept, handle)
                        .map_err(|e| e.to_string())
                        .and_then(|lite| run_batch(lite, &mut queue, &mut delivers))
                };
                let failed = outcome.is_err();
                deliver_all(&outcome, delivers, &mut queue);
                if release || failed || batch >= HOLD_BATCHES || since.elapsed() >= HOLD_FOR {
                    break;
                }
                top_up(&mut rx, &mut queue, &mut releases);
                if queue.is_empty() || !releases.is_empty() {
                    break;
                }
            }
            if release {
                // Finalized while the handle is still lent to this thread.
                drop(kept.take());
            }
        });
        if release {
            for done in releases.drain(..) {
                let _ = done.send(());
            }
        }
    }
    // Every handle is gone, so nothing else uses the connection: its statements can be
    // finalized before this thread's pool reference (perhaps the last) closes it.
    drop(kept);
    drop(write);
}

/// Runs units from the front of `queue` (at most [`MAX_UNITS`]) in one transaction; what each
/// answers is pushed to `delivers`, to be called with the commit's outcome. A unit that fails
/// ends the batch after itself: some failures (a full disk, an I/O error) make SQLite roll the
/// whole transaction back, and the units after it would then run outside any transaction; the
/// commit that follows tells which it was, and the rest of the queue goes into the next batch.
fn run_batch(
    conn: &rusqlite::Connection,
    queue: &mut VecDeque<Job>,
    delivers: &mut Vec<Deliver>,
) -> Result<(), String> {
    // Waits for another process's write (busy_timeout, set on the connection) like any writer.
    conn.execute_batch("begin immediate")
        .map_err(|e| e.to_string())?;
    for _ in 0..MAX_UNITS {
        let Some(job) = queue.pop_front() else { break };
        let (deliver, failed) = job(conn);
        delivers.push(deliver);
        if failed {
            break;
        }
    }
    match conn.execute_batch("commit") {
        Ok(()) => {
            BATCHES.fetch_add(1, Ordering::Relaxed);
            UNITS.fetch_add(delivers.len() as u64, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => {
            let _ = conn.execute_batch("rollback");
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
        db.migrate().await.unwrap();
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

    fn lite(e: rusqlite::Error) -> sqlx::Error {
        crate::db::inline::sqlx_error(e)
    }

    /// Inserts `k` in a unit; `fail` makes its second statement break after the first wrote.
    async fn insert(group: &GroupCommit, k: i64, fail: bool) -> Result<i64, sqlx::Error> {
        group
            .run(move |conn| {
                conn.execute("insert into t (k, v) values (?1, 'x')", [k])
                    .map_err(lite)?;
                if fail {
                    conn.execute("insert into t (k, v) values (?1, null)", [k + 1000])
                        .map_err(lite)?;
                }
                Ok(k)
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
        let (batches, units) = counts();
        assert!(
            units >= 200 && batches >= 1,
            "{batches} batches, {units} units"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_unit_is_answered_only_once_its_batch_is_committed() {
        let (_dir, db) = db().await;
        let (read, group) = parts(&db);
        // Each unit reads what the batch wrote so far (committed or not) and says how many
        // rows it saw; the caller then reads from the read pool, which sees only committed
        // rows: it must see at least as many, or the unit answered before its commit.
        let seen = futures::future::join_all((1..=100).map(|k| async move {
            let saw: i64 = group
                .run(move |conn| {
                    conn.execute("insert into t (k, v) values (?1, 'x')", [k])
                        .map_err(lite)?;
                    conn.query_row("select count(*) from t", [], |r| r.get(0))
                        .map_err(lite)
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

    /// On a single-threaded runtime too (the writer thread borrows the runtime's drivers
    /// while the caller's thread drives them).
    #[tokio::test(flavor = "current_thread")]
    async fn a_unit_that_panics_fails_alone_and_the_writer_goes_on() {
        let (_dir, db) = db().await;
        let (read, group) = parts(&db);
        let panicked = group
            .run(|conn| {
                conn.execute("insert into t (k, v) values (1, 'x')", [])
                    .map_err(lite)?;
                if true {
                    panic!("a bug in a unit");
                }
                Ok(())
            })
            .await;
        assert!(panicked.is_err());
        assert_eq!(insert(group, 2, false).await.unwrap(), 2);
        assert_eq!(keys(read).await, vec![2]);
    }

    /// How many statements are prepared on the write connection (sqlx's and the writer's).
    async fn statements(db: &Db) -> usize {
        let Db::Sqlite { write, .. } = db else {
            unreachable!()
        };
        let mut conn = write.acquire().await.unwrap();
        let mut handle = conn.lock_handle().await.unwrap();
        let db = handle.as_raw_handle().as_ptr();
        let mut n = 0;
        // SAFETY: the handle is lent to this thread while `handle` lives.
        let mut stmt = unsafe { rusqlite::ffi::sqlite3_next_stmt(db, std::ptr::null_mut()) };
        while !stmt.is_null() {
            n += 1;
            stmt = unsafe { rusqlite::ffi::sqlite3_next_stmt(db, stmt) };
        }
        n
    }

    /// The writer keeps its statements prepared from batch to batch, and finalizes them when
    /// asked (before the pool closes the connection, which SQLite refuses while any are left).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_writers_statements_stay_prepared_until_released() {
        let (_dir, db) = db().await;
        let (_, group) = parts(&db);
        let before = statements(&db).await;
        insert(group, 1, false).await.unwrap();
        let kept = statements(&db).await;
        assert!(kept > before, "{kept} statements, {before} before the unit");
        insert(group, 2, false).await.unwrap();
        assert_eq!(
            statements(&db).await,
            kept,
            "the same ones, not prepared again"
        );
        group.release_statements().await;
        assert_eq!(statements(&db).await, before);
        insert(group, 3, false).await.unwrap();
        db.close().await;
    }

    /// The pool's other writers (the console's transactions) take the same connection between
    /// batches, and a transaction they hold makes the writer wait, not fail.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn other_writers_share_the_connection_between_batches() {
        let (_dir, db) = db().await;
        let (read, group) = parts(&db);
        let mut tx = db.begin().await.unwrap();
        crate::db::in_tx!(&mut tx, |c| {
            sqlx::query("insert into t (k, v) values (1, 'tx')")
                .execute(c)
                .await
                .map(|_| ())
        })
        .unwrap();
        let unit = insert(group, 2, false);
        let commit = async {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            tx.commit().await.unwrap();
        };
        let (inserted, ()) = tokio::join!(unit, commit);
        assert_eq!(inserted.unwrap(), 2);
        assert_eq!(keys(read).await, vec![1, 2]);
    }

    /// While units keep coming the writer keeps the connection for several batches, but not for
    /// as long as they keep coming: a write outside the batches gets it within the bound.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_steady_stream_of_units_does_not_shut_other_writers_out() {
        let (_dir, db) = db().await;
        let (read, group) = parts(&db);
        let Db::Sqlite { write, .. } = &db else {
            unreachable!()
        };
        let total = 40 * MAX_UNITS;
        let done = std::sync::Arc::new(AtomicU64::new(0));
        let units = (0..total as i64).map(|k| {
            let done = done.clone();
            async move {
                insert(group, k + 1, false).await.unwrap();
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
        let stream = futures::future::join_all(units);
        let other = async {
            while done.load(Ordering::Relaxed) == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            sqlx::query("insert into t (k, v) values (0, 'other')")
                .execute(write)
                .await
                .unwrap();
            done.load(Ordering::Relaxed)
        };
        let (_, committed_before_it) = tokio::join!(stream, other);
        assert!(
            (committed_before_it as usize) < total,
            "the other write waited for all {total} units"
        );
        assert_eq!(keys(read).await.len(), total + 1);
    }
}
