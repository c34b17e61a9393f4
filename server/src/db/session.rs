//! The console's sign-in state: session records (`console_session`, tower-sessions records as
//! JSON) and sign-in attempts (`login_throttle`) for throttling.

use super::{Db, now, read, write};
use chrono::{DateTime, Utc};

/// Inserts a new session; `false` when the id is taken (the caller picks another).
pub async fn insert_session(
    db: &Db,
    id: &str,
    data: &str,
    expires_at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let r: Result<u64, sqlx::Error> = write!(db, |c| {
        sqlx::query(
        "insert into console_session (console_session_id, data, expires_at) values ($1, $2, $3) \
         on conflict (console_session_id) do nothing"
    )
    .bind(id)
    .bind(data)
    .bind(expires_at)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    });
    Ok(r? == 1)
}

pub async fn save_session(
    db: &Db,
    id: &str,
    data: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    write!(db, |c| {
        sqlx::query(
        "insert into console_session (console_session_id, data, expires_at) values ($1, $2, $3) \
         on conflict (console_session_id) do update set data = excluded.data, expires_at = excluded.expires_at"
    )
    .bind(id)
    .bind(data)
    .bind(expires_at)
    .execute(c)
    .await
    .map(|_| ())
    })
}

/// The session's data and expiry, if stored.
pub async fn load_session(
    db: &Db,
    id: &str,
) -> Result<Option<(String, DateTime<Utc>)>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select data, expires_at from console_session where console_session_id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)
}

pub async fn delete_session(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    write!(db, |c| sqlx::query(
        "delete from console_session where console_session_id = $1"
    )
    .bind(id)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn delete_expired_sessions(db: &Db) -> Result<u64, sqlx::Error> {
    let at = now();
    write!(db, |c| sqlx::query(
        "delete from console_session where expires_at < $1"
    )
    .bind(at)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))
}

/// What one sign-in attempt has been counted as: the attempts of this login from this client
/// address, and from all addresses, in the current window (this attempt included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttempts {
    pub from_address: i64,
    pub all: i64,
}

/// The address of the counter that spans every client address.
const ALL_ADDRESSES: &str = "";

/// Counts a sign-in attempt before its password is verified, atomically: each counter is one
/// upsert (a row lock on PostgreSQL; SQLite has one writer), so parallel attempts each get their
/// own number and none can read a count that another is about to raise. A counter whose window
/// started before `window_after` starts again at 1.
pub async fn count_login_attempt(
    db: &Db,
    login: &str,
    address: &str,
    window_after: DateTime<Utc>,
) -> Result<LoginAttempts, sqlx::Error> {
    let at = now();
    write!(db, |c| {
        let mut counts = [0i64; 2];
        for (n, addr) in [address, ALL_ADDRESSES].into_iter().enumerate() {
            counts[n] = sqlx::query_scalar(
                "insert into login_throttle (login, address, failures, window_start) \
                 values ($1, $2, 1, $3) \
                 on conflict (login, address) do update set \
                 failures = case when login_throttle.window_start < $4 then 1 \
                     else login_throttle.failures + 1 end, \
                 window_start = case when login_throttle.window_start < $4 then $3 \
                     else login_throttle.window_start end \
                 returning failures",
            )
            .bind(login)
            .bind(addr)
            .bind(at)
            .bind(window_after)
            .fetch_one(&mut *c)
            .await?;
        }
        Ok::<_, sqlx::Error>(LoginAttempts {
            from_address: counts[0],
            all: counts[1],
        })
    })
}

/// Takes back an attempt that was counted but never judged (the server was too busy to hash).
pub async fn uncount_login_attempt(db: &Db, login: &str, address: &str) -> Result<(), sqlx::Error> {
    write!(db, |c| sqlx::query(
        "update login_throttle set failures = failures - 1 \
         where login = $1 and address in ($2, $3) and failures > 0"
    )
    .bind(login)
    .bind(address)
    .bind(ALL_ADDRESSES)
    .execute(c)
    .await
    .map(|_| ()))
}

/// After a successful sign-in: this address starts afresh for this login, and the count over all
/// addresses takes back this attempt alone (it was no failure), so it counts failures: the
/// owner's sign-ins neither lock the login nor take away an attacker's failures.
pub async fn clear_login_attempts(db: &Db, login: &str, address: &str) -> Result<(), sqlx::Error> {
    write!(db, |c| {
        sqlx::query(
            "update login_throttle set failures = failures - 1 \
             where login = $1 and address = $2 and failures > 0",
        )
        .bind(login)
        .bind(ALL_ADDRESSES)
        .execute(&mut *c)
        .await?;
        sqlx::query("delete from login_throttle where login = $1 and address = $2")
            .bind(login)
            .bind(address)
            .execute(&mut *c)
            .await
            .map(|_| ())
    })
}

/// Deletes the counters whose window started before `before` (the periodic clean-up).
pub async fn delete_stale_login_attempts(
    db: &Db,
    before: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    write!(db, |c| sqlx::query(
        "delete from login_throttle where window_start < $1"
    )
    .bind(before)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))
}
