//! The transactions page past `TOTALS_CAP` matching payments: an amount range or a text that
//! matches more is added up only that far and the page says the totals are partial; a narrower
//! filter gets exact totals again; the list and the CSV export stay complete and in order; a
//! search text shorter than `MIN_PREFIX` is matched exactly and the page says so beside the box.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::helpers::console::{Console, add_user, listed, text_of, totals_text};
use crate::helpers::db::{Arg, execute, execute_with};
use app::backend::transactions::MIN_PREFIX;
use app::i18n::{Lang, Msg};
use qrpay::cli::seed::{SeedArgs, seed};
use qrpay::db::Db;
use qrpay::db::payment_search::{PaymentFilter, Plan, TOTALS_CAP, WALK_LIMIT, choose_plan};

both_backends!(totals_past_the_cap_read_as_partial_while_the_list_and_csv_stay_whole);
both_backends!(a_broad_text_whose_matches_are_all_old_is_searched_a_bounded_walk_at_a_time);

#[derive(sqlx::FromRow, Debug)]
struct Row {
    payment_id: String,
    amount: i64,
    refunded_amount: i64,
    order_ref: String,
    created_at: chrono::DateTime<chrono::Utc>,
}

/// Every payment, newest first (the list's order).
async fn rows(app: &TestApp) -> Vec<Row> {
    let sql = "select payment_id, amount, refunded_amount, order_ref, created_at from payment \
               order by created_at desc, payment_id desc";
    match &app.db {
        Db::Sqlite { write, .. } => sqlx::query_as(sql).fetch_all(write).await,
        Db::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await,
    }
    .unwrap()
}

/// The plan the console would take for `f` in the (one) store.
async fn plan_of(app: &TestApp, f: PaymentFilter) -> Plan {
    let sql = "select store_id from payment limit 1";
    let store_id: i64 = match &app.db {
        Db::Sqlite { write, .. } => sqlx::query_scalar(sql).fetch_one(write).await,
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .unwrap();
    choose_plan(&app.db, store_id, &f).await.unwrap()
}

/// The payment ids of the CSV export of `query`, in its order; it is streamed (no length known
/// up front).
async fn csv_ids(app: &TestApp, c: &Console<'_>, session: &str, query: &str) -> Vec<String> {
    let r = c
        .http
        .get(format!("{}/console/transactions.csv?{query}", app.base))
        .header(reqwest::header::COOKIE, session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.content_length().is_none(), "streamed, not one body");
    let csv = r.text().await.unwrap();
    csv.lines()
        .skip(1)
        .map(|l| l.split(';').nth(1).unwrap().to_owned())
        .collect()
}

fn next_link(body: &str) -> Option<String> {
    body.contains("data-testid=\"next-page\"").then(|| {
        let head = body.split("data-testid=\"next-page\"").next().unwrap();
        let h = head.rsplit("href=\"").next().unwrap();
        h[..h.find('"').unwrap()].replace("&amp;", "&")
    })
}

/// (count, amount, refunded) as the page shows them, and whether it says they are partial.
fn shown(body: &str) -> ((String, String, String), bool) {
    let partial = body.contains("data-testid=\"totals-partial\"");
    assert_eq!(
        partial,
        body.contains("data-partial=\"true\""),
        "the totals line and the note agree"
    );
    let t = |id| text_of(body, id).unwrap();
    (
        (t("total-count"), t("total-amount"), t("total-refunded")),
        partial,
    )
}

fn exact<'a>(rows: impl Iterator<Item = &'a Row>) -> (String, String, String) {
    totals_text(rows.map(|r| (r.amount, r.refunded_amount)))
}

/// The kopecks of `1 234,56 ₽`.
fn kopecks(money: &str) -> i64 {
    money
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

async fn totals_past_the_cap_read_as_partial_while_the_list_and_csv_stay_whole(app: TestApp) {
    // One store with more payments than the cap, spread over 90 days.
    let n = TOTALS_CAP as u64 + 600;
    let args = SeedArgs {
        payments: n,
        stores: 1,
        tills: 3,
        days: 90,
        seed: 7,
        batch: 500,
        quiet: true,
    };
    seed(&app.db, &args).await.unwrap();
    // Order refs that all start alike (as a till's own numbering may) and one short receipt.
    execute(
        &app,
        "update payment set order_ref = 'BULK' || substr(order_ref, 2)",
    )
    .await;
    let all = rows(&app).await;
    assert_eq!(all.len() as u64, n);
    let short = &all[all.len() / 3];
    execute_with(
        &app,
        "update payment set receipt = 'R7' where payment_id = $1",
        &[Arg::Text(&short.payment_id)],
    )
    .await;

    add_user(&app, "vera", "viewer").await;
    let c = Console::new(&app);
    let s = c.session_of("vera").await;
    let page = |q: String| {
        let (c, s) = (&c, s.clone());
        async move {
            // The seeded history is marked test: count it in the totals.
            let r = c
                .get(&format!("/console/transactions?{q}&test=1"), Some(&s))
                .await;
            assert_eq!(r.status, 200, "{q}");
            r.body
        }
    };
    let more_than = format!("{} {TOTALS_CAP}", Msg::TotalMoreThan.text(Lang::Ru));
    let at_least = Msg::TotalAtLeast.text(Lang::Ru);

    // An amount range every payment is in: capped, and the page says so.
    let body = page("min=0,01".into()).await;
    let ((count, amount, refunded), partial) = shown(&body);
    assert!(partial, "{count}");
    assert_eq!(count, more_than);
    let real = exact(all.iter());
    let lower = amount.strip_prefix(at_least).unwrap().trim();
    assert!(
        kopecks(lower) > 0 && kopecks(lower) < kopecks(&real.1),
        "{amount}"
    );
    assert!(refunded.starts_with(at_least), "{refunded}");
    assert!(body.contains(Msg::TotalsPartial.text(Lang::Ru)));
    // The list is the newest 50 of them all the same.
    let newest: Vec<String> = all.iter().take(50).map(|r| r.payment_id.clone()).collect();
    assert_eq!(listed(&body), newest);

    // Test payments left out of the totals (the box unticked): the cap bounds the payments
    // looked at, test or not, so a filter matching mostly test payments costs no more; of
    // those looked at only the real ones count, and the count reads «не менее N».
    let real: Vec<String> = all
        .iter()
        .step_by(37)
        .map(|r| format!("'{}'", r.payment_id))
        .collect();
    execute(
        &app,
        &format!(
            "update payment set test = (1 = 0) where payment_id in ({})",
            real.join(",")
        ),
    )
    .await;
    let r = c.get("/console/transactions?min=0,01", Some(&s)).await;
    let ((count, amount, _), partial) = shown(&r.body);
    assert!(partial, "{count}");
    let n: i64 = count
        .strip_prefix(at_least)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(n > 0 && n <= real.len() as i64, "{count}");
    assert!(amount.starts_with(at_least), "{amount}");
    // Narrowed under the cap: exact again, real payments only.
    let body = c
        .get(
            &format!(
                "/console/transactions?min=0,01&from={}",
                chrono::Utc::now().date_naive() - chrono::TimeDelta::days(10)
            ),
            Some(&s),
        )
        .await
        .body;
    assert!(!shown(&body).1);

    // The same range over the last 20 days: under the cap, exact, nothing said.
    let tz = chrono_tz::Europe::Moscow;
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let from = today - chrono::TimeDelta::days(19);
    let local = |r: &Row| r.created_at.with_timezone(&tz).date_naive();
    let recent: Vec<&Row> = all.iter().filter(|r| local(r) >= from).collect();
    assert!(recent.len() > 100 && (recent.len() as i64) < TOTALS_CAP);
    let body = page(format!("min=0,01&from={from}&to={today}")).await;
    assert_eq!(shown(&body), (exact(recent.iter().copied()), false));
    assert!(!body.contains(Msg::TotalsPartial.text(Lang::Ru)));

    // A text matching every order ref: partial totals, and the list (walked in date order) is
    // still the newest payments, page after page without gaps or repeats.
    let body = page("q=BULK".into()).await;
    assert!(shown(&body).1);
    assert_eq!(listed(&body), newest);
    let second = page(next_link(&body).unwrap().split_once('?').unwrap().1.into()).await;
    let after: Vec<String> = all
        .iter()
        .skip(50)
        .take(50)
        .map(|r| r.payment_id.clone())
        .collect();
    assert_eq!(listed(&second), after);
    // A text matching a few: exact.
    let one = &all[all.len() / 2];
    let prefix = &one.order_ref[..one.order_ref.len() - 3];
    let body = page(format!("q={prefix}")).await;
    let matching = all.iter().filter(|r| r.order_ref.starts_with(prefix));
    assert_eq!(shown(&body), (exact(matching), false));
    assert!(listed(&body).contains(&one.payment_id));
    assert!(!body.contains("data-testid=\"note-q\""));

    // Shorter than MIN_PREFIX: an exact receipt is found, the start of an order ref is not
    // looked for, and the page says so beside the box.
    assert_eq!("R7".len(), MIN_PREFIX - 2);
    let body = page("q=R7".into()).await;
    assert_eq!(listed(&body), std::slice::from_ref(&short.payment_id));
    assert_eq!(shown(&body), (exact(std::iter::once(short)), false));
    assert!(body.contains("data-testid=\"note-q\""));
    assert!(body.contains(Msg::TextExactOnly.text(Lang::Ru)));
    let body = page("q=BUL".into()).await;
    assert!(listed(&body).is_empty());
    assert!(body.contains("data-testid=\"note-q\""));

    // A few large payments across the whole history, the oldest too: a range holding only them
    // is gathered from the amount index (with a broad text too); its list, pages and totals
    // are exactly those payments. A range holding more than the cap walks the date order.
    let ids: Vec<String> = all
        .iter()
        .rev()
        .step_by(97)
        .map(|r| format!("'{}'", r.payment_id))
        .collect();
    execute(
        &app,
        &format!(
            "update payment set amount = amount + 9000000 where payment_id in ({})",
            ids.join(",")
        ),
    )
    .await;
    let all = rows(&app).await;
    let big: Vec<&Row> = all.iter().filter(|r| r.amount > 9_000_000).collect();
    assert_eq!(big.len(), ids.len());
    assert!(big.len() > 100 && big.last().unwrap().payment_id == all.last().unwrap().payment_id);
    let amount = |min, text: Option<&str>| PaymentFilter {
        min_amount: Some(min),
        text: text.map(str::to_owned),
        ..Default::default()
    };
    assert_eq!(
        plan_of(&app, amount(9_000_000, None)).await,
        Plan::FewByAmount
    );
    assert_eq!(
        plan_of(&app, amount(9_000_000, Some("BULK"))).await,
        Plan::FewByAmount
    );
    assert_eq!(plan_of(&app, amount(1, None)).await, Plan::StoreByDate);
    assert_eq!(
        plan_of(&app, amount(1, Some(prefix))).await,
        Plan::FewByText
    );
    let ids_of =
        |rows: &[&Row]| -> Vec<String> { rows.iter().map(|r| r.payment_id.clone()).collect() };
    for q in ["min=90000", "min=90000&q=BULK", "min=90000&max=200000"] {
        let body = page(q.into()).await;
        assert_eq!(shown(&body), (exact(big.iter().copied()), false), "{q}");
        assert_eq!(listed(&body), ids_of(&big[..50]), "{q}");
        let second = page(next_link(&body).unwrap().split_once('?').unwrap().1.into()).await;
        assert_eq!(listed(&second), ids_of(&big[50..100]), "{q}");
    }
    let recent_big: Vec<&Row> = big.iter().copied().filter(|r| local(r) >= from).collect();
    assert!(!recent_big.is_empty() && recent_big.len() < big.len());
    let body = page(format!("min=90000&from={from}&to={today}")).await;
    assert_eq!(shown(&body), (exact(recent_big.iter().copied()), false));
    assert_eq!(listed(&body), ids_of(&recent_big));

    // The CSV export is the whole filter, streamed (no length known up front), newest first.
    let expected: Vec<&str> = all.iter().map(|r| r.payment_id.as_str()).collect();
    assert_eq!(csv_ids(&app, &c, &s, "min=0,01").await, expected);
}

/// A text matching more than the cap, every match older than the newest `WALK_LIMIT` payments:
/// the first page reads that many, finds none, says how far back it looked and links on; the
/// next page finds the newest matches; the CSV export goes through the empty stretch to all of
/// them, in order.
async fn a_broad_text_whose_matches_are_all_old_is_searched_a_bounded_walk_at_a_time(app: TestApp) {
    let old = TOTALS_CAP as usize + 500;
    let n = WALK_LIMIT as u64 + old as u64 + 100;
    let args = SeedArgs {
        payments: n,
        stores: 1,
        tills: 2,
        days: 90,
        seed: 11,
        batch: 1000,
        quiet: true,
    };
    seed(&app.db, &args).await.unwrap();
    let all = rows(&app).await;
    let cut = &all[all.len() - old];
    execute_with(
        &app,
        "update payment set order_ref = case when created_at < $1 or (created_at = $1 and payment_id <= $2) \
         then 'QQQQOLDX' else 'QQQQNEWX' end || substr(order_ref, 2)",
        &[Arg::Time(cut.created_at), Arg::Text(&cut.payment_id)],
    )
    .await;
    let all = rows(&app).await;
    let matching: Vec<&Row> = all
        .iter()
        .filter(|r| r.order_ref.starts_with("QQQQOLDX"))
        .collect();
    assert_eq!(matching.len(), old);
    let f = PaymentFilter {
        text: Some("QQQQOLDX".into()),
        ..Default::default()
    };
    assert_eq!(plan_of(&app, f).await, Plan::StoreByDate);

    add_user(&app, "vera", "viewer").await;
    let c = Console::new(&app);
    let s = c.session_of("vera").await;
    let get = |path: String| {
        let (c, s) = (&c, s.clone());
        async move {
            let r = c.get(&path, Some(&s)).await;
            assert_eq!(r.status, 200, "{path}");
            r.body
        }
    };
    let body = get("/console/transactions?q=QQQQOLDX&test=1".into()).await;
    assert!(listed(&body).is_empty());
    assert!(body.contains("data-testid=\"searched-back-to\""), "{body}");
    assert!(body.contains(Msg::NoMatchesYet.text(Lang::Ru)));
    assert!(!body.contains("data-testid=\"no-transactions\""));
    let stopped = &all[WALK_LIMIT as usize - 1];
    let at = stopped
        .created_at
        .with_timezone(&chrono_tz::Europe::Moscow)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    assert_eq!(text_of(&body, "searched-back-to-time").unwrap(), at);
    assert!(Msg::SearchedBackTo.text(Lang::Ru).contains("10 000") && WALK_LIMIT == 10_000);
    // The text alone: its totals come from the references' indexes, past the cap.
    let ((count, _, _), partial) = shown(&body);
    assert!(partial, "more than the cap match: partial totals");
    assert_eq!(
        count,
        format!("{} {TOTALS_CAP}", Msg::TotalMoreThan.text(Lang::Ru))
    );
    // With another condition beside it, the totals look no further back than the list's
    // walk: none of the matches is in it, so they read «не менее 0», partial.
    let other = get("/console/transactions?q=QQQQOLDX&min=0,01&test=1".into()).await;
    assert!(other.contains("data-testid=\"searched-back-to\""));
    let ((count, _, _), partial) = shown(&other);
    assert!(partial);
    assert_eq!(count, format!("{} 0", Msg::TotalAtLeast.text(Lang::Ru)));
    let next = next_link(&body).expect("a link to go on");
    let body = get(next).await;
    let ids =
        |rows: &[&Row]| -> Vec<String> { rows.iter().map(|r| r.payment_id.clone()).collect() };
    assert_eq!(listed(&body), ids(&matching[..50]));
    assert!(!body.contains("data-testid=\"searched-back-to\""));
    let body = get(next_link(&body).unwrap()).await;
    assert_eq!(listed(&body), ids(&matching[50..100]));

    // A text every payment matches (more than twice the cap: on PostgreSQL too many references
    // to gather, so the totals come from the walk): the newest payments, partial totals.
    assert!(all.len() as i64 > 2 * TOTALS_CAP);
    let body = get("/console/transactions?q=QQQQ&test=1".into()).await;
    let newest: Vec<&Row> = all.iter().take(50).collect();
    assert_eq!(listed(&body), ids(&newest));
    assert!(shown(&body).1);
    assert!(!body.contains("data-testid=\"searched-back-to\""));

    let expected: Vec<&str> = matching.iter().map(|r| r.payment_id.as_str()).collect();
    assert_eq!(csv_ids(&app, &c, &s, "q=QQQQOLDX").await, expected);
}
