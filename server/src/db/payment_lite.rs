//! The payment path's rows on the SQLite writer's connection (rusqlite, in a unit of
//! [`super::group_commit`]): running a statement with `$N` parameters, the guarded status update,
//! and the rows read back. The SQL is the same text as the sqlx paths in `payment.rs`.

use super::idempotency::IdempotencyRow;
use super::inline::{bind_numbered, timestamp, timestamp_text};
use super::payment::{CurrentPayment, PaymentChanges, PaymentRow, update_status_sql};
use crate::domain::PaymentStatus;
use chrono::{DateTime, Utc};

/// Runs `sql` (its `$N` taken from `values`) on the writer's connection; rows changed.
pub(super) fn lite_execute(
    conn: &rusqlite::Connection,
    sql: &str,
    values: &[&dyn rusqlite::ToSql],
) -> rusqlite::Result<usize> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind_numbered(&mut stmt, values)?;
    stmt.raw_execute()
}

/// [`super::payment::update_status`] on the SQLite writer's connection (a unit of [`super::group_commit`]).
pub(super) fn update_status_lite(
    conn: &rusqlite::Connection,
    current: CurrentPayment<'_>,
    to: PaymentStatus,
    late: bool,
    changes: &PaymentChanges,
    at: DateTime<Utc>,
) -> rusqlite::Result<Option<PaymentRow>> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(update_status_sql);
    let paid_at = changes.paid_at.as_ref().map(timestamp_text);
    let at = timestamp_text(&at);
    let values: [&dyn rusqlite::ToSql; 11] = [
        &current.payment_id,
        &current.status.as_str(),
        &to.as_str(),
        &late,
        &changes.qr_id,
        &changes.qr_payload,
        &changes.bank_transaction_id,
        &changes.failure_code,
        &changes.failure_message,
        &paid_at,
        &at,
    ];
    let mut stmt = conn.prepare_cached(&SQL)?;
    bind_numbered(&mut stmt, &values)?;
    let mut rows = stmt.raw_query();
    match rows.next()? {
        Some(row) => payment_row_lite(row).map(Some),
        None => Ok(None),
    }
}

/// A [`PaymentRow`] read by rusqlite, by column name.
fn payment_row_lite(row: &rusqlite::Row<'_>) -> rusqlite::Result<PaymentRow> {
    let required = |name: &str| {
        let i = row.as_ref().column_index(name)?;
        timestamp(row, i)?.ok_or(rusqlite::Error::InvalidColumnType(
            i,
            name.to_owned(),
            rusqlite::types::Type::Null,
        ))
    };
    let optional = |name: &str| timestamp(row, row.as_ref().column_index(name)?);
    Ok(PaymentRow {
        payment_id: row.get("payment_id")?,
        store_id: row.get("store_id")?,
        till_id: row.get("till_id")?,
        payment_type_id: row.get("payment_type_id")?,
        payment_type_name: row.get("payment_type_name")?,
        module: row.get("module")?,
        status: row.get("status")?,
        amount: row.get("amount")?,
        currency: row.get("currency")?,
        receipt: row.get("receipt")?,
        description: row.get("description")?,
        customer_qr: row.get("customer_qr")?,
        order_ref: row.get("order_ref")?,
        qr_id: row.get("qr_id")?,
        qr_payload: row.get("qr_payload")?,
        bank_transaction_id: row.get("bank_transaction_id")?,
        failure_code: row.get("failure_code")?,
        failure_message: row.get("failure_message")?,
        expires_at: required("expires_at")?,
        paid_at: optional("paid_at")?,
        refunded_amount: row.get("refunded_amount")?,
        late: row.get("late")?,
        test: row.get("test")?,
        created_at: required("created_at")?,
        updated_at: required("updated_at")?,
        static_qr_id: row.get("static_qr_id")?,
        bank_order: row.get("bank_order")?,
        cash_link_qr_id: row.get("cash_link_qr_id")?,
        till_qr_outputs: row.get("till_qr_outputs")?,
        till_paper_width: row.get("till_paper_width")?,
        till_escpos_native: row.get("till_escpos_native")?,
        till_cash_link_payload: row.get("till_cash_link_payload")?,
    })
}

/// An [`IdempotencyRow`] read by rusqlite (its columns in [`IDEMPOTENCY_COLUMNS`] order).
pub(super) fn idempotency_row_lite(row: &rusqlite::Row<'_>) -> rusqlite::Result<IdempotencyRow> {
    Ok(IdempotencyRow {
        request_hash: row.get(0)?,
        response_status: row.get(1)?,
        response_body: row.get(2)?,
        payment_id: row.get(3)?,
        refund_id: row.get(4)?,
        lease_until: timestamp(row, 5)?,
    })
}
