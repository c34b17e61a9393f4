//! «Сводка»: the store's paid totals per local day, what is pending and what was paid late. Every
//! role may read it.

use super::transactions::row_view;
use super::{ConsoleBackend, internal};
use crate::db;
use app::backend::Actor;
use app::backend::dashboard::{DASHBOARD_DAYS, Dashboard, DashboardDay, DashboardPort};
use app::error::ConsoleError;
use chrono::TimeDelta;

/// How many pending (and late) payments the dashboard lists.
const DASHBOARD_LIST: i64 = 50;

#[async_trait::async_trait]
impl DashboardPort for ConsoleBackend {
    /// Every role may read the dashboard.
    async fn dashboard(
        &self,
        actor: &Actor,
        include_test: bool,
    ) -> Result<Dashboard, ConsoleError> {
        let (store, tz) = self.store(actor).await?;
        let today = chrono::Utc::now().with_timezone(&tz).date_naive();
        let (dates, bounds) = day_bounds(tz, today, DASHBOARD_DAYS);
        let totals =
            db::payment_search::paid_per_day(&self.db, store.store_id, &bounds, include_test)
                .await
                .map_err(internal)?;
        let mut pending = db::payment_search::pending(&self.db, store.store_id, DASHBOARD_LIST + 1)
            .await
            .map_err(internal)?;
        let mut late =
            db::payment_search::late_unrefunded(&self.db, store.store_id, DASHBOARD_LIST + 1)
                .await
                .map_err(internal)?;
        let more_pending = pending.len() as i64 > DASHBOARD_LIST;
        let more_late = late.len() as i64 > DASHBOARD_LIST;
        pending.truncate(DASHBOARD_LIST as usize);
        late.truncate(DASHBOARD_LIST as usize);
        Ok(Dashboard {
            store_name: store.name,
            time_zone: tz.name().to_owned(),
            days: dates
                .into_iter()
                .zip(totals)
                .map(|(d, t)| DashboardDay {
                    date: d.format("%Y-%m-%d").to_string(),
                    count: t.count,
                    amount: t.amount,
                    refunded: t.refunded,
                })
                .collect(),
            pending: pending.into_iter().map(|r| row_view(r, tz)).collect(),
            more_pending,
            late: late.into_iter().map(|r| row_view(r, tz)).collect(),
            more_late,
            include_test,
        })
    }
}

/// The `days` days ending with `today` (oldest first) and the UTC instants of their local
/// starts plus the end of today: `days + 1` bounds. A midnight that does not exist (a DST jump
/// at 00:00) starts its day at the first local time that does.
fn day_bounds(
    tz: chrono_tz::Tz,
    today: chrono::NaiveDate,
    days: usize,
) -> (Vec<chrono::NaiveDate>, Vec<chrono::DateTime<chrono::Utc>>) {
    use chrono::TimeZone;
    let start = |d: chrono::NaiveDate| {
        let midnight = d.and_hms_opt(0, 0, 0).expect("BUG: midnight exists");
        (0..=180)
            .find_map(|m| {
                tz.from_local_datetime(&(midnight + TimeDelta::minutes(m)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_else(|| midnight.and_utc())
    };
    let dates: Vec<_> = (0..days as u64)
        .rev()
        .filter_map(|back| today.checked_sub_days(chrono::Days::new(back)))
        .collect();
    let mut bounds: Vec<_> = dates.iter().copied().map(start).collect();
    bounds.push(start(today.succ_opt().unwrap_or(today)));
    (dates, bounds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_days_are_local_days_ending_today_even_across_a_clock_change() {
        use chrono::{NaiveDate, TimeZone};
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let (dates, bounds) = day_bounds(chrono_tz::Europe::Moscow, d(2026, 3, 14), 14);
        assert_eq!(dates.len(), 14);
        assert_eq!(bounds.len(), 15);
        assert_eq!((dates[0], dates[13]), (d(2026, 3, 1), d(2026, 3, 14)));
        assert_eq!(
            bounds[0],
            chrono::Utc.with_ymd_and_hms(2026, 2, 28, 21, 0, 0).unwrap()
        );
        assert_eq!(
            bounds[14],
            chrono::Utc.with_ymd_and_hms(2026, 3, 14, 21, 0, 0).unwrap()
        );
        // Berlin moves its clocks on 2026-03-29: that day has 23 hours.
        let (_, b) = day_bounds(chrono_tz::Europe::Berlin, d(2026, 3, 30), 2);
        assert_eq!(b[1] - b[0], TimeDelta::hours(23));
        assert_eq!(b[2] - b[1], TimeDelta::hours(24));
        // Santiago skips midnight when it moves its clocks (2026-09-06 starts at 01:00).
        let (_, b) = day_bounds(chrono_tz::America::Santiago, d(2026, 9, 6), 1);
        assert_eq!(b[1] - b[0], TimeDelta::hours(23));
    }
}
