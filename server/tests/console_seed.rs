//! `qrpay seed` (the same code path as the command) and the console's totals over seeded
//! history: every status is there, seeded rows look like real ones (history, refunds, no
//! outbox), every detail page opens, and the totals (per-day sums of closed days + the rest)
//! equal the sums of the rows, also after a late change to an old payment.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::helpers::console::{Console, add_user, totals_text};
use crate::helpers::db::{Arg, execute_with, scalar};
use qrpay::cli::seed::{SeedArgs, seed};
use qrpay::db::{self, Db};

fn text_of(body: &str, id: &str) -> Option<String> {
    let body = body.replace("<!---->", "").replace("<!>", "");
    let start = body.find(&format!("data-testid=\"{id}\""))?;
    let rest = &body[start..];
    let rest = &rest[rest.find('>')? + 1..];
    Some(rest[..rest.find('<')?].to_owned())
}

fn args(payments: u64) -> SeedArgs {
    SeedArgs {
        payments,
        stores: 2,
        tills: 3,
        days: 90,
        seed: 42,
        batch: 150,
        quiet: true,
    }
}

#[derive(sqlx::FromRow, Debug)]
struct Row {
    payment_id: String,
    store_id: i64,
    status: String,
    amount: i64,
    refunded_amount: i64,
    late: bool,
    order_ref: String,
    qr_id: Option<String>,
    bank_transaction_id: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
}

async fn rows(app: &TestApp) -> Vec<Row> {
    let sql = "select payment_id, store_id, status, amount, refunded_amount, late, order_ref, \
               qr_id, bank_transaction_id, created_at from payment order by created_at";
    match &app.db {
        Db::Sqlite { write, .. } => sqlx::query_as(sql).fetch_all(write).await,
        Db::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await,
    }
    .unwrap()
}

/// (count, amount, refunded) as the page shows them.
fn shown(body: &str) -> (String, String, String) {
    (
        text_of(body, "total-count").unwrap(),
        text_of(body, "total-amount").unwrap(),
        text_of(body, "total-refunded").unwrap(),
    )
}

fn expected<'a>(rows: impl Iterator<Item = &'a Row>) -> (String, String, String) {
    totals_text(rows.map(|r| (r.amount, r.refunded_amount)))
}

async fn seeded_history_looks_real_and_the_console_totals_add_up(app: TestApp) {
    let seeded = seed(&app.db, &args(600)).await.unwrap();
    assert_eq!(seeded.payments, 600);
    // A fresh database: the default store (what the console opens) is the first seeded one.
    let first = db::store::find_store(&app.db, None).await.unwrap().store_id;
    assert_eq!(seeded.store_ids[0], first);
    let all = rows(&app).await;
    assert_eq!(all.len(), 600);

    // The spread: every final status, late payments refunded, full and partial refunds.
    for status in ["paid", "expired", "cancelled", "declined", "failed"] {
        let n = all.iter().filter(|r| r.status == status).count();
        assert!(n > 0, "no {status} payment");
    }
    let paid = all.iter().filter(|r| r.status == "paid").count();
    assert!(paid > 450 && paid < 560, "mostly paid: {paid}");
    assert!(all.iter().any(|r| r.late && r.refunded_amount == r.amount));
    assert!(
        all.iter()
            .any(|r| !r.late && r.refunded_amount == r.amount && r.amount > 0)
    );
    assert!(
        all.iter()
            .any(|r| r.refunded_amount > 0 && r.refunded_amount < r.amount)
    );
    assert!(
        all.iter()
            .filter(|r| r.status == "paid")
            .all(|r| r.bank_transaction_id.is_some()
                && r.qr_id.as_deref().is_some_and(|q| q.starts_with("AD")))
    );
    let now = chrono::Utc::now();
    assert!(
        all.iter()
            .all(|r| r.created_at < now && r.created_at > now - chrono::TimeDelta::days(91))
    );
    assert!(
        all.iter()
            .all(|r| r.order_ref.starts_with('q') && r.order_ref.len() == 27)
    );
    assert!(seeded.store_ids.len() == 2 && all.iter().any(|r| r.store_id == seeded.store_ids[1]));

    // Refund rows match what the payments say was refunded; no outbox rows.
    assert_eq!(
        scalar(
            &app,
            "select count(*) from payment p where refunded_amount <> \
             (select coalesce(sum(amount), 0) from refund r where r.payment_id = p.payment_id \
              and r.status = 'completed')"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(&app, "select count(*) from refund").await as u64,
        seeded.refunds
    );
    assert!(seeded.refunds > 0);
    assert_eq!(scalar(&app, "select count(*) from outbox").await, 0);
    // Made-up history can never pass for money.
    assert_eq!(
        scalar(&app, "select count(*) from payment where not test").await,
        0
    );
    assert_eq!(
        scalar(&app, "select count(*) from payment_event").await as u64,
        seeded.events
    );

    // Every payment of the console's store: its history starts with `creating` and ends in
    // its status, and its detail page opens.
    add_user(&app, "vera", "viewer").await;
    let c = Console::new(&app);
    let s = c.session_of("vera").await;
    let mine: Vec<&Row> = all.iter().filter(|r| r.store_id == first).collect();
    assert!(mine.len() > 200);
    for r in &mine {
        let events = db::payment_event::events_of(&app.db, &r.payment_id)
            .await
            .unwrap();
        assert_eq!(events[0].to_status, "creating");
        let last_payment_status = events
            .iter()
            .rev()
            .find(|e| !e.to_status.starts_with("refund_"))
            .unwrap();
        assert_eq!(last_payment_status.to_status, r.status, "{}", r.payment_id);
        let page = c
            .get(&format!("/console/transactions/{}", r.payment_id), Some(&s))
            .await;
        assert_eq!(page.status, 200, "{}", r.payment_id);
        assert!(page.body.contains(&r.order_ref), "{}", r.payment_id);
    }

    // Totals: the whole store, a status, a till, a period (closed days from `payment_day`,
    // today from the rows), an amount range and a text (rows only) — each the sum of its rows.
    let tz = chrono_tz::Europe::Moscow;
    let today = now.with_timezone(&tz).date_naive();
    let from = today - chrono::TimeDelta::days(20);
    let local = |r: &Row| r.created_at.with_timezone(&tz).date_naive();
    let till = db::till::store_tills(&app.db, first).await.unwrap()[0].0;
    let till_of = |id: &str| {
        let db = app.db.clone();
        let id = id.to_owned();
        async move {
            db::payment::get_payment(&db, &id)
                .await
                .unwrap()
                .unwrap()
                .till_id
        }
    };
    let mut till_ids = std::collections::HashMap::new();
    for r in &mine {
        till_ids.insert(r.payment_id.clone(), till_of(&r.payment_id).await);
    }
    let total = |q: &str| {
        let (c, s) = (&c, s.clone());
        let q = q.to_owned();
        async move {
            shown(
                // The seed's payments are on the sandbox: test ones, counted when asked.
                &c.get(&format!("/console/transactions?{q}&test=1"), Some(&s))
                    .await
                    .body,
            )
        }
    };
    assert_eq!(total("").await, expected(mine.iter().copied()));
    assert_eq!(
        total("status=paid").await,
        expected(mine.iter().copied().filter(|r| r.status == "paid"))
    );
    assert_eq!(
        total(&format!("till={till}&status=expired")).await,
        expected(
            mine.iter()
                .copied()
                .filter(|r| r.status == "expired" && till_ids[&r.payment_id] == till)
        )
    );
    assert_eq!(
        total(&format!("from={from}&to={today}")).await,
        expected(mine.iter().copied().filter(|r| local(r) >= from))
    );
    let to = today - chrono::TimeDelta::days(3);
    assert_eq!(
        total(&format!("from={from}&to={to}&status=paid")).await,
        expected(
            mine.iter()
                .copied()
                .filter(|r| local(r) >= from && local(r) <= to && r.status == "paid")
        )
    );
    assert_eq!(
        total("min=500&max=2000").await,
        expected(
            mine.iter()
                .copied()
                .filter(|r| r.amount >= 50_000 && r.amount <= 200_000)
        )
    );
    // The search box: the start of an order ref finds its payment.
    let one = mine[mine.len() / 2];
    let prefix = &one.order_ref[..20];
    assert_eq!(
        total(&format!("q={prefix}")).await,
        expected(
            mine.iter()
                .copied()
                .filter(|r| r.order_ref.starts_with(prefix))
        )
    );
    assert_eq!(total(&format!("q={prefix}")).await.0, "1");

    // The closed days were added up (the totals above came from them).
    assert!(
        scalar(
            &app,
            &format!("select count(*) from payment_day where store_id = {first}")
        )
        .await
            > 50
    );

    // A late change to an old payment (a refund weeks later): the day it belongs to is added
    // up again, and the totals follow.
    let old = mine
        .iter()
        .copied()
        .find(|r| {
            r.status == "paid"
                && r.refunded_amount == 0
                && r.amount > 1_000
                && r.created_at < now - chrono::TimeDelta::days(10)
        })
        .unwrap();
    let at = db::now();
    let sql = "update payment set refunded_amount = refunded_amount + 1000, updated_at = $2 \
               where payment_id = $1";
    execute_with(&app, sql, &[Arg::Text(&old.payment_id), Arg::Time(at)]).await;
    let all = rows(&app).await;
    let mine: Vec<&Row> = all.iter().filter(|r| r.store_id == first).collect();
    assert_eq!(total("").await, expected(mine.iter().copied()));
    assert_eq!(
        total("status=paid").await,
        expected(mine.iter().copied().filter(|r| r.status == "paid"))
    );
}

both_backends!(seeded_history_looks_real_and_the_console_totals_add_up);
