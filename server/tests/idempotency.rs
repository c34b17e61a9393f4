//! An `Idempotency-Key` caught by a crash or a hang-up: a retry gets the payment or refund as it
//! is now once its work moved on or its request died; only a request still working answers 409.
//! The crash states are set up in the database as a dead request leaves them.

use crate::both_backends;
use crate::helpers::db::{Arg, execute_with, scalar};
use crate::helpers::{Resp, TestApp, new_key, spawn_app_on};
use crate::providers::Harness;
use chrono::{Duration as Span, Utc};
use qrpay::emulator::Faults;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

both_backends!(
    a_creation_whose_request_died_is_answered_once_the_expiry_worker_moves_it,
    a_refund_the_sync_worker_completed_is_replayed,
    a_claim_whose_process_died_is_answered_not_waited_on,
    a_till_that_hangs_up_mid_refund_gets_the_refund_on_retry,
    answered_keys_are_forgotten_after_a_week_and_claims_never,
    a_creation_abandoned_by_its_process_is_settled_before_its_deadline,
);

const CREATE: &str = "{\"amount\": 500, \"receipt\": \"I-1\"}";

async fn create(app: &TestApp, key: &str) -> Resp {
    app.create_payment_raw(CREATE, key).await
}

async fn refund(app: &TestApp, id: &str, key: &str) -> Resp {
    let path = format!("/api/v1/payments/{id}/refunds");
    app.post_raw(&path, Some(&app.key), Some(key), "{\"amount\": 200}")
        .await
}

/// The key's claim as a request that died before storing its answer leaves it, with its lease
/// running out `lease_secs` from now (negative: already over).
async fn unanswer(app: &TestApp, key: &str, lease_secs: i64) {
    execute_with(
        app,
        "update idempotency set response_status = null, response_body = null, lease_until = $2 \
         where idempotency_key = $1",
        &[
            Arg::Text(key),
            Arg::Time(Utc::now() + Span::seconds(lease_secs)),
        ],
    )
    .await;
}

/// The payment back in `creating`, as its creation request left it, due at `expires_at`.
async fn back_to_creating(app: &TestApp, id: &str, expires_in_secs: i64) {
    execute_with(
        app,
        "update payment set status = 'creating', qr_id = null, qr_payload = null, \
         expires_at = $2 where payment_id = $1",
        &[
            Arg::Text(id),
            Arg::Time(Utc::now() + Span::seconds(expires_in_secs)),
        ],
    )
    .await;
}

/// The refund back in `pending`, as its request left it before the bank answered.
async fn back_to_pending(app: &TestApp, refund_id: &str) {
    execute_with(
        app,
        "update refund set status = 'pending', completed_at = null, updated_at = $2 \
         where refund_id = $1",
        &[
            Arg::Text(refund_id),
            Arg::Time(Utc::now() - Span::seconds(60)),
        ],
    )
    .await;
}

async fn a_creation_whose_request_died_is_answered_once_the_expiry_worker_moves_it(app: TestApp) {
    let key = new_key();
    let first = create(&app, &key).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let id = first.body["id"].as_str().unwrap();
    // The request died after its claim: the payment stays `creating`, the key unanswered, and
    // its lease is still running when the expiry worker judges the payment stuck.
    back_to_creating(&app, id, -1).await;
    unanswer(&app, &key, 600).await;
    app.payments.expire_due().await.unwrap();
    let retry = create(&app, &key).await;
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(
        (retry.body["id"].as_str(), retry.body["status"].as_str()),
        (Some(id), Some("unknown"))
    );
    assert_eq!(create(&app, &key).await.body, retry.body, "replayed again");
}

async fn a_refund_the_sync_worker_completed_is_replayed(app: TestApp) {
    let id = app.paid_payment(1000).await;
    let key = new_key();
    let first = refund(&app, &id, &key).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let refund_id = first.body["id"].as_str().unwrap();
    // The request died while the bank worked on the refund; the sync worker completes it.
    back_to_pending(&app, refund_id).await;
    unanswer(&app, &key, 600).await;
    app.payments.sync_in_doubt(Duration::ZERO).await.unwrap();
    let retry = refund(&app, &id, &key).await;
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(
        (retry.body["id"].as_str(), retry.body["status"].as_str()),
        (Some(refund_id), Some("completed"))
    );
    let p = app.get(&format!("/api/v1/payments/{id}")).await;
    assert_eq!(p.body["refunded_amount"], 200, "refunded once");
}

async fn a_claim_whose_process_died_is_answered_not_waited_on(app: TestApp) {
    // A creation: 409 while its request may still be working, then the payment in doubt.
    let key = new_key();
    let id = create(&app, &key).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    back_to_creating(&app, &id, 600).await;
    unanswer(&app, &key, 600).await;
    let working = create(&app, &key).await;
    assert_eq!(
        (working.status, working.code()),
        (409, "idempotency_request_in_progress")
    );
    unanswer(&app, &key, -1).await;
    let died = create(&app, &key).await;
    assert_eq!(died.status, 201, "{}", died.body);
    assert_eq!(
        (died.body["id"].as_str(), died.body["status"].as_str()),
        (Some(id.as_str()), Some("unknown"))
    );
    assert_eq!(create(&app, &key).await.body, died.body);

    // A refund: 409 while its request may still wait for the bank, then the refund as it is.
    let paid = app.paid_payment(1000).await;
    let key = new_key();
    let refund_id = refund(&app, &paid, &key).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    back_to_pending(&app, &refund_id).await;
    unanswer(&app, &key, 600).await;
    let working = refund(&app, &paid, &key).await;
    assert_eq!(
        (working.status, working.code()),
        (409, "idempotency_request_in_progress")
    );
    unanswer(&app, &key, -1).await;
    let died = refund(&app, &paid, &key).await;
    assert_eq!(died.status, 201, "{}", died.body);
    assert_eq!(
        (died.body["id"].as_str(), died.body["status"].as_str()),
        (Some(refund_id.as_str()), Some("pending"))
    );
}

async fn a_till_that_hangs_up_mid_refund_gets_the_refund_on_retry(app: TestApp) {
    // No workers: nothing but the request itself may finish the refund.
    let (url, dir) = (app.database_url.clone(), app.dir.clone());
    drop(app);
    let h = Harness::raiffeisen(spawn_app_on(&url, dir, false).await).await;
    let id = h.create(1000, "normal").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    h.pay(&id, false).await;
    assert_eq!(h.wait(&id, 10).await["status"], "paid");
    let bank = &h.emulator.as_ref().unwrap().bank;
    bank.set_faults(Faults {
        latency_ms: 1500,
        ..Faults::default()
    });
    let key = new_key();
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap()
        .post(format!("{}/api/v1/payments/{id}/refunds", h.app.base))
        .bearer_auth(&h.app.key)
        .header("Idempotency-Key", &key)
        .json(&json!({"amount": 200}))
        .send()
        .await;
    assert!(
        impatient.is_err(),
        "the till hung up before the bank answered"
    );
    let started = Instant::now();
    let replay = loop {
        let r = refund(&h.app, &id, &key).await;
        if r.code() != "idempotency_request_in_progress" || started.elapsed().as_secs() > 30 {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The answer the till would have got: the bank took the refund (it answers `IN_PROGRESS`).
    // Were the request cut short with the till, only the bank's later notice would answer the
    // key (`completed`), and with no notice the key would stay in progress.
    assert_eq!(replay.status, 201, "{}", replay.body);
    assert_eq!(replay.body["status"], "pending", "{}", replay.body);
    assert_eq!(refund(&h.app, &id, &key).await.body, replay.body);
    let p: Value = h.app.get(&format!("/api/v1/payments/{id}")).await.body;
    assert_eq!(p["refunded_amount"], 200, "refunded once");
}

async fn answered_keys_are_forgotten_after_a_week_and_claims_never(app: TestApp) {
    let (old, claimed, fresh) = (new_key(), new_key(), new_key());
    let first = create(&app, &old).await;
    assert_eq!(first.status, 201);
    assert_eq!(create(&app, &claimed).await.status, 201);
    assert_eq!(create(&app, &fresh).await.status, 201);
    let eight_days_ago = Utc::now() - Span::days(8);
    for key in [&old, &claimed] {
        execute_with(
            &app,
            "update idempotency set created_at = $2 where idempotency_key = $1",
            &[Arg::Text(key), Arg::Time(eight_days_ago)],
        )
        .await;
    }
    // A claim still waiting for its answer (its request died long ago) guards its payment.
    unanswer(&app, &claimed, -3600).await;
    let deleted = qrpay::startup::clean_idempotency_once(&app.db, qrpay::startup::IDEMPOTENCY_KEPT)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    let left =
        |key: &str| format!("select count(*) from idempotency where idempotency_key = '{key}'");
    assert_eq!(scalar(&app, &left(&old)).await, 0);
    assert_eq!(scalar(&app, &left(&claimed)).await, 1);
    assert_eq!(scalar(&app, &left(&fresh)).await, 1);
    // A forgotten key is a new request.
    let again = create(&app, &old).await;
    assert_eq!(again.status, 201);
    assert_ne!(again.body["id"], first.body["id"]);
}

async fn a_creation_abandoned_by_its_process_is_settled_before_its_deadline(app: TestApp) {
    let (dead, alive) = (
        create(&app, &new_key()).await,
        create(&app, &new_key()).await,
    );
    let (dead, alive) = (
        dead.body["id"].as_str().unwrap(),
        alive.body["id"].as_str().unwrap(),
    );
    // Both back in `creating` with ten minutes to their deadline; one was made a minute ago
    // (longer than any creation request may take: its process died), one just now.
    for id in [dead, alive] {
        back_to_creating(&app, id, 600).await;
    }
    execute_with(
        &app,
        "update payment set created_at = $2, updated_at = $2 where payment_id = $1",
        &[Arg::Text(dead), Arg::Time(Utc::now() - Span::seconds(60))],
    )
    .await;
    app.payments.expire_due().await.unwrap();
    assert_eq!(status(&app, dead).await, "unknown");
    assert_eq!(
        status(&app, alive).await,
        "creating",
        "its request may still be working"
    );
    // Asked about its order, the bank has its QR: the till can still show it.
    app.payments.sync_in_doubt(Duration::ZERO).await.unwrap();
    assert_eq!(status(&app, dead).await, "pending");
}

async fn status(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/api/v1/payments/{id}")).await.body["status"].clone()
}
