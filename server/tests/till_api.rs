//! The till API's happy paths: create, pay, long-poll, find by receipt, QR images, OpenAPI.

use crate::both_backends;
use crate::helpers::{TestApp, add_till, new_key};
use serde_json::json;
use std::time::{Duration, Instant};

both_backends!(
    a_payment_is_created_paid_and_seen_by_long_poll,
    long_poll_answers_as_soon_as_the_customer_pays,
    payments_are_found_by_receipt,
    qr_images_decode_to_the_payload_size,
    another_stores_till_cannot_see_or_touch_a_payment,
    a_repeated_idempotency_key_replays_the_first_answer,
);

async fn a_payment_is_created_paid_and_seen_by_long_poll(app: TestApp) {
    let p = app
        .create_payment_raw(
            &json!({"amount": 12345, "receipt": "0042/17", "description": "Кофе"}).to_string(),
            &new_key(),
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    let body = &p.body;
    assert_eq!(body["amount"], 12345);
    assert_eq!(body["currency"], "RUB");
    assert_eq!(body["receipt"], "0042/17");
    assert_eq!(body["payment_type"], "СБП QR (тест)");
    assert_eq!(body["description"], "Кофе");
    let payload = body["qr"]["payload"].as_str().unwrap();
    assert!(payload.starts_with("https://qr.nspk.ru/AD"), "{payload}");
    assert!(
        payload.contains("?type=02&bank=") && payload.contains("&sum=12345&cur=RUB&crc="),
        "{payload}"
    );
    let id = body["id"].as_str().unwrap();
    assert!(
        body["qr"]["png_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/api/v1/payments/{id}/qr.png"))
    );

    let paid = app.pay(id).await;
    assert_eq!(paid.status, 200);
    assert_eq!(paid.body["status"], "paid");
    assert!(paid.body["paid_at"].is_string());

    let seen = app.get(&format!("/api/v1/payments/{id}?wait=5")).await;
    assert_eq!(seen.body["status"], "paid");
    assert_eq!(seen.body["late"], false);
    assert_eq!(
        app.outbox_keys().await,
        vec!["payment.created", "payment.paid"]
    );
    let events = qrpay::db::payment_event::events_of(&app.db, id)
        .await
        .unwrap();
    let path: Vec<_> = events.iter().map(|e| e.to_status.as_str()).collect();
    assert_eq!(path, vec!["creating", "pending", "paid"]);
}

async fn long_poll_answers_as_soon_as_the_customer_pays(app: TestApp) {
    let p = app.create_payment(500).await;
    let id = p["id"].as_str().unwrap().to_owned();
    let started = Instant::now();
    let poll = {
        let (client, url, key) = (
            app.client.clone(),
            format!("{}/api/v1/payments/{id}?wait=20", app.base),
            app.key.clone(),
        );
        tokio::spawn(async move {
            client
                .get(url)
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.pay(&id).await;
    let seen = poll.await.unwrap();
    assert_eq!(seen["status"], "paid");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "long-poll took {:?}",
        started.elapsed()
    );

    // A pending payment with a short wait answers pending after about that long.
    let q = app.create_payment(600).await;
    let started = Instant::now();
    let r = app
        .get(&format!(
            "/api/v1/payments/{}?wait=1",
            q["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.body["status"], "pending");
    assert!(started.elapsed() >= Duration::from_millis(900));
}

async fn payments_are_found_by_receipt(app: TestApp) {
    for amount in [100, 200] {
        let r = app
            .create_payment_raw(
                &json!({"amount": amount, "receipt": "Чек №7"}).to_string(),
                &new_key(),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    app.create_payment(300).await;
    let found = app
        .get("/api/v1/payments?receipt=%D0%A7%D0%B5%D0%BA%20%E2%84%967")
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    let amounts: Vec<i64> = found.body["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, vec![200, 100], "newest first");
    let none = app.get("/api/v1/payments?receipt=nothing").await;
    assert_eq!(none.body["payments"].as_array().unwrap().len(), 0);
    let missing = app.get("/api/v1/payments").await;
    assert_eq!(
        (missing.status, missing.code(), missing.field()),
        (422, "missing_field", "receipt")
    );
}

async fn qr_images_decode_to_the_payload_size(app: TestApp) {
    let p = app.create_payment(777).await;
    let id = p["id"].as_str().unwrap();
    let resp = app
        .client
        .get(format!("{}/api/v1/payments/{id}/qr.png?size=400", app.base))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    let bytes = resp.bytes().await.unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert!(
        info.width <= 400 && info.width >= 300,
        "width {}",
        info.width
    );
    let svg = app
        .client
        .get(format!("{}/api/v1/payments/{id}/qr.svg?size=300", app.base))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("width=\"300\""));
    for bad in ["0", "63", "100000", "abc"] {
        let r = app
            .get(&format!("/api/v1/payments/{id}/qr.png?size={bad}"))
            .await;
        assert_eq!(
            (r.status, r.code(), r.field()),
            (422, "invalid_field", "size"),
            "size={bad}"
        );
    }
}

async fn another_stores_till_cannot_see_or_touch_a_payment(app: TestApp) {
    let id = app.paid_payment(1000).await;
    let other_store = qrpay::db::store::add_store(
        &app.db,
        &qrpay::db::audit::Who::SEED,
        "other",
        "Другой магазин",
    )
    .await
    .unwrap();
    let stranger = add_till(&app.db, Some(other_store), "stranger").await;
    let r = app
        .get_with(&format!("/api/v1/payments/{id}"), &stranger)
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = app
        .post_raw(
            &format!("/api/v1/payments/{id}/cancel"),
            Some(&stranger),
            None,
            "",
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .post_raw(
            &format!("/api/v1/payments/{id}/refunds"),
            Some(&stranger),
            Some("x1"),
            "{}",
        )
        .await;
    assert_eq!(r.status, 403);
    let found = app
        .get_with("/api/v1/payments?receipt=R-1", &stranger)
        .await;
    assert_eq!(found.body["payments"].as_array().unwrap().len(), 0);
    // A second till of the same store may (a return at another till).
    let neighbour = add_till(&app.db, None, "neighbour").await;
    let r = app
        .get_with(&format!("/api/v1/payments/{id}"), &neighbour)
        .await;
    assert_eq!(r.status, 200);
}

async fn a_repeated_idempotency_key_replays_the_first_answer(app: TestApp) {
    let key = new_key();
    let body = json!({"amount": 4200, "receipt": "R-9"}).to_string();
    let first = app.create_payment_raw(&body, &key).await;
    assert_eq!(first.status, 201);
    let before = app.counts().await;
    // Same content, other key order and spacing: the same request.
    let again = app
        .create_payment_raw("{ \"receipt\": \"R-9\", \"amount\": 4200 }", &key)
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body);
    assert_eq!(app.counts().await, before, "a replay writes nothing");
    let other = app
        .create_payment_raw(&json!({"amount": 4201, "receipt": "R-9"}).to_string(), &key)
        .await;
    assert_eq!(
        (other.status, other.code()),
        (409, "idempotency_key_reused")
    );
    assert_eq!(app.counts().await, before);
}

#[tokio::test]
async fn the_openapi_document_lists_every_path_and_error_code() {
    let doc = serde_json::to_value(qrpay::http::openapi()).unwrap();
    for path in [
        "/api/v1/payments",
        "/api/v1/payments/{id}",
        "/api/v1/payments/{id}/cancel",
        "/api/v1/payments/{id}/qr.png",
        "/api/v1/payments/{id}/qr.svg",
        "/api/v1/payments/{id}/refunds",
        "/api/v1/refunds/{id}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    let codes = doc["components"]["schemas"]["ErrorCode"].to_string();
    for code in qrpay::error::ErrorCode::ALL {
        let name = serde_json::to_value(code).unwrap();
        assert!(
            codes.contains(&format!("\"{}\"", name.as_str().unwrap())),
            "{name} not documented"
        );
    }
}

#[tokio::test]
async fn the_console_serves_pages_but_never_files_from_disk() {
    let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await else {
        return;
    };
    let home = app
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("data-testid=\"home\""));
    // Tests run in server/, where Cargo.toml exists: it must not be served.
    for path in ["/Cargo.toml", "/src/lib.rs", "/../Cargo.toml", "/nope"] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
        let body = r.text().await.unwrap();
        assert!(
            !body.contains("[package]") && !body.contains("pub mod"),
            "{path} leaked a file"
        );
    }
    let css = app
        .client
        .get(format!("{}/style/qrpay.css", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
}
