//! The payment lifecycle: cancel, decline, expiry (also after a restart), late payments.

use crate::both_backends;
use crate::helpers::{TestApp, new_key, spawn_app_on};
use qrpay::db::audit::Who;
use qrpay::db::payment_type::{PaymentTypeFields, create_auth_server, save_payment_type};
use qrpay::db::store::find_store;
use serde_json::json;
use std::time::Duration;

both_backends!(
    a_pending_payment_is_cancelled_and_a_paid_one_stays_paid,
    a_declined_payment_ends_declined,
    a_pending_payment_expires_within_a_second_of_its_deadline,
    expiry_catches_up_after_a_restart,
    a_late_payment_is_flagged_and_refunded_in_full,
    a_late_payment_is_kept_when_the_store_says_so,
);

/// A payment type «Быстрый» whose authorization server times out after `secs`.
async fn fast_payment_type(app: &TestApp, secs: i64) {
    let store = find_store(&app.db, None).await.unwrap();
    let server = create_auth_server(
        &app.db,
        &Who::SEED,
        store.store_id,
        "QR оплата (быстрый)",
        secs,
    )
    .await
    .unwrap();
    save_payment_type(
        &app.db,
        &Who::SEED,
        None,
        PaymentTypeFields {
            store_id: store.store_id,
            auth_server_id: server,
            name: "Быстрый",
            module: "sandbox",
            scan_customer_qr: false,
            enabled: true,
        },
    )
    .await
    .unwrap();
}

async fn create_fast(app: &TestApp) -> serde_json::Value {
    let r = app
        .create_payment_raw(
            &json!({"amount": 990, "receipt": "F-1", "payment_type": "Быстрый"}).to_string(),
            &new_key(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

async fn a_pending_payment_is_cancelled_and_a_paid_one_stays_paid(app: TestApp) {
    let p = app.create_payment(100).await;
    let id = p["id"].as_str().unwrap();
    let r = app.cancel(id).await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (200, Some("cancelled"))
    );
    let again = app.cancel(id).await;
    assert_eq!(again.body["status"], "cancelled", "cancel is idempotent");

    let paid = app.paid_payment(200).await;
    let r = app.cancel(&paid).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("paid")));
    assert_eq!(
        app.outbox_keys().await,
        vec![
            "payment.created",
            "payment.cancelled",
            "payment.created",
            "payment.paid"
        ]
    );
}

async fn a_declined_payment_ends_declined(app: TestApp) {
    let p = app.create_payment(100).await;
    let id = p["id"].as_str().unwrap();
    let r = app.decline(id).await;
    assert_eq!(r.body["status"], "declined");
    assert_eq!(
        app.pay(id).await.body["status"],
        "declined",
        "a declined payment is never paid"
    );
    let r = app.refund(id, json!({})).await;
    assert_eq!((r.status, r.code()), (409, "payment_not_paid"));
}

async fn a_pending_payment_expires_within_a_second_of_its_deadline(app: TestApp) {
    fast_payment_type(&app, 1).await;
    let p = create_fast(&app).await;
    let id = p["id"].as_str().unwrap();
    let expires_at: chrono::DateTime<chrono::Utc> =
        p["expires_at"].as_str().unwrap().parse().unwrap();
    let seen = app.get(&format!("/api/v1/payments/{id}?wait=10")).await;
    assert_eq!(seen.body["status"], "expired", "{}", seen.body);
    let lag = chrono::Utc::now() - expires_at;
    assert!(
        lag < chrono::Duration::milliseconds(1000),
        "expired {lag} after the deadline"
    );
    // The QR is annulled at the bank too.
    let sandbox_state = qrpay::providers::Provider::payment_status(
        app.payments.providers().sandbox().as_ref(),
        &qrpay::providers::QrRef {
            store_id: 1,
            qr_id: &qrpay::db::payment::get_payment(&app.db, id)
                .await
                .unwrap()
                .unwrap()
                .qr_id
                .unwrap(),
            order_ref: "",
            amount: qrpay::domain::Amount::parse(990).unwrap(),
            cash_link: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(sandbox_state, qrpay::providers::BankPaymentState::Cancelled);
}

async fn expiry_catches_up_after_a_restart(app: TestApp) {
    fast_payment_type(&app, 1).await;
    let url = app.database_url.clone();
    let dir = app.dir.clone();
    // A qrpay without workers creates the payment, then "stops".
    let stopped = spawn_app_on(&url, None, false).await;
    let p = {
        let r = stopped
            .create_payment_raw(
                &json!({"amount": 990, "receipt": "F-1", "payment_type": "Быстрый"}).to_string(),
                &new_key(),
            )
            .await;
        assert_eq!(r.status, 201);
        r.body
    };
    drop(stopped);
    drop(app);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let restarted = spawn_app_on(&url, dir, true).await;
    let id = p["id"].as_str().unwrap();
    let seen = restarted
        .get(&format!("/api/v1/payments/{id}?wait=5"))
        .await;
    assert_eq!(seen.body["status"], "expired");
}

async fn a_late_payment_is_flagged_and_refunded_in_full(app: TestApp) {
    let p = app.create_payment(5000).await;
    let id = p["id"].as_str().unwrap();
    assert_eq!(app.cancel(id).await.body["status"], "cancelled");
    let r = app.pay(id).await;
    assert_eq!(r.body["status"], "paid");
    assert_eq!(r.body["late"], true);
    assert_eq!(r.body["refunded_amount"], 5000, "{}", r.body);
    let refunds = qrpay::db::refund::refunds_of(&app.db, id).await.unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].status, "completed");
    assert_eq!(refunds[0].amount, 5000);
    let keys = app.outbox_keys().await;
    assert_eq!(
        keys,
        vec![
            "payment.created",
            "payment.cancelled",
            "payment.paid",
            "refund.created",
            "refund.completed"
        ]
    );
}

async fn a_late_payment_is_kept_when_the_store_says_so(app: TestApp) {
    let store = find_store(&app.db, None).await.unwrap();
    qrpay::db::store::set_refund_late_payments(&app.db, &Who::SEED, store.store_id, false)
        .await
        .unwrap();
    let p = app.create_payment(5000).await;
    let id = p["id"].as_str().unwrap();
    app.cancel(id).await;
    let r = app.pay(id).await;
    assert_eq!(
        (r.body["status"].as_str(), r.body["late"].as_bool()),
        (Some("paid"), Some(true))
    );
    assert_eq!(r.body["refunded_amount"], 0);
}
