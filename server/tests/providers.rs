//! The provider contract suite: the same cases run against the `sandbox` module and against
//! `raiffeisen` talking real HTTP to the in-process bank emulator; then the Raiffeisen-only cases
//! (faults, callbacks, bank errors).

use crate::both_backends;
use crate::helpers::{TestApp, new_key};
use qrpay::db::audit::Who;
use qrpay::db::payment_type::{PaymentTypeFields, create_auth_server, save_payment_type};
use qrpay::db::raiffeisen_setting::save_setting;
use qrpay::db::store::find_store;
use qrpay::emulator::{EmulatorConfig, EmulatorHandle, Faults};
use qrpay::providers::BankPaymentState;
use qrpay::providers::raiffeisen::wire::{SIGNATURE_HEADER, sign};
use serde_json::{Value, json};
use std::time::Duration;

const MERCHANT: &str = "MA0000000552";
pub(crate) const SECRET: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.test-secret";

/// A qrpay with a payment type on one bank: `normal` (30 s) and `fast` (2 s QR lifetime).
pub struct Harness {
    pub app: TestApp,
    pub emulator: Option<EmulatorHandle>,
    module: &'static str,
    /// The till's cash-register link (its payload), when the till takes payments on one.
    pub cash_link: Option<String>,
}

async fn add_types(app: &TestApp, module: &str) {
    for (name, secs) in [("normal", 30), ("fast", 2)] {
        add_payment_type(app, name, module, secs).await;
    }
}

/// Adds to the first store a payment type `name` on `module` whose authorization server («QR
/// name») times out after `secs`.
pub(crate) async fn add_payment_type(app: &TestApp, name: &str, module: &str, secs: i64) {
    let store = find_store(&app.db, None).await.unwrap();
    let server = create_auth_server(
        &app.db,
        &Who::SEED,
        store.store_id,
        &format!("QR {name}"),
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
            name,
            module,
            scan_customer_qr: false,
            enabled: true,
        },
    )
    .await
    .unwrap();
}

impl Harness {
    pub async fn sandbox(app: TestApp) -> Self {
        add_types(&app, "sandbox").await;
        Self {
            app,
            emulator: None,
            module: "sandbox",
            cash_link: None,
        }
    }

    pub async fn raiffeisen(app: TestApp) -> Self {
        let emulator = qrpay::emulator::spawn(
            EmulatorConfig {
                merchant_id: MERCHANT.into(),
                secret_key: SECRET.into(),
                callback_url: Some(format!("{}/api/v1/callbacks/raiffeisen", app.base)),
                faults: Faults::default(),
            },
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        configure(&app, &emulator.base_url(), MERCHANT).await;
        add_types(&app, "raiffeisen").await;
        Self {
            app,
            emulator: Some(emulator),
            module: "raiffeisen",
            cash_link: None,
        }
    }

    /// The same harness, its till taking payments on a cash-register link of the bank.
    pub async fn with_cash_link(mut self) -> Self {
        let till = self.till().await;
        let link = self
            .app
            .payments
            .issue_cash_link(
                &Who::CLI,
                &qrpay::payments::IssueCashLink {
                    store_id: till.store_id,
                    till_id: till.till_id,
                    payment_type: Some("normal"),
                    bind_qr_id: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(link.module, self.module);
        self.cash_link = Some(link.payload);
        self
    }

    /// The test app's till.
    pub async fn till(&self) -> qrpay::db::till::TillIdentity {
        qrpay::db::till::till_by_key_hash(&self.app.db, &qrpay::auth::till_key::hash(&self.app.key))
            .await
            .unwrap()
            .unwrap()
    }

    pub fn emulator(&self) -> &EmulatorHandle {
        self.emulator.as_ref().expect("a Raiffeisen case")
    }

    pub fn faults(&self, faults: Faults) {
        self.emulator().bank.set_faults(faults);
    }

    pub async fn create(&self, amount: i64, payment_type: &str) -> Value {
        let r = self
            .app
            .create_payment_raw(
                &json!({"amount": amount, "receipt": "C-1", "payment_type": payment_type,
                        "description": "Заказ 1"})
                .to_string(),
                &new_key(),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body
    }

    async fn qr_id(&self, id: &str) -> String {
        qrpay::db::payment::get_payment(&self.app.db, id)
            .await
            .unwrap()
            .unwrap()
            .qr_id
            .expect("the payment has a QR")
    }

    pub async fn emulator_post(&self, path: &str, body: Value) -> reqwest::Response {
        self.app
            .client
            .post(format!("http://{}{path}", self.emulator().addr))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// The customer pays (`late`: even an annulled QR, as in the race a late payment is).
    pub async fn pay(&self, id: &str, late: bool) {
        match self.module {
            "sandbox" => {
                let r = self.app.pay(id).await;
                assert_eq!(r.status, 200, "{}", r.body);
            }
            _ => {
                let qr_id = self.qr_id(id).await;
                let amount = self.app.get(&format!("/api/v1/payments/{id}")).await.body["amount"]
                    .as_i64()
                    .unwrap();
                let r = self
                    .emulator_post(
                        "/api/nspc-mock/v01/rfuture/payment/init",
                        json!({"qrId": qr_id, "amount": amount as f64 / 100.0, "force": late}),
                    )
                    .await;
                assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
            }
        }
    }

    pub async fn decline(&self, id: &str) {
        match self.module {
            "sandbox" => {
                assert_eq!(self.app.decline(id).await.status, 200);
            }
            _ => {
                let qr_id = self.qr_id(id).await;
                let r = self
                    .emulator_post("/api/emulator/decline", json!({"qrId": qr_id}))
                    .await;
                assert_eq!(r.status(), 200);
            }
        }
    }

    /// The next refund will be declined by the bank; returns the reason to give it.
    fn arrange_refund_decline(&self) -> &'static str {
        match self.module {
            "sandbox" => "sandbox:decline please",
            _ => {
                self.faults(Faults {
                    decline_refunds: 1,
                    ..Faults::default()
                });
                "declined by the emulated bank"
            }
        }
    }

    /// Long-polls the payment until it leaves the open statuses (or `secs` pass).
    pub async fn wait(&self, id: &str, secs: u32) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs.into());
        loop {
            let r = self
                .app
                .get(&format!("/api/v1/payments/{id}?wait={}", secs.min(5)))
                .await;
            let open = matches!(
                r.body["status"].as_str(),
                Some("creating" | "pending" | "unknown")
            );
            if !open || tokio::time::Instant::now() >= deadline {
                return r.body;
            }
        }
    }

    /// The payment once sync has resolved its doubt. The background sync worker may hold the
    /// payment's job when the test asks (a job never runs twice at once, so the test's own sync
    /// skips it): ask again until it is no longer `unknown`.
    pub async fn resolved(&self, id: &str) -> Value {
        for _ in 0..100 {
            self.sync().await;
            let seen = self.app.get(&format!("/api/v1/payments/{id}")).await.body;
            if seen["status"] != "unknown" {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("payment {id} still unknown after 10 s of sync");
    }

    pub async fn sync(&self) {
        self.app
            .payments
            .sync_in_doubt(Duration::ZERO)
            .await
            .unwrap();
    }

    /// What the bank itself says of the payment.
    async fn bank_state(&self, id: &str) -> BankPaymentState {
        let row = qrpay::db::payment::get_payment(&self.app.db, id)
            .await
            .unwrap()
            .unwrap();
        let provider = self.app.payments.providers().get(self.module).unwrap();
        provider
            .payment_status(&qrpay::providers::QrRef {
                store_id: row.store_id,
                qr_id: row.qr_id.as_deref().unwrap(),
                order_ref: &row.order_ref,
                amount: qrpay::domain::Amount::parse(row.amount).unwrap(),
                cash_link: row.cash_link_qr_id.is_some(),
            })
            .await
            .unwrap()
    }

    /// Refunds until the refund is no longer pending (sync drives the bank's refund status).
    pub async fn refund_settled(&self, id: &str, body: Value) -> (u16, Value) {
        let r = self.app.refund(id, body).await;
        if r.status != 201 {
            return (r.status, r.body);
        }
        let refund_id = r.body["id"].as_str().unwrap().to_owned();
        for _ in 0..50 {
            let seen = self.app.get(&format!("/api/v1/refunds/{refund_id}")).await;
            if !matches!(seen.body["status"].as_str(), Some("pending" | "unknown")) {
                return (201, seen.body);
            }
            self.sync().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("refund {refund_id} never settled");
    }
}

async fn configure(app: &TestApp, base_url: &str, merchant: &str) {
    let store = find_store(&app.db, None).await.unwrap();
    save_setting(
        &app.db,
        &Who::SEED,
        store.store_id,
        base_url,
        merchant,
        Some(SECRET),
    )
    .await
    .unwrap();
}

// ---------- the shared contract ----------

async fn a_payment_is_created_paid_and_seen_by_the_waiting_till(h: Harness) {
    let p = h.create(111000, "normal").await;
    assert_eq!(p["status"], "pending");
    let payload = p["qr"]["payload"].as_str().unwrap();
    match &h.cash_link {
        // The till's fixed link, and the plate it is printed on.
        Some(link) => {
            assert_eq!(payload, link);
            let plate = p["outputs"]["plate"]["png_url"].as_str().unwrap();
            assert!(plate.ends_with("/plate.png"), "{p}");
        }
        None => {
            assert!(payload.starts_with("https://qr.nspk.ru/AD"), "{payload}");
            assert!(payload.contains("sum=111000"), "{payload}");
            assert!(p["outputs"].get("plate").is_none(), "{p}");
        }
    }
    let id = p["id"].as_str().unwrap().to_owned();
    let waiter = {
        let base = h.app.base.clone();
        let key = h.app.key.clone();
        let id = id.clone();
        tokio::spawn(async move {
            reqwest::Client::new()
                .get(format!("{base}/api/v1/payments/{id}?wait=10"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    h.pay(&id, false).await;
    let seen = waiter.await.unwrap();
    assert_eq!(seen["status"], "paid", "{seen}");
    assert_eq!(seen["late"], false);
    assert!(matches!(
        h.bank_state(&id).await,
        BankPaymentState::Paid { .. }
    ));
    assert!(
        h.app
            .outbox_keys()
            .await
            .contains(&"payment.paid".to_owned())
    );
}

async fn a_pending_payment_is_cancelled_at_the_bank(h: Harness) {
    let p = h.create(500, "normal").await;
    let id = p["id"].as_str().unwrap();
    let r = h.app.cancel(id).await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (200, Some("cancelled")),
        "{}",
        r.body
    );
    assert_eq!(h.bank_state(id).await, BankPaymentState::Cancelled);
    let again = h.app.cancel(id).await;
    assert_eq!(again.body["status"], "cancelled");
}

async fn a_paid_payment_stays_paid_when_the_till_cancels(h: Harness) {
    let p = h.create(700, "normal").await;
    let id = p["id"].as_str().unwrap();
    h.pay(id, false).await;
    let r = h.app.cancel(id).await;
    assert_eq!(r.body["status"], "paid", "{}", r.body);
}

async fn a_declined_payment_ends_declined(h: Harness) {
    let p = h.create(300, "normal").await;
    let id = p["id"].as_str().unwrap();
    h.decline(id).await;
    let seen = h.wait(id, 10).await;
    assert_eq!(seen["status"], "declined", "{seen}");
}

async fn a_payment_expires_and_its_qr_is_annulled(h: Harness) {
    let p = h.create(990, "fast").await;
    let id = p["id"].as_str().unwrap();
    let seen = h.wait(id, 10).await;
    assert_eq!(seen["status"], "expired", "{seen}");
    assert!(matches!(
        h.bank_state(id).await,
        BankPaymentState::Cancelled | BankPaymentState::Expired
    ));
}

async fn a_late_payment_is_flagged_and_refunded_in_full(h: Harness) {
    let p = h.create(1234, "fast").await;
    let id = p["id"].as_str().unwrap();
    assert_eq!(h.wait(id, 10).await["status"], "expired");
    h.pay(id, true).await;
    let mut seen = h.wait(id, 10).await;
    for _ in 0..50 {
        seen = h.app.get(&format!("/api/v1/payments/{id}")).await.body;
        if seen["status"] == "paid" && seen["refunded_amount"] == 1234 {
            break;
        }
        h.sync().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen["status"], "paid", "{seen}");
    assert_eq!(seen["late"], true);
    assert_eq!(seen["refunded_amount"], 1234, "{seen}");
}

async fn partial_and_full_refunds_complete_and_never_exceed_the_payment(h: Harness) {
    let p = h.create(1000, "normal").await;
    let id = p["id"].as_str().unwrap();
    h.pay(id, false).await;
    assert_eq!(h.wait(id, 10).await["status"], "paid");
    let (status, first) = h.refund_settled(id, json!({"amount": 300})).await;
    assert_eq!(
        (status, first["status"].as_str()),
        (201, Some("completed")),
        "{first}"
    );
    let (status, rest) = h.refund_settled(id, json!({})).await;
    assert_eq!(
        (status, rest["status"].as_str()),
        (201, Some("completed")),
        "{rest}"
    );
    assert_eq!(rest["amount"], 700);
    let r = h.app.refund(id, json!({"amount": 1})).await;
    assert_eq!(
        (r.status, r.code()),
        (409, "refund_exceeds_paid"),
        "{}",
        r.body
    );
    let seen = h.app.get(&format!("/api/v1/payments/{id}")).await.body;
    assert_eq!(seen["refunded_amount"], 1000);
}

async fn a_declined_refund_gives_the_amount_back(h: Harness) {
    let p = h.create(800, "normal").await;
    let id = p["id"].as_str().unwrap();
    h.pay(id, false).await;
    assert_eq!(h.wait(id, 10).await["status"], "paid");
    let reason = h.arrange_refund_decline();
    let (status, refund) = h
        .refund_settled(id, json!({"amount": 800, "reason": reason}))
        .await;
    assert_eq!(
        (status, refund["status"].as_str()),
        (201, Some("declined")),
        "{refund}"
    );
    let seen = h.app.get(&format!("/api/v1/payments/{id}")).await.body;
    assert_eq!(seen["refunded_amount"], 0);
    let (_, again) = h.refund_settled(id, json!({"amount": 800})).await;
    assert_eq!(again["status"], "completed", "{again}");
}

macro_rules! contract_suite {
    ($($case:ident),* $(,)?) => {
        mod on_sandbox {
            use crate::helpers::TestApp;
            $(
                async fn $case(app: TestApp) {
                    super::$case(super::Harness::sandbox(app).await).await
                }
            )*
            crate::both_backends!($($case),*);
        }
        mod on_raiffeisen {
            use crate::helpers::TestApp;
            $(
                async fn $case(app: TestApp) {
                    super::$case(super::Harness::raiffeisen(app).await).await
                }
            )*
            crate::both_backends!($($case),*);
        }
    };
}

/// The contract for payments through a till's cash-register link (a declined payment has no
/// order status of its own: the customer's bank declining leaves the order open).
macro_rules! cash_link_suite {
    ($($case:ident),* $(,)?) => {
        mod on_sandbox_cash_link {
            use crate::helpers::TestApp;
            $(
                async fn $case(app: TestApp) {
                    super::$case(super::Harness::sandbox(app).await.with_cash_link().await).await
                }
            )*
            crate::both_backends!($($case),*);
        }
        mod on_raiffeisen_cash_link {
            use crate::helpers::TestApp;
            $(
                async fn $case(app: TestApp) {
                    super::$case(super::Harness::raiffeisen(app).await.with_cash_link().await).await
                }
            )*
            crate::both_backends!($($case),*);
        }
    };
}

cash_link_suite!(
    a_payment_is_created_paid_and_seen_by_the_waiting_till,
    a_pending_payment_is_cancelled_at_the_bank,
    a_paid_payment_stays_paid_when_the_till_cancels,
    a_payment_expires_and_its_qr_is_annulled,
    a_late_payment_is_flagged_and_refunded_in_full,
    partial_and_full_refunds_complete_and_never_exceed_the_payment,
    a_declined_refund_gives_the_amount_back,
);

contract_suite!(
    a_payment_is_created_paid_and_seen_by_the_waiting_till,
    a_pending_payment_is_cancelled_at_the_bank,
    a_paid_payment_stays_paid_when_the_till_cancels,
    a_declined_payment_ends_declined,
    a_payment_expires_and_its_qr_is_annulled,
    a_late_payment_is_flagged_and_refunded_in_full,
    partial_and_full_refunds_complete_and_never_exceed_the_payment,
    a_declined_refund_gives_the_amount_back,
);

// ---------- Raiffeisen only: faults, callbacks, bank errors ----------

both_backends!(
    each_fault_on_cancel_leaves_the_payment_unknown_until_sync_resolves_it,
    a_refund_the_bank_never_answered_is_resolved_by_sync,
    a_dropped_callback_is_caught_by_polling,
    unsigned_forged_and_malformed_callbacks_change_nothing,
    a_repeated_callback_is_answered_200_and_changes_nothing,
    a_bank_refusal_fails_the_payment_with_the_banks_message,
    the_callback_url_is_registered_with_the_bank,
    latency_under_the_timeout_is_only_slower,
    a_callback_the_bank_cannot_confirm_yet_is_retried_until_taken,
    a_refund_the_bank_refuses_is_a_conflict_with_the_banks_message,
);

/// One fault of `kind` on the bank's next call (`hang`: for 5 s).
pub(crate) fn fault(kind: &str) -> Faults {
    let mut f = Faults::default();
    match kind {
        "5xx" => f.fail_5xx = 1,
        "malformed" => f.malformed = 1,
        "cut" => f.cut = 1,
        "hang" => {
            f.hang = 1;
            f.hang_ms = 5_000;
        }
        other => panic!("no fault {other}"),
    }
    f
}

async fn each_fault_on_cancel_leaves_the_payment_unknown_until_sync_resolves_it(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    // 5xx and hang: the bank never annulled the QR; malformed: it did, the answer was garbage.
    for (kind, truth) in [("5xx", "pending"), ("malformed", "cancelled")] {
        let p = h.create(100, "normal").await;
        let id = p["id"].as_str().unwrap();
        h.faults(fault(kind));
        let r = h.app.cancel(id).await;
        assert_eq!(r.body["status"], "unknown", "{kind}: {}", r.body);
        let seen = h.resolved(id).await;
        assert_eq!(seen["status"], truth, "{kind}: {seen}");
    }
    let p = h.create(100, "fast").await;
    let id = p["id"].as_str().unwrap();
    h.faults(fault("hang"));
    let r = h.app.cancel(id).await;
    // The cancel hangs for the whole QR lifetime, so the expiry worker may settle it first.
    assert!(
        matches!(r.body["status"].as_str(), Some("unknown" | "expired")),
        "hang: {}",
        r.body
    );
    h.resolved(id).await;
    // The QR's own deadline passed meanwhile: the bank says expired (a sync that came just
    // before the bank's own expiry sees the QR still open and leaves it to the expiry worker).
    let seen = h.wait(id, 10).await;
    assert_eq!(seen["status"], "expired", "hang: {seen}");
}

async fn a_refund_the_bank_never_answered_is_resolved_by_sync(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let p = h.create(1000, "normal").await;
    let id = p["id"].as_str().unwrap();
    h.pay(id, false).await;
    assert_eq!(h.wait(id, 10).await["status"], "paid");
    // Carried out, answer lost: the bank's refund status completes it.
    h.faults(fault("malformed"));
    let r = h.app.refund(id, json!({"amount": 400})).await;
    assert_eq!(r.body["status"], "unknown", "{}", r.body);
    let refund_id = r.body["id"].as_str().unwrap().to_owned();
    h.sync().await;
    h.sync().await;
    let seen = h
        .app
        .get(&format!("/api/v1/refunds/{refund_id}"))
        .await
        .body;
    assert_eq!(seen["status"], "completed", "{seen}");
    // Never reached the bank: it does not know the refund, so qrpay sends it again under the
    // same refundId (safe: the bank deduplicates) and it completes; it is never declined on a
    // failed look-up, which would free an amount the bank may still pay out.
    h.faults(fault("5xx"));
    let r = h.app.refund(id, json!({"amount": 600})).await;
    assert_eq!(r.body["status"], "unknown", "{}", r.body);
    let refund_id = r.body["id"].as_str().unwrap().to_owned();
    h.sync().await;
    h.sync().await;
    let seen = h
        .app
        .get(&format!("/api/v1/refunds/{refund_id}"))
        .await
        .body;
    assert_eq!(seen["status"], "completed", "{seen}");
    let payment = h.app.get(&format!("/api/v1/payments/{id}")).await.body;
    assert_eq!(payment["refunded_amount"], 1000);
}

async fn a_dropped_callback_is_caught_by_polling(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let p = h.create(2500, "normal").await;
    let id = p["id"].as_str().unwrap();
    h.faults(Faults {
        drop_callbacks: 1,
        ..Faults::default()
    });
    h.pay(id, false).await;
    // No callback: the sync worker's poll (first after 2 s) finds the payment paid.
    let seen = h.wait(id, 15).await;
    assert_eq!(seen["status"], "paid", "{seen}");
    assert_eq!(h.emulator().bank.callbacks_delivered(), 0);
}

pub(crate) fn notification(order: &str, amount: &str, status: &str) -> String {
    format!(
        r#"{{"transactionId":7,"qrId":"AD1","sbpMerchantId":"{MERCHANT}","merchantId":1,"amount":{amount},"currency":"RUB","transactionDate":"2026-11-29T18:00:00.123456+03:00","paymentStatus":"{status}","additionalInfo":null,"order":"{order}","createDate":"2026-11-29T17:59:00+03:00"}}"#
    )
}

pub(crate) fn signature_of(amount: &str, order: &str, status: &str) -> String {
    sign(
        SECRET,
        &format!("{amount}|{MERCHANT}|{order}|{status}|2026-11-29T18:00:00.123456+03:00"),
    )
}

pub(crate) async fn post_callback(
    h: &Harness,
    module: &str,
    body: &str,
    signature: Option<&str>,
) -> u16 {
    let mut req = h
        .app
        .client
        .post(format!("{}/api/v1/callbacks/{module}", h.app.base))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(s) = signature {
        req = req.header(SIGNATURE_HEADER, s);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn a_repeated_callback_is_answered_200_and_changes_nothing(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let p = h.create(1010, "normal").await;
    let id = p["id"].as_str().unwrap();
    h.pay(id, false).await;
    assert_eq!(h.wait(id, 10).await["status"], "paid");
    let order = qrpay::db::payment::get_payment(&h.app.db, id)
        .await
        .unwrap()
        .unwrap()
        .order_ref;
    let before = h.app.counts().await;
    let body = notification(&order, "10.10", "SUCCESS");
    let sig = signature_of("10.10", &order, "SUCCESS");
    assert_eq!(
        post_callback(&h, "raiffeisen", &body, Some(&sig)).await,
        200
    );
    assert_eq!(
        post_callback(&h, "raiffeisen", &body, Some(&sig)).await,
        200
    );
    assert_eq!(h.app.counts().await, before);
}

async fn unsigned_forged_and_malformed_callbacks_change_nothing(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    // Stop the emulator's own notifications: only the forged ones below arrive.
    h.emulator().bank.set_callback_url(None);
    let p = h.create(1010, "normal").await;
    let id = p["id"].as_str().unwrap();
    let order = qrpay::db::payment::get_payment(&h.app.db, id)
        .await
        .unwrap()
        .unwrap()
        .order_ref;
    let before = h.app.counts().await;
    let body = notification(&order, "10.10", "SUCCESS");
    assert_eq!(post_callback(&h, "raiffeisen", &body, None).await, 401);
    let forged = sign("not the key", "10.10|x");
    assert_eq!(
        post_callback(&h, "raiffeisen", &body, Some(&forged)).await,
        401
    );
    // Signed for another amount text: the literal amount is what is signed.
    let other_amount = signature_of("10.1", &order, "SUCCESS");
    assert_eq!(
        post_callback(&h, "raiffeisen", &body, Some(&other_amount)).await,
        401
    );
    assert_eq!(
        post_callback(&h, "raiffeisen", "{not json", Some("00")).await,
        400
    );
    assert_eq!(post_callback(&h, "sandbox", &body, Some("00")).await, 404);
    assert_eq!(post_callback(&h, "nope", &body, Some("00")).await, 404);
    // A genuine signature claiming a payment the bank has not seen: the bank is asked, and
    // says the QR is still waiting, so nothing changes either.
    let sig = signature_of("10.10", &order, "SUCCESS");
    assert_eq!(
        post_callback(&h, "raiffeisen", &body, Some(&sig)).await,
        200
    );
    assert_eq!(h.app.counts().await, before);
    let seen = h.app.get(&format!("/api/v1/payments/{id}")).await.body;
    assert_eq!(seen["status"], "pending");
}

async fn a_bank_refusal_fails_the_payment_with_the_banks_message(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    configure(&h.app, &h.emulator().base_url(), "MA999").await;
    let r = h
        .app
        .create_payment_raw(
            &json!({"amount": 100, "receipt": "X", "payment_type": "normal"}).to_string(),
            &new_key(),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (502, "provider_rejected"),
        "{}",
        r.body
    );
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("ERROR.MERCHANT_NOT_REGISTERED"),
        "{message}"
    );
    assert!(!message.contains(SECRET));
}

async fn the_callback_url_is_registered_with_the_bank(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    h.emulator().bank.set_callback_url(None);
    let bank = qrpay::providers::raiffeisen::RaiffeisenBank::new(
        h.app.db.clone(),
        qrpay::providers::raiffeisen::RaiffeisenDefaults::new(None),
    );
    let store = find_store(&h.app.db, None).await.unwrap();
    let url = format!("{}/api/v1/callbacks/raiffeisen", h.app.base);
    assert_eq!(
        bank.register_callback(store.store_id, &url).await.unwrap(),
        url
    );
    assert_eq!(h.emulator().bank.callback_url(), Some(url));
    // And the bank then notifies there.
    let p = h.create(100, "normal").await;
    let id = p["id"].as_str().unwrap();
    h.pay(id, false).await;
    assert_eq!(h.wait(id, 10).await["status"], "paid");
    // The poll worker may have seen `paid` first on a busy machine; the callback still arrives.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while h.emulator().bank.callbacks_delivered() == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(h.emulator().bank.callbacks_delivered(), 1);
}

async fn latency_under_the_timeout_is_only_slower(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    h.faults(Faults {
        latency_ms: 300,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let p = h.create(100, "normal").await;
    assert_eq!(p["status"], "pending");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

async fn a_callback_the_bank_cannot_confirm_yet_is_retried_until_taken(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let p = h.create(4200, "normal").await;
    let id = p["id"].as_str().unwrap();
    // qrpay's status check for the first notification gets a 500: it answers 504, so the
    // emulated bank sends the notification again, and the second one is taken.
    h.faults(fault("5xx"));
    h.pay(id, false).await;
    let seen = h.wait(id, 10).await;
    assert_eq!(seen["status"], "paid", "{seen}");
    assert_eq!(h.emulator().bank.faults().fail_5xx, 0, "the fault was used");
    for _ in 0..50 {
        if h.emulator().bank.callbacks_delivered() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(h.emulator().bank.callbacks_delivered(), 1);
}

async fn a_refund_the_bank_refuses_is_a_conflict_with_the_banks_message(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let p = h.create(1000, "normal").await;
    let id = p["id"].as_str().unwrap();
    h.pay(id, false).await;
    assert_eq!(h.wait(id, 10).await["status"], "paid");
    let order = qrpay::db::payment::get_payment(&h.app.db, id)
        .await
        .unwrap()
        .unwrap()
        .order_ref;
    // Someone refunded 6 ₽ at the bank behind qrpay's back: the bank has 4 ₽ left.
    let r = h
        .app
        .client
        .post(format!("{}/sbp/v1/refund", h.emulator().base_url()))
        .bearer_auth(SECRET)
        .json(&json!({"amount": 6.00, "order": order, "refundId": "elsewhere-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = h.app.refund(id, json!({"amount": 500})).await;
    assert_eq!(
        (r.status, r.code()),
        (409, "refund_exceeds_paid"),
        "{}",
        r.body
    );
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("ERROR.REFUND_INSUFFICIENT_FUNDS"),
        "{message}"
    );
    let seen = h.app.get(&format!("/api/v1/payments/{id}")).await.body;
    assert_eq!(seen["refunded_amount"], 0, "the refused amount is released");
    let (status, ok) = h.refund_settled(id, json!({"amount": 400})).await;
    assert_eq!(
        (status, ok["status"].as_str()),
        (201, Some("completed")),
        "{ok}"
    );
}

/// The emulator alone, over HTTP: the documented validations and error codes.
#[tokio::test]
async fn the_emulator_enforces_the_documented_validations_and_error_codes() {
    let emu = qrpay::emulator::spawn(
        EmulatorConfig {
            merchant_id: MERCHANT.into(),
            secret_key: SECRET.into(),
            callback_url: None,
            faults: Faults::default(),
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let base = emu.base_url();
    let future = (chrono::Utc::now() + chrono::Duration::minutes(5)).to_rfc3339();
    let register = |body: Value| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let r = client
                .post(format!("{base}/sbp/v2/qrs"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let dynamic = |order: &str| {
        json!({"qrType": "QRDynamic", "sbpMerchantId": MERCHANT, "order": order,
               "amount": 10.5, "currency": "RUB", "qrExpirationDate": future})
    };
    let code_of = |v: &(u16, Value)| v.1["code"].as_str().unwrap_or("").to_owned();

    let ok = register(dynamic("order-1")).await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    let qr_id = ok.1["qrId"].as_str().unwrap().to_owned();
    assert_eq!(ok.1["qrStatus"], "NEW");
    assert!(ok.1["payload"].as_str().unwrap().contains("sum=1050"));

    let mut bad_order = dynamic("");
    bad_order["order"] = json!("with space");
    assert_eq!(code_of(&register(bad_order).await), "ERROR.INVALID_ORDER");
    assert_eq!(
        code_of(&register(dynamic(&"x".repeat(41))).await),
        "ERROR.INVALID_ORDER"
    );
    let mut no_amount = dynamic("order-2");
    no_amount.as_object_mut().unwrap().remove("amount");
    assert_eq!(
        code_of(&register(no_amount).await),
        "ERROR.DYNAMIC_QR_WITHOUT_AMOUNT"
    );
    let mut past = dynamic("order-3");
    past["qrExpirationDate"] = json!("2020-01-01T00:00:00+03:00");
    assert_eq!(
        code_of(&register(past).await),
        "ERROR.QR_EXPIRATION_DATE_NOT_VALID"
    );
    let mut other_merchant = dynamic("order-4");
    other_merchant["sbpMerchantId"] = json!("MA1");
    assert_eq!(
        code_of(&register(other_merchant).await),
        "ERROR.MERCHANT_NOT_REGISTERED"
    );
    let mut fractional = dynamic("order-5");
    fractional["amount"] = json!(1.005);
    assert_eq!(
        code_of(&register(fractional).await),
        "ERROR.INVALID_REQUEST"
    );

    // Status calls need the bearer key.
    let status_url = format!("{base}/sbp/v2/qrs/{qr_id}");
    assert_eq!(client.get(&status_url).send().await.unwrap().status(), 401);
    let wrong = client
        .get(&status_url)
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let unknown: Value = client
        .get(format!("{base}/sbp/v1/qr/ADNOPE/payment-info"))
        .bearer_auth(SECRET)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unknown["code"], "ERROR.NOT_FOUND");

    // Pay, then the order cannot be registered again; refunds stop at what is left.
    emu.bank.pay(&qr_id, Some(1050), false).unwrap();
    assert_eq!(
        code_of(&register(dynamic("order-1")).await),
        "ERROR.ORDER_NUMBER_ALREADY_REGISTERED"
    );
    let refund = |id: &str, amount: f64| {
        let (client, base, id) = (client.clone(), base.clone(), id.to_owned());
        async move {
            client
                .post(format!("{base}/sbp/v1/refund"))
                .bearer_auth(SECRET)
                .json(&json!({"amount": amount, "order": "order-1", "refundId": id}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(refund("r-1", 10.0).await["refundStatus"], "IN_PROGRESS");
    assert_eq!(
        refund("r-2", 0.6).await["code"],
        "ERROR.REFUND_INSUFFICIENT_FUNDS"
    );
    assert_eq!(refund("r-3", 0.5).await["refundStatus"], "IN_PROGRESS");
    let missing: Value = client
        .get(format!("{base}/sbp/v1/refund/nope"))
        .bearer_auth(SECRET)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(missing["code"], "ERROR.REFUND_NOT_FOUND");

    // An expired QR cannot be paid.
    let mut short = dynamic("order-6");
    short["qrExpirationDate"] =
        json!((chrono::Utc::now() + chrono::Duration::milliseconds(300)).to_rfc3339());
    let short = register(short).await;
    let short_id = short.1["qrId"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (_, code, _) = emu.bank.pay(&short_id, Some(1050), false).unwrap_err();
    assert_eq!(code, "ERROR.WRONG_QR_STATUS");
    let info: Value = client
        .get(format!("{base}/sbp/v2/qrs/{short_id}"))
        .bearer_auth(SECRET)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["qrStatus"], "EXPIRED");
}

#[test]
fn the_openapi_document_lists_the_callback_route() {
    let doc = serde_json::to_value(qrpay::http::openapi()).unwrap();
    let route = &doc["paths"]["/api/v1/callbacks/{module}"]["post"];
    assert!(route.is_object(), "callback route missing");
    for status in ["200", "400", "401", "404", "504"] {
        assert!(route["responses"][status].is_object(), "{status} missing");
    }
    assert!(
        doc["paths"]["/api/v1/payments"].is_object(),
        "till routes kept"
    );
}
