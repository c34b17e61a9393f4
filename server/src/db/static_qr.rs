//! Static QRs (`static_qr`): issued by a store for a place with no till, each a point of sale of
//! its own (it owns a revoked till row, see the migration), and the payments the bank reports
//! for them, recorded once each.

use super::audit::{self, Change, Who};
use super::{ConfigError, Db, Tx, in_tx, now, read};
use chrono::{DateTime, Utc};
use serde_json::json;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaticQr {
    pub static_qr_id: i64,
    pub store_id: i64,
    pub till_id: i64,
    pub payment_type_id: i64,
    pub payment_type_name: String,
    pub module: String,
    pub name: String,
    pub purpose: Option<String>,
    /// Kopecks every payment is; `None`: the customer types the amount.
    pub amount: Option<i64>,
    pub order_ref: String,
    pub qr_id: String,
    pub qr_payload: String,
    pub test: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many payments it took, and their sum (kopecks).
    pub payments: i64,
    pub paid_total: i64,
}

const COLUMNS: &str = "q.static_qr_id, q.store_id, q.till_id, q.payment_type_id, \
    pt.name as payment_type_name, q.module, q.name, q.purpose, q.amount, q.order_ref, q.qr_id, \
    q.qr_payload, q.test, q.active, q.created_at, q.updated_at, \
    (select count(*) from payment p where p.static_qr_id = q.static_qr_id) as payments, \
    (select cast(coalesce(sum(p.amount), 0) as bigint) from payment p \
       where p.static_qr_id = q.static_qr_id) as paid_total";
const FROM: &str =
    "from static_qr q join payment_type pt on pt.payment_type_id = q.payment_type_id";

/// The name a static QR's till row goes by (transactions show it in the till column).
pub fn till_name_of(name: &str) -> String {
    format!("QR «{name}»")
}

/// A static QR the bank registered, to record.
pub struct NewStaticQr<'a> {
    pub store_id: i64,
    pub payment_type_id: i64,
    pub module: &'a str,
    pub name: &'a str,
    pub purpose: Option<&'a str>,
    pub amount: Option<i64>,
    pub order_ref: &'a str,
    pub qr_id: &'a str,
    pub qr_payload: &'a str,
    pub test: bool,
    /// The hash of a key nobody holds, for its till row (revoked at once besides).
    pub till_key_hash: &'a str,
}

/// True when the store has a static QR, or a till, that `name` would collide with (asked before
/// the bank registers anything).
pub async fn name_taken(db: &Db, store_id: i64, name: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = read!(db, |c| sqlx::query_scalar(
        "select (select count(*) from static_qr where store_id = $1 and name = $2) \
              + (select count(*) from till where store_id = $1 and name = $3)"
    )
    .bind(store_id)
    .bind(name)
    .bind(till_name_of(name))
    .fetch_one(c)
    .await)?;
    Ok(n > 0)
}

/// Records a static QR with its till row and audit row; its id.
pub async fn create_static_qr(
    db: &Db,
    who: &Who<'_>,
    q: NewStaticQr<'_>,
) -> Result<i64, ConfigError> {
    let at = now();
    let till_name = till_name_of(q.name);
    let mut tx = db.begin().await?;
    let till_id: i64 = in_tx!(&mut tx, |c| sqlx::query_scalar(
        "insert into till (store_id, name, kind, key_hash, key_prefix, revoked_at, created_at, \
         updated_at) values ($1, $2, 'till', $3, 'static', $4, $4, $4) returning till_id"
    )
    .bind(q.store_id)
    .bind(&till_name)
    .bind(q.till_key_hash)
    .bind(at)
    .fetch_one(&mut *c)
    .await)
    .map_err(|e| super::duplicate_or(e, format!("till {till_name:?}")))?;
    let id: i64 = in_tx!(&mut tx, |c| sqlx::query_scalar(
        "insert into static_qr (store_id, till_id, payment_type_id, module, name, purpose, \
         amount, order_ref, qr_id, qr_payload, test, active, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
         returning static_qr_id"
    )
    .bind(q.store_id)
    .bind(till_id)
    .bind(q.payment_type_id)
    .bind(q.module)
    .bind(q.name)
    .bind(q.purpose)
    .bind(q.amount)
    .bind(q.order_ref)
    .bind(q.qr_id)
    .bind(q.qr_payload)
    .bind(q.test)
    .bind(true)
    .bind(at)
    .fetch_one(&mut *c)
    .await)
    .map_err(|e| super::duplicate_or(e, format!("static QR {:?}", q.name)))?;
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(q.store_id),
            action: "create",
            entity: "static_qr",
            entity_id: id.to_string(),
            before: None,
            after: Some(json!({
                "name": q.name,
                "purpose": q.purpose,
                "amount": q.amount,
                "payment_type_id": q.payment_type_id,
                "qr_id": q.qr_id,
                "order_ref": q.order_ref,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The store's static QRs, newest first.
pub async fn list_static_qrs(db: &Db, store_id: i64) -> Result<Vec<StaticQr>, sqlx::Error> {
    let sql = format!("select {COLUMNS} {FROM} where q.store_id = $1 order by q.static_qr_id desc");
    read!(db, |c| sqlx::query_as(&sql)
        .bind(store_id)
        .fetch_all(c)
        .await)
}

/// The static QR `id` of the store.
pub async fn get_static_qr(
    db: &Db,
    store_id: i64,
    id: i64,
) -> Result<Option<StaticQr>, sqlx::Error> {
    let sql = format!("select {COLUMNS} {FROM} where q.store_id = $1 and q.static_qr_id = $2");
    read!(db, |c| sqlx::query_as(&sql)
        .bind(store_id)
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// The static QR of `module` registered under `order` (a notification names it so).
pub async fn find_by_order(
    db: &Db,
    module: &str,
    order: &str,
) -> Result<Option<StaticQr>, sqlx::Error> {
    let sql = format!("select {COLUMNS} {FROM} where q.order_ref = $1 and q.module = $2");
    read!(db, |c| sqlx::query_as(&sql)
        .bind(order)
        .bind(module)
        .fetch_optional(c)
        .await)
}

/// The active static QRs of `module` (what polling asks the bank about), oldest first.
pub async fn active_of_module(
    db: &Db,
    module: &str,
    limit: i64,
) -> Result<Vec<StaticQr>, sqlx::Error> {
    let sql = format!(
        "select {COLUMNS} {FROM} where q.module = $1 and q.active = $2 \
         order by q.static_qr_id limit $3"
    );
    read!(db, |c| sqlx::query_as(&sql)
        .bind(module)
        .bind(true)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// Deactivates the store's static QR `id` (annulled at the bank before), with its audit row;
/// `false` when it was inactive already.
pub async fn deactivate_static_qr(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    id: i64,
) -> Result<bool, ConfigError> {
    let mut tx = db.begin().await?;
    let changed = in_tx!(&mut tx, |c| sqlx::query(
        "update static_qr set active = $1, updated_at = $2 \
         where store_id = $3 and static_qr_id = $4 and active = $5"
    )
    .bind(false)
    .bind(now())
    .bind(store_id)
    .bind(id)
    .bind(true)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?
        > 0;
    if changed {
        audit::record(
            &mut tx,
            who,
            Change {
                store_id: Some(store_id),
                action: "deactivate",
                entity: "static_qr",
                entity_id: id.to_string(),
                before: Some(json!({"active": true})),
                after: Some(json!({"active": false})),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// A payment the bank reported for a static QR, to record.
pub struct NewStaticPayment<'a> {
    pub payment_id: &'a str,
    pub qr: &'a StaticQr,
    pub amount: i64,
    /// The till-facing reference: the bank's transaction id.
    pub receipt: &'a str,
    /// The static QR's order and the transaction id: unique, so a payment is recorded once.
    pub order_ref: &'a str,
    pub bank_order: &'a str,
    pub at: DateTime<Utc>,
}

/// True when a payment with `order_ref` is recorded already (read inside the transaction that
/// would record it).
pub async fn payment_recorded(tx: &mut Tx, order_ref: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = in_tx!(tx, |c| sqlx::query_scalar(
        "select count(*) from payment where order_ref = $1"
    )
    .bind(order_ref)
    .fetch_one(&mut *c)
    .await)?;
    Ok(n > 0)
}

/// Records a static QR's payment in `creating`, with its first event; the caller moves it on
/// to `paid` in the same transaction.
pub async fn insert_static_payment(
    tx: &mut Tx,
    p: &NewStaticPayment<'_>,
) -> Result<(), sqlx::Error> {
    in_tx!(tx, |c| sqlx::query(
        "insert into payment (payment_id, store_id, till_id, payment_type_id, module, status, \
         amount, receipt, description, order_ref, bank_order, static_qr_id, expires_at, \
         created_at, updated_at, test) \
         values ($1, $2, $3, $4, $5, 'creating', $6, $7, $8, $9, $10, $11, $12, $12, $12, $13)"
    )
    .bind(p.payment_id)
    .bind(p.qr.store_id)
    .bind(p.qr.till_id)
    .bind(p.qr.payment_type_id)
    .bind(&p.qr.module)
    .bind(p.amount)
    .bind(p.receipt)
    .bind(p.qr.purpose.as_deref())
    .bind(p.order_ref)
    .bind(p.bank_order)
    .bind(p.qr.static_qr_id)
    .bind(p.at)
    .bind(p.qr.test)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    in_tx!(tx, |c| sqlx::query(
        "insert into payment_event (payment_id, to_status, trigger, created_at) \
         values ($1, 'creating', 'static_qr_paid', $2)"
    )
    .bind(p.payment_id)
    .bind(p.at)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The paid payments (id, amount) of `module`'s static QRs the bank gave `bank_order`, oldest
/// first (a registry line names a static QR's payment by that order and its amount only).
pub async fn payments_of_bank_order(
    db: &Db,
    module: &str,
    bank_order: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select payment_id, amount from payment where bank_order = $1 and module = $2 \
         and static_qr_id is not null and status = 'paid' order by paid_at, payment_id"
    )
    .bind(bank_order)
    .bind(module)
    .fetch_all(c)
    .await)
}
