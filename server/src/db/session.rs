//! The console's sign-in state: session records (`console_session`, tower-sessions records as
//! JSON) and failed logins (`login_failure`) for throttling.

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

pub async fn count_login_failures_since(
    db: &Db,
    login: &str,
    since: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    read!(db, |c| sqlx::query_scalar(
        "select count(*) from login_failure where login = $1 and created_at > $2"
    )
    .bind(login)
    .bind(since)
    .fetch_one(c)
    .await)
}

/// Records a failed login and drops this login's failures older than `forget_before`.
pub async fn record_login_failure(
    db: &Db,
    login: &str,
    forget_before: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let at = now();
    write!(db, |c| {
        sqlx::query("delete from login_failure where login = $1 and created_at < $2")
            .bind(login)
            .bind(forget_before)
            .execute(&mut *c)
            .await?;
        sqlx::query("insert into login_failure (login, created_at) values ($1, $2)")
            .bind(login)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|_| ())
    })
}

pub async fn clear_login_failures(db: &Db, login: &str) -> Result<(), sqlx::Error> {
    write!(db, |c| sqlx::query(
        "delete from login_failure where login = $1"
    )
    .bind(login)
    .execute(c)
    .await
    .map(|_| ()))
}
