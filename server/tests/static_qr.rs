//! Static QRs (`QRStatic`): issued for a place with no till; each payment the bank reports for
//! one — by a signed callback or by polling `payment-info` — becomes one paid qrpay payment
//! (once, however often it is reported), refundable by its transaction id; the sandbox plays
//! the customer; the console issues, lists, deactivates and prints them; the CLI too.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::helpers::console::{Console, text_of};
use crate::providers::{Harness, post_callback};
use crate::qr_outputs::{decode_png, decode_svg};
use qrpay::db::audit::Who;
use qrpay::db::static_qr::StaticQr;
use qrpay::emulator::Faults;
use qrpay::payments::IssueStaticQr;
use qrpay::providers::raiffeisen::wire::sign;
use serde_json::{Value, json};
use std::time::Duration;

both_backends!(
    a_static_qr_payment_reported_by_callback_becomes_one_paid_payment,
    a_lost_callback_is_caught_by_polling_and_a_poll_takes_each_payment_once,
    refunding_a_static_qr_payment_sends_its_transaction_id,
    the_sandbox_customer_pays_a_static_qr_and_its_payment_is_a_test_payment,
    admins_issue_print_and_deactivate_static_qrs_in_the_console,
    the_command_line_issues_lists_shows_and_pays_static_qrs,
    a_registry_matches_each_static_qr_payment_by_its_order_and_amount,
);

async fn issue(h: &Harness, name: &str, amount: Option<i64>) -> StaticQr {
    let store = qrpay::db::store::find_store(&h.app.db, None).await.unwrap();
    h.app
        .payments
        .issue_static_qr(
            &Who::CLI,
            &IssueStaticQr {
                store_id: store.store_id,
                payment_type: Some("normal"),
                name,
                purpose: Some("Пожертвование приюту"),
                amount,
            },
        )
        .await
        .unwrap()
}

/// The customer pays the static QR at the emulated bank (`kopecks` typed when it has no amount).
async fn pay_at_bank(h: &Harness, qr: &StaticQr, kopecks: i64) {
    let r = h
        .emulator_post(
            "/api/nspc-mock/v01/rfuture/payment/init",
            json!({"qrId": qr.qr_id, "amount": kopecks as f64 / 100.0}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// The payments taken for the static QR, waiting up to `secs` for `n` of them.
async fn payments_of(h: &Harness, qr: &StaticQr, n: usize, secs: u64) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let rows = static_rows(h, qr).await;
        if rows.len() >= n || tokio::time::Instant::now() >= deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn static_rows(h: &Harness, qr: &StaticQr) -> Vec<Value> {
    let mut out = Vec::new();
    let sql = "select payment_id from payment where static_qr_id = $1 order by created_at";
    let ids: Vec<String> = match &h.app.db {
        qrpay::db::Db::Sqlite { read, .. } => sqlx::query_scalar(sql)
            .bind(qr.static_qr_id)
            .fetch_all(read)
            .await
            .unwrap(),
        qrpay::db::Db::Postgres(pool) => sqlx::query_scalar(sql)
            .bind(qr.static_qr_id)
            .fetch_all(pool)
            .await
            .unwrap(),
    };
    for id in ids {
        out.push(h.app.get(&format!("/api/v1/payments/{id}")).await.body);
    }
    out
}

async fn a_static_qr_payment_reported_by_callback_becomes_one_paid_payment(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let qr = issue(&h, "Ящик для пожертвований", None).await;
    assert!(
        qr.qr_payload.starts_with("https://qr.nspk.ru/"),
        "{}",
        qr.qr_payload
    );
    pay_at_bank(&h, &qr, 25000).await;
    pay_at_bank(&h, &qr, 1050).await;
    let mut paid = payments_of(&h, &qr, 2, 10).await;
    assert_eq!(paid.len(), 2, "{paid:?}");
    // The two notifications may be taken in either order.
    paid.sort_by_key(|p| std::cmp::Reverse(p["amount"].as_i64()));
    for (p, amount) in paid.iter().zip([25000, 1050]) {
        assert_eq!(p["status"], "paid", "{p}");
        assert_eq!(p["amount"], amount, "{p}");
    }
    let rows = h.emulator().bank.static_payments_of_order(&qr.order_ref);
    let first = qrpay::db::payment::get_payment(&h.app.db, paid[0]["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.bank_transaction_id, Some(rows[0].0.to_string()));
    assert_eq!(first.bank_order.as_deref(), Some(qr.order_ref.as_str()));
    assert_eq!(first.static_qr_id, Some(qr.static_qr_id));
    assert!(!first.test);
    // Its history and events are any payment's.
    let keys = h.app.outbox_keys().await;
    assert_eq!(
        keys.iter().filter(|k| *k == "payment.paid").count(),
        2,
        "{keys:?}"
    );

    // The same notification again (the bank retries): still two payments.
    let before = h.app.counts().await;
    let date = "2026-12-03T12:00:00.123456+03:00";
    let body = format!(
        r#"{{"transactionId":{},"qrId":"{}","sbpMerchantId":"MA0000000552","merchantId":1,"amount":250.00,"currency":"RUB","transactionDate":"{date}","paymentStatus":"SUCCESS","additionalInfo":null,"order":"{}","createDate":"{date}"}}"#,
        rows[0].0, qr.qr_id, qr.order_ref
    );
    let sig = sign(
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.test-secret",
        &format!("250.00|MA0000000552|{}|SUCCESS|{date}", qr.order_ref),
    );
    for _ in 0..2 {
        assert_eq!(
            post_callback(&h, "raiffeisen", &body, Some(&sig)).await,
            200
        );
    }
    assert_eq!(h.app.counts().await, before);
    // A forged one changes nothing either.
    let forged = body.replace("250.00", "999.00");
    assert_eq!(
        post_callback(&h, "raiffeisen", &forged, Some(&sig)).await,
        401
    );
    assert_eq!(static_rows(&h, &qr).await.len(), 2);
}

async fn a_lost_callback_is_caught_by_polling_and_a_poll_takes_each_payment_once(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let qr = issue(&h, "Паркомат 3", Some(15000)).await;
    h.faults(Faults {
        drop_callbacks: 1,
        ..Faults::default()
    });
    pay_at_bank(&h, &qr, 15000).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(static_rows(&h, &qr).await.is_empty(), "no callback came");
    assert_eq!(h.app.payments.poll_static_qrs().await.unwrap(), 1);
    assert_eq!(h.app.payments.poll_static_qrs().await.unwrap(), 0);
    let rows = static_rows(&h, &qr).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0]["status"].as_str(), rows[0]["amount"].as_i64()),
        (Some("paid"), Some(15000))
    );
    // The next payment's callback arrives: one more, not a repeat of the polled one.
    pay_at_bank(&h, &qr, 15000).await;
    assert_eq!(payments_of(&h, &qr, 2, 10).await.len(), 2);
    assert_eq!(h.app.payments.poll_static_qrs().await.unwrap(), 0);
    // A fixed-amount QR takes no other amount at the bank.
    let r = h
        .emulator_post(
            "/api/nspc-mock/v01/rfuture/payment/init",
            json!({"qrId": qr.qr_id, "amount": 1.0}),
        )
        .await;
    assert_ne!(r.status(), 200);
}

async fn refunding_a_static_qr_payment_sends_its_transaction_id(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let qr = issue(&h, "Ящик", None).await;
    pay_at_bank(&h, &qr, 5000).await;
    let paid = payments_of(&h, &qr, 1, 10).await;
    let id = paid[0]["id"].as_str().unwrap().to_owned();
    // The emulated bank finds a static QR's payment by its transaction id only: by order
    // alone it holds no paid QR and refuses.
    let (status, refund) = h.refund_settled(&id, json!({"amount": 2000})).await;
    assert_eq!(
        (status, refund["status"].as_str()),
        (201, Some("completed")),
        "{refund}"
    );
    let (status, refund) = h.refund_settled(&id, json!({})).await;
    assert_eq!(
        (status, refund["status"].as_str()),
        (201, Some("completed")),
        "{refund}"
    );
    let seen = h.app.get(&format!("/api/v1/payments/{id}")).await.body;
    assert_eq!(seen["refunded_amount"], 5000, "{seen}");
}

async fn the_sandbox_customer_pays_a_static_qr_and_its_payment_is_a_test_payment(app: TestApp) {
    let h = Harness::sandbox(app).await;
    let free = issue(&h, "Чаевые", None).await;
    let fixed = issue(&h, "Парковка час", Some(10000)).await;
    assert!(free.test && fixed.test);
    let pay = |id: i64, body: Value| {
        let app = &h.app;
        async move {
            app.post_raw(
                &format!("/api/v1/sandbox/static-qrs/{id}/pay"),
                Some(&app.key),
                None,
                &body.to_string(),
            )
            .await
        }
    };
    let r = pay(free.static_qr_id, json!({"amount": 777})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["status"].as_str(), r.body["amount"].as_i64()),
        (Some("paid"), Some(777))
    );
    assert_eq!(r.body["test"], true, "{}", r.body);
    let r = pay(fixed.static_qr_id, json!({})).await;
    assert_eq!(
        (r.status, r.body["amount"].as_i64()),
        (200, Some(10000)),
        "{}",
        r.body
    );
    assert_eq!(
        pay(fixed.static_qr_id, json!({"amount": 5})).await.status,
        409
    );
    assert_eq!(pay(free.static_qr_id, json!({})).await.status, 409);
    assert_eq!(pay(999_999, json!({"amount": 5})).await.status, 404);
    // Refundable like any payment.
    let id = r.body["id"].as_str().unwrap().to_owned();
    let (status, refund) = h.refund_settled(&id, json!({})).await;
    assert_eq!(
        (status, refund["status"].as_str()),
        (201, Some("completed")),
        "{refund}"
    );
    // Deactivated: no more payments.
    let store = qrpay::db::store::find_store(&h.app.db, None).await.unwrap();
    h.app
        .payments
        .deactivate_static_qr(&Who::CLI, store.store_id, free.static_qr_id)
        .await
        .unwrap();
    assert_eq!(
        pay(free.static_qr_id, json!({"amount": 100})).await.status,
        409
    );
}

async fn admins_issue_print_and_deactivate_static_qrs_in_the_console(app: TestApp) {
    let h = Harness::sandbox(app).await;
    let c = Console::new(&h.app);
    let admin = c.user("adm", "admin").await;
    let page = c.get("/console/static-qrs", Some(&admin)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("data-testid=\"no-static-qrs\""),
        "{}",
        page.body
    );
    let types = qrpay::db::payment_type::list_payment_types(&h.app.db)
        .await
        .unwrap();
    let normal = types
        .iter()
        .find(|t| t.name == "normal")
        .unwrap()
        .payment_type_id
        .to_string();
    let posted = c
        .post_fn(
            "issue_static_qr",
            "/console/static-qrs",
            &[
                ("name", "Ящик у входа"),
                ("purpose", "Пожертвование"),
                ("amount", "150,50"),
                ("payment_type_id", &normal),
            ],
            &admin,
        )
        .await;
    assert!(
        posted
            .location
            .starts_with("/console/static-qrs?done=issued"),
        "{} {}",
        posted.location,
        posted.body
    );
    let list = c.get(&posted.location, Some(&admin)).await;
    assert!(list.body.contains("Ящик у входа"), "{}", list.body);
    assert!(list.body.contains("150,50"), "{}", list.body);
    // The same name again: refused beside the name field.
    let again = c
        .post_fn(
            "issue_static_qr",
            "/console/static-qrs",
            &[("name", "Ящик у входа"), ("payment_type_id", &normal)],
            &admin,
        )
        .await;
    assert!(
        !again.location.contains("done=issued"),
        "{}",
        again.location
    );
    // Its till row is not a till of «Кассы».
    let tills = c.get("/console/tills", Some(&admin)).await;
    assert!(!tills.body.contains("Ящик у входа"), "{}", tills.body);

    let store = qrpay::db::store::find_store(&h.app.db, None).await.unwrap();
    let qr = qrpay::db::static_qr::list_static_qrs(&h.app.db, store.store_id)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(qr.amount, Some(15050));
    // The plate and its images decode back to the payload.
    let plate = c
        .get(
            &format!("/console/static-qrs/{}/plate", qr.static_qr_id),
            Some(&admin),
        )
        .await;
    assert!(
        plate.body.contains("data-testid=\"plate\""),
        "{}",
        plate.body
    );
    assert!(plate.body.contains("Оплата по СБП"));
    let id = qr.static_qr_id;
    let (status, png) = get_as(&h.app, &format!("/console/static-qrs/{id}/qr.png"), &admin).await;
    assert_eq!(status, 200);
    let (decoded, _, _) = decode_png(&png);
    assert_eq!(decoded, vec![qr.qr_payload.clone()]);
    let (_, svg) = get_as(&h.app, &format!("/console/static-qrs/{id}/qr.svg"), &admin).await;
    assert_eq!(
        decode_svg(std::str::from_utf8(&svg).unwrap()),
        vec![qr.qr_payload.clone()]
    );
    // A viewer may not see them.
    let viewer = c.user("view", "viewer").await;
    let (denied, _) = get_as(&h.app, &format!("/console/static-qrs/{id}/qr.png"), &viewer).await;
    assert_eq!(denied, 403);

    // Its payments show in «Транзакции» under its name.
    let r = h
        .app
        .post_raw(
            &format!("/api/v1/sandbox/static-qrs/{}/pay", qr.static_qr_id),
            Some(&h.app.key),
            None,
            "",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let tx = c.get("/console/transactions", Some(&admin)).await;
    assert!(tx.body.contains("QR «Ящик у входа»"), "{}", tx.body);
    // Its page names the order as the bank gave it, and the bank's transaction id.
    let detail = c
        .get(
            &format!("/console/transactions/{}", r.body["id"].as_str().unwrap()),
            Some(&admin),
        )
        .await;
    assert_eq!(
        text_of(&detail.body, "order-ref").as_deref(),
        Some(qr.order_ref.as_str())
    );
    assert!(text_of(&detail.body, "bank-transaction-id").is_some_and(|t| t.len() > 3));

    // Deactivate after the confirmation step.
    let confirm = c
        .get(
            &format!("/console/static-qrs?deactivate={}", qr.static_qr_id),
            Some(&admin),
        )
        .await;
    assert!(confirm.body.contains("data-testid=\"deactivate-confirm\""));
    let id = qr.static_qr_id.to_string();
    let done = c
        .post_fn(
            "deactivate_static_qr",
            "/console/static-qrs",
            &[("id", &id)],
            &admin,
        )
        .await;
    assert_eq!(done.location, "/console/static-qrs?done=deactivated");
    let list = c.get(&done.location, Some(&admin)).await;
    assert!(
        list.body.contains("data-testid=\"inactive\""),
        "{}",
        list.body
    );
    let journal = qrpay::db::audit::latest(&h.app.db, store.store_id, 20)
        .await
        .unwrap();
    for action in ["create", "deactivate"] {
        assert!(
            journal
                .iter()
                .any(|e| e.entity == "static_qr" && e.action == action && e.login == "adm"),
            "{action}: {journal:?}"
        );
    }
}

async fn qrpay(app: &TestApp, args: &[&str]) -> String {
    crate::cli_audit::qrpay(app, args, "").await
}

/// A console GET with the session cookie `session`: status and body.
async fn get_as(app: &TestApp, path: &str, session: &str) -> (u16, Vec<u8>) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

async fn the_command_line_issues_lists_shows_and_pays_static_qrs(app: TestApp) {
    let h = Harness::sandbox(app).await;
    let out = qrpay(
        &h.app,
        &[
            "static-qr",
            "issue",
            "--name",
            "Donations",
            "--amount",
            "99",
            "--payment-type",
            "normal",
        ],
    )
    .await;
    let id = out.split('\t').next().unwrap().trim().to_owned();
    assert!(out.contains("Donations") && out.contains("99.00"), "{out}");
    assert!(
        qrpay(&h.app, &["static-qr", "list"])
            .await
            .contains("Donations")
    );
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("plate.png");
    let shown = qrpay(
        &h.app,
        &["static-qr", "show", &id, "--png", png.to_str().unwrap()],
    )
    .await;
    let payload = shown
        .lines()
        .find(|l| l.starts_with("https://qr.nspk.ru/"))
        .unwrap();
    let (decoded, _, _) = decode_png(&std::fs::read(&png).unwrap());
    assert_eq!(decoded, vec![payload.to_owned()]);
    let paid = qrpay(&h.app, &["static-qr", "pay", &id]).await;
    assert!(paid.contains("\tpaid\t99.00 RUB"), "{paid}");
    assert!(
        qrpay(&h.app, &["static-qr", "list"])
            .await
            .contains("1 payment(s), 99.00 RUB")
    );
}

/// The bank's registry lists each payment of a static QR under the QR's order: each line is
/// matched to one payment of that order (by amount), and one more line than payments is found.
async fn a_registry_matches_each_static_qr_payment_by_its_order_and_amount(app: TestApp) {
    use qrpay::reconcile::{MismatchKind, reconcile_file};
    let h = Harness::raiffeisen(app).await;
    let qr = issue(&h, "Ящик", None).await;
    pay_at_bank(&h, &qr, 1000).await;
    pay_at_bank(&h, &qr, 2500).await;
    assert_eq!(payments_of(&h, &qr, 2, 10).await.len(), 2);
    let order = qr.order_ref.as_str();
    let clean = crate::reconcile::registry(
        "MA0000000552",
        &[("Payment", order, "", 2500), ("Payment", order, "", 1000)],
        None,
    );
    let (report, _) = reconcile_file(&h.app.db, &Who::CLI, "r.csv", &clean, None)
        .await
        .unwrap();
    assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
    assert_eq!(report.matched_payments, 2);
    let extra = crate::reconcile::registry(
        "MA0000000552",
        &[
            ("Payment", order, "", 2500),
            ("Payment", order, "", 1000),
            ("Payment", order, "", 700),
        ],
        None,
    );
    let (report, _) = reconcile_file(&h.app.db, &Who::CLI, "r2.csv", &extra, None)
        .await
        .unwrap();
    let kinds: Vec<_> = report
        .mismatches
        .iter()
        .map(|m| (m.kind, m.bank_ref.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![(MismatchKind::PaidAtBankNotInQrpay, order)],
        "{kinds:?}"
    );
}
