//! The `refund` table, and the refunded sum it reserves on its payment.

use super::{Db, Tx, in_tx, read};
use crate::domain::RefundStatus;
use chrono::{DateTime, Utc};

const REFUND_COLUMNS: &str = "refund_id, payment_id, store_id, till_id, amount, status, reason, \
    refund_ref, failure_code, failure_message, created_at, updated_at, completed_at, \
    (select p.test from payment p where p.payment_id = refund.payment_id) as test";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefundRow {
    pub refund_id: String,
    pub payment_id: String,
    pub store_id: i64,
    pub till_id: Option<i64>,
    pub amount: i64,
    pub status: String,
    pub reason: Option<String>,
    pub refund_ref: String,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The refund of a test payment (`payment.test`): no money moves back either.
    pub test: bool,
}

impl RefundRow {
    pub fn status(&self) -> RefundStatus {
        RefundStatus::parse(&self.status).expect("BUG: status column has a check constraint")
    }
}

/// Adds `amount` to the payment's refunded sum if it is paid and the sum stays within the paid
/// amount: one guarded update, so concurrent refunds can never oversubscribe a payment.
pub async fn reserve_refund(
    tx: &mut Tx,
    payment_id: &str,
    amount: i64,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let rows = in_tx!(tx, |c| sqlx::query(
        "update payment set refunded_amount = refunded_amount + $2, updated_at = $3 \
         where payment_id = $1 and status = 'paid' and refunded_amount + $2 <= amount"
    )
    .bind(payment_id)
    .bind(amount)
    .bind(at)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(rows == 1)
}

/// Gives a declined refund's amount back to the payment.
pub async fn release_refund(
    tx: &mut Tx,
    payment_id: &str,
    amount: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    in_tx!(tx, |c| {
        sqlx::query(
        "update payment set refunded_amount = refunded_amount - $2, updated_at = $3 where payment_id = $1"
    )
    .bind(payment_id)
    .bind(amount)
    .bind(at)
    .execute(c)
    .await
    .map(|_| ())
    })?;
    Ok(())
}

pub struct NewRefund<'a> {
    pub refund_id: &'a str,
    pub payment_id: &'a str,
    pub store_id: i64,
    pub till_id: Option<i64>,
    pub amount: i64,
    pub reason: Option<&'a str>,
    pub refund_ref: &'a str,
    pub at: DateTime<Utc>,
}

/// Records a pending refund together with its audit row (who asked for it, what was refunded):
/// one statement list on SQLite and one statement on PostgreSQL, so a refund costs no extra round
/// trip for its audit row.
pub async fn insert_refund(
    tx: &mut Tx,
    r: &NewRefund<'_>,
    who: &super::audit::Who<'_>,
) -> Result<(), sqlx::Error> {
    const REFUND: &str = "insert into refund (refund_id, payment_id, store_id, till_id, amount, status, reason, \
         refund_ref, created_at, updated_at) values ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $8)";
    const AUDIT: &str = "insert into audit_log (app_user_id, login, action, entity, entity_id, before, after, created_at, store_id)";
    let after = serde_json::json!({
        "payment_id": r.payment_id, "refund_id": r.refund_id, "amount": r.amount, "reason": r.reason,
    })
    .to_string();
    let sql = match tx {
        Tx::Sqlite(_) => {
            format!(
                "{REFUND}; {AUDIT} values ($9, $10, 'refund', 'payment', $2, null, $11, $8, $3);"
            )
        }
        Tx::Postgres(_) => format!(
            "with refund_row as ({REFUND} returning refund_id) {AUDIT} \
             select $9::bigint, $10::text, 'refund', 'payment', $2, null, $11::jsonb, $8, $3 from refund_row"
        ),
    };
    in_tx!(tx, |c| {
        sqlx::query(&sql)
            .bind(r.refund_id)
            .bind(r.payment_id)
            .bind(r.store_id)
            .bind(r.till_id)
            .bind(r.amount)
            .bind(r.reason)
            .bind(r.refund_ref)
            .bind(r.at)
            .bind(who.app_user_id)
            .bind(who.login)
            .bind(&after)
            .execute(c)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn update_refund_status(
    tx: &mut Tx,
    refund_id: &str,
    from: RefundStatus,
    to: RefundStatus,
    failure: Option<(&str, &str)>,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let completed_at = matches!(to, RefundStatus::Completed | RefundStatus::Declined).then_some(at);
    let rows = in_tx!(tx, |c| {
        sqlx::query(
        "update refund set status = $3, failure_code = coalesce($4, failure_code), \
         failure_message = coalesce($5, failure_message), completed_at = coalesce($6, completed_at), \
         updated_at = $7 where refund_id = $1 and status = $2"
    )
    .bind(refund_id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(failure.map(|f| f.0))
    .bind(failure.map(|f| f.1))
    .bind(completed_at)
    .bind(at)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(rows == 1)
}

pub async fn get_refund(db: &Db, refund_id: &str) -> Result<Option<RefundRow>, sqlx::Error> {
    let sql = format!("select {REFUND_COLUMNS} from refund where refund_id = $1");
    read!(db, |c| sqlx::query_as(&sql)
        .bind(refund_id)
        .fetch_optional(c)
        .await)
}

pub async fn get_refund_in(tx: &mut Tx, refund_id: &str) -> Result<Option<RefundRow>, sqlx::Error> {
    let sql = format!("select {REFUND_COLUMNS} from refund where refund_id = $1");
    in_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(refund_id)
        .fetch_optional(c)
        .await)
}

/// The refund of a reference (unique), e.g. a console refund found again by its form's key.
pub async fn find_refund_by_ref(
    db: &Db,
    refund_ref: &str,
) -> Result<Option<RefundRow>, sqlx::Error> {
    let sql = format!("select {REFUND_COLUMNS} from refund where refund_ref = $1");
    read!(db, |c| sqlx::query_as(&sql)
        .bind(refund_ref)
        .fetch_optional(c)
        .await)
}

pub async fn refunds_of(db: &Db, payment_id: &str) -> Result<Vec<RefundRow>, sqlx::Error> {
    let sql = format!(
        "select {REFUND_COLUMNS} from refund where payment_id = $1 order by created_at, refund_id"
    );
    read!(db, |c| sqlx::query_as(&sql)
        .bind(payment_id)
        .fetch_all(c)
        .await)
}
