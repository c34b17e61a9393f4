//! Numbers for `/metrics` read from the database (every instance shows the same): payments and
//! refunds not settled yet, and how late the expiry worker is. Each is one index lookup or a
//! count over an index range of live payments (`payment_status_expires`, `refund_status`).

use super::{Db, read};
use chrono::{DateTime, Utc};

#[derive(Debug, Default, Clone)]
pub struct PaymentGauges {
    /// Payments in `creating`, `pending` and `unknown`.
    pub creating: i64,
    pub pending: i64,
    pub unknown: i64,
    /// Refunds whose outcome the bank has not told yet.
    pub refunds_unknown: i64,
    /// The deadline of the most overdue payment still `pending` at `now`, if any.
    pub oldest_overdue: Option<DateTime<Utc>>,
}

pub async fn payment_gauges(db: &Db, now: DateTime<Utc>) -> Result<PaymentGauges, sqlx::Error> {
    let by_status: Vec<(String, i64)> = read!(db, |c| sqlx::query_as(
        "select status, count(*) from payment \
         where status in ('creating', 'pending', 'unknown') group by status"
    )
    .fetch_all(c)
    .await)?;
    let refunds_unknown: i64 = read!(db, |c| sqlx::query_scalar(
        "select count(*) from refund where status = 'unknown'"
    )
    .fetch_one(c)
    .await)?;
    let oldest_overdue: Option<DateTime<Utc>> = read!(db, |c| sqlx::query_scalar(
        "select expires_at from payment where status = 'pending' and expires_at <= $1 \
         order by expires_at limit 1"
    )
    .bind(now)
    .fetch_optional(c)
    .await)?;
    let mut g = PaymentGauges {
        refunds_unknown,
        oldest_overdue,
        ..PaymentGauges::default()
    };
    for (status, n) in by_status {
        match status.as_str() {
            "creating" => g.creating = n,
            "pending" => g.pending = n,
            "unknown" => g.unknown = n,
            _ => {}
        }
    }
    Ok(g)
}
