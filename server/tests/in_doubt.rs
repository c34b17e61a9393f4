//! A payment in doubt ends as the bank has it. When the answer to a QR registration is lost
//! (5xx, a hang, malformed JSON, a cut connection) the payment is `unknown`, never `failed`; qrpay
//! then asks the bank about its `order` (registering is idempotent by order): a QR the bank holds
//! is adopted (and annulled at once past the deadline), a paid order makes the payment paid, and a
//! notification naming a QR qrpay never saw is checked with the bank and taken.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::providers::{Harness, fault};
use qrpay::emulator::Faults;
use qrpay::providers::raiffeisen::wire::RaiffeisenQrStatus;
use serde_json::{Value, json};
use std::time::Duration;

both_backends!(
    every_registration_fault_ends_as_the_bank_has_it,
    a_lost_qr_the_customer_paid_is_paid_when_the_bank_notifies,
    a_lost_qr_paid_with_no_notification_is_found_paid_by_its_order,
    past_its_deadline_a_payment_in_doubt_expires_and_no_qr_stays_live,
    a_notification_naming_another_orders_qr_changes_nothing,
);

/// The bank's QRs for the payment's order, oldest first.
async fn bank_qrs(h: &Harness, id: &str) -> Vec<(String, RaiffeisenQrStatus)> {
    let row = qrpay::db::payment::get_payment(&h.app.db, id)
        .await
        .unwrap()
        .unwrap();
    h.emulator().bank.qrs_of_order(&row.order_ref)
}

async fn stored_qr_id(h: &Harness, id: &str) -> Option<String> {
    qrpay::db::payment::get_payment(&h.app.db, id)
        .await
        .unwrap()
        .unwrap()
        .qr_id
}

/// Creates a payment while the bank's next call has `kind` of fault: the till hears `unknown`.
async fn create_in_doubt(h: &Harness, kind: &str, payment_type: &str) -> String {
    h.faults(fault(kind));
    let p = h.create(1500, payment_type).await;
    assert_eq!(p["status"], "unknown", "{kind}: {p}");
    assert!(
        p["qr"].is_null() || p["qr"]["payload"].is_null(),
        "{kind}: {p}"
    );
    p["id"].as_str().unwrap().to_owned()
}

/// The customer pays a QR the bank holds (by its id, as a phone that scanned it would).
async fn pay_qr(h: &Harness, qr_id: &str, amount: i64) {
    let r = h
        .emulator_post(
            "/api/nspc-mock/v01/rfuture/payment/init",
            json!({"qrId": qr_id, "amount": amount as f64 / 100.0}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn payment(h: &Harness, id: &str) -> Value {
    h.app.get(&format!("/api/v1/payments/{id}")).await.body
}

async fn every_registration_fault_ends_as_the_bank_has_it(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    // 5xx and hang: the bank did nothing; malformed and cut: it registered the QR, then the
    // answer was lost.
    for (kind, registered) in [
        ("5xx", false),
        ("hang", false),
        ("malformed", true),
        ("cut", true),
    ] {
        let id = create_in_doubt(&h, kind, "normal").await;
        let before = bank_qrs(&h, &id).await;
        assert_eq!(before.len(), usize::from(registered), "{kind}: {before:?}");
        h.sync().await;
        let seen = payment(&h, &id).await;
        // Before its deadline the payment takes the QR the bank holds for its order (the very
        // one registered before, when there was one): the till's long-poll gets it to show.
        assert_eq!(seen["status"], "pending", "{kind}: {seen}");
        let held = bank_qrs(&h, &id).await;
        assert_eq!(
            held.len(),
            1,
            "{kind}: one QR per order at the bank: {held:?}"
        );
        assert_eq!(held[0].1, RaiffeisenQrStatus::New, "{kind}");
        assert_eq!(
            stored_qr_id(&h, &id).await.as_deref(),
            Some(held[0].0.as_str())
        );
        if registered {
            assert_eq!(held[0].0, before[0].0, "{kind}: the lost QR is adopted");
        }
        assert!(
            seen["qr"]["payload"]
                .as_str()
                .is_some_and(|p| p.contains(&held[0].0)),
            "{kind}: {seen}"
        );
        h.pay(&id, false).await;
        let paid = h.wait(&id, 10).await;
        assert_eq!(paid["status"], "paid", "{kind}: {paid}");
    }
}

async fn a_lost_qr_the_customer_paid_is_paid_when_the_bank_notifies(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    for kind in ["malformed", "cut"] {
        let id = create_in_doubt(&h, kind, "normal").await;
        let lost = bank_qrs(&h, &id).await[0].0.clone();
        let delivered = h.emulator().bank.callbacks_delivered();
        pay_qr(&h, &lost, 1500).await;
        // No sync: the notification alone settles it (it names the QR; qrpay asks the bank).
        let seen = h.wait(&id, 10).await;
        assert_eq!(seen["status"], "paid", "{kind}: {seen}");
        assert_eq!(seen["late"], false, "{kind}: {seen}");
        assert_eq!(stored_qr_id(&h, &id).await, Some(lost), "{kind}");
        // The emulator counts the notification when qrpay's 200 reaches it, which may be just
        // after the long-poll answered (the change wakes it as soon as it commits).
        let counted = std::time::Instant::now();
        while h.emulator().bank.callbacks_delivered() < delivered + 1
            && counted.elapsed() < Duration::from_secs(2)
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(h.emulator().bank.callbacks_delivered(), delivered + 1);
        // And it can be refunded like any other payment.
        let (status, refund) = h.refund_settled(&id, json!({"amount": 500})).await;
        assert_eq!(
            (status, refund["status"].as_str()),
            (201, Some("completed")),
            "{refund}"
        );
    }
}

async fn a_lost_qr_paid_with_no_notification_is_found_paid_by_its_order(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let id = create_in_doubt(&h, "malformed", "normal").await;
    let lost = bank_qrs(&h, &id).await[0].0.clone();
    h.faults(Faults {
        drop_callbacks: 1,
        ..Faults::default()
    });
    pay_qr(&h, &lost, 1500).await;
    assert_eq!(payment(&h, &id).await["status"], "unknown");
    // Asked by its order, the bank says the order was paid.
    h.sync().await;
    let seen = payment(&h, &id).await;
    assert_eq!(seen["status"], "paid", "{seen}");
    assert_eq!(
        bank_qrs(&h, &id).await.len(),
        1,
        "asking created no second QR"
    );
}

async fn past_its_deadline_a_payment_in_doubt_expires_and_no_qr_stays_live(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    for kind in ["5xx", "malformed"] {
        // `fast`: a 2 s QR lifetime.
        let id = create_in_doubt(&h, kind, "fast").await;
        tokio::time::sleep(Duration::from_millis(2_300)).await;
        h.sync().await;
        let seen = payment(&h, &id).await;
        assert_eq!(seen["status"], "expired", "{kind}: {seen}");
        let held = bank_qrs(&h, &id).await;
        assert!(
            held.iter().all(|(_, s)| *s != RaiffeisenQrStatus::New),
            "{kind}: a QR stays live at the bank for an ended payment: {held:?}"
        );
    }
}

async fn a_notification_naming_another_orders_qr_changes_nothing(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    // A paid payment whose genuine QR id someone pastes into a notification for another order.
    let paid = h.create(1500, "normal").await;
    let paid_id = paid["id"].as_str().unwrap();
    h.pay(paid_id, false).await;
    assert_eq!(h.wait(paid_id, 10).await["status"], "paid");
    let paid_qr = stored_qr_id(&h, paid_id).await.unwrap();

    let id = create_in_doubt(&h, "5xx", "normal").await;
    let row = qrpay::db::payment::get_payment(&h.app.db, &id)
        .await
        .unwrap()
        .unwrap();
    let body = crate::providers::notification(&row.order_ref, "15.00", "SUCCESS")
        .replace("\"qrId\":\"AD1\"", &format!("\"qrId\":\"{paid_qr}\""));
    let signature = crate::providers::signature_of("15.00", &row.order_ref, "SUCCESS");
    let status = crate::providers::post_callback(&h, "raiffeisen", &body, Some(&signature)).await;
    assert_eq!(status, 200);
    // The bank says that QR is another order's: the payment is not taken as paid. (Asked by its
    // order, the bank registers its QR now: it is pending.)
    let seen = payment(&h, &id).await;
    assert_eq!(seen["status"], "pending", "{seen}");
    assert_ne!(stored_qr_id(&h, &id).await, Some(paid_qr));
}
