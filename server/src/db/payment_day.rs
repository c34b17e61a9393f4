//! `payment_day`: the store's payment totals per closed local day, till and status, kept up to
//! date for the console's totals (days added up when they close, and again after a late change).

use super::{Db, read};
use chrono::{DateTime, NaiveDate, Utc};

/// The first instant of the local day `d` in `tz`.
pub(super) fn day_start(tz: chrono_tz::Tz, d: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    let midnight = d.and_hms_opt(0, 0, 0).expect("BUG: midnight exists");
    tz.from_local_datetime(&midnight)
        .earliest()
        .unwrap_or_else(|| tz.from_utc_datetime(&midnight))
        .with_timezone(&Utc)
}

/// Days that ended this long ago are added up. A payment changed later than
/// [`LATE_CHANGE`] after its creation is noted by the trigger of migration 0008; this margin is
/// larger, so every payment of an added-up day is older than that when it is added up.
const CLOSED_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(2);
/// Keep in step with the trigger `payment_day_late_change` (one hour).
#[allow(dead_code)]
const LATE_CHANGE: chrono::TimeDelta = chrono::TimeDelta::hours(1);

#[derive(sqlx::FromRow)]
struct DayState {
    time_zone: String,
    rolled_until: NaiveDate,
}

/// The work of [`refresh_days`], inside one write transaction (the state row is locked first,
/// so two refreshes of a store run one after the other).
macro_rules! roll_days_body {
    ($c:ident, $store_id:ident, $tz:ident, $target:ident) => {{
        sqlx::query(
            "insert into payment_day_state (store_id, time_zone, rolled_until) values ($1, '', $2) \
             on conflict (store_id) do nothing",
        )
        .bind($store_id)
        .bind($target)
        .execute(&mut *$c)
        .await?;
        // A no-op update takes the row lock on PostgreSQL (SQLite has one writer anyway).
        sqlx::query("update payment_day_state set time_zone = time_zone where store_id = $1")
            .bind($store_id)
            .execute(&mut *$c)
            .await?;
        let state: DayState = sqlx::query_as(
            "select time_zone, rolled_until from payment_day_state where store_id = $1",
        )
        .bind($store_id)
        .fetch_one(&mut *$c)
        .await?;
        let mut days: std::collections::BTreeSet<NaiveDate> = Default::default();
        let from = if state.time_zone == $tz.name() {
            state.rolled_until
        } else {
            // New, or the store's time zone changed: add up every day again.
            sqlx::query("delete from payment_day where store_id = $1")
                .bind($store_id)
                .execute(&mut *$c)
                .await?;
            let first: Option<DateTime<Utc>> =
                sqlx::query_scalar("select min(created_at) from payment where store_id = $1")
                    .bind($store_id)
                    .fetch_one(&mut *$c)
                    .await?;
            first.map_or($target, |t| t.with_timezone(&$tz).date_naive())
        };
        let mut d = from;
        while d < $target {
            days.insert(d);
            d = d.succ_opt().expect("BUG: dates end in 262143");
        }
        let dirty: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
            "select payment_day_dirty_id, created_at from payment_day_dirty where store_id = $1 \
             order by payment_day_dirty_id limit 10000",
        )
        .bind($store_id)
        .fetch_all(&mut *$c)
        .await?;
        for (_, at) in &dirty {
            let day = at.with_timezone(&$tz).date_naive();
            if day < from {
                days.insert(day);
            }
        }
        for day in days.into_iter().filter(|d| *d < $target.max(from)) {
            let rows: Vec<(i64, String, bool, i64, i64, i64)> = sqlx::query_as(
                "select till_id, status, test, count(*), cast(sum(amount) as bigint), \
                        cast(sum(refunded_amount) as bigint) \
                 from payment where store_id = $1 and created_at >= $2 and created_at < $3 \
                 group by till_id, status, test",
            )
            .bind($store_id)
            .bind(day_start($tz, day))
            .bind(day_start($tz, day.succ_opt().expect("BUG: dates end in 262143")))
            .fetch_all(&mut *$c)
            .await?;
            sqlx::query("delete from payment_day where store_id = $1 and day = $2")
                .bind($store_id)
                .bind(day)
                .execute(&mut *$c)
                .await?;
            for (till_id, status, test, n, amount, refunded) in rows {
                sqlx::query(
                    "insert into payment_day (store_id, day, till_id, status, test, payments, amount, refunded) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind($store_id)
                .bind(day)
                .bind(till_id)
                .bind(status)
                .bind(test)
                .bind(n)
                .bind(amount)
                .bind(refunded)
                .execute(&mut *$c)
                .await?;
            }
        }
        if let Some((last, _)) = dirty.last() {
            sqlx::query(
                "delete from payment_day_dirty where store_id = $1 and payment_day_dirty_id <= $2",
            )
            .bind($store_id)
            .bind(*last)
            .execute(&mut *$c)
            .await?;
        }
        let rolled = $target.max(from);
        sqlx::query(
            "update payment_day_state set time_zone = $2, rolled_until = $3 where store_id = $1",
        )
        .bind($store_id)
        .bind($tz.name())
        .bind(rolled)
        .execute(&mut *$c)
        .await?;
        Ok::<NaiveDate, sqlx::Error>(rolled)
    }};
}

/// Brings the store's per-day totals up to date: adds up the days that closed since the last
/// call, and again the days of payments changed late (`payment_day_dirty`). Returns the first
/// day not added up (the totals of the days before it are in `payment_day`). Cheap when there
/// is nothing to do: two index look-ups on the read pool.
pub async fn refresh_days(
    db: &Db,
    store_id: i64,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<NaiveDate, sqlx::Error> {
    let target = (now - CLOSED_AFTER).with_timezone(&tz).date_naive();
    let (state, dirty): (Option<DayState>, bool) = read!(db, |c| {
        let state = sqlx::query_as(
            "select time_zone, rolled_until from payment_day_state where store_id = $1",
        )
        .bind(store_id)
        .fetch_optional(c)
        .await?;
        let dirty: Option<i64> = sqlx::query_scalar(
            "select payment_day_dirty_id from payment_day_dirty where store_id = $1 limit 1",
        )
        .bind(store_id)
        .fetch_optional(c)
        .await?;
        Ok::<_, sqlx::Error>((state, dirty.is_some()))
    })?;
    if let Some(s) = &state
        && s.time_zone == tz.name()
        && s.rolled_until >= target
        && !dirty
    {
        return Ok(s.rolled_until);
    }
    let mut tx = db.begin().await?;
    let rolled = super::in_tx!(&mut tx, |c| roll_days_body!(c, store_id, tz, target))?;
    tx.commit().await?;
    Ok(rolled)
}
