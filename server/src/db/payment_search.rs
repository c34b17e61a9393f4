//! The console's view of the payments: the filtered, paged search of the transactions page
//! (how a filter finds its payments: [`Plan`]; its totals are in db/payment_totals.rs), and the
//! dashboard's figures (paid per day, pending now, late payments still to refund).

use super::payment_totals::{FirstMatches, first_matches, first_matches_of};
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
/// What [`ROW_COLUMNS`] reads of the payment, gathered before the sort.
const GATHERED_COLUMNS: &str = "p.payment_id, p.created_at, p.amount, p.refunded_amount, \
    p.status, p.receipt, p.till_id, p.order_ref, p.qr_id, p.bank_transaction_id, p.test, p.late";

/// The payment table as the plan reads it: SQLite is told which index gathers an amount range
/// (without statistics it would walk the store's date index instead).
pub(super) fn from_payment(pg: bool, plan: Plan) -> &'static str {
    match plan {
        Plan::FewByAmount if !pg => "payment p indexed by payment_store_amount",
        _ => "payment p",
    }
}

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
    /// How the list and the capped totals find the payments ([`choose_plan`]).
    pub plan: Plan,
    /// A broad text's first matches, as [`plan_search`] counted them.
    pub text_matches: Option<FirstMatches>,
}

/// How the list and the capped totals find a filter's payments. Walking the store's payments
/// newest first is right when matches are many (the page fills at once) and slow when they are
/// few (it walks the whole history to find them); gathering the matches from an index of the
/// filtered column and sorting them is the other way round. [`choose_plan`] counts the matches
/// first, at most [`TOTALS_CAP`] + 1 of them, so neither way costs more than that bound.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Walk the store's payments newest first (`payment_store_created`), checking the rest of
    /// the filter on each.
    #[default]
    StoreByDate,
    /// The text matches at most [`TOTALS_CAP`] payments of the store (or is matched exactly):
    /// gather them from the references' indexes.
    FewByText,
    /// The amount range holds at most [`TOTALS_CAP`] payments of the store: gather them from
    /// `payment_store_amount`.
    FewByAmount,
}

/// The shortest text matched as the start of a reference. Shorter texts match nearly every
/// order ref (they begin with the same time digits) and would bury an exact receipt.
pub const MIN_PREFIX: usize = 4;

/// Where no per-day sum covers a filter (an amount range, a text), its totals add up at most
/// this many payments: past it they are lower bounds (`Totals::capped`, db/payment_totals.rs) and the page says
/// so. What that costs is bounded by it, whatever the history's size.
pub const TOTALS_CAP: i64 = 10_000;

pub(super) enum Bind {
    Text(String),
    Int(i64),
    Time(DateTime<Utc>),
    Day(NaiveDate),
}

/// The `where` of a filter, with its values from `$1` on.
pub(super) fn filter_sql(
    pg: bool,
    store_id: i64,
    f: &PaymentFilter,
    after: Option<&(DateTime<Utc>, String)>,
) -> (String, Vec<Bind>) {
    let w = filter_parts(pg, store_id, f, after);
    (w.walk + &w.check, w.binds)
}

/// The `where` of a filter in two parts: what index `payment_store_created` serves (the store,
/// the period, the keyset cursor: the walk in date order) and what is checked on the rows it
/// finds (`" and …"`: status, till, amount, text); one numbering of the values, from `$1` on,
/// the walk's first.
pub(super) struct Where {
    pub(super) walk: String,
    pub(super) check: String,
    pub(super) binds: Vec<Bind>,
    /// How many of `binds` the walk's part uses (the first ones).
    pub(super) walk_binds: usize,
}

pub(super) fn filter_parts(
    pg: bool,
    store_id: i64,
    f: &PaymentFilter,
    after: Option<&(DateTime<Utc>, String)>,
) -> Where {
    let mut binds = vec![Bind::Int(store_id)];
    // With a text matched by few payments, the search must start from the references'
    // indexes; SQLite without statistics would rather walk the store's index in date order
    // (`+` hides it from it). A broad text is best checked on that walk.
    let mut walk = String::from(if f.text.is_some() && f.plan == Plan::FewByText && !pg {
        "+p.store_id = $1"
    } else {
        "p.store_id = $1"
    });
    let mut check = String::new();
    let push = |sql: &mut String, binds: &mut Vec<Bind>, cond: &str, b: Bind| {
        binds.push(b);
        sql.push_str(&cond.replace('?', &format!("${}", binds.len())));
    };
    if let Some(t) = f.from {
        push(
            &mut walk,
            &mut binds,
            " and p.created_at >= ?",
            Bind::Time(t),
        );
    }
    if let Some(t) = f.until {
        push(
            &mut walk,
            &mut binds,
            " and p.created_at < ?",
            Bind::Time(t),
        );
    }
    if let Some((t, id)) = after {
        push(
            &mut walk,
            &mut binds,
            " and (p.created_at < ?",
            Bind::Time(*t),
        );
        push(
            &mut walk,
            &mut binds,
            " or (p.created_at = ?",
            Bind::Time(*t),
        );
        push(
            &mut walk,
            &mut binds,
            " and p.payment_id < ?))",
            Bind::Text(id.clone()),
        );
    }
    let walk_binds = binds.len();
    if let Some(s) = &f.status {
        push(
            &mut check,
            &mut binds,
            " and p.status = ?",
            Bind::Text(s.clone()),
        );
    }
    if let Some(t) = f.till_id {
        push(&mut check, &mut binds, " and p.till_id = ?", Bind::Int(t));
    }
    // An amount range not gathered from the amount index is checked on the walk's own index
    // (`+` hides the amount index from SQLite, whose statistics may favour it: a row read
    // per match, in amount order).
    let amount = if f.plan == Plan::FewByAmount || pg {
        "p.amount"
    } else {
        "+p.amount"
    };
    if let Some(a) = f.min_amount {
        push(
            &mut check,
            &mut binds,
            &format!(" and {amount} >= ?"),
            Bind::Int(a),
        );
    }
    if let Some(a) = f.max_amount {
        push(
            &mut check,
            &mut binds,
            &format!(" and {amount} <= ?"),
            Bind::Int(a),
        );
    }
    if let Some(q) = f.text.as_ref().filter(|_| f.text_exact_only) {
        binds.push(Bind::Text(q.clone()));
        let a = binds.len();
        check.push_str(&format!(
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
        check.push_str(&format!(
            " and ((p.store_id = $1 and p.receipt = ${a}) or p.payment_id = ${a} or {} or {} or {})",
            range("order_ref"),
            range("qr_id"),
            range("bank_transaction_id")
        ));
    }
    Where {
        walk,
        check,
        binds,
        walk_binds,
    }
}

/// Binds the values to a search query, which is not kept prepared: PostgreSQL would turn a kept
/// statement to a generic plan after its fifth run, one made without the values — for a text's
/// prefix ranges a sequential scan (450 ms at 1M rows against 15 ms planned with them). Each
/// search is planned with its values instead (SQLite: prepared anew, a few microseconds).
macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q.persistent(false);
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
pub(super) use bind_all;

/// A text matching more payments than [`TOTALS_CAP`] is checked on the store's payments in
/// date order, each row read: at most this many per page. A page of a text whose matches are
/// all old stops there and hands on where it stopped ([`Found::walked_to`]), rather than read
/// the store's whole history in one request.
pub const WALK_LIMIT: i64 = 10_000;

/// A page of the list.
#[derive(Debug)]
pub struct Found {
    /// Newest first.
    pub rows: Vec<TransactionRow>,
    /// The walk of a broad text read [`WALK_LIMIT`] payments and stopped at this one with fewer
    /// rows than asked for: older payments are still to be searched, after this keyset cursor.
    pub walked_to: Option<(DateTime<Utc>, String)>,
}

/// Up to `limit` payments of the filter after the keyset cursor `after`, newest first.
pub async fn search_payments(
    db: &Db,
    store_id: i64,
    f: &PaymentFilter,
    after: Option<&(DateTime<Utc>, String)>,
    limit: i64,
) -> Result<Found, sqlx::Error> {
    let pg = is_pg(db);
    let w = filter_parts(pg, store_id, f, after);
    let (walk, check) = (&w.walk, &w.check);
    let newest = "order by p.created_at desc, p.payment_id desc";
    let mut binds = w.binds;
    let stop = if is_broad_text(f) {
        walk_stop(db, walk, &binds[..w.walk_binds]).await?
    } else {
        None
    };
    let stop_at = stop
        .as_ref()
        .map_or(String::new(), |s| stop_bound(&mut binds, s));
    let sql = if pg && f.plan != Plan::StoreByDate {
        // Gathered first, sorted after: left to itself, PostgreSQL would rather walk the date
        // index in the hope of finding the page's few rows early (it does not know they are
        // all old).
        format!(
            "with p as materialized (select {GATHERED_COLUMNS} from payment p where {walk}{check}) \
             select {ROW_COLUMNS} from p join till t on t.till_id = p.till_id {newest} limit {limit}"
        )
    } else {
        format!(
            "select {ROW_COLUMNS} from {} join till t on t.till_id = p.till_id \
             where {walk}{stop_at}{check} {newest} limit {limit}",
            from_payment(pg, f.plan)
        )
    };
    let rows: Vec<TransactionRow> = read!(db, |c| bind_all!(sqlx::query_as(&sql), &binds)
        .fetch_all(c)
        .await)?;
    // Fewer rows than asked for and a stop short of the store's oldest payment: go on from it.
    let walked_to = stop.filter(|_| (rows.len() as i64) < limit);
    Ok(Found { rows, walked_to })
}

/// A text matching more than [`TOTALS_CAP`] payments, checked on the store's walk in date order.
pub(super) fn is_broad_text(f: &PaymentFilter) -> bool {
    f.plan == Plan::StoreByDate && f.text.is_some()
}

/// The key of the last of the [`WALK_LIMIT`] payments a walk with the `walk` part of a filter
/// would read (the index alone answers this), or `None` when it would read fewer.
pub(super) async fn walk_stop(
    db: &Db,
    walk: &str,
    binds: &[Bind],
) -> Result<Option<(DateTime<Utc>, String)>, sqlx::Error> {
    let sql = format!(
        "select p.created_at, p.payment_id from payment p where {walk} \
         order by p.created_at desc, p.payment_id desc limit 1 offset {}",
        WALK_LIMIT - 1
    );
    read!(db, |c| bind_all!(sqlx::query_as(&sql), binds)
        .fetch_optional(c)
        .await)
}

/// `stop` as a lower bound of the walk's index range (`" and …"`), its values added to `binds`:
/// the walk ends there or when its query has what it needs, whichever is first.
pub(super) fn stop_bound(binds: &mut Vec<Bind>, (t, id): &(DateTime<Utc>, String)) -> String {
    binds.push(Bind::Time(*t));
    let a = binds.len();
    binds.push(Bind::Text(id.clone()));
    let b = binds.len();
    format!(" and p.created_at >= ${a} and (p.created_at > ${a} or p.payment_id >= ${b})")
}

pub(super) fn is_pg(db: &Db) -> bool {
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

/// How to find the filter's payments ([`Plan`]): gather them from the references' indexes
/// when its text matches at most [`TOTALS_CAP`] payments of the store (counted there, at most
/// that many + 1), else from the amount index when its amount range holds at most that many,
/// else walk the store's payments in date order.
pub async fn choose_plan(db: &Db, store_id: i64, f: &PaymentFilter) -> Result<Plan, sqlx::Error> {
    Ok(plan_and_text_matches(db, store_id, f).await?.0)
}

/// Sets the filter's plan ([`choose_plan`]) and, for a text matching more than the cap, what
/// its first matches add up to: the scan that counted them gives the totals of the text alone,
/// which are then not read again.
pub async fn plan_search(db: &Db, store_id: i64, f: &mut PaymentFilter) -> Result<(), sqlx::Error> {
    (f.plan, f.text_matches) = plan_and_text_matches(db, store_id, f).await?;
    Ok(())
}

async fn plan_and_text_matches(
    db: &Db,
    store_id: i64,
    f: &PaymentFilter,
) -> Result<(Plan, Option<FirstMatches>), sqlx::Error> {
    let mut text_matches = None;
    if f.text.is_some() {
        if f.text_exact_only {
            return Ok((Plan::FewByText, None));
        }
        let q = f.text.as_deref().unwrap_or_default();
        if !(is_pg(db) && references_exceed(db, q, 2 * TOTALS_CAP).await?) {
            let only_text = PaymentFilter {
                text: f.text.clone(),
                plan: Plan::FewByText,
                ..Default::default()
            };
            let (cond, binds) = filter_sql(is_pg(db), store_id, &only_text, None);
            let m = first_matches_of(db, &cond, &binds, Plan::FewByText).await?;
            if !m.more_than_cap() {
                return Ok((Plan::FewByText, None));
            }
            text_matches = Some(m);
        }
    }
    if f.min_amount.is_some() || f.max_amount.is_some() {
        let only_amount = PaymentFilter {
            min_amount: f.min_amount,
            max_amount: f.max_amount,
            plan: Plan::FewByAmount,
            ..Default::default()
        };
        if !more_than_cap(db, store_id, &only_amount).await? {
            return Ok((Plan::FewByAmount, None));
        }
    }
    Ok((Plan::StoreByDate, text_matches))
}

/// PostgreSQL: whether the references starting with `q` (order refs, QR ids, bank transaction
/// ids, of every store) are more than `n`, counted on their indexes alone and at most `n` + 1 of
/// each. Gathering the store's matches of such a text would read every one of them (a bitmap
/// of the whole range: 100 ms for a million); it is walked in date order instead.
async fn references_exceed(db: &Db, q: &str, n: i64) -> Result<bool, sqlx::Error> {
    let count = |col: &str| {
        format!(
            "(select count(*) from (select 1 from payment where {col} collate \"C\" >= $1 \
             and {col} collate \"C\" < $2 order by {col} collate \"C\" limit {}) r)",
            n + 1
        )
    };
    let sql = format!(
        "select greatest({}, {}, {})",
        count("order_ref"),
        count("qr_id"),
        count("bank_transaction_id")
    );
    let binds = [Bind::Text(q.to_owned()), Bind::Text(prefix_end(q))];
    let most: i64 = read!(db, |c| bind_all!(sqlx::query_scalar(&sql), &binds)
        .fetch_one(c)
        .await)?;
    Ok(most > n)
}

/// Whether more than [`TOTALS_CAP`] payments of the store match `f`, read on `f`'s plan.
async fn more_than_cap(db: &Db, store_id: i64, f: &PaymentFilter) -> Result<bool, sqlx::Error> {
    let pg = is_pg(db);
    let (cond, binds) = filter_sql(pg, store_id, f, None);
    let sql = format!(
        "select count(*) from {}",
        first_matches(pg, f.plan, "1 as one", &cond)
    );
    let n: i64 = read!(db, |c| bind_all!(sqlx::query_scalar(&sql), &binds)
        .fetch_one(c)
        .await)?;
    Ok(n > TOTALS_CAP)
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
