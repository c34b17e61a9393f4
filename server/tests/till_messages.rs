//! The till API's messages in Russian (`Accept-Language: ru`, or the till's own language, which
//! starts as Russian) and English; `code` and `field` are the same in both. «Последний запрос»:
//! a till's requests record when it was last seen, at most once a minute.

use crate::both_backends;
use crate::helpers::{TestApp, new_key};
use qrpay::db::audit::Who;
use qrpay::db::till::{TillEdit, till_by_key_hash, update_till};
use serde_json::json;
use std::time::Duration;

both_backends!(
    a_refund_too_large_is_refused_in_russian_unless_the_till_asks_for_english,
    a_till_set_to_english_reads_english_unless_a_request_asks_for_russian,
    errors_before_the_till_is_known_are_in_russian_too,
    a_till_is_marked_seen_at_most_once_a_minute,
);

const NBSP: char = '\u{a0}';

async fn a_refund_too_large_is_refused_in_russian_unless_the_till_asks_for_english(app: TestApp) {
    let id = app.paid_payment(10_000).await;
    let first = app.refund(&id, json!({"amount": 2155})).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let path = format!("/api/v1/payments/{id}/refunds");
    let body = json!({"amount": 8000}).to_string();

    let ru = app
        .post_raw(&path, Some(&app.key), Some(&new_key()), &body)
        .await;
    assert_eq!(
        (ru.status, ru.code(), ru.field()),
        (409, "refund_exceeds_paid", "amount")
    );
    assert_eq!(
        ru.body["error"]["message"],
        format!("Можно вернуть не больше 78,45{NBSP}₽"),
        "Russian by default: {}",
        ru.body
    );
    assert!(ru.body["error"].get("message_ru").is_none(), "{}", ru.body);

    let key = new_key();
    let en = app
        .post_in("en-US,en;q=0.9", &path, Some(&key), &body)
        .await;
    assert_eq!(
        (en.status, en.code(), en.field()),
        (409, "refund_exceeds_paid", "amount")
    );
    assert_eq!(
        en.body["error"]["message"],
        "amount: only 7845 kopecks are left to refund"
    );
    // A retry with the same key answers the same, in the language the retry asks for.
    let again = app.post_in("ru", &path, Some(&key), &body).await;
    assert_eq!((again.status, again.code()), (409, "refund_exceeds_paid"));
    assert_eq!(
        again.body["error"]["message"],
        format!("Можно вернуть не больше 78,45{NBSP}₽")
    );
}

async fn a_till_set_to_english_reads_english_unless_a_request_asks_for_russian(app: TestApp) {
    let till = till_by_key_hash(&app.db, &qrpay::auth::till_key::hash(&app.key))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(till.language, "ru", "a till starts with Russian");
    let edit = TillEdit {
        language: Some("en"),
        ..Default::default()
    };
    update_till(&app.db, &Who::SEED, till.store_id, till.till_id, &edit)
        .await
        .unwrap();
    let bad = json!({"amount": 0, "receipt": "R"}).to_string();
    let en = app
        .post_raw("/api/v1/payments", Some(&app.key), Some(&new_key()), &bad)
        .await;
    assert_eq!((en.code(), en.field()), ("invalid_field", "amount"));
    assert_eq!(
        en.body["error"]["message"],
        "amount: amount must be a positive number of kopecks"
    );
    let ru = app
        .post_in("ru-RU", "/api/v1/payments", Some(&new_key()), &bad)
        .await;
    assert_eq!((ru.code(), ru.field()), ("invalid_field", "amount"));
    let message = ru.body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Сумма (amount) — целое положительное"),
        "{message}"
    );
    // A language the API does not speak leaves the till's own.
    let de = app
        .post_in("de", "/api/v1/payments", Some(&new_key()), &bad)
        .await;
    assert_eq!(de.body["error"]["message"], en.body["error"]["message"]);
}

async fn errors_before_the_till_is_known_are_in_russian_too(app: TestApp) {
    let r = app
        .post_raw("/api/v1/payments", None, Some(&new_key()), "{}")
        .await;
    assert_eq!(r.code(), "unauthorized");
    assert_eq!(
        r.body["error"]["message"],
        "Ключ кассы не передан, неверен или отозван"
    );
    let r = app
        .post_raw(
            "/api/v1/payments",
            Some(&app.key),
            Some(&new_key()),
            "{not json",
        )
        .await;
    assert_eq!(r.code(), "invalid_json");
    assert_eq!(
        r.body["error"]["message"],
        "Тело запроса не читается как JSON"
    );
    let r = app
        .post_in("en", "/api/v1/payments", Some(&new_key()), "{not json")
        .await;
    assert_eq!(r.code(), "invalid_json");
    assert!(r.body["error"]["message"].as_str().unwrap().is_ascii());
}

async fn last_seen(app: &TestApp) -> Option<chrono::DateTime<chrono::Utc>> {
    till_by_key_hash(&app.db, &qrpay::auth::till_key::hash(&app.key))
        .await
        .unwrap()
        .unwrap()
        .last_seen_at
}

/// Waits (the mark is written beside the request, not in it) until the till's mark differs
/// from `before`.
async fn seen_after(app: &TestApp, before: Option<chrono::DateTime<chrono::Utc>>) -> bool {
    for _ in 0..40 {
        if last_seen(app).await != before {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn a_till_is_marked_seen_at_most_once_a_minute(app: TestApp) {
    assert_eq!(last_seen(&app).await, None);
    app.get("/api/v1/payments?receipt=none").await;
    assert!(
        seen_after(&app, None).await,
        "the first request marks the till"
    );
    let first = last_seen(&app).await;
    for _ in 0..5 {
        app.get("/api/v1/payments?receipt=none").await;
    }
    assert!(
        !seen_after(&app, first).await,
        "requests within the minute write nothing"
    );
    let stale = chrono::Utc::now() - chrono::Duration::seconds(61);
    let sql = "update till set last_seen_at = $1";
    match &app.db {
        qrpay::db::Db::Sqlite { write, .. } => {
            sqlx::query(sql).bind(stale).execute(write).await.unwrap();
        }
        qrpay::db::Db::Postgres(pool) => {
            sqlx::query(sql).bind(stale).execute(pool).await.unwrap();
        }
    }
    let before = last_seen(&app).await;
    app.get("/api/v1/payments?receipt=none").await;
    assert!(
        seen_after(&app, before).await,
        "a minute later the next request marks it again"
    );
}
