//! The console's storage: session records, users for sign-in, failed logins, the payments list.

use super::{Db, now, read, write};
use chrono::{DateTime, Utc};

// ---- sessions (tower-sessions records as JSON) ----

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

// ---- users ----

#[derive(sqlx::FromRow, Debug)]
pub struct UserRow {
    pub app_user_id: i64,
    pub login: String,
    pub password_hash: String,
    pub role: String,
    pub disabled: bool,
}

pub async fn user_by_login(db: &Db, login: &str) -> Result<Option<UserRow>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select app_user_id, login, password_hash, role, disabled from app_user where login = $1"
    )
    .bind(login)
    .fetch_optional(c)
    .await)
}

pub async fn user_by_id(db: &Db, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    read!(db, |c| {
        sqlx::query_as(
        "select app_user_id, login, password_hash, role, disabled from app_user where app_user_id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await
    })
}

// ---- throttling ----

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

// ---- transactions ----

#[derive(sqlx::FromRow, Debug)]
pub struct TransactionRow {
    pub payment_id: String,
    pub created_at: DateTime<Utc>,
    pub amount: i64,
    pub refunded_amount: i64,
    pub status: String,
    pub receipt: String,
    pub till_name: String,
    pub order_ref: String,
    pub qr_id: Option<String>,
    pub bank_transaction_id: Option<String>,
}

/// The store's latest payments, newest first (index `payment_store_created`).
pub async fn latest_payments(
    db: &Db,
    store_id: i64,
    limit: i64,
) -> Result<Vec<TransactionRow>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select p.payment_id, p.created_at, p.amount, p.refunded_amount, p.status, p.receipt, \
                t.name as till_name, p.order_ref, p.qr_id, p.bank_transaction_id \
         from payment p join till t on t.till_id = p.till_id \
         where p.store_id = $1 order by p.created_at desc, p.payment_id desc limit $2"
    )
    .bind(store_id)
    .bind(limit)
    .fetch_all(c)
    .await)
}

// ---- transactions journey: filtered, paged search (issue 4, part b) ----

/// What the transactions list is filtered by (all checked already).
#[derive(Debug, Default, Clone)]
pub struct PaymentFilter {
    pub status: Option<String>,
    /// Inclusive lower bound of `created_at`.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound of `created_at`.
    pub until: Option<DateTime<Utc>>,
    pub till_id: Option<i64>,
    pub min_amount: Option<i64>,
    pub max_amount: Option<i64>,
    /// Exact receipt, order ref, QR id, bank transaction id or payment id.
    pub text: Option<String>,
}

enum Bind {
    Text(String),
    Int(i64),
    Time(DateTime<Utc>),
}

/// The `where` of a filter (index `payment_store_created` serves the store, the period and the
/// order; the other conditions are checked on its rows), with its values from `$1` on.
fn filter_sql(
    store_id: i64,
    f: &PaymentFilter,
    after: Option<&(DateTime<Utc>, String)>,
) -> (String, Vec<Bind>) {
    let mut binds = vec![Bind::Int(store_id)];
    let mut sql = String::from("p.store_id = $1");
    let mut push = |binds: &mut Vec<Bind>, cond: &str, b: Bind| {
        binds.push(b);
        sql.push_str(&cond.replace('?', &format!("${}", binds.len())));
    };
    if let Some(s) = &f.status {
        push(&mut binds, " and p.status = ?", Bind::Text(s.clone()));
    }
    if let Some(t) = f.from {
        push(&mut binds, " and p.created_at >= ?", Bind::Time(t));
    }
    if let Some(t) = f.until {
        push(&mut binds, " and p.created_at < ?", Bind::Time(t));
    }
    if let Some(t) = f.till_id {
        push(&mut binds, " and p.till_id = ?", Bind::Int(t));
    }
    if let Some(a) = f.min_amount {
        push(&mut binds, " and p.amount >= ?", Bind::Int(a));
    }
    if let Some(a) = f.max_amount {
        push(&mut binds, " and p.amount <= ?", Bind::Int(a));
    }
    if let Some(q) = &f.text {
        push(
            &mut binds,
            " and ? in (p.receipt, p.order_ref, p.qr_id, p.bank_transaction_id, p.payment_id)",
            Bind::Text(q.clone()),
        );
    }
    if let Some((t, id)) = after {
        push(&mut binds, " and (p.created_at < ?", Bind::Time(*t));
        push(&mut binds, " or (p.created_at = ?", Bind::Time(*t));
        push(
            &mut binds,
            " and p.payment_id < ?))",
            Bind::Text(id.clone()),
        );
    }
    (sql, binds)
}

macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
                Bind::Time(t) => q.bind(*t),
            };
        }
        q
    }};
}

/// Up to `limit` payments of the filter after the keyset cursor `after`, newest first.
pub async fn search_payments(
    db: &Db,
    store_id: i64,
    f: &PaymentFilter,
    after: Option<&(DateTime<Utc>, String)>,
    limit: i64,
) -> Result<Vec<TransactionRow>, sqlx::Error> {
    let (cond, binds) = filter_sql(store_id, f, after);
    let sql = format!(
        "select p.payment_id, p.created_at, p.amount, p.refunded_amount, p.status, p.receipt, \
                t.name as till_name, p.order_ref, p.qr_id, p.bank_transaction_id \
         from payment p join till t on t.till_id = p.till_id \
         where {cond} order by p.created_at desc, p.payment_id desc limit {limit}"
    );
    read!(db, |c| bind_all!(sqlx::query_as(&sql), &binds)
        .fetch_all(c)
        .await)
}

/// How many payments match the filter, their amount and what was refunded of them.
pub async fn payment_totals(
    db: &Db,
    store_id: i64,
    f: &PaymentFilter,
) -> Result<(i64, i64, i64), sqlx::Error> {
    let (cond, binds) = filter_sql(store_id, f, None);
    let sql = format!(
        "select count(*), cast(coalesce(sum(p.amount), 0) as bigint), \
                cast(coalesce(sum(p.refunded_amount), 0) as bigint) \
         from payment p where {cond}"
    );
    read!(db, |c| bind_all!(sqlx::query_as(&sql), &binds)
        .fetch_one(c)
        .await)
}

/// The store's tills (id, name), by name.
pub async fn store_tills(db: &Db, store_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select till_id, name from till where store_id = $1 order by name, till_id"
    )
    .bind(store_id)
    .fetch_all(c)
    .await)
}
