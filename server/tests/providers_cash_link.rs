//! Cash-register links beyond the shared contract (which `providers.rs` runs for cash-link
//! payments too): one open payment per till (`till_busy`), the bank's faults on activating and
//! cancelling an order, the ecom-style notification, binding a printed plate, and the plate
//! itself (it decodes back to the link).

use crate::both_backends;
use crate::helpers::{TestApp, new_key};
use crate::providers::{Harness, fault, post_callback};
use crate::qr_outputs::decode_png;
use qrpay::db::audit::Who;
use qrpay::payments::IssueCashLink;
use qrpay::providers::raiffeisen::order_wire::RaiffeisenOrderStatus;
use qrpay::providers::raiffeisen::wire::sign;
use serde_json::{Value, json};

both_backends!(
    a_second_payment_while_one_is_open_is_till_busy_until_it_ends,
    every_fault_on_activating_the_link_ends_as_the_bank_has_it,
    a_fault_on_cancelling_an_order_is_resolved_by_sync,
    the_order_notification_is_taken_only_when_signed,
    a_printed_plate_is_bound_by_its_id_and_only_once,
    the_plate_decodes_back_to_the_link_and_names_store_and_till,
);

async fn payment(h: &Harness, id: &str) -> Value {
    h.app.get(&format!("/api/v1/payments/{id}")).await.body
}

async fn a_second_payment_while_one_is_open_is_till_busy_until_it_ends(app: TestApp) {
    let h = Harness::sandbox(app).await.with_cash_link().await;
    let key = new_key();
    let body = json!({"amount": 500, "receipt": "C-1", "payment_type": "normal"}).to_string();
    let first = h.app.create_payment_raw(&body, &key).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let first_id = first.body["id"].as_str().unwrap().to_owned();
    // The same request again is a replay, not a second payment.
    let replay = h.app.create_payment_raw(&body, &key).await;
    assert_eq!(replay.body["id"], first_id.as_str());
    let busy = h
        .app
        .create_payment_raw(
            &json!({"amount": 700, "receipt": "C-2", "payment_type": "normal"}).to_string(),
            &new_key(),
        )
        .await;
    assert_eq!(
        (busy.status, busy.code()),
        (409, "till_busy"),
        "{}",
        busy.body
    );
    assert_eq!(busy.body["error"]["payment_id"], first_id.as_str());
    // A payment type of the same module on the same till is held by the same link.
    let fast = h
        .app
        .create_payment_raw(
            &json!({"amount": 700, "receipt": "C-2", "payment_type": "fast"}).to_string(),
            &new_key(),
        )
        .await;
    assert_eq!(fast.code(), "till_busy", "{}", fast.body);
    // Issuing another link while a payment holds this one is refused too.
    let till = h.till().await;
    let again = h
        .app
        .payments
        .issue_cash_link(
            &Who::CLI,
            &IssueCashLink {
                store_id: till.store_id,
                till_id: till.till_id,
                payment_type: None,
                bind_qr_id: None,
            },
        )
        .await;
    assert!(
        matches!(again, Err(qrpay::payments::Error::TillBusy { .. })),
        "{again:?}"
    );
    assert_eq!(h.app.cancel(&first_id).await.body["status"], "cancelled");
    let next = h.create(700, "normal").await;
    assert_eq!(next["status"], "pending");
    assert_eq!(next["qr"]["payload"], h.cash_link.clone().unwrap().as_str());
}

async fn every_fault_on_activating_the_link_ends_as_the_bank_has_it(app: TestApp) {
    let h = Harness::raiffeisen(app).await.with_cash_link().await;
    let link = h.cash_link.clone().unwrap();
    let qr_id = link
        .trim_start_matches("https://qr.nspk.ru/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    // 5xx: the bank created no order; malformed and cut: it did, the answer was lost.
    for (kind, created) in [("5xx", false), ("malformed", true), ("cut", true)] {
        h.faults(fault(kind));
        let p = h.create(1500, "normal").await;
        assert_eq!(p["status"], "unknown", "{kind}: {p}");
        let id = p["id"].as_str().unwrap().to_owned();
        let before = h.emulator().bank.orders_of_link(&qr_id).len();
        // The till cannot start another payment on the link meanwhile.
        let busy = h
            .app
            .create_payment_raw(
                &json!({"amount": 1, "receipt": "C-9", "payment_type": "normal"}).to_string(),
                &new_key(),
            )
            .await;
        assert_eq!(busy.code(), "till_busy", "{kind}: {}", busy.body);
        h.sync().await;
        let seen = payment(&h, &id).await;
        assert_eq!(seen["status"], "pending", "{kind}: {seen}");
        assert_eq!(seen["qr"]["payload"], link.as_str(), "{kind}");
        let orders = h.emulator().bank.orders_of_link(&qr_id);
        // Asked by order id: the lost order is adopted, a missing one created once.
        assert_eq!(
            orders.len(),
            before + usize::from(!created),
            "{kind}: {orders:?}"
        );
        assert_eq!(orders.last().unwrap().1, RaiffeisenOrderStatus::New);
        h.pay(&id, false).await;
        assert_eq!(h.wait(&id, 10).await["status"], "paid", "{kind}");
    }
}

async fn a_fault_on_cancelling_an_order_is_resolved_by_sync(app: TestApp) {
    let h = Harness::raiffeisen(app).await.with_cash_link().await;
    // 5xx: the bank never cancelled the order; malformed: it did, the answer was garbage.
    for (kind, truth) in [("5xx", "pending"), ("malformed", "cancelled")] {
        let p = h.create(100, "normal").await;
        let id = p["id"].as_str().unwrap().to_owned();
        h.faults(fault(kind));
        let r = h.app.cancel(&id).await;
        assert_eq!(r.body["status"], "unknown", "{kind}: {}", r.body);
        h.sync().await;
        let seen = payment(&h, &id).await;
        assert_eq!(seen["status"], truth, "{kind}: {seen}");
        if truth == "pending" {
            assert_eq!(h.app.cancel(&id).await.body["status"], "cancelled");
        }
    }
}

async fn the_order_notification_is_taken_only_when_signed(app: TestApp) {
    let h = Harness::raiffeisen(app).await.with_cash_link().await;
    let p = h.create(1250, "normal").await;
    let id = p["id"].as_str().unwrap().to_owned();
    let order = qrpay::db::payment::get_payment(&h.app.db, &id)
        .await
        .unwrap()
        .unwrap()
        .order_ref;
    let body = format!(
        r#"{{"event":"payment","transaction":{{"id":9,"orderId":"{order}","status":{{"value":"SUCCESS","date":"2026-12-03T15:00:00+03:00"}},"paymentMethod":"sbp","paymentParams":{{"qrId":"AV1"}},"amount":12.50}}}}"#
    );
    let signed = format!("12.50|MA0000000552|{order}|SUCCESS|2026-12-03T15:00:00+03:00");
    let forged = sign("another key", &signed);
    assert_ne!(
        post_callback(&h, "raiffeisen", &body, Some(&forged)).await,
        200
    );
    assert_ne!(post_callback(&h, "raiffeisen", &body, None).await, 200);
    // Signed, but the bank holds the order unpaid: it is asked, and nothing changes.
    let genuine = sign(crate::providers::SECRET, &signed);
    assert_eq!(
        post_callback(&h, "raiffeisen", &body, Some(&genuine)).await,
        200
    );
    assert_eq!(payment(&h, &id).await["status"], "pending");
    // The bank's own notification (ecom format) settles the payment without a poll.
    let delivered = h.emulator().bank.callbacks_delivered();
    h.pay(&id, false).await;
    assert_eq!(h.wait(&id, 10).await["status"], "paid");
    for _ in 0..200 {
        if h.emulator().bank.callbacks_delivered() > delivered {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(h.emulator().bank.callbacks_delivered() > delivered);
}

async fn a_printed_plate_is_bound_by_its_id_and_only_once(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let plate = h.emulator().bank.add_qr_draft();
    let till = h.till().await;
    let bind = |qr_id: String, till_id: i64| {
        let payments = h.app.payments.clone();
        async move {
            payments
                .issue_cash_link(
                    &Who::CLI,
                    &IssueCashLink {
                        store_id: till.store_id,
                        till_id,
                        payment_type: Some("normal"),
                        bind_qr_id: Some(&qr_id),
                    },
                )
                .await
        }
    };
    let link = bind(plate.clone(), till.till_id).await.unwrap();
    assert_eq!(link.qr_id, plate);
    assert_eq!(link.source, "bound");
    assert!(link.payload.contains(&plate), "{}", link.payload);
    let unknown = bind("AV0000NOSUCHPLATE".into(), till.till_id).await;
    assert!(
        matches!(&unknown, Err(qrpay::payments::Error::BankRefused { message, .. }) if message.contains("не зарегистрирован")),
        "{unknown:?}"
    );
    let bad = bind("AV-1".into(), till.till_id).await;
    assert!(
        matches!(bad, Err(qrpay::payments::Error::InvalidState(_))),
        "{bad:?}"
    );
    // Another till cannot hold the same plate.
    crate::helpers::add_till(&h.app.db, Some(till.store_id), "second").await;
    let second = qrpay::db::till::till_by_name(&h.app.db, till.store_id, "second")
        .await
        .unwrap();
    let twice = bind(plate.clone(), second.till_id).await;
    assert!(
        matches!(twice, Err(qrpay::payments::Error::InvalidState(_))),
        "{twice:?}"
    );
    // The bound plate takes payments.
    let p = h.create(300, "normal").await;
    assert_eq!(p["qr"]["payload"], link.payload.as_str());
}

async fn the_plate_decodes_back_to_the_link_and_names_store_and_till(app: TestApp) {
    let h = Harness::sandbox(app).await.with_cash_link().await;
    let p = h.create(100, "normal").await;
    let link = h.cash_link.clone().unwrap();
    let plate = &p["outputs"]["plate"];
    let png = h
        .app
        .client
        .get(plate["png_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    let (decoded, _, _) = decode_png(&png.bytes().await.unwrap());
    assert_eq!(decoded, vec![link.clone()]);
    let till = h.till().await;
    let svg = h
        .app
        .client
        .get(plate["svg_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(svg.contains("Оплата по СБП"), "{svg}");
    assert!(svg.contains(&till.name), "{svg}");
    assert!(svg.contains("width=\"105mm\" height=\"148mm\""), "{svg}");
    let page = h
        .app
        .client
        .get(plate["page_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("size: A6"), "{page}");
    assert!(page.contains(&link.replace('&', "&amp;")), "{page}");
    let missing = h
        .app
        .client
        .get(format!("{}/cash-links/AVNOSUCH/plate.png", h.app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
