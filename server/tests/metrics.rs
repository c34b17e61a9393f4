//! `/metrics` has what the alert rules in docs/OPERATIONS.md need besides the outbox backlog:
//! payments and refunds in doubt (`unknown`), how late the expiry worker is, and bank call
//! outcomes (both databases).

use crate::helpers::db::{Arg, execute_with};
use crate::helpers::{Backend, TestApp, fresh_database, spawn_app_on};

/// Without the workers: the expiry worker would settle the overdue payment this test makes.
async fn app_without_workers(backend: Backend) -> Option<TestApp> {
    let (url, dir) = fresh_database(backend).await?;
    Some(spawn_app_on(&url, dir, false).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    if let Some(app) = app_without_workers(Backend::Sqlite).await {
        metrics_show_payments_in_doubt_expiry_lateness_and_bank_calls(app).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    if let Some(app) = app_without_workers(Backend::Postgres).await {
        metrics_show_payments_in_doubt_expiry_lateness_and_bank_calls(app).await
    }
}

/// The value of the metric line that starts with `series ` (e.g. `qrpay_x{a="b"}`).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

async fn metrics(app: &TestApp) -> String {
    let r = app
        .client
        .get(format!("{}/metrics", app.ops))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.text().await.unwrap()
}

async fn metrics_show_payments_in_doubt_expiry_lateness_and_bank_calls(app: TestApp) {
    let fresh = metrics(&app).await;
    assert_eq!(
        value(&fresh, "qrpay_payments{status=\"unknown\"}"),
        Some(0.0),
        "{fresh}"
    );
    assert_eq!(
        value(&fresh, "qrpay_expiry_lateness_seconds"),
        Some(0.0),
        "{fresh}"
    );
    for outcome in ["ok", "no_answer", "rejected"] {
        assert!(
            value(
                &fresh,
                &format!("qrpay_bank_calls_total{{outcome=\"{outcome}\"}}")
            )
            .is_some(),
            "{fresh}"
        );
    }

    let a = app.create_payment(1000).await;
    let b = app.create_payment(2000).await;
    let c = app.create_payment(3000).await;
    let ok_after = value(
        &metrics(&app).await,
        "qrpay_bank_calls_total{outcome=\"ok\"}",
    )
    .unwrap();
    let ok_before = value(&fresh, "qrpay_bank_calls_total{outcome=\"ok\"}").unwrap();
    assert!(ok_after >= ok_before + 3.0, "{ok_before} -> {ok_after}");

    // Two payments in doubt; one pending well past its deadline, as if the expiry worker were
    // stuck.
    execute_with(
        &app,
        "update payment set status = 'unknown' where payment_id = $1",
        &[Arg::Text(a["id"].as_str().unwrap())],
    )
    .await;
    execute_with(
        &app,
        "update payment set status = 'unknown' where payment_id = $1",
        &[Arg::Text(b["id"].as_str().unwrap())],
    )
    .await;
    let overdue = chrono::Utc::now() - chrono::Duration::seconds(90);
    execute_with(
        &app,
        "update payment set expires_at = $1 where payment_id = $2",
        &[Arg::Time(overdue), Arg::Text(c["id"].as_str().unwrap())],
    )
    .await;
    let text = metrics(&app).await;
    assert_eq!(
        value(&text, "qrpay_payments{status=\"unknown\"}"),
        Some(2.0),
        "{text}"
    );
    let late = value(&text, "qrpay_expiry_lateness_seconds").unwrap();
    assert!((89.0..200.0).contains(&late), "{late}");
}
