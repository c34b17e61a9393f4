//! The dashboard's figures for one store: paid payments per day over a range of days (one query
//! over the `payment_store_created` index, grouped in SQL), the payments pending now, and the late
//! payments still to refund (index `payment_late_open`).

use super::console::TransactionRow;
use super::{Db, read};
use chrono::{DateTime, Utc};

/// Paid payments created in one day of the range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayTotals {
    pub count: i64,
    pub amount: i64,
    pub refunded: i64,
}

/// Paid payments per day: `bounds` are the days' starts and the last day's end (UTC instants of
/// local midnights, ascending), so `bounds.len() - 1` days come back, days without payments as
/// zeros.
pub async fn paid_per_day(
    db: &Db,
    store_id: i64,
    bounds: &[DateTime<Utc>],
) -> Result<Vec<DayTotals>, sqlx::Error> {
    let days = bounds.len().saturating_sub(1);
    if days == 0 {
        return Ok(Vec::new());
    }
    // $1 the store, $2.. the bounds; the day of a row is the first bound it is below, minus one.
    let mut case = String::from("case");
    for d in 0..days - 1 {
        case.push_str(&format!(" when p.created_at < ${} then {d}", d + 3));
    }
    case.push_str(&format!(" else {} end", days - 1));
    let sql = format!(
        "select cast({case} as bigint) as day, count(*), cast(coalesce(sum(p.amount), 0) as bigint), \
                cast(coalesce(sum(p.refunded_amount), 0) as bigint) \
         from payment p \
         where p.store_id = $1 and p.created_at >= $2 and p.created_at < ${last} and p.status = 'paid' \
         group by 1",
        last = days + 2
    );
    let rows: Vec<(i64, i64, i64, i64)> = read!(db, |c| {
        let mut q = sqlx::query_as(&sql).bind(store_id);
        for b in bounds {
            q = q.bind(*b);
        }
        q.fetch_all(c).await
    })?;
    let mut out = vec![DayTotals::default(); days];
    for (day, count, amount, refunded) in rows {
        if let Some(slot) = usize::try_from(day).ok().and_then(|d| out.get_mut(d)) {
            *slot = DayTotals {
                count,
                amount,
                refunded,
            };
        }
    }
    Ok(out)
}

const ROW_COLUMNS: &str = "p.payment_id, p.created_at, p.amount, p.refunded_amount, p.status, \
    p.receipt, t.name as till_name, p.order_ref, p.qr_id, p.bank_transaction_id";

/// Up to `limit` payments of the store pending now, the soonest to expire first (index
/// `payment_status_expires`: pending payments are few, whatever the table's size).
pub async fn pending(
    db: &Db,
    store_id: i64,
    limit: i64,
) -> Result<Vec<TransactionRow>, sqlx::Error> {
    let sql = format!(
        "select {ROW_COLUMNS} from payment p join till t on t.till_id = p.till_id \
         where p.status = 'pending' and p.store_id = $1 order by p.expires_at, p.payment_id limit $2"
    );
    read!(db, |c| sqlx::query_as(&sql)
        .bind(store_id)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// Up to `limit` late payments (paid after qrpay expired or cancelled them) not yet refunded in
/// full, newest first. The conditions are the partial index's own, so both databases use it.
pub async fn late_unrefunded(
    db: &Db,
    store_id: i64,
    limit: i64,
) -> Result<Vec<TransactionRow>, sqlx::Error> {
    let sql = format!(
        "select {ROW_COLUMNS} from payment p join till t on t.till_id = p.till_id \
         where p.store_id = $1 and p.late and p.refunded_amount < p.amount \
         order by p.created_at desc, p.payment_id desc limit $2"
    );
    read!(db, |c| sqlx::query_as(&sql)
        .bind(store_id)
        .bind(limit)
        .fetch_all(c)
        .await)
}
