//! What a reconciliation with the bank's registry reads (the stores of a merchant, the payments
//! paid and the refunds completed in a period) and the `reconciliation` table that keeps each
//! comparison.

use super::audit::{self, Change, Who};
use super::{Db, in_tx, now, read};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

/// A store whose Raiffeisen module uses the merchant.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MerchantStore {
    pub store_id: i64,
    pub code: String,
}

/// The stores whose Raiffeisen settings name `sbp_merchant_id`.
pub async fn stores_of_merchant(
    db: &Db,
    sbp_merchant_id: &str,
) -> Result<Vec<MerchantStore>, sqlx::Error> {
    read!(db, |c| {
        sqlx::query_as(
        "select s.store_id, s.code from raiffeisen_setting r join store s on s.store_id = r.store_id \
         where r.sbp_merchant_id = $1 order by s.store_id"
    )
    .bind(sbp_merchant_id)
    .fetch_all(c)
    .await
    })
}

/// A payment or refund of qrpay's as a reconciliation compares it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Booked {
    pub payment_id: String,
    /// The refund's id, for a refund.
    pub refund_id: Option<String>,
    pub store_id: i64,
    /// The bank's reference: the order (payments) or the refund id (refunds).
    pub bank_ref: String,
    pub amount: i64,
    pub at: DateTime<Utc>,
}

/// The store's payments of `module` paid in `[from, to)`.
pub async fn paid_between(
    db: &Db,
    store_id: i64,
    module: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Booked>, sqlx::Error> {
    read!(db, |c| {
        sqlx::query_as(
            "select payment_id, cast(null as text) as refund_id, store_id, \
         coalesce(bank_order, order_ref) as bank_ref, amount, \
         paid_at as at from payment where store_id = $1 and module = $2 and status = 'paid' \
         and paid_at >= $3 and paid_at < $4 order by paid_at",
        )
        .bind(store_id)
        .bind(module)
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await
    })
}

/// The store's refunds of payments of `module` completed in `[from, to)`.
pub async fn refunded_between(
    db: &Db,
    store_id: i64,
    module: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Booked>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select r.payment_id, r.refund_id, r.store_id, r.refund_ref as bank_ref, r.amount, \
         r.completed_at as at from refund r join payment p on p.payment_id = r.payment_id \
         where r.store_id = $1 and p.module = $2 and r.status = 'completed' \
         and r.completed_at >= $3 and r.completed_at < $4 order by r.completed_at"
    )
    .bind(store_id)
    .bind(module)
    .bind(from)
    .bind(to)
    .fetch_all(c)
    .await)
}

/// A comparison to keep.
pub struct NewReconciliation<'a> {
    pub merchant: &'a str,
    pub registry_name: &'a str,
    pub registry_sha256: &'a str,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub lines: i64,
    pub mismatches: i64,
    /// The report as JSON.
    pub report: &'a serde_json::Value,
    /// The store the audit row belongs to (the first of the merchant's).
    pub store_id: i64,
}

/// Keeps a comparison and writes its audit row, in one transaction; returns its id.
pub async fn record(db: &Db, who: &Who<'_>, r: &NewReconciliation<'_>) -> Result<i64, sqlx::Error> {
    let at = now();
    let mut tx = db.begin().await?;
    let id: i64 = in_tx!(&mut tx, |c| sqlx::query_scalar(
        "insert into reconciliation (merchant, registry_name, registry_sha256, first_day, \
         last_day, lines, mismatches, report, created_at, created_by) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning reconciliation_id"
    )
    .bind(r.merchant)
    .bind(r.registry_name)
    .bind(r.registry_sha256)
    .bind(r.first_day)
    .bind(r.last_day)
    .bind(r.lines)
    .bind(r.mismatches)
    .bind(r.report.to_string())
    .bind(at)
    .bind(who.login)
    .fetch_one(c)
    .await)?;
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(r.store_id),
            action: "reconcile",
            entity: "reconciliation",
            entity_id: id.to_string(),
            before: None,
            after: Some(json!({
                "merchant": r.merchant,
                "registry": r.registry_name,
                "sha256": r.registry_sha256,
                "days": format!("{}..{}", r.first_day, r.last_day),
                "lines": r.lines,
                "mismatches": r.mismatches,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A kept comparison, newest first in [`latest`].
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Kept {
    pub reconciliation_id: i64,
    pub merchant: String,
    pub registry_name: String,
    pub registry_sha256: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub lines: i64,
    pub mismatches: i64,
    pub report: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// The newest `limit` comparisons of the merchants of the store.
pub async fn latest(db: &Db, store_id: i64, limit: i64) -> Result<Vec<Kept>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select reconciliation_id, merchant, registry_name, registry_sha256, first_day, last_day, \
         lines, mismatches, report, created_at, created_by from reconciliation \
         where merchant in (select sbp_merchant_id from raiffeisen_setting where store_id = $1) \
         order by reconciliation_id desc limit $2"
    )
    .bind(store_id)
    .bind(limit)
    .fetch_all(c)
    .await)
}
