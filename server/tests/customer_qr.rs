//! «Сканировать QR-код покупателя»: a payment type whose till scans the code on the customer's
//! phone; the module charges it at once and the till gets the final status, with no QR to show.

use crate::both_backends;
use crate::helpers::{TestApp, new_key};
use qrpay::db::audit::Who;
use qrpay::db::payment_type::{PaymentTypeFields, list_auth_servers, save_payment_type};
use qrpay::db::store::find_store;
use qrpay::providers::{ChargeCustomerQr, Providers};
use serde_json::{Value, json};

both_backends!(
    a_scanned_customer_code_is_charged_at_once_and_answered_without_a_qr,
    a_declined_customer_code_ends_declined_and_a_foreign_code_is_an_invalid_field,
    a_scan_payment_type_needs_the_code_and_others_refuse_it,
    raiffeisen_says_it_cannot_read_customer_codes,
);

/// A payment type «Скан» on the sandbox with the flag on.
async fn scan_payment_type(app: &TestApp) {
    let store = find_store(&app.db, None).await.unwrap();
    let server = list_auth_servers(&app.db, store.store_id).await.unwrap()[0].auth_server_id;
    save_payment_type(
        &app.db,
        &Who::SEED,
        None,
        PaymentTypeFields {
            store_id: store.store_id,
            auth_server_id: server,
            name: "Скан",
            module: "sandbox",
            scan_customer_qr: true,
            enabled: true,
        },
    )
    .await
    .unwrap();
}

fn scan(amount: i64, code: &str) -> String {
    json!({"amount": amount, "receipt": "S-1", "payment_type": "Скан", "customer_qr": code})
        .to_string()
}

async fn a_scanned_customer_code_is_charged_at_once_and_answered_without_a_qr(app: TestApp) {
    scan_payment_type(&app).await;
    let key = new_key();
    let r = app
        .create_payment_raw(&scan(7845, "sandbox-ok-4711"), &key)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "paid", "{}", r.body);
    assert_eq!(r.body["qr"], Value::Null, "no QR for a scanned code");
    assert!(
        r.body.get("outputs").is_none(),
        "nothing to show: {}",
        r.body
    );
    assert!(r.body["paid_at"].is_string());
    assert!(
        !r.body.to_string().contains("sandbox-ok-4711"),
        "the customer's code is not echoed"
    );
    let id = r.body["id"].as_str().unwrap().to_owned();

    let again = app
        .create_payment_raw(&scan(7845, "sandbox-ok-4711"), &key)
        .await;
    assert_eq!(
        (again.status, &again.body),
        (201, &r.body),
        "a retry replays"
    );
    let reused = app
        .create_payment_raw(&scan(100, "sandbox-ok-4711"), &key)
        .await;
    assert_eq!(reused.code(), "idempotency_key_reused");

    let got = app.get(&format!("/api/v1/payments/{id}?wait=1")).await;
    assert_eq!(got.body["status"], "paid");
    let refund = app.refund(&id, json!({"amount": 1000})).await;
    assert_eq!(refund.status, 201, "{}", refund.body);
    assert_eq!(refund.body["status"], "completed");
    assert_eq!(
        app.outbox_keys().await,
        vec!["payment.paid", "refund.created", "refund.completed"],
        "events as for any payment"
    );
}

async fn a_declined_customer_code_ends_declined_and_a_foreign_code_is_an_invalid_field(
    app: TestApp,
) {
    scan_payment_type(&app).await;
    let r = app
        .create_payment_raw(&scan(500, "sandbox-decline-1"), &new_key())
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "declined");
    assert_eq!(r.body["qr"], Value::Null);

    let before = app.counts().await;
    let r = app
        .create_payment_raw(&scan(500, "https://qr.nspk.ru/AD1"), &new_key())
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_field", "customer_qr"),
        "{}",
        r.body
    );
    assert_eq!(
        app.counts().await,
        before,
        "nothing recorded for a foreign code"
    );
}

async fn a_scan_payment_type_needs_the_code_and_others_refuse_it(app: TestApp) {
    scan_payment_type(&app).await;
    let r = app
        .create_payment_raw(
            &json!({"amount": 100, "receipt": "S-2", "payment_type": "Скан"}).to_string(),
            &new_key(),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "missing_field", "customer_qr"),
        "{}",
        r.body
    );
    // The default payment type shows a QR: it does not take the customer's code.
    let r = app
        .create_payment_raw(
            &json!({"amount": 100, "receipt": "S-3", "customer_qr": "sandbox-ok"}).to_string(),
            &new_key(),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "customer_qr_not_supported"));
}

async fn raiffeisen_says_it_cannot_read_customer_codes(app: TestApp) {
    let providers = Providers::installed(&app.db);
    let bank = providers.get("raiffeisen").unwrap();
    assert!(!bank.capabilities().customer_presented_qr);
    assert!(
        providers
            .get("sandbox")
            .unwrap()
            .capabilities()
            .customer_presented_qr
    );
    let refused = bank
        .charge_customer_qr(&ChargeCustomerQr {
            store_id: 1,
            order_ref: "o-1",
            amount: qrpay::domain::Amount::parse(100).unwrap(),
            description: None,
            customer_qr: "anything",
        })
        .await;
    assert!(refused.is_err(), "{refused:?}");
}
