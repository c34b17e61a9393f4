//! «Сверка» in the console: support uploads the bank's registry as a browser without JavaScript
//! does (a multipart form post), lands on the kept comparison with its differences in words, and
//! sees it listed; garbage gets a message next to the form; a viewer may not reconcile.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::helpers::console::{Answer, Console, text_of};
use crate::providers::Harness;
use crate::reconcile::{order_of, paid, registry};
use qrpay::emulator::Faults;
use qrpay::providers::raiffeisen::wire::RaiffeisenQrStatus;
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, REFERER};

both_backends!(
    support_uploads_a_registry_and_sees_what_differs,
    asking_the_bank_settles_a_payment_paid_at_the_bank_as_late_and_refunds_it,
);

/// The upload form's post: the file as the `registry` field of a multipart body.
async fn upload(c: &Console<'_>, session: &str, name: &str, bytes: &[u8]) -> Answer {
    let boundary = "----qrpay-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"registry\"; filename=\"{name}\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = c
        .http
        .post(format!("{}/console/reconcile/upload", c.app.base))
        .header(ACCEPT, "text/html")
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(REFERER, format!("{}/console/reconcile", c.app.base))
        .header("origin", &c.app.base)
        .header(COOKIE, session)
        .body(body);
    Console::answer(r).await
}

async fn support_uploads_a_registry_and_sees_what_differs(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let id = paid(&h, 1000).await;
    let order = order_of(&h, &id).await;
    let c = Console::new(&h.app);
    let support = c.user("sup", "support").await;

    let page = c.get("/console/reconcile", Some(&support)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-testid=\"reconcile-form\""));
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    assert!(page.body.contains("data-testid=\"no-reconciliations\""));

    let bytes = registry(
        "MA0000000552",
        &[
            ("Payment", &order, "", 1200),
            ("Payment", "q-not-ours", "", 500),
        ],
        None,
    );
    let posted = upload(&c, &support, "registry-today.csv", &bytes).await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    assert!(
        posted.location.starts_with("/console/reconcile?id="),
        "{}",
        posted.location
    );
    let shown = c.get(&posted.location, Some(&support)).await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.contains("data-testid=\"reconciliation\""));
    assert!(
        shown.body.contains("data-kind=\"amount_differs\""),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("Сумма платежа различается"));
    assert!(
        shown
            .body
            .contains("data-kind=\"paid_at_bank_not_in_qrpay\"")
    );
    assert!(shown.body.contains("q-not-ours"));
    assert!(shown.body.contains("data-testid=\"reconciliation-row\""));
    assert!(shown.body.contains("registry-today.csv"));

    // Not a registry: back to the form with a message, nothing kept.
    let garbage = upload(&c, &support, "photo.csv", b"hello;world\n").await;
    assert_eq!(garbage.location, "/console/reconcile?failed=not_registry");
    let page = c.get(&garbage.location, Some(&support)).await;
    assert!(
        text_of(&page.body, "reconcile-error").is_some_and(|t| t.contains("не реестр")),
        "{}",
        page.body
    );

    // A viewer may not reconcile.
    let viewer = c.user("view", "viewer").await;
    assert_eq!(upload(&c, &viewer, "r.csv", &bytes).await.status, 403);
}

/// A payment qrpay expired that the customer paid at the bank anyway (its notification lost):
/// the registry lists it paid; support asks the bank from the comparison (a confirmation step,
/// then a form post as without JavaScript) and the payment becomes paid, late, and is refunded
/// by the store's rule; audited. Asked about an unpaid one, the bank issues nothing payable and
/// nothing changes.
async fn asking_the_bank_settles_a_payment_paid_at_the_bank_as_late_and_refunds_it(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let late = h.create(1500, "fast").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let unpaid = h.create(700, "fast").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(h.wait(&late, 15).await["status"], "expired");
    assert_eq!(h.wait(&unpaid, 15).await["status"], "expired");
    h.faults(Faults {
        drop_callbacks: 1,
        ..Faults::default()
    });
    h.pay(&late, true).await;
    h.sync().await;
    let seen = h.app.get(&format!("/api/v1/payments/{late}")).await.body;
    assert_eq!(seen["status"], "expired", "{seen}");
    let (late_order, unpaid_order) = (order_of(&h, &late).await, order_of(&h, &unpaid).await);

    let c = Console::new(&h.app);
    let support = c.user("sup", "support").await;
    let bytes = registry(
        "MA0000000552",
        &[
            ("Payment", &late_order, "", 1500),
            ("Payment", &unpaid_order, "", 700),
        ],
        None,
    );
    let posted = upload(&c, &support, "registry.csv", &bytes).await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    let shown = c.get(&posted.location, Some(&support)).await;
    assert_eq!(
        shown.body.matches("data-testid=\"ask-bank-link\"").count(),
        2,
        "{}",
        shown.body
    );
    let id = posted
        .location
        .trim_start_matches("/console/reconcile?id=")
        .to_owned();

    // The link shows the confirmation step; nothing is asked yet.
    let confirm_page = format!("/console/reconcile?id={id}&ask={late}");
    let confirm = c.get(&confirm_page, Some(&support)).await;
    assert!(
        confirm.body.contains("data-testid=\"ask-bank-form\""),
        "{}",
        confirm.body
    );
    assert_eq!(
        h.app.get(&format!("/api/v1/payments/{late}")).await.body["status"],
        "expired"
    );

    // The form's post, as a browser without JavaScript makes it.
    let ask = |payment: &str, session: &str| {
        let form = [("id", id.clone()), ("payment_id", payment.to_owned())];
        let (c, page, session) = (&c, confirm_page.clone(), session.to_owned());
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.post_fn("ask_bank_about_payment", &page, &form, &session)
                .await
        }
    };
    // A viewer may not; a payment the comparison did not find is not asked about.
    let viewer = c.user("view", "viewer").await;
    let refused = ask(&late, &viewer).await;
    assert_ne!(refused.status, 303, "{}", refused.location);
    let other = h.create(300, "normal").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stray = ask(&other, &support).await;
    assert!(!stray.location.contains("outcome="), "{}", stray.location);

    let asked = ask(&late, &support).await;
    assert_eq!(
        asked.location,
        format!("/console/reconcile?id={id}&asked={late}&outcome=paid_late_refunded"),
        "{}",
        asked.body
    );
    let seen = h.app.get(&format!("/api/v1/payments/{late}")).await.body;
    assert_eq!(
        (seen["status"].as_str(), seen["late"].as_bool()),
        (Some("paid"), Some(true)),
        "{seen}"
    );
    assert_eq!(seen["refunded_amount"], 1500, "{seen}");
    let page = c.get(&asked.location, Some(&support)).await;
    assert!(
        text_of(&page.body, "ask-bank-outcome")
            .is_some_and(|t| t.contains("возвращается покупателю")),
        "{}",
        page.body
    );
    let store = qrpay::db::store::find_store(&h.app.db, None).await.unwrap();
    let audit = qrpay::db::audit::latest(&h.app.db, store.store_id, 20)
        .await
        .unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == "ask_bank" && e.entity_id == late)
        .expect("the action is audited");
    assert_eq!(entry.login, "sup");
    assert!(
        entry
            .after
            .as_deref()
            .unwrap()
            .contains("paid_late_refunded"),
        "{entry:?}"
    );

    // Unpaid at the bank: nothing changes, and the QR the bank answered with is annulled.
    let asked = ask(&unpaid, &support).await;
    assert!(
        asked.location.ends_with("&outcome=not_paid"),
        "{}",
        asked.location
    );
    assert_eq!(
        h.app.get(&format!("/api/v1/payments/{unpaid}")).await.body["status"],
        "expired"
    );
    let qrs = h.emulator().bank.qrs_of_order(&unpaid_order);
    assert!(
        qrs.iter().all(|(_, s)| matches!(
            s,
            RaiffeisenQrStatus::Cancelled | RaiffeisenQrStatus::Expired
        )),
        "{qrs:?}"
    );
}
