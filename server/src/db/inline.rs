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
        read(&conn).map_err(|e| sqlx::Error::Protocol(format!("SQLite read: {e}")))
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
        assert_eq!(read(Some("2026-12-03 15:44:04.123456")), Some(at));
        assert_eq!(read(None), None);
        assert!(
            conn.query_row("select 'soon'", [], |row| timestamp(row, 0))
                .is_err()
        );
    }
}
