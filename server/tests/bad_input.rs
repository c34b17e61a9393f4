//! Bad input: each gets its error code, and nothing in the database changes.

use crate::both_backends;
use crate::helpers::{TestApp, new_key};
use serde_json::json;

both_backends!(
    malformed_bodies_and_fields_are_refused_and_change_nothing,
    bad_amounts_and_receipts_are_422,
    keys_missing_wrong_or_revoked_are_401,
    wait_above_60_seconds_is_422,
    unknown_payment_types_and_routes_are_explained,
    the_bearer_scheme_is_case_insensitive,
    ids_and_queries_that_are_not_utf8_get_the_json_error_body,
    the_openapi_document_states_every_limit_the_server_enforces,
);

async fn malformed_bodies_and_fields_are_refused_and_change_nothing(app: TestApp) {
    let before = app.counts().await;
    let cases: &[(&str, u16, &str, &str)] = &[
        ("{\"amount\": 100,", 400, "invalid_json", ""),
        ("[100]", 400, "invalid_json", ""),
        ("{\"receipt\": \"R\"}", 422, "missing_field", "amount"),
        ("{\"amount\": 100}", 422, "missing_field", "receipt"),
        (
            "{\"amount\": 100, \"receipt\": \"R\", \"tip\": 5}",
            422,
            "unknown_field",
            "tip",
        ),
        (
            "{\"amount\": 100, \"receipt\": 7}",
            422,
            "invalid_field",
            "receipt",
        ),
    ];
    for (body, status, code, field) in cases {
        let r = app.create_payment_raw(body, &new_key()).await;
        assert_eq!(
            (r.status, r.code(), r.field()),
            (*status, *code, *field),
            "{body}: {}",
            r.body
        );
        assert!(r.body["error"]["message"].as_str().unwrap().len() > 5);
    }
    let big = format!(
        "{{\"amount\": 100, \"receipt\": \"R\", \"description\": \"{}\"}}",
        "x".repeat(70 * 1024)
    );
    let r = app.create_payment_raw(&big, &new_key()).await;
    assert_eq!((r.status, r.code()), (413, "payload_too_large"));
    let r = app
        .post_raw(
            "/api/v1/payments",
            Some(&app.key),
            None,
            "{\"amount\": 100, \"receipt\": \"R\"}",
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "idempotency_key_missing"));
    let r = app
        .client
        .post(format!("{}/api/v1/payments", app.base))
        .bearer_auth(&app.key)
        .header("Idempotency-Key", "k")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(
        app.counts().await,
        before,
        "rejected requests must not write"
    );
}

async fn bad_amounts_and_receipts_are_422(app: TestApp) {
    let before = app.counts().await;
    for amount in [
        json!(0),
        json!(-5),
        json!(1.5),
        json!("100"),
        json!(100_000_000_001i64),
        json!(null),
    ] {
        let r = app
            .create_payment_raw(
                &json!({"amount": amount, "receipt": "R"}).to_string(),
                &new_key(),
            )
            .await;
        assert_eq!(
            (r.status, r.field()),
            (422, "amount"),
            "amount {amount}: {}",
            r.body
        );
    }
    let ok_max = app
        .create_payment_raw(
            &json!({"amount": 100_000_000_000i64, "receipt": "R"}).to_string(),
            &new_key(),
        )
        .await;
    assert_eq!(ok_max.status, 201, "the maximum itself is allowed");
    let after_max = app.counts().await;
    for receipt in [
        String::new(),
        "x".repeat(65),
        "a\nb".into(),
        "a\u{7}b".into(),
    ] {
        let r = app
            .create_payment_raw(
                &json!({"amount": 100, "receipt": receipt}).to_string(),
                &new_key(),
            )
            .await;
        assert_eq!(
            (r.status, r.code(), r.field()),
            (422, "invalid_field", "receipt"),
            "receipt {receipt:?}"
        );
    }
    let r = app
        .create_payment_raw(
            &json!({"amount": 100, "receipt": "R", "description": "d".repeat(141)}).to_string(),
            &new_key(),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, "description"));
    assert_ne!(before, after_max);
    assert_eq!(app.counts().await, after_max);
}

async fn keys_missing_wrong_or_revoked_are_401(app: TestApp) {
    let body = json!({"amount": 100, "receipt": "R"}).to_string();
    let r = app
        .post_raw("/api/v1/payments", None, Some("k1"), &body)
        .await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    let r = app
        .post_raw("/api/v1/payments", Some("qrp_wrong"), Some("k1"), &body)
        .await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    let r = app
        .client
        .get(format!("{}/api/v1/payments?receipt=R", app.base))
        .header("authorization", format!("Basic {}", app.key))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let key = crate::helpers::add_till(&app.db, None, "to-revoke").await;
    assert_eq!(
        app.get_with("/api/v1/payments?receipt=R", &key)
            .await
            .status,
        200
    );
    let store = qrpay::db::store::find_store(&app.db, None).await.unwrap();
    assert!(
        qrpay::db::till::revoke_till(
            &app.db,
            &qrpay::db::audit::Who::SEED,
            store.store_id,
            qrpay::db::till::till_by_name(&app.db, store.store_id, "to-revoke")
                .await
                .unwrap()
                .till_id,
        )
        .await
        .unwrap()
    );
    let r = app.get_with("/api/v1/payments?receipt=R", &key).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    assert_eq!(app.counts().await[0], 0);
}

async fn wait_above_60_seconds_is_422(app: TestApp) {
    let p = app.create_payment(100).await;
    let id = p["id"].as_str().unwrap();
    for bad in ["61", "-1", "soon"] {
        let r = app.get(&format!("/api/v1/payments/{id}?wait={bad}")).await;
        assert_eq!(
            (r.status, r.code(), r.field()),
            (422, "invalid_field", "wait"),
            "wait={bad}"
        );
    }
    let r = app.get(&format!("/api/v1/payments/{id}?wait=0")).await;
    assert_eq!(r.status, 200);
}

async fn unknown_payment_types_and_routes_are_explained(app: TestApp) {
    let r = app
        .create_payment_raw(
            &json!({"amount": 100, "receipt": "R", "payment_type": "Наличные"}).to_string(),
            &new_key(),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "unknown_payment_type", "payment_type")
    );
    let r = app
        .create_payment_raw(
            &json!({"amount": 100, "receipt": "R", "customer_qr": "xyz"}).to_string(),
            &new_key(),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "customer_qr_not_supported"));
    let r = app.get("/api/v1/payments/01aaaaaaaaaaaaaaaaaaaaaaaa").await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = app.get("/api/v1/payments/../../etc").await;
    assert_eq!(r.status, 404);
    let r = app.get("/api/v1/nothing-here").await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = app
        .client
        .delete(format!("{}/api/v1/payments", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

async fn the_bearer_scheme_is_case_insensitive(app: TestApp) {
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let r = app
            .client
            .get(format!("{}/api/v1/payments?receipt=R", app.base))
            .header("authorization", format!("{scheme} {}", app.key))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{scheme}");
    }
}

async fn ids_and_queries_that_are_not_utf8_get_the_json_error_body(app: TestApp) {
    for path in [
        "/api/v1/payments/%FF",
        "/api/v1/payments/%FF/qr.svg",
        "/api/v1/refunds/%C3%28",
    ] {
        let r = app.get(path).await;
        assert_eq!(
            (r.status, r.code()),
            (404, "not_found"),
            "{path}: {}",
            r.body
        );
    }
    // A query value that is not UTF-8 is read lossily (U+FFFD): no receipt matches it.
    let r = app.get("/api/v1/payments?receipt=%FF").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["payments"], json!([]));
}

/// The limits the fuzzer in CI relies on: a request the document calls valid must be accepted,
/// and one it calls invalid refused.
async fn the_openapi_document_states_every_limit_the_server_enforces(app: TestApp) {
    let doc = app.get("/api/v1/openapi.json").await.body;
    let param = |path: &str, method: &str, name: &str| {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path}: no parameter {name}"))
            .clone()
    };
    let wait = param("/api/v1/payments/{id}", "get", "wait");
    assert_eq!(wait["schema"]["maximum"], 60);
    let receipt = param("/api/v1/payments", "get", "receipt");
    assert_eq!(receipt["schema"]["minLength"], 1);
    assert_eq!(receipt["schema"]["maxLength"], 64);
    let size = param("/api/v1/payments/{id}/qr.png", "get", "size");
    assert_eq!(
        (
            size["schema"]["minimum"].clone(),
            size["schema"]["maximum"].clone()
        ),
        (json!(64), json!(4096))
    );
    let mode = param("/api/v1/payments/{id}/qr.escpos", "get", "mode");
    let mode = serde_json::to_string(&mode).unwrap();
    assert!(mode.contains("native") && mode.contains("raster"), "{mode}");
    for (path, method) in [
        ("/api/v1/payments", "post"),
        ("/api/v1/payments/{id}/refunds", "post"),
    ] {
        let key = param(path, method, "Idempotency-Key");
        assert_eq!(key["schema"]["maxLength"], 128, "{path}");
        assert_eq!(key["required"], true, "{path}");
        let statuses = doc["paths"][path][method]["responses"].as_object().unwrap();
        assert!(statuses.contains_key("415"), "{path}: 415 undocumented");
    }
    let refund_body = serde_json::to_string(
        &doc["paths"]["/api/v1/payments/{id}/refunds"]["post"]["requestBody"],
    )
    .unwrap();
    assert!(
        !refund_body.contains("null"),
        "the refund body is not nullable: {refund_body}"
    );
    for (path, method) in [
        ("/api/v1/payments/{id}/qr.png", "get"),
        ("/api/v1/payments/{id}/qr.svg", "get"),
        ("/api/v1/payments/{id}/qr.escpos", "get"),
        ("/api/v1/sandbox/payments/{id}/pay", "post"),
        ("/api/v1/sandbox/payments/{id}/decline", "post"),
    ] {
        let statuses = doc["paths"][path][method]["responses"].as_object().unwrap();
        for code in ["401", "404"] {
            assert!(
                statuses.contains_key(code),
                "{method} {path}: {code} undocumented"
            );
        }
    }
}
