//! Bulk writes of made-up payment history (`qrpay seed`): payments (all marked `test`: made up,
//! never money), their status events and refunds, many rows a statement (multi-row `values` on
//! SQLite, `unnest` arrays on PostgreSQL) and one transaction a batch. No outbox rows: the relay
//! must not publish history.

use super::Db;
use chrono::{DateTime, Utc};

/// The rows of one transaction, by column.
#[derive(Default)]
pub struct Batch {
    pub p_id: Vec<String>,
    pub p_store: Vec<i64>,
    pub p_till: Vec<i64>,
    pub p_type: Vec<i64>,
    pub p_status: Vec<&'static str>,
    pub p_amount: Vec<i64>,
    pub p_receipt: Vec<String>,
    pub p_order_ref: Vec<String>,
    pub p_qr_id: Vec<Option<String>>,
    pub p_qr_payload: Vec<Option<String>>,
    pub p_bank_tx: Vec<Option<String>>,
    pub p_failure_code: Vec<Option<&'static str>>,
    pub p_failure_message: Vec<Option<&'static str>>,
    pub p_expires_at: Vec<DateTime<Utc>>,
    pub p_paid_at: Vec<Option<DateTime<Utc>>>,
    pub p_refunded: Vec<i64>,
    pub p_late: Vec<bool>,
    pub p_created_at: Vec<DateTime<Utc>>,
    pub p_updated_at: Vec<DateTime<Utc>>,
    pub e_payment: Vec<String>,
    pub e_refund: Vec<Option<String>>,
    pub e_from: Vec<Option<&'static str>>,
    pub e_to: Vec<&'static str>,
    pub e_trigger: Vec<&'static str>,
    pub e_detail: Vec<Option<&'static str>>,
    pub e_at: Vec<DateTime<Utc>>,
    pub r_id: Vec<String>,
    pub r_payment: Vec<String>,
    pub r_store: Vec<i64>,
    pub r_till: Vec<Option<i64>>,
    pub r_amount: Vec<i64>,
    pub r_reason: Vec<Option<&'static str>>,
    pub r_ref: Vec<String>,
    pub r_created_at: Vec<DateTime<Utc>>,
    pub r_completed_at: Vec<DateTime<Utc>>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.p_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.p_id.is_empty()
    }

    #[allow(clippy::too_many_arguments)]
    pub fn event(
        &mut self,
        payment_id: &str,
        refund_id: Option<&str>,
        from: Option<&'static str>,
        to: &'static str,
        trigger: &'static str,
        detail: Option<&'static str>,
        at: DateTime<Utc>,
    ) {
        self.e_payment.push(payment_id.to_owned());
        self.e_refund.push(refund_id.map(str::to_owned));
        self.e_from.push(from);
        self.e_to.push(to);
        self.e_trigger.push(trigger);
        self.e_detail.push(detail);
        self.e_at.push(at);
    }
}

/// Writes the batch in one transaction.
pub async fn write_batch(db: &Db, b: &Batch) -> Result<(), sqlx::Error> {
    match db {
        Db::Sqlite { write, .. } => flush_sqlite(write, b).await,
        Db::Postgres(pool) => flush_postgres(pool, b).await,
    }
}

/// After a bulk load: statistics for the planner (and, on PostgreSQL, the visibility map for
/// index-only scans).
pub async fn analyze(db: &Db) -> Result<(), sqlx::Error> {
    match db {
        Db::Postgres(pool) => {
            sqlx::query("vacuum analyze payment, payment_event, refund, payment_day")
                .execute(pool)
                .await?;
        }
        Db::Sqlite { write, .. } => {
            sqlx::query("analyze").execute(write).await?;
        }
    }
    Ok(())
}

const PAYMENT_INSERT: &str = "insert into payment (payment_id, store_id, till_id, payment_type_id, \
    module, status, amount, receipt, order_ref, qr_id, qr_payload, bank_transaction_id, failure_code, \
    failure_message, expires_at, paid_at, refunded_amount, late, created_at, updated_at, test) ";
const EVENT_INSERT: &str = "insert into payment_event (payment_id, refund_id, from_status, to_status, \
    trigger, detail, created_at) ";
const REFUND_INSERT: &str = "insert into refund (refund_id, payment_id, store_id, till_id, amount, \
    status, reason, refund_ref, created_at, updated_at, completed_at) ";

/// SQLite: multi-row `values` (≤ 32,766 parameters a statement), one transaction.
async fn flush_sqlite(write: &sqlx::SqlitePool, b: &Batch) -> Result<(), sqlx::Error> {
    use sqlx::QueryBuilder;
    let mut tx = write.begin().await?;
    for chunk in (0..b.len()).collect::<Vec<_>>().chunks(1500) {
        let mut q = QueryBuilder::<sqlx::Sqlite>::new(PAYMENT_INSERT);
        q.push_values(chunk, |mut r, &i| {
            r.push_bind(&b.p_id[i])
                .push_bind(b.p_store[i])
                .push_bind(b.p_till[i])
                .push_bind(b.p_type[i])
                .push_bind("sandbox")
                .push_bind(b.p_status[i])
                .push_bind(b.p_amount[i])
                .push_bind(&b.p_receipt[i])
                .push_bind(&b.p_order_ref[i])
                .push_bind(&b.p_qr_id[i])
                .push_bind(&b.p_qr_payload[i])
                .push_bind(&b.p_bank_tx[i])
                .push_bind(b.p_failure_code[i])
                .push_bind(b.p_failure_message[i])
                .push_bind(b.p_expires_at[i])
                .push_bind(b.p_paid_at[i])
                .push_bind(b.p_refunded[i])
                .push_bind(b.p_late[i])
                .push_bind(b.p_created_at[i])
                .push_bind(b.p_updated_at[i])
                // Made-up history is never money: test payments, like the sandbox's own.
                .push_bind(true);
        });
        q.build().execute(&mut *tx).await?;
    }
    for chunk in (0..b.r_id.len()).collect::<Vec<_>>().chunks(2500) {
        let mut q = QueryBuilder::<sqlx::Sqlite>::new(REFUND_INSERT);
        q.push_values(chunk, |mut r, &i| {
            r.push_bind(&b.r_id[i])
                .push_bind(&b.r_payment[i])
                .push_bind(b.r_store[i])
                .push_bind(b.r_till[i])
                .push_bind(b.r_amount[i])
                .push_bind("completed")
                .push_bind(b.r_reason[i])
                .push_bind(&b.r_ref[i])
                .push_bind(b.r_created_at[i])
                .push_bind(b.r_completed_at[i])
                .push_bind(b.r_completed_at[i]);
        });
        q.build().execute(&mut *tx).await?;
    }
    for chunk in (0..b.e_payment.len()).collect::<Vec<_>>().chunks(4000) {
        let mut q = QueryBuilder::<sqlx::Sqlite>::new(EVENT_INSERT);
        q.push_values(chunk, |mut r, &i| {
            r.push_bind(&b.e_payment[i])
                .push_bind(&b.e_refund[i])
                .push_bind(b.e_from[i])
                .push_bind(b.e_to[i])
                .push_bind(b.e_trigger[i])
                .push_bind(b.e_detail[i])
                .push_bind(b.e_at[i]);
        });
        q.build().execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// PostgreSQL: one `insert … select from unnest(arrays)` per table, one transaction.
async fn flush_postgres(pool: &sqlx::PgPool, b: &Batch) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let strs = |v: &[&'static str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let opt_strs =
        |v: &[Option<&'static str>]| v.iter().map(|s| s.map(str::to_owned)).collect::<Vec<_>>();
    sqlx::query(&format!(
        "{PAYMENT_INSERT} select id, store, till, pt, 'sandbox', status, amount, receipt, order_ref, \
         qr_id, qr_payload, bank_tx, fcode, fmsg, expires, paid, refunded, late, created, updated, \
         true from unnest($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::text[], $6::int8[], \
         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], \
         $14::timestamptz[], $15::timestamptz[], $16::int8[], $17::bool[], $18::timestamptz[], \
         $19::timestamptz[]) as t(id, store, till, pt, status, amount, receipt, order_ref, qr_id, \
         qr_payload, bank_tx, fcode, fmsg, expires, paid, refunded, late, created, updated)"
    ))
    .bind(&b.p_id)
    .bind(&b.p_store)
    .bind(&b.p_till)
    .bind(&b.p_type)
    .bind(strs(&b.p_status))
    .bind(&b.p_amount)
    .bind(&b.p_receipt)
    .bind(&b.p_order_ref)
    .bind(&b.p_qr_id)
    .bind(&b.p_qr_payload)
    .bind(&b.p_bank_tx)
    .bind(opt_strs(&b.p_failure_code))
    .bind(opt_strs(&b.p_failure_message))
    .bind(&b.p_expires_at)
    .bind(&b.p_paid_at)
    .bind(&b.p_refunded)
    .bind(&b.p_late)
    .bind(&b.p_created_at)
    .bind(&b.p_updated_at)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "{REFUND_INSERT} select id, payment, store, till, amount, 'completed', reason, ref, created, \
         done, done from unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[], \
         $6::text[], $7::text[], $8::timestamptz[], $9::timestamptz[]) \
         as t(id, payment, store, till, amount, reason, ref, created, done)"
    ))
    .bind(&b.r_id)
    .bind(&b.r_payment)
    .bind(&b.r_store)
    .bind(&b.r_till)
    .bind(&b.r_amount)
    .bind(opt_strs(&b.r_reason))
    .bind(&b.r_ref)
    .bind(&b.r_created_at)
    .bind(&b.r_completed_at)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "{EVENT_INSERT} select payment, refund, from_status, to_status, trigger, detail, at \
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
         $7::timestamptz[]) with ordinality as t(payment, refund, from_status, to_status, trigger, \
         detail, at, n) order by n"
    ))
    .bind(&b.e_payment)
    .bind(&b.e_refund)
    .bind(opt_strs(&b.e_from))
    .bind(strs(&b.e_to))
    .bind(strs(&b.e_trigger))
    .bind(opt_strs(&b.e_detail))
    .bind(&b.e_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
