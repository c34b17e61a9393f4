//! The console's view of the payments: the filtered, paged search of the transactions page
//! with its totals (added up per closed day in `payment_day`, or bounded to [`TOTALS_CAP`]
//! payments where no per-day sum covers the filter), and the dashboard's figures (paid per
//! day, pending now, late payments still to refund).

use super::payment_day::{day_start, refresh_days};
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
    /// The text is matched exactly only (receipt, payment id), not as a start: the console
    /// sets it for texts shorter than [`MIN_PREFIX`].
    pub text_exact_only: bool,
    /// The text matches more than [`TOTALS_CAP`] payments of the store ([`text_is_broad`]):
    /// read the store's payments in date order and check the text on each, rather than
    /// gather every match from the references' indexes and sort them.
    pub text_is_broad: bool,
}

/// The shortest text matched as the start of a reference. Shorter texts match nearly every
/// order ref (they begin with the same time digits) and would bury an exact receipt.
pub const MIN_PREFIX: usize = 4;

/// Where no per-day sum covers a filter (an amount range, a text), its totals add up at most
/// this many payments: past it they are lower bounds ([`Totals::capped`]) and the page says
/// so. What that costs is bounded by it, whatever the history's size.
pub const TOTALS_CAP: i64 = 10_000;

/// Count, amount and refunded amount of the payments a filter matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub count: i64,
    pub amount: i64,
    pub refunded: i64,
    /// More than [`TOTALS_CAP`] payments match: `count` is the cap and the sums are of the
    /// first payments found beyond it (lower bounds of the real ones).
    pub capped: bool,
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
    // With a text matched by few payments, the search must start from the references'
    // indexes; SQLite without statistics would rather walk the store's index in date order
    // (`+` hides it from it). A broad text is best checked on that walk.
    let mut sql = String::from(if f.text.is_some() && !f.text_is_broad && !pg {
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
    if let Some(q) = f.text.as_ref().filter(|_| f.text_exact_only) {
        binds.push(Bind::Text(q.clone()));
        let a = binds.len();
        sql.push_str(&format!(
            " and ((p.store_id = $1 and p.receipt = ${a}) or p.payment_id = ${a})"
        ));
    } else if let Some(q) = &f.text {
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

/// Count, amount and refunded amount of the payments matching `cond`; with a `cap`, of at most
/// `cap + 1` of them (any ones: the first the plan finds).
async fn scan_totals(
    db: &Db,
    cond: &str,
    binds: &[Bind],
    cap: Option<i64>,
) -> Result<Totals, sqlx::Error> {
    let from = match cap {
        None => "payment p".to_owned(),
        Some(n) => format!(
            "(select p.amount, p.refunded_amount from payment p where {cond} limit {}) p",
            n + 1
        ),
    };
    let cond = if cap.is_some() { "true" } else { cond };
    let sql = format!(
        "select count(*), cast(coalesce(sum(p.amount), 0) as bigint), \
                cast(coalesce(sum(p.refunded_amount), 0) as bigint) \
         from {from} where {cond}"
    );
    let (count, amount, refunded): (i64, i64, i64) =
        read!(db, |c| bind_all!(sqlx::query_as(&sql), binds)
            .fetch_one(c)
            .await)?;
    let capped = cap.is_some_and(|n| count > n);
    Ok(Totals {
        count: if capped { count - 1 } else { count },
        amount,
        refunded,
        capped,
    })
}

/// Whether the filter's text alone matches more than [`TOTALS_CAP`] payments of the store
/// (counted from the references' indexes, at most that many + 1): then the list and the
/// totals walk the store's payments in date order instead (see [`PaymentFilter::text_is_broad`]).
pub async fn text_is_broad(db: &Db, store_id: i64, f: &PaymentFilter) -> Result<bool, sqlx::Error> {
    if f.text.is_none() || f.text_exact_only {
        return Ok(false);
    }
    let only_text = PaymentFilter {
        text: f.text.clone(),
        ..Default::default()
    };
    let (cond, binds) = filter_sql(is_pg(db), store_id, &only_text, None);
    let sql = format!(
        "select count(*) from (select 1 from payment p where {cond} limit {}) p",
        TOTALS_CAP + 1
    );
    let n: i64 = read!(db, |c| bind_all!(sqlx::query_scalar(&sql), &binds)
        .fetch_one(c)
        .await)?;
    Ok(n > TOTALS_CAP)
}

/// How many payments match the filter, their amount and what was refunded of them; test
/// payments (no money moved) only when `include_test`, as on the dashboard.
///
/// A filter by status, till and whole days of the store's time zone (`tz`) — the page without
/// a filter, too — adds up the per-day totals of closed days (`payment_day`) and scans only
/// the payments since (at most a day and two hours of them): exact, and the cost does not grow
/// with the history. A filter by amount or text adds up at most [`TOTALS_CAP`] of the
/// payments it matches ([`Totals::capped`] past that).
pub async fn payment_totals(
    db: &Db,
    store_id: i64,
    tz: chrono_tz::Tz,
    f: &PaymentFilter,
    include_test: bool,
) -> Result<Totals, sqlx::Error> {
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
        return scan_totals(db, &format!("{cond}{real}"), &binds, Some(TOTALS_CAP)).await;
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
    let mut live = Totals::default();
    if f.until.is_none_or(|u| u > live_from) {
        let mut lf = f.clone();
        lf.from = Some(f.from.map_or(live_from, |t| t.max(live_from)));
        let (cond, binds) = filter_sql(pg, store_id, &lf, None);
        live = scan_totals(db, &format!("{cond}{real}"), &binds, None).await?;
    }
    Ok(Totals {
        count: closed.0 + live.count,
        amount: closed.1 + live.amount,
        refunded: closed.2 + live.refunded,
        capped: false,
    })
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
