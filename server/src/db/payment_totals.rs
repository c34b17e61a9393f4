//! The totals of the console's transactions page: added up per closed day in `payment_day`
//! where a filter allows, else over at most [`TOTALS_CAP`] + 1 of its matches, found the way
//! the filter's plan finds them (db/payment_search.rs).

use super::payment_day::{day_start, refresh_days};
use super::payment_search::{
    Bind, PaymentFilter, Plan, TOTALS_CAP, bind_all, filter_parts, filter_sql, from_payment,
    is_broad_text, is_pg, stop_bound, walk_stop,
};
use super::{Db, read};
use chrono::DateTime;
use chrono::Utc;

/// Count, amount and refunded amount of the payments a filter matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub count: i64,
    pub amount: i64,
    pub refunded: i64,
    /// More than [`TOTALS_CAP`] payments match: the totals are of the first ones found, lower
    /// bounds of the real ones; `count` is the cap when at least that many of them counted
    /// (none left out as test payments), else how many did.
    pub capped: bool,
}

/// `columns` of the first [`TOTALS_CAP`] + 1 payments matching `cond` the plan finds, as a
/// subquery `p`. PostgreSQL plans a gathering plan's matches without the limit (a `materialized`
/// part, read only as far as the limit): with it, it expects the matches spread evenly and
/// scans the whole table for a text's prefix, whose matches may all sit in one old stretch
/// (300 ms at 1M rows, against 15 ms from the references' indexes).
pub(super) fn first_matches(pg: bool, plan: Plan, columns: &str, cond: &str) -> String {
    let n = TOTALS_CAP + 1;
    if pg && plan != Plan::StoreByDate {
        format!(
            "(with m as materialized (select {columns} from payment p where {cond}) \
             select * from m limit {n}) p"
        )
    } else {
        format!(
            "(select {columns} from {} where {cond} limit {n}) p",
            from_payment(pg, plan)
        )
    }
}

/// Count, amount and refunded amount of the payments matching `cond`.
async fn scan_totals(db: &Db, cond: &str, binds: &[Bind]) -> Result<Totals, sqlx::Error> {
    let sql = format!(
        "select count(*), cast(coalesce(sum(p.amount), 0) as bigint), \
                cast(coalesce(sum(p.refunded_amount), 0) as bigint) \
         from payment p where {cond}"
    );
    let (count, amount, refunded): (i64, i64, i64) =
        read!(db, |c| bind_all!(sqlx::query_as(&sql), binds)
            .fetch_one(c)
            .await)?;
    Ok(Totals {
        count,
        amount,
        refunded,
        capped: false,
    })
}

/// What the first [`TOTALS_CAP`] + 1 payments matching a filter add up to (any ones: the first
/// its plan finds), with test payments and without.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FirstMatches {
    /// How many were looked at, test or not: more than the cap when more match.
    looked_at: i64,
    /// Count, amount, refunded of them all.
    all: (i64, i64, i64),
    /// Count, amount, refunded of those that are not test payments.
    real: (i64, i64, i64),
}

impl FirstMatches {
    pub(super) fn more_than_cap(&self) -> bool {
        self.looked_at > TOTALS_CAP
    }

    /// The totals of the first matches, of the real ones only unless `include_test`. The bound
    /// is on the payments looked at, test or not, so a filter whose matches are nearly all
    /// test payments costs no more than any other; past it, the count is a lower bound too.
    fn totals(&self, include_test: bool) -> Totals {
        let (count, amount, refunded) = if include_test { self.all } else { self.real };
        let capped = self.more_than_cap();
        Totals {
            count: if capped { count.min(TOTALS_CAP) } else { count },
            amount,
            refunded,
            capped,
        }
    }
}

pub(super) async fn first_matches_of(
    db: &Db,
    cond: &str,
    binds: &[Bind],
    plan: Plan,
) -> Result<FirstMatches, sqlx::Error> {
    let sum = |e: &str| format!("cast(coalesce(sum({e}), 0) as bigint)");
    let real = |e: &str| sum(&format!("case when p.test then 0 else {e} end"));
    let sql = format!(
        "select count(*), {}, {}, {}, {}, {} from {}",
        sum("p.amount"),
        sum("p.refunded_amount"),
        real("1"),
        real("p.amount"),
        real("p.refunded_amount"),
        first_matches(is_pg(db), plan, "p.amount, p.refunded_amount, p.test", cond)
    );
    let r: (i64, i64, i64, i64, i64, i64) = read!(db, |c| bind_all!(sqlx::query_as(&sql), binds)
        .fetch_one(c)
        .await)?;
    Ok(FirstMatches {
        looked_at: r.0,
        all: (r.0, r.1, r.2),
        real: (r.3, r.4, r.5),
    })
}

async fn capped_totals(
    db: &Db,
    cond: &str,
    binds: &[Bind],
    plan: Plan,
    include_test: bool,
) -> Result<Totals, sqlx::Error> {
    Ok(first_matches_of(db, cond, binds, plan)
        .await?
        .totals(include_test))
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
        if !is_broad_text(f) {
            let (cond, binds) = filter_sql(pg, store_id, f, None);
            return capped_totals(db, &cond, &binds, f.plan, include_test).await;
        }
        // A broad text: the totals of the text alone came with its plan (its first 10,001
        // matches, from the references' indexes); with other conditions beside it, or when its
        // references were too many to gather (PostgreSQL), they are added up on the walk the
        // list takes, no further back than the list's bound (partial then).
        let text_alone = f.status.is_none()
            && f.till_id.is_none()
            && f.from.is_none()
            && f.until.is_none()
            && f.min_amount.is_none()
            && f.max_amount.is_none();
        if let Some(m) = f.text_matches.filter(|_| text_alone) {
            return Ok(m.totals(include_test));
        }
        let w = filter_parts(pg, store_id, f, None);
        let mut binds = w.binds;
        let stop = walk_stop(db, &w.walk, &binds[..w.walk_binds]).await?;
        let stop_at = stop
            .as_ref()
            .map_or(String::new(), |s| stop_bound(&mut binds, s));
        let cond = format!("{}{stop_at}{}", w.walk, w.check);
        let mut totals = capped_totals(db, &cond, &binds, f.plan, include_test).await?;
        totals.capped |= stop.is_some();
        return Ok(totals);
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
        live = scan_totals(db, &format!("{cond}{real}"), &binds).await?;
    }
    Ok(Totals {
        count: closed.0 + live.count,
        amount: closed.1 + live.amount,
        refunded: closed.2 + live.refunded,
        capped: false,
    })
}
