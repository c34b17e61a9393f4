//! Storage: native SQLite and PostgreSQL pools behind one `Db`, and one file per table (or group
//! of tables). Every configuration write takes the actor ([`audit::Who`]) and writes its audit
//! row in the same transaction.
//!
//! Repository functions are written once: the `read!` and `in_tx!` macros expand the same sqlx
//! call for each backend (SQL text is shared where both accept it; `$1` parameters work on both).
//! SQLite gets one writer connection so that writers queue in the pool instead of spinning on
//! `SQLITE_BUSY`, and a separate pool of readers (WAL lets them run beside the writer). The
//! payment's hot path (claim and insert, status changes) writes through [`group_commit`]: many
//! writes, one transaction.

pub mod audit;
pub mod backup;
pub mod cash_link;
pub mod claim;
pub mod gauges;
pub mod group_commit;
pub mod idempotency;
pub mod inline;
pub mod notify;
pub mod outbox;
pub mod payment;
pub mod payment_day;
pub mod payment_event;
pub mod payment_lite;
pub mod payment_search;
pub mod payment_totals;
pub mod payment_type;
pub mod raiffeisen_setting;
pub mod reconcile;
pub mod refund;
pub mod seed;
pub mod session;
pub mod static_qr;
pub mod store;
pub mod till;
pub mod user;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
        /// The writer task that batches the hot path's writes (see [`group_commit`]).
        group: group_commit::GroupCommit,
        /// The hot path's reads, on the caller's thread (see [`inline`]); none for a database
        /// that is not a file.
        inline: Option<std::sync::Arc<inline::InlineReads>>,
    },
    Postgres(PgPool),
}

/// A statement that writes nothing but takes SQLite's write lock (see [`Db::begin`]).
const SQLITE_TAKE_WRITE_LOCK: &str = "update store set code = code where 0";

/// A write transaction on either backend.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// Runs `$body` with `$c` bound to the backend's read pool.
macro_rules! read {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite { read: $c, .. } => $body,
            $crate::db::Db::Postgres($c) => $body,
        }
    };
}
pub(crate) use read;

/// On SQLite with inline readers (see [`inline`]): returns what `$read` (a closure over a
/// `rusqlite::Connection`) reads, from the enclosing function. Otherwise falls through to the
/// pool read that follows.
macro_rules! read_inline {
    ($db:expr, $read:expr) => {
        if let $crate::db::Db::Sqlite {
            inline: Some(inline),
            ..
        } = $db
        {
            return inline.with($read);
        }
    };
}
pub(crate) use read_inline;

/// Runs `$body` with `$c` bound to the transaction's connection.
macro_rules! in_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use in_tx;

impl Db {
    /// Connects to `sqlite://…` (creating the file and its folder) or `postgres://…`.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .with_context(|| "QRPAY_DATABASE_URL is not a valid postgres:// URL")?;
            // No ping before each acquire: it is a round trip per query, and a broken
            // connection fails the query itself anyway.
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .context("cannot connect to PostgreSQL")?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .with_context(|| "QRPAY_DATABASE_URL is not a valid sqlite: URL")?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            if let Some(dir) = options.get_filename().parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create the folder {}", dir.display()))?;
            }
            // Savepoints and statement journals in memory, not in a temporary file: the group
            // commit opens a savepoint per unit, and SQLite copies each page a savepoint first
            // touches to that journal (a write to a file per page, 18 % of the writer's time).
            // The one write connection is never retired by the pool (no lifetime, no idle
            // limit): the group commit's writer keeps statements prepared on it.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .max_lifetime(None)
                .idle_timeout(None)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options.clone().pragma("temp_store", "memory"))
                .await
                .with_context(|| format!("cannot open the SQLite database {url}"))?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect_with(options.clone().read_only(true))
                .await
                .with_context(|| format!("cannot open the SQLite database {url}"))?;
            let group = group_commit::GroupCommit::start(write.clone());
            let file = options.get_filename();
            let inline = if file.is_file() {
                let readers = inline::InlineReads::open(file, Duration::from_secs(10))
                    .with_context(|| format!("cannot open the SQLite database {url}"))?;
                Some(std::sync::Arc::new(readers))
            } else {
                None
            };
            Ok(Db::Sqlite {
                read,
                write,
                group,
                inline,
            })
        } else {
            anyhow::bail!("the database URL must start with sqlite: or postgres:// (got {url:?})")
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite { write, .. } => sqlx::migrate!("../migrations/sqlite")
                .run(write)
                .await
                .context("SQLite migrations failed")?,
            Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres")
                .run(pool)
                .await
                .context("PostgreSQL migrations failed")?,
        }
        Ok(())
    }

    /// The versions of the migrations this qrpay has that the database has not applied (all of
    /// them on a database never migrated); `qrpay doctor` reports them without applying any.
    pub async fn pending_migrations(&self) -> Result<Vec<i64>, sqlx::Error> {
        let known: Vec<i64> = match self {
            Db::Sqlite { .. } => sqlx::migrate!("../migrations/sqlite")
                .iter()
                .filter(|m| m.migration_type.is_up_migration())
                .map(|m| m.version)
                .collect(),
            Db::Postgres(_) => sqlx::migrate!("../migrations/postgres")
                .iter()
                .filter(|m| m.migration_type.is_up_migration())
                .map(|m| m.version)
                .collect(),
        };
        let applied: Vec<i64> = match read!(self, |c| sqlx::query_scalar(
            "select version from _sqlx_migrations where success"
        )
        .fetch_all(c)
        .await)
        {
            Ok(v) => v,
            // No migrations table: nothing was ever applied.
            Err(sqlx::Error::Database(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(known.into_iter().filter(|v| !applied.contains(v)).collect())
    }

    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite { write, .. } => {
                let mut tx = write.begin().await?;
                // Take the write lock before anything is read, waiting for it (busy_timeout)
                // as long as another process (the CLI beside a running server) holds it. A
                // deferred transaction that reads and then writes cannot wait: SQLite fails it
                // at once with "database is locked" when another connection wrote in between.
                // A write that matches no row takes the lock and changes nothing. Not
                // `begin_with("begin immediate")`: sqlx 0.8 leaves that transaction open on the
                // connection, with nothing to roll it back, when the caller's future is dropped
                // right after the begin (a till hanging up), and the next begin then fails.
                sqlx::query(SQLITE_TAKE_WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Tx::Sqlite(tx)
            }
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite {
                read, write, group, ..
            } => {
                group.release_statements().await;
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

/// Why a configuration change or look-up failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} already exists")]
    Duplicate(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// `Duplicate(what)` for a unique-constraint violation, else the database error.
fn duplicate_or(err: sqlx::Error, what: String) -> ConfigError {
    if is_unique_violation(&err) {
        ConfigError::Duplicate(what)
    } else {
        ConfigError::Db(err)
    }
}

/// True when the error is a unique-constraint violation (a duplicate name, key, ...).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Now, truncated to microseconds so both backends store and return the same instant.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    let now = chrono::Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

/// Runs `$body` in its own write transaction and commits it; `?` inside returns `sqlx::Error`.
macro_rules! write {
    ($db:expr, |$c:ident| $body:expr) => {{
        let mut tx = $db.begin().await?;
        let out = $crate::db::in_tx!(&mut tx, |$c| $body);
        tx.commit().await?;
        out
    }};
}
pub(crate) use write;

#[cfg(test)]
mod tests {
    use super::*;

    async fn sqlite() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        (dir, db)
    }

    /// A caller dropped while its transaction is beginning (a till that hangs up) leaves nothing
    /// open on the one write connection: the next transaction begins and commits.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_begin_cut_off_midway_leaves_no_transaction_open() {
        let (_dir, db) = sqlite().await;
        for round in 0..40 {
            // Polled `round % 8` times with a pause between (each poll moves it one step:
            // acquire, begin, take the lock…), then dropped.
            let mut begin = Box::pin(db.begin());
            for _ in 0..round % 8 {
                if futures::poll!(&mut begin).is_ready() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            drop(begin);
            let tx = tokio::time::timeout(Duration::from_secs(5), db.begin())
                .await
                .expect("the write connection is free again")
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            tx.commit().await.unwrap();
        }
    }

    /// A transaction holds the write lock from its begin: another connection's writer waits for
    /// it (and gets it after the commit) instead of the first failing when it reads and then
    /// writes after the other wrote.
    #[tokio::test]
    async fn a_transaction_takes_the_write_lock_when_it_begins() {
        let (dir, db) = sqlite().await;
        let other = Db::connect(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        let mut tx = db.begin().await.unwrap();
        let Db::Sqlite { write, .. } = &other else {
            unreachable!()
        };
        let mut conn = write.acquire().await.unwrap();
        sqlx::query("pragma busy_timeout = 0")
            .execute(&mut *conn)
            .await
            .unwrap();
        let busy = sqlx::query("begin immediate").execute(&mut *conn).await;
        assert!(
            busy.is_err(),
            "the other writer must wait: the lock is held"
        );
        let _stores: i64 = in_tx!(&mut tx, |c| sqlx::query_scalar(
            "select count(*) from store"
        )
        .fetch_one(c)
        .await
        .unwrap());
        tx.commit().await.unwrap();
        sqlx::query("begin immediate")
            .execute(&mut *conn)
            .await
            .expect("free after the commit");
        sqlx::query("rollback").execute(&mut *conn).await.unwrap();
    }
}
