//! Refunds: partial, full, too large, of unpaid payments, declined by the bank, and concurrent.

use crate::both_backends;
use crate::helpers::{TestApp, new_key};
use serde_json::json;

both_backends!(
    partial_then_full_refunds_add_up_to_the_paid_amount,
    a_refund_larger_than_what_is_left_is_rejected,
    a_declined_refund_gives_the_amount_back,
    refunds_are_idempotent,
    a_refund_the_bank_never_received_is_sent_again_not_declined,
    fifty_concurrent_one_kopeck_refunds_on_ten_kopecks_let_exactly_ten_through,
);

async fn partial_then_full_refunds_add_up_to_the_paid_amount(app: TestApp) {
    let id = app.paid_payment(10_000).await;
    let r = app
        .refund(&id, json!({"amount": 2500, "reason": "вернули товар"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        (r.body["status"].as_str(), r.body["amount"].as_i64()),
        (Some("completed"), Some(2500))
    );
    assert_eq!(r.body["reason"], "вернули товар");
    let refund_id = r.body["id"].as_str().unwrap();
    let got = app.get(&format!("/api/v1/refunds/{refund_id}")).await;
    assert_eq!(got.body["payment_id"], id.as_str());
    assert!(got.body["completed_at"].is_string());
    let rest = app.refund(&id, json!({})).await;
    assert_eq!(rest.body["amount"], 7500, "no amount = the rest");
    let p = app.get(&format!("/api/v1/payments/{id}")).await;
    assert_eq!(p.body["refunded_amount"], 10_000);
    let none_left = app.refund(&id, json!({})).await;
    assert_eq!(
        (none_left.status, none_left.code()),
        (409, "refund_exceeds_paid")
    );
}

async fn a_refund_larger_than_what_is_left_is_rejected(app: TestApp) {
    let id = app.paid_payment(1000).await;
    app.refund(&id, json!({"amount": 600})).await;
    let before = app.counts().await;
    let r = app.refund(&id, json!({"amount": 401})).await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (409, "refund_exceeds_paid", "amount")
    );
    let r = app.refund(&id, json!({"amount": 0})).await;
    assert_eq!((r.status, r.field()), (422, "amount"));
    assert_eq!(app.counts().await, before);
    let unpaid = app.create_payment(100).await;
    let r = app
        .refund(unpaid["id"].as_str().unwrap(), json!({"amount": 1}))
        .await;
    assert_eq!((r.status, r.code()), (409, "payment_not_paid"));
}

async fn a_declined_refund_gives_the_amount_back(app: TestApp) {
    let id = app.paid_payment(1000).await;
    let r = app
        .refund(
            &id,
            json!({"amount": 1000, "reason": "sandbox:decline please"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["status"], "declined");
    assert_eq!(r.body["failure"]["code"], "SANDBOX_DECLINED");
    let p = app.get(&format!("/api/v1/payments/{id}")).await;
    assert_eq!(p.body["refunded_amount"], 0);
    let ok = app.refund(&id, json!({"amount": 1000})).await;
    assert_eq!(ok.body["status"], "completed");
}

async fn refunds_are_idempotent(app: TestApp) {
    let id = app.paid_payment(1000).await;
    let key = new_key();
    let path = format!("/api/v1/payments/{id}/refunds");
    let first = app
        .post_raw(&path, Some(&app.key), Some(&key), "{\"amount\": 300}")
        .await;
    let again = app
        .post_raw(&path, Some(&app.key), Some(&key), "{\"amount\": 300}")
        .await;
    assert_eq!(first.status, 201);
    assert_eq!(first.body, again.body);
    let other = app
        .post_raw(&path, Some(&app.key), Some(&key), "{\"amount\": 301}")
        .await;
    assert_eq!(
        (other.status, other.code()),
        (409, "idempotency_key_reused")
    );
    let p = app.get(&format!("/api/v1/payments/{id}")).await;
    assert_eq!(p.body["refunded_amount"], 300);
}

async fn fifty_concurrent_one_kopeck_refunds_on_ten_kopecks_let_exactly_ten_through(app: TestApp) {
    let id = app.paid_payment(10).await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (client, url, key) = (
            app.client.clone(),
            format!("{}/api/v1/payments/{id}/refunds", app.base),
            app.key.clone(),
        );
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(key)
                .header("Idempotency-Key", new_key())
                .header("content-type", "application/json")
                .body("{\"amount\": 1}")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let ok = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((ok, refused), (10, 40), "{statuses:?}");
    let p = app.get(&format!("/api/v1/payments/{id}")).await;
    assert_eq!(p.body["refunded_amount"], 10);
    assert_eq!(
        qrpay::db::refund::refunds_of(&app.db, &id)
            .await
            .unwrap()
            .len(),
        10
    );
}

async fn a_refund_the_bank_never_received_is_sent_again_not_declined(app: TestApp) {
    use qrpay::db::refund as repo;
    let id = app.paid_payment(1000).await;
    // As if qrpay stopped between recording the refund and calling the bank.
    let at = qrpay::db::now();
    let mut tx = app.db.begin().await.unwrap();
    assert!(repo::reserve_refund(&mut tx, &id, 400, at).await.unwrap());
    let refund_id = qrpay::domain::RefundId::new();
    repo::insert_refund(
        &mut tx,
        &repo::NewRefund {
            refund_id: refund_id.as_str(),
            payment_id: &id,
            store_id: 1,
            till_id: None,
            amount: 400,
            reason: None,
            refund_ref: "r-never-sent",
            at,
        },
        &qrpay::db::audit::Who {
            app_user_id: None,
            login: "test",
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    app.payments
        .sync_in_doubt(std::time::Duration::ZERO)
        .await
        .unwrap();
    let refund = repo::get_refund(&app.db, refund_id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        refund.status, "completed",
        "the look-up failed, so the refund is sent again"
    );
    let p = app.get(&format!("/api/v1/payments/{id}")).await;
    assert_eq!(p.body["refunded_amount"], 400);
}
