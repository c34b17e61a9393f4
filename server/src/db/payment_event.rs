//! The `payment_event` table (the history of every status change) and what is written with a
//! change: its event row, its outbox row and the till's stored answer — on SQLite in the same
//! unit of the writer's batch as the change, on PostgreSQL in one statement.

use super::idempotency::StoredAnswer;
use super::inline::{sqlx_error, timestamp_text};
use super::payment::{CurrentPayment, PaymentChanges, PaymentRow, update_status};
use super::payment_lite::{lite_execute, update_status_lite};
use super::{Db, Tx, in_tx, read};
use crate::domain::PaymentStatus;
use chrono::{DateTime, Utc};

pub struct NewEvent<'a> {
    pub payment_id: &'a str,
    pub refund_id: Option<&'a str>,
    pub from_status: Option<&'a str>,
    pub to_status: &'a str,
    pub trigger: &'a str,
    pub detail: Option<&'a str>,
    pub at: DateTime<Utc>,
}

pub async fn insert_event(tx: &mut Tx, e: &NewEvent<'_>) -> Result<(), sqlx::Error> {
    in_tx!(tx, |c| {
        sqlx::query(
        "insert into payment_event (payment_id, refund_id, from_status, to_status, trigger, detail, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(e.payment_id)
    .bind(e.refund_id)
    .bind(e.from_status)
    .bind(e.to_status)
    .bind(e.trigger)
    .bind(e.detail)
    .bind(e.at)
    .execute(c)
    .await
    .map(|_| ())
    })?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub from_status: Option<String>,
    pub to_status: String,
    pub trigger: String,
    pub refund_id: Option<String>,
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn events_of(db: &Db, payment_id: &str) -> Result<Vec<EventRow>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select from_status, to_status, trigger, refund_id, detail, created_at from payment_event \
         where payment_id = $1 order by payment_event_id"
    )
    .bind(payment_id)
    .fetch_all(c)
    .await)
}

pub struct NewOutbox<'a> {
    pub event_id: &'a str,
    pub store_id: i64,
    pub till_id: Option<i64>,
    pub routing_key: &'a str,
    pub payload: &'a str,
    pub at: DateTime<Utc>,
}

pub async fn insert_outbox(tx: &mut Tx, o: &NewOutbox<'_>) -> Result<(), sqlx::Error> {
    in_tx!(tx, |c| sqlx::query(
        "insert into outbox (event_id, store_id, till_id, routing_key, payload, created_at) \
         values ($1, $2, $3, $4, $5, $6)"
    )
    .bind(o.event_id)
    .bind(o.store_id)
    .bind(o.till_id)
    .bind(o.routing_key)
    .bind(o.payload)
    .bind(o.at)
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Writes what goes with a status change: its event row, its outbox row (public statuses) and
/// the till's stored answer, in one round trip (SQLite: one multi-statement query; PostgreSQL:
/// one statement with `with` parts; `$N` numbers the arguments across them): each round trip to
/// SQLite's single writer costs two thread switches, each to PostgreSQL a network wait.
pub async fn record_change(
    tx: &mut Tx,
    event: &NewEvent<'_>,
    outbox: Option<&NewOutbox<'_>>,
    answer: Option<&StoredAnswer<'_>>,
) -> Result<(), sqlx::Error> {
    match tx {
        Tx::Sqlite(t) => sqlite_change(t, event, outbox, answer, "").await?,
        Tx::Postgres(t) => postgres_change(t, event, outbox, answer).await?,
    }
    Ok(())
}

/// The statements that write the rows of a change, `$N` numbered across them in the order
/// [`bind_change`] binds.
fn change_statements(outbox: bool, answer: bool) -> Vec<String> {
    let mut statements = vec![
        "insert into payment_event (payment_id, refund_id, from_status, to_status, trigger, detail, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7)"
            .to_owned(),
    ];
    if outbox {
        statements.push(
            "insert into outbox (event_id, store_id, till_id, routing_key, payload, created_at) \
             values ($8, $9, $10, $11, $12, $13)"
                .to_owned(),
        );
    }
    if answer {
        let n = if outbox { 14 } else { 8 };
        statements.push(format!(
            "update idempotency set response_status = ${}, response_body = ${} \
             where till_id = ${} and idempotency_key = ${} and response_status is null",
            n,
            n + 1,
            n + 2,
            n + 3
        ));
    }
    statements
}

/// Binds the arguments of [`change_statements`].
fn bind_change<'q, DB>(
    q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    event: &NewEvent<'q>,
    outbox: Option<&NewOutbox<'q>>,
    answer: Option<&StoredAnswer<'q>>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    for<'a> &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> Option<&'a str>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Option<i64>: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    DateTime<Utc>: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut q = q
        .bind(event.payment_id)
        .bind(event.refund_id)
        .bind(event.from_status)
        .bind(event.to_status)
        .bind(event.trigger)
        .bind(event.detail)
        .bind(event.at);
    if let Some(o) = outbox {
        q = q
            .bind(o.event_id)
            .bind(o.store_id)
            .bind(o.till_id)
            .bind(o.routing_key)
            .bind(o.payload)
            .bind(o.at);
    }
    if let Some(a) = answer {
        q = q
            .bind(i64::from(a.status))
            .bind(a.body)
            .bind(a.till_id)
            .bind(a.key);
    }
    q
}

/// The rows of a change as one SQLite statement list, followed by `tail` (e.g. `commit;`).
async fn sqlite_change(
    conn: &mut sqlx::SqliteConnection,
    event: &NewEvent<'_>,
    outbox: Option<&NewOutbox<'_>>,
    answer: Option<&StoredAnswer<'_>>,
    tail: &str,
) -> Result<(), sqlx::Error> {
    let mut sql = change_statements(outbox.is_some(), answer.is_some()).join("; ");
    sql.push_str("; ");
    sql.push_str(tail);
    bind_change(sqlx::query(&sql), event, outbox, answer)
        .execute(conn)
        .await?;
    Ok(())
}

/// The rows of a change as one PostgreSQL statement (the first ones as data-modifying `with`
/// parts of the last): one round trip.
async fn postgres_change(
    conn: &mut sqlx::PgConnection,
    event: &NewEvent<'_>,
    outbox: Option<&NewOutbox<'_>>,
    answer: Option<&StoredAnswer<'_>>,
) -> Result<(), sqlx::Error> {
    let mut statements = change_statements(outbox.is_some(), answer.is_some());
    let last = statements.pop().expect("an event row at least");
    let sql = if statements.is_empty() {
        last
    } else {
        let parts: Vec<String> = statements
            .iter()
            .enumerate()
            .map(|(i, st)| format!("w{i} as ({st})"))
            .collect();
        format!("with {} {last}", parts.join(", "))
    };
    bind_change(sqlx::query(&sql), event, outbox, answer)
        .execute(conn)
        .await?;
    Ok(())
}

/// A status change in a transaction of its own: the guarded update, then the rows that go with
/// it, which `finish` renders from the updated payment (with whatever else the caller wants
/// from the row: `R`). `None` when the payment was no longer in `current.status`. On SQLite it
/// is one unit of a group-committed batch ([`super::group_commit`]; `finish` runs on the
/// writer's thread, so a caller that goes away cannot leave the writer inside the transaction).
pub async fn change_status<F, R>(
    db: &Db,
    current: CurrentPayment<'_>,
    to: PaymentStatus,
    late: bool,
    changes: &PaymentChanges,
    at: DateTime<Utc>,
    finish: F,
) -> Result<Option<(PaymentRow, R)>, sqlx::Error>
where
    F: FnOnce(&PaymentRow) -> (ChangeRows, R) + Send + 'static,
    R: Send + 'static,
{
    let Db::Sqlite { group, .. } = db else {
        let mut tx = db.begin().await?;
        let Some(row) = update_status(&mut tx, current, to, late, changes, at).await? else {
            return Ok(None);
        };
        let (rows, rendered) = finish(&row);
        record_change(
            &mut tx,
            &rows.event(),
            rows.outbox.as_ref().map(OwnedOutbox::row).as_ref(),
            rows.answer.as_ref().map(OwnedAnswer::row).as_ref(),
        )
        .await?;
        tx.commit().await?;
        return Ok(Some((row, rendered)));
    };
    // SQLite: the guarded update, then the rows that go with it, on the writer's thread.
    let payment_id = current.payment_id.to_owned();
    let from = current.status;
    let changes = changes.clone();
    group
        .run(move |conn| {
            let current = CurrentPayment {
                payment_id: &payment_id,
                status: from,
            };
            let updated =
                update_status_lite(conn, current, to, late, &changes, at).map_err(sqlx_error)?;
            let Some(row) = updated else {
                return Ok(None);
            };
            let (rows, rendered) = finish(&row);
            lite_change(
                conn,
                &rows.event(),
                rows.outbox.as_ref().map(OwnedOutbox::row).as_ref(),
                rows.answer.as_ref().map(OwnedAnswer::row).as_ref(),
            )
            .map_err(sqlx_error)?;
            Ok(Some((row, rendered)))
        })
        .await
}

/// The rows of a change on the SQLite writer's connection (see [`change_statements`]).
fn lite_change(
    conn: &rusqlite::Connection,
    event: &NewEvent<'_>,
    outbox: Option<&NewOutbox<'_>>,
    answer: Option<&StoredAnswer<'_>>,
) -> rusqlite::Result<()> {
    let event_at = timestamp_text(&event.at);
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![
        &event.payment_id,
        &event.refund_id,
        &event.from_status,
        &event.to_status,
        &event.trigger,
        &event.detail,
        &event_at,
    ];
    let outbox_at = outbox.map(|o| timestamp_text(&o.at));
    if let (Some(o), Some(at)) = (outbox, outbox_at.as_ref()) {
        values.extend([
            &o.event_id as &dyn rusqlite::ToSql,
            &o.store_id,
            &o.till_id,
            &o.routing_key,
            &o.payload,
            at,
        ]);
    }
    let status = answer.map(|a| i64::from(a.status));
    if let (Some(a), Some(status)) = (answer, status.as_ref()) {
        values.extend([status as &dyn rusqlite::ToSql, &a.body, &a.till_id, &a.key]);
    }
    for sql in change_statements(outbox.is_some(), answer.is_some()) {
        lite_execute(conn, &sql, &values)?;
    }
    Ok(())
}

/// What goes with a status change, owned (see [`change_status`]).
pub struct ChangeRows {
    pub payment_id: String,
    pub from_status: &'static str,
    pub to_status: &'static str,
    pub trigger: &'static str,
    pub at: DateTime<Utc>,
    pub outbox: Option<OwnedOutbox>,
    pub answer: Option<OwnedAnswer>,
}

impl ChangeRows {
    fn event(&self) -> NewEvent<'_> {
        NewEvent {
            payment_id: &self.payment_id,
            refund_id: None,
            from_status: Some(self.from_status),
            to_status: self.to_status,
            trigger: self.trigger,
            detail: None,
            at: self.at,
        }
    }
}

pub struct OwnedOutbox {
    pub event_id: String,
    pub store_id: i64,
    pub till_id: Option<i64>,
    pub routing_key: &'static str,
    pub payload: String,
    pub at: DateTime<Utc>,
}

impl OwnedOutbox {
    pub fn row(&self) -> NewOutbox<'_> {
        NewOutbox {
            event_id: &self.event_id,
            store_id: self.store_id,
            till_id: self.till_id,
            routing_key: self.routing_key,
            payload: &self.payload,
            at: self.at,
        }
    }
}

pub struct OwnedAnswer {
    pub till_id: i64,
    pub key: String,
    pub status: u16,
    pub body: String,
}

impl OwnedAnswer {
    pub fn row(&self) -> StoredAnswer<'_> {
        StoredAnswer {
            till_id: self.till_id,
            key: &self.key,
            status: self.status,
            body: &self.body,
        }
    }
}

/// Outbox rows not yet published, oldest first: `(routing_key, payload)`.
pub async fn unsent_outbox(db: &Db, limit: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select routing_key, payload from outbox where sent_at is null order by outbox_id limit $1"
    )
    .bind(limit)
    .fetch_all(c)
    .await)
}
