//! The console's view of the payments: the filtered, paged search of the transactions page
//! with its totals (added up per closed day in `payment_day`), and the dashboard's figures
//! (paid per day, pending now, late payments still to refund).

use super::{Db, read};
use chrono::{DateTime, NaiveDate, Utc};

/// A payment as the console lists it.
#[derive(sqlx::FromRow, Debug)]
pub struct TransactionRow {
    pub payment_id: String,
    pub created_at: DateTime<Utc>,
    pub amount: i64,
    pub refunded_amount: i64,
    pub status: String,
    pub receipt: String,
    pub till_name: String,
    pub order_ref: String,
    pub qr_id: Option<String>,
    pub bank_transaction_id: Option<String>,
    /// Made on a test module: no money moved.
    pub test: bool,
    /// Paid after qrpay had expired or cancelled it.
    pub late: bool,
}

const ROW_COLUMNS: &str = "p.payment_id, p.created_at, p.amount, p.refunded_amount, p.status, \
    p.receipt, t.name as till_name, p.order_ref, p.qr_id, p.bank_transaction_id, p.test, p.late";

/// What the transactions list is filtered by (all checked already).
#[derive(Debug, Default, Clone)]
pub struct PaymentFilter {
    pub status: Option<String>,
    /// Inclusive lower bound of `created_at`.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound of `created_at`.
    pub until: Option<DateTime<Utc>>,
    pub till_id: Option<i64>,
    pub min_amount: Option<i64>,
    pub max_amount: Option<i64>,
    /// Exact receipt or payment id, or the start of an order ref, QR id or bank transaction id.
    pub text: Option<String>,
}

enum Bind {
    Text(String),
    Int(i64),
    Time(DateTime<Utc>),
    Day(NaiveDate),
}

/// The `where` of a filter (index `payment_store_created` serves the store, the period and the
/// order; the other conditions are checked on its rows), with its values from `$1` on.
fn filter_sql(
    pg: bool,
    store_id: i64,
    f: &PaymentFilter,
    after: Option<&(DateTime<Utc>, String)>,
) -> (String, Vec<Bind>) {
    let mut binds = vec![Bind::Int(store_id)];
    // With a text, the search must start from the references' indexes; SQLite without
    // statistics would rather walk the store's index in date order (`+` hides it from it).
    let mut sql = String::from(if f.text.is_some() && !pg {
        "+p.store_id = $1"
    } else {
        "p.store_id = $1"
    });
    let mut push = |binds: &mut Vec<Bind>, cond: &str, b: Bind| {
        binds.push(b);
        sql.push_str(&cond.replace('?', &format!("${}", binds.len())));
    };
    if let Some(s) = &f.status {
        push(&mut binds, " and p.status = ?", Bind::Text(s.clone()));
    }
    if let Some(t) = f.from {
        push(&mut binds, " and p.created_at >= ?", Bind::Time(t));
    }
    if let Some(t) = f.until {
        push(&mut binds, " and p.created_at < ?", Bind::Time(t));
    }
    if let Some(t) = f.till_id {
        push(&mut binds, " and p.till_id = ?", Bind::Int(t));
    }
    if let Some(a) = f.min_amount {
        push(&mut binds, " and p.amount >= ?", Bind::Int(a));
    }
    if let Some(a) = f.max_amount {
        push(&mut binds, " and p.amount <= ?", Bind::Int(a));
    }
    if let Some((t, id)) = after {
        push(&mut binds, " and (p.created_at < ?", Bind::Time(*t));
        push(&mut binds, " or (p.created_at = ?", Bind::Time(*t));
        push(
            &mut binds,
            " and p.payment_id < ?))",
            Bind::Text(id.clone()),
        );
    }
    if let Some(q) = &f.text {
        // Receipt and payment id: exact. Order ref, QR id, bank transaction id: prefix, as a
        // range in byte order (PostgreSQL: `collate "C"`, whatever the database's collation),
        // so each is one index range (indexes of migration 0008).
        let c = if pg { " collate \"C\"" } else { "" };
        binds.push(Bind::Text(q.clone()));
        let a = binds.len();
        binds.push(Bind::Text(prefix_end(q)));
        let b = binds.len();
        let range = |col: &str| format!("(p.{col}{c} >= ${a} and p.{col}{c} < ${b})");
        sql.push_str(&format!(
            " and ((p.store_id = $1 and p.receipt = ${a}) or p.payment_id = ${a} or {} or {} or {})",
            range("order_ref"),
            range("qr_id"),
            range("bank_transaction_id")
        ));
    }
    (sql, binds)
}

macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
                Bind::Time(t) => q.bind(*t),
                Bind::Day(d) => q.bind(*d),
            };
        }
        q
    }};
}

/// Up to `limit` payments of the filter after the keyset cursor `after`, newest first.
pub async fn search_payments(
    db: &Db,
    store_id: i64,
    f: &PaymentFilter,
    after: Option<&(DateTime<Utc>, String)>,
    limit: i64,
) -> Result<Vec<TransactionRow>, sqlx::Error> {
    let (cond, binds) = filter_sql(is_pg(db), store_id, f, after);
    let sql = format!(
        "select {ROW_COLUMNS} from payment p join till t on t.till_id = p.till_id \
         where {cond} order by p.created_at desc, p.payment_id desc limit {limit}"
    );
    read!(db, |c| bind_all!(sqlx::query_as(&sql), &binds)
        .fetch_all(c)
        .await)
}

fn is_pg(db: &Db) -> bool {
    matches!(db, Db::Postgres(_))
}

/// The least string above every string that starts with `q` (byte order = code point order).
fn prefix_end(q: &str) -> String {
    let mut chars: Vec<char> = q.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last as u32 {
            0xD7FF => Some('\u{E000}'),
            n => char::from_u32(n + 1),
        };
        if let Some(c) = next {
            chars.push(c);
            return chars.into_iter().collect();
        }
    }
    // Only U+10FFFF characters: nothing sorts above them but longer strings; match exactly.
    format!("{q}\u{0}")
}

/// Count, amount and refunded amount of the payments matching `cond`.
async fn scan_totals(db: &Db, cond: &str, binds: &[Bind]) -> Result<(i64, i64, i64), sqlx::Error> {
    let sql = format!(
        "select count(*), cast(coalesce(sum(p.amount), 0) as bigint), \
                cast(coalesce(sum(p.refunded_amount), 0) as bigint) \
         from payment p where {cond}"
    );
    read!(db, |c| bind_all!(sqlx::query_as(&sql), binds)
        .fetch_one(c)
        .await)
}

/// How many payments match the filter, their amount and what was refunded of them; test
/// payments (no money moved) only when `include_test`, as on the dashboard.
///
/// A filter by status, till and whole days of the store's time zone (`tz`) — the page without
/// a filter, too — adds up the per-day totals of closed days (`payment_day`) and scans only
/// the payments since (at most a day and two hours of them): the cost does not grow with the
/// history. A filter by amount or text scans the payments it matches.
pub async fn payment_totals(
    db: &Db,
    store_id: i64,
    tz: chrono_tz::Tz,
    f: &PaymentFilter,
    include_test: bool,
) -> Result<(i64, i64, i64), sqlx::Error> {
    let pg = is_pg(db);
    let real = if include_test { "" } else { " and not p.test" };
    let local_day = |t: DateTime<Utc>| {
        let d = t.with_timezone(&tz).date_naive();
        (day_start(tz, d) == t).then_some(d)
    };
    let from_day = f.from.map(local_day);
    let until_day = f.until.map(local_day);
    let whole_days = !matches!(from_day, Some(None)) && !matches!(until_day, Some(None));
    if f.min_amount.is_some() || f.max_amount.is_some() || f.text.is_some() || !whole_days {
        let (cond, binds) = filter_sql(pg, store_id, f, None);
        return scan_totals(db, &format!("{cond}{real}"), &binds).await;
    }
    let rolled_until = refresh_days(db, store_id, tz, super::now()).await?;
    let (from_day, until_day) = (from_day.flatten(), until_day.flatten());

    // Closed days: [from, min(until, rolled_until)).
    let mut closed = (0, 0, 0);
    let end = until_day.map_or(rolled_until, |u| u.min(rolled_until));
    if from_day.is_none_or(|d| d < end) {
        let mut binds = vec![Bind::Int(store_id), Bind::Day(end)];
        let mut cond = String::from("store_id = $1 and day < $2");
        if !include_test {
            cond.push_str(" and not test");
        }
        if let Some(d) = from_day {
            binds.push(Bind::Day(d));
            cond.push_str(&format!(" and day >= ${}", binds.len()));
        }
        if let Some(st) = &f.status {
            binds.push(Bind::Text(st.clone()));
            cond.push_str(&format!(" and status = ${}", binds.len()));
        }
        if let Some(t) = f.till_id {
            binds.push(Bind::Int(t));
            cond.push_str(&format!(" and till_id = ${}", binds.len()));
        }
        let sql = format!(
            "select cast(coalesce(sum(payments), 0) as bigint), cast(coalesce(sum(amount), 0) as bigint), \
                    cast(coalesce(sum(refunded), 0) as bigint) from payment_day where {cond}"
        );
        closed = read!(db, |c| bind_all!(sqlx::query_as(&sql), &binds)
            .fetch_one(c)
            .await)?;
    }

    // The payments since: created at or after the start of `rolled_until` (and the filter).
    let live_from = day_start(tz, rolled_until);
    let mut live = (0, 0, 0);
    if f.until.is_none_or(|u| u > live_from) {
        let mut lf = f.clone();
        lf.from = Some(f.from.map_or(live_from, |t| t.max(live_from)));
        let (cond, binds) = filter_sql(pg, store_id, &lf, None);
        live = scan_totals(db, &format!("{cond}{real}"), &binds).await?;
    }
    Ok((closed.0 + live.0, closed.1 + live.1, closed.2 + live.2))
}

/// The first instant of the local day `d` in `tz`.
fn day_start(tz: chrono_tz::Tz, d: NaiveDate) -> DateTime<Utc> {
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

/// Paid payments created in one day of the range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayTotals {
    pub count: i64,
    pub amount: i64,
    pub refunded: i64,
}

/// Paid payments per day: `bounds` are the days' starts and the last day's end (UTC instants of
/// local midnights, ascending), so `bounds.len() - 1` days come back, days without payments as
/// zeros. Test payments (no money moved) count only when `include_test`.
pub async fn paid_per_day(
    db: &Db,
    store_id: i64,
    bounds: &[DateTime<Utc>],
    include_test: bool,
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
         where p.store_id = $1 and p.created_at >= $2 and p.created_at < ${last} and p.status = 'paid'{real} \
         group by 1",
        last = days + 2,
        real = if include_test { "" } else { " and not p.test" },
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
