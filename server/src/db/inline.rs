//! The payment path's hot SQLite reads (the till behind a key, the payment type and the till's
//! cash link) run inline on the caller's thread, on a few read-only connections of their own.
//!
//! Why: sqlx runs each SQLite connection on a thread of its own, and every statement is a
//! message to that thread and an answer back — two thread switches for a look-up that SQLite
//! answers from its page cache in microseconds. Under load those switches, not SQL, were the
//! cost of a creation (BENCHMARKS.md, issue 16). The reads are as fresh as the pool's: each is
//! its own statement in WAL mode, seeing everything committed before it began; nothing is cached.
//!
//! A connection is taken with `try_lock` (the first free one); when all are busy, the caller
//! waits for one — a look-up holds it for microseconds. A database that is not a file (an
//! in-memory one) gets none, and its reads go through the pool.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How many inline read connections: one per core is enough (a read never waits on I/O for
/// long; the pages are cached), more spreads the waits.
const CONNECTIONS: usize = 4;

pub struct InlineReads {
    conns: Vec<Mutex<rusqlite::Connection>>,
    next: AtomicUsize,
}

impl std::fmt::Debug for InlineReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InlineReads({})", self.conns.len())
    }
}

impl InlineReads {
    /// Opens the read-only connections on the database file at `path` (already created and in
    /// WAL mode by the pools).
    pub fn open(path: &Path, busy_timeout: Duration) -> rusqlite::Result<InlineReads> {
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conns = (0..CONNECTIONS)
            .map(|_| {
                let conn = rusqlite::Connection::open_with_flags(path, flags)?;
                conn.busy_timeout(busy_timeout)?;
                conn.set_prepared_statement_cache_capacity(32);
                Ok(Mutex::new(conn))
            })
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(InlineReads {
            conns,
            next: AtomicUsize::new(0),
        })
    }

    /// Runs `read` on a free connection (or waits for one).
    pub fn with<R>(
        &self,
        read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R>,
    ) -> Result<R, sqlx::Error> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.conns.len();
        let free = (0..n).find_map(|i| self.conns[(start + i) % n].try_lock().ok());
        let conn = match free {
            Some(conn) => conn,
            // A poisoned lock only means a reader panicked; the connection itself is fine.
            None => self.conns[start % n]
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        };
        read(&conn).map_err(sqlx_error)
    }
}

/// `stmt`'s parameters, numbered `$1`, `$2`… as in the SQL shared with sqlx and PostgreSQL,
/// bound from `values` (`$N` takes `values[N - 1]`; a number may appear more than once).
pub fn bind_numbered(
    stmt: &mut rusqlite::Statement<'_>,
    values: &[&dyn rusqlite::ToSql],
) -> rusqlite::Result<()> {
    for i in 1..=stmt.parameter_count() {
        let n = stmt
            .parameter_name(i)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=values.len()).contains(n))
            .ok_or(rusqlite::Error::InvalidParameterCount(i, values.len()))?;
        stmt.raw_bind_parameter(i, values[n - 1])?;
    }
    Ok(())
}

/// A timestamp as sqlx writes it to SQLite (RFC 3339 with the offset, as many fraction digits
/// as needed): text the other code compares and sorts, so it must be the same.
pub fn timestamp_text(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// rusqlite's error as the sqlx error the rest of qrpay handles: a database error keeps its
/// kind (a unique violation is still one, see [`super::is_unique_violation`]).
pub fn sqlx_error(e: rusqlite::Error) -> sqlx::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            sqlx::Error::Database(Box::new(LiteError {
                code,
                message: message.unwrap_or_else(|| code.to_string()),
            }))
        }
        other => sqlx::Error::Protocol(format!("SQLite: {other}")),
    }
}

/// A SQLite failure reported through rusqlite.
#[derive(Debug)]
struct LiteError {
    code: rusqlite::ffi::Error,
    message: String,
}

impl std::fmt::Display for LiteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code.extended_code, self.message)
    }
}

impl std::error::Error for LiteError {}

impl sqlx::error::DatabaseError for LiteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(self.code.extended_code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        match self.code.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                sqlx::error::ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => sqlx::error::ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => sqlx::error::ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => sqlx::error::ErrorKind::CheckViolation,
            _ => sqlx::error::ErrorKind::Other,
        }
    }
}

/// A timestamp as sqlx stores it in SQLite (RFC 3339), or as SQLite's own functions write it
/// (`YYYY-MM-DD HH:MM:SS[.fff]`, UTC).
pub fn timestamp(
    row: &rusqlite::Row<'_>,
    column: usize,
) -> rusqlite::Result<Option<chrono::DateTime<chrono::Utc>>> {
    let Some(text) = row.get::<_, Option<String>>(column)? else {
        return Ok(None);
    };
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(&text) {
        return Ok(Some(at.to_utc()));
    }
    chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f")
        .map(|at| Some(at.and_utc()))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                column,
                rusqlite::types::Type::Text,
                Box::new(e),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters_bind_by_their_number_and_failures_keep_their_kind() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("create table t (k integer primary key, v text)")
            .unwrap();
        let mut insert = conn
            .prepare("insert into t (v, k) values ($2 || $2, $1)")
            .unwrap();
        bind_numbered(&mut insert, &[&7, &"ab"]).unwrap();
        assert_eq!(insert.raw_execute().unwrap(), 1);
        let v: String = conn
            .query_row("select v from t where k = 7", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, "abab");
        bind_numbered(&mut insert, &[&7, &"cd"]).unwrap();
        let again = sqlx_error(insert.raw_execute().unwrap_err());
        assert!(crate::db::is_unique_violation(&again), "{again}");
        let mut short = conn.prepare("select $3").unwrap();
        assert!(bind_numbered(&mut short, &[&1]).is_err());
    }

    #[test]
    fn timestamps_read_back_in_both_stored_forms() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let read = |text: Option<&str>| {
            conn.query_row("select ?1", [text], |row| timestamp(row, 0))
                .unwrap()
        };
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-03T15:44:04.123456+00:00")
            .unwrap()
            .to_utc();
        assert_eq!(read(Some("2026-12-03T15:44:04.123456+00:00")), Some(at));
        assert_eq!(read(Some(&timestamp_text(&at))), Some(at));
        assert_eq!(timestamp_text(&at), "2026-12-03T15:44:04.123456+00:00");
        assert_eq!(read(Some("2026-12-03 15:44:04.123456")), Some(at));
        assert_eq!(read(None), None);
        assert!(
            conn.query_row("select 'soon'", [], |row| timestamp(row, 0))
                .is_err()
        );
    }
}
