//! «Сводка» over HTTP: today's figures, the 14 days of the chart, the payments pending now and
//! the late payments to refund, all made through the till API and counted in the store's time
//! zone.

use crate::both_backends;
use crate::helpers::console::{Console, add_user, text_of};
use crate::helpers::db::{Arg, execute, execute_with};
use crate::helpers::{TestApp, new_key};
use app::i18n::{Lang, format_money};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

async fn payment(app: &TestApp, amount: i64, receipt: &str) -> String {
    let r = app
        .create_payment_raw(
            &json!({"amount": amount, "receipt": receipt}).to_string(),
            &new_key(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn paid(app: &TestApp, amount: i64, receipt: &str) -> String {
    let id = payment(app, amount, receipt).await;
    assert_eq!(app.pay(&id).await.body["status"], "paid");
    id
}

/// A payment paid after the till cancelled it.
async fn late(app: &TestApp, amount: i64, receipt: &str) -> String {
    let id = payment(app, amount, receipt).await;
    assert_eq!(app.cancel(&id).await.body["status"], "cancelled");
    let r = app.pay(&id).await;
    assert_eq!(
        (r.body["status"].as_str(), r.body["late"].as_bool()),
        (Some("paid"), Some(true))
    );
    id
}

async fn move_to(app: &TestApp, id: &str, at: DateTime<Utc>) {
    let sql = "update payment set created_at = $1 where payment_id = $2";
    execute_with(app, sql, &[Arg::Time(at), Arg::Text(id)]).await
}

/// The part of the page inside the element with `data-testid=id` up to the next `</section>`.
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("data-testid=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id}"));
    let rest = &body[start..];
    &rest[..rest.find("</section>").unwrap()]
}

/// The payment ids of the rows with `data-testid=row` in `html`.
fn ids(html: &str, row: &str) -> Vec<String> {
    let marker = format!(r#"data-testid="{row}" data-payment-id=""#);
    html.match_indices(&marker)
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

/// (date, count, amount text) of each chart day, from the visually hidden table.
fn chart_days(body: &str) -> Vec<(String, String, String)> {
    let body = body.replace("<!---->", "").replace("<!>", "");
    body.match_indices(r#"data-testid="chart-day" data-date=""#)
        .map(|(i, m)| {
            let rest = &body[i + m.len()..];
            let date = rest[..rest.find('"').unwrap()].to_owned();
            let row = &rest[..rest.find("</tr>").unwrap()];
            (
                date,
                text_of(row, "day-count").unwrap(),
                text_of(row, "day-amount").unwrap(),
            )
        })
        .collect()
}

fn money(k: i64) -> String {
    format_money(k, Lang::Ru)
}

async fn the_dashboard_counts_the_till_api_payments_of_today_and_the_last_14_days(app: TestApp) {
    add_user(&app, "vera", "viewer").await;
    let c = Console::new(&app);
    let s = c.session_of("vera").await;
    let empty = c.get("/console", Some(&s)).await;
    assert_eq!(empty.status, 200);
    assert_eq!(text_of(&empty.body, "today-count").as_deref(), Some("0"));
    assert!(empty.body.contains(r#"data-testid="no-pending-row""#));
    assert!(empty.body.contains(r#"data-testid="no-late-row""#));
    let days = chart_days(&empty.body);
    assert_eq!(days.len(), 14);
    assert!(
        days.iter().all(|(_, n, a)| n == "0" && *a == money(0)),
        "{days:?}"
    );

    let a = paid(&app, 10_000, "D-1").await;
    let b = paid(&app, 25_050, "D-2").await;
    assert_eq!(app.refund(&b, json!({"amount": 5_000})).await.status, 201);
    let waiting = payment(&app, 4_000, "D-3").await;
    let _declined = {
        let id = payment(&app, 800, "D-4").await;
        app.decline(&id).await;
        id
    };
    // A late payment the store refunds at once needs nothing more; one it keeps needs a look.
    let refunded_late = late(&app, 7_000, "D-5").await;
    let store = qrpay::db::store::find_store(&app.db, None).await.unwrap();
    qrpay::db::store::set_refund_late_payments(
        &app.db,
        &qrpay::db::audit::Who::SEED,
        store.store_id,
        false,
    )
    .await
    .unwrap();
    let kept_late = late(&app, 3_000, "D-6").await;
    // Yesterday's and a month-old payment.
    let yesterday = paid(&app, 1_500, "D-7").await;
    move_to(&app, &yesterday, Utc::now() - TimeDelta::days(1)).await;
    let old = paid(&app, 900, "D-8").await;
    move_to(&app, &old, Utc::now() - TimeDelta::days(30)).await;

    let page = c.get("/console?test=1", Some(&s)).await;
    assert_eq!(page.status, 200);
    let today_paid = 10_000 + 25_050 + 7_000 + 3_000;
    assert_eq!(text_of(&page.body, "today-count").as_deref(), Some("4"));
    assert_eq!(text_of(&page.body, "today-amount"), Some(money(today_paid)));
    assert_eq!(
        text_of(&page.body, "today-refunded"),
        Some(money(5_000 + 7_000))
    );

    let days = chart_days(&page.body);
    assert_eq!(days.len(), 14, "{days:?}");
    let moscow = |t: DateTime<Utc>| {
        t.with_timezone(&chrono_tz::Europe::Moscow)
            .format("%Y-%m-%d")
            .to_string()
    };
    assert_eq!(
        days[13],
        (moscow(Utc::now()), "4".into(), money(today_paid))
    );
    assert_eq!(
        days[12],
        (
            moscow(Utc::now() - TimeDelta::days(1)),
            "1".into(),
            money(1_500)
        )
    );
    assert_eq!(days[0].0, moscow(Utc::now() - TimeDelta::days(13)));
    assert!(
        days[..12]
            .iter()
            .all(|(_, n, a)| n == "0" && *a == money(0)),
        "{days:?}"
    );
    // The chart itself: a title, a bar per day, every number also in its description.
    let chart = section(&page.body, "chart");
    assert!(chart.contains(r#"<title id="chart-title">Оплаты за 14 дней</title>"#));
    assert_eq!(chart.matches("<rect").count(), 14);
    assert!(chart.contains(&format!("{}: 4, {}", moscow(Utc::now()), money(today_paid))));

    let pending = section(&page.body, "pending");
    assert_eq!(ids(pending, "pending-row"), vec![waiting.as_str()]);
    assert!(pending.contains(&format!(r#"href="/console/transactions/{waiting}""#)));
    let late = section(&page.body, "late");
    assert_eq!(ids(late, "late-row"), vec![kept_late.as_str()]);
    assert!(late.contains(&format!(r#"href="/console/transactions/{kept_late}""#)));
    assert!(!page.body.contains(&refunded_late) && !page.body.contains(&a));

    // Refunded in full, the late payment leaves the list.
    assert_eq!(app.refund(&kept_late, json!({})).await.status, 201);
    let page = c.get("/console?test=1", Some(&s)).await;
    assert!(page.body.contains(r#"data-testid="no-late-row""#));
    // Paid, the pending one leaves its list.
    app.pay(&waiting).await;
    let page = c.get("/console?test=1", Some(&s)).await;
    assert!(page.body.contains(r#"data-testid="no-pending-row""#));
}

async fn the_dashboard_days_are_the_store_time_zone_days_and_every_role_sees_them(app: TestApp) {
    // Kiritimati is UTC+14, Pago Pago UTC-11: for most of the day their dates differ by one.
    for (zone, tz) in [
        ("Pacific/Kiritimati", chrono_tz::Pacific::Kiritimati),
        ("Pacific/Pago_Pago", chrono_tz::Pacific::Pago_Pago),
    ] {
        execute(&app, &format!("update store set time_zone = '{zone}'")).await;
        for (login, role) in [("a", "admin"), ("s", "support"), ("v", "viewer")] {
            let login = format!("{login}-{}", zone.len());
            add_user(&app, &login, role).await;
            let c = Console::new(&app);
            let s = c.session_of(&login).await;
            let page = c.get("/console", Some(&s)).await;
            assert_eq!(page.status, 200, "{role}");
            assert!(page.body.contains(zone), "{role}");
            let today = Utc::now().with_timezone(&tz).format("%Y-%m-%d").to_string();
            assert_eq!(chart_days(&page.body)[13].0, today, "{zone} {role}");
            // The dashboard is the first link and the page after signing in.
            let nav = &page.body[page.body.find("main-nav").unwrap()..];
            assert!(nav.find("nav-dashboard").unwrap() < nav.find("nav-transactions").unwrap());
        }
    }
}

both_backends!(
    the_dashboard_counts_the_till_api_payments_of_today_and_the_last_14_days,
    the_dashboard_days_are_the_store_time_zone_days_and_every_role_sees_them,
);
