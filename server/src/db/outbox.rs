//! The outbox as the relay sees it: what waits per store, batches in order, marking rows sent or
//! failed, and the per-store lease that lets one relay at a time publish a store's events.

use super::{Db, now, read, write};
use crate::domain::AmqpUrl;
use chrono::{DateTime, Utc};

/// A store and how many of its events wait to be published.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoreBacklog {
    pub store_id: i64,
    pub code: String,
    pub rabbitmq_url: Option<AmqpUrl>,
    pub pending: i64,
}

/// One outbox row on its way to the broker.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub outbox_id: i64,
    pub event_id: String,
    pub store_id: i64,
    pub till_id: Option<i64>,
    pub routing_key: String,
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

/// Delivery bookkeeping of one row (for tests and operators).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxState {
    pub event_id: String,
    pub routing_key: String,
    pub sent_at: Option<DateTime<Utc>>,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// Every store with the number of its unsent events (zero included), by store id.
pub async fn backlog(db: &Db) -> Result<Vec<StoreBacklog>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select s.store_id, s.code, s.rabbitmq_url, count(o.outbox_id) as pending \
         from store s left join outbox o on o.store_id = s.store_id and o.sent_at is null \
         group by s.store_id, s.code, s.rabbitmq_url order by s.store_id"
    )
    .fetch_all(c)
    .await)
}

/// Like [`backlog`], but counts at most `cap` unsent rows per store: what the relay needs on
/// every step (is there work, is there more than a batch) without counting a backlog that grows
/// while a store has no broker — that count ran every 20 ms and cost more than the payments.
pub async fn backlog_capped(db: &Db, cap: i64) -> Result<Vec<StoreBacklog>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select s.store_id, s.code, s.rabbitmq_url, \
         (select count(*) from (select 1 from outbox o \
            where o.store_id = s.store_id and o.sent_at is null limit $1) as head) as pending \
         from store s order by s.store_id"
    )
    .bind(cap)
    .fetch_all(c)
    .await)
}

/// The store's oldest unsent rows, in the order they were written.
pub async fn next_batch(db: &Db, store_id: i64, limit: i64) -> Result<Vec<OutboxRow>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select outbox_id, event_id, store_id, till_id, routing_key, payload, created_at \
         from outbox where store_id = $1 and sent_at is null order by outbox_id limit $2"
    )
    .bind(store_id)
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// Marks the rows published (the broker acknowledged them).
pub async fn mark_sent(db: &Db, outbox_ids: &[i64], at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    if outbox_ids.is_empty() {
        return Ok(());
    }
    // An explicit id list, not a range: on PostgreSQL a row with a smaller id can commit after
    // a larger one, and a range would mark it sent without it ever being published.
    match db {
        Db::Sqlite { write, .. } => {
            let ids = serde_json::to_string(outbox_ids).expect("BUG: ids serialize");
            sqlx::query(
                "update outbox set sent_at = $1, last_attempt_at = $1, attempts = attempts + 1, \
                 last_error = null where sent_at is null \
                 and outbox_id in (select value from json_each($2))",
            )
            .bind(at)
            .bind(ids)
            .execute(write)
            .await?;
        }
        Db::Postgres(pool) => {
            sqlx::query(
                "update outbox set sent_at = $1, last_attempt_at = $1, attempts = attempts + 1, \
                 last_error = null where sent_at is null and outbox_id = any($2)",
            )
            .bind(at)
            .bind(outbox_ids)
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

/// Deletes up to `batch` published rows sent before `before`, oldest first; returns how many.
/// Unsent rows are never touched, however old.
pub async fn delete_sent_before(
    db: &Db,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    write!(db, |c| sqlx::query(
        "delete from outbox where outbox_id in (select outbox_id from outbox \
         where sent_at is not null and sent_at < $1 order by sent_at limit $2)"
    )
    .bind(before)
    .bind(batch)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))
}

/// Records a failed attempt on the row that heads the store's queue.
pub async fn mark_failed(db: &Db, outbox_id: i64, error: &str) -> Result<(), sqlx::Error> {
    let at = now();
    let error: String = error.chars().take(500).collect();
    write!(db, |c| sqlx::query(
        "update outbox set attempts = attempts + 1, last_error = $2, last_attempt_at = $3 \
         where outbox_id = $1 and sent_at is null"
    )
    .bind(outbox_id)
    .bind(error)
    .bind(at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Takes or renews the store's publishing lease for `holder` until `until`. True when `holder`
/// has it: nobody had it, it was already `holder`'s, or the previous holder's lease ran out.
pub async fn take_lease(
    db: &Db,
    store_id: i64,
    holder: &str,
    until: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let at = now();
    let taken = write!(db, |c| {
        sqlx::query(
        "insert into outbox_lease (store_id, holder, lease_until) values ($1, $2, $3) \
         on conflict (store_id) do update set holder = excluded.holder, lease_until = excluded.lease_until \
         where outbox_lease.holder = excluded.holder or outbox_lease.lease_until < $4"
    )
    .bind(store_id)
    .bind(holder)
    .bind(until)
    .bind(at)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(taken > 0)
}

/// Gives up every lease `holder` has (a relay stopping cleanly), so another takes over at once.
pub async fn release_leases(db: &Db, holder: &str) -> Result<(), sqlx::Error> {
    write!(db, |c| sqlx::query(
        "delete from outbox_lease where holder = $1"
    )
    .bind(holder)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Every row's delivery state, oldest first.
pub async fn states(db: &Db) -> Result<Vec<OutboxState>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select event_id, routing_key, sent_at, attempts, last_error from outbox order by outbox_id"
    )
    .fetch_all(c)
    .await)
}

/// Routing keys of every outbox row, sent or not, in the order they were written.
pub async fn routing_keys(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    read!(db, |c| sqlx::query_scalar(
        "select routing_key from outbox order by outbox_id"
    )
    .fetch_all(c)
    .await)
}

/// Payloads of every outbox row in the order they were written.
pub async fn payloads(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    read!(db, |c| sqlx::query_scalar(
        "select payload from outbox order by outbox_id"
    )
    .fetch_all(c)
    .await)
}

/// Which published events `qrpay events replay` sends again: written in `[from, to)`, of one
/// store and of one payment (its events and its refunds') when given.
#[derive(Debug, Clone)]
pub struct ReplayRange {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub store_id: Option<i64>,
    pub payment_id: Option<String>,
}

/// How many events of a store fall in a [`ReplayRange`]: already published, and still waiting
/// (the relay sends those; a replay leaves them alone).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplayCount {
    pub store_id: i64,
    pub code: String,
    pub rabbitmq_url: Option<AmqpUrl>,
    pub published: i64,
    pub waiting: i64,
}

/// The payment an event is about, from its envelope: `payment.id`, or `refund.payment_id`.
fn payment_of(db: &Db) -> &'static str {
    match db {
        Db::Sqlite { .. } => {
            "coalesce(json_extract(o.payload, '$.payment.id'), json_extract(o.payload, '$.refund.payment_id'))"
        }
        Db::Postgres(_) => {
            "coalesce(o.payload::jsonb #>> '{payment,id}', o.payload::jsonb #>> '{refund,payment_id}')"
        }
    }
}

/// The conditions of a [`ReplayRange`] on `outbox o`, binds `$1`..`$4` (0 and '' stand for
/// "any store", "any payment").
fn replay_where(db: &Db) -> String {
    format!(
        "o.created_at >= $1 and o.created_at < $2 and ($3 = 0 or o.store_id = $3) \
         and ($4 = '' or {} = $4)",
        payment_of(db)
    )
}

/// Per store with events in the range, how many are published and how many wait.
pub async fn replay_counts(db: &Db, r: &ReplayRange) -> Result<Vec<ReplayCount>, sqlx::Error> {
    let sql = format!(
        "select s.store_id, s.code, s.rabbitmq_url, \
         sum(case when o.sent_at is null then 0 else 1 end) as published, \
         sum(case when o.sent_at is null then 1 else 0 end) as waiting \
         from outbox o join store s on s.store_id = o.store_id where {} \
         group by s.store_id, s.code, s.rabbitmq_url order by s.store_id",
        replay_where(db)
    );
    read!(db, |c| sqlx::query_as(&sql)
        .bind(r.from)
        .bind(r.to)
        .bind(r.store_id.unwrap_or(0))
        .bind(r.payment_id.as_deref().unwrap_or(""))
        .fetch_all(c)
        .await)
}

/// The next published rows of `store_id` in the range after `after` (an `outbox_id`), in the
/// order they were written.
pub async fn replay_batch(
    db: &Db,
    r: &ReplayRange,
    store_id: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    let sql = format!(
        "select o.outbox_id, o.event_id, o.store_id, o.till_id, o.routing_key, o.payload, \
         o.created_at from outbox o where {} and o.sent_at is not null and o.store_id = $5 \
         and o.outbox_id > $6 order by o.outbox_id limit $7",
        replay_where(db)
    );
    read!(db, |c| sqlx::query_as(&sql)
        .bind(r.from)
        .bind(r.to)
        .bind(r.store_id.unwrap_or(0))
        .bind(r.payment_id.as_deref().unwrap_or(""))
        .bind(store_id)
        .bind(after)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// When the oldest event still in the outbox was written (older ones were cleaned up).
pub async fn oldest(db: &Db) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    read!(db, |c| sqlx::query_scalar(
        "select created_at from outbox order by outbox_id limit 1"
    )
    .fetch_optional(c)
    .await)
}
