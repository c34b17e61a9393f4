//! Issue 14 part 1: support actions on the transaction page — cancel a pending payment (the QR is
//! annulled at the bank, the till's long-poll answers `cancelled`), «Спросить банк» (the sync
//! worker's question, asked now; the page shows what the bank said), «Отправить события заново»
//! (the outbox replay) — each for support and admin only, through the one confirmation step,
//! and audited.

use crate::events::{drain, relay, set_url, setup, with_broker};
use crate::helpers::console::{Answer, Console, text_of};
use crate::helpers::{Backend, TestApp, fresh_database, spawn_app_on};
use crate::providers::{Harness, fault};
use app::error::ConsoleError;
use app::i18n::Msg;
use qrpay::emulator::Faults;
use qrpay::events::broker::Subscriber;
use qrpay::providers::raiffeisen::wire::RaiffeisenQrStatus;
use serde_json::json;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Both backends, on an app whose workers are off: only the console asks the bank.
macro_rules! quiet_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = super::quiet(super::Backend::Sqlite).await {
                    super::$name(app).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = super::quiet(super::Backend::Postgres).await {
                    super::$name(app).await
                }
            }
        }
    )*};
}

async fn quiet(backend: Backend) -> Option<TestApp> {
    let (url, dir) = fresh_database(backend).await?;
    Some(spawn_app_on(&url, dir, false).await)
}

crate::both_backends!(a_late_payment_says_why_and_what_was_done_and_the_journal_speaks_in_words,);
quiet_backends!(
    support_cancels_a_pending_payment_the_bank_annuls_its_qr_and_the_till_hears_cancelled,
    asking_the_bank_applies_what_it_says_and_the_page_shows_it,
    asking_the_bank_about_a_refund_in_doubt_settles_it,
    a_viewer_can_neither_ask_for_nor_confirm_a_support_action,
);
with_broker!(republishing_sends_the_payments_events_again_with_their_message_ids);

/// The hidden one-time token of the page's confirmation form.
pub fn token_of(page: &str) -> Option<String> {
    let at = page.find("name=\"token\"")?;
    let rest = &page[at..];
    let rest = &rest[rest.find("value=\"")? + 7..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// Asks for an action with `form` posted to `name` from the payment's page; returns the page
/// the console sends the browser to (with the question) and its token.
pub async fn ask(
    c: &Console<'_>,
    s: &str,
    name: &str,
    id: &str,
    form: &[(&str, &str)],
) -> (String, String) {
    let from = format!("/console/transactions/{id}");
    let a = c.post_fn(name, &from, form, s).await;
    assert_eq!(a.status, 302, "{:?}", a.error());
    assert!(a.error().is_none(), "{:?}", a.error());
    let page = c.follow(&a, s).await;
    let token = token_of(&page).expect("a confirmation form with its token");
    (page, token)
}

pub async fn confirm(c: &Console<'_>, s: &str, id: &str, token: &str) -> Answer {
    c.post_fn(
        "confirm_action",
        &format!("/console/transactions/{id}"),
        &[("payment_id", id), ("token", token)],
        s,
    )
    .await
}

/// Saves the store's settings as an admin does: renamed «Магазин у дома», late payments no
/// longer refunded (the form's box left unticked) — a change the journal tells in words.
pub async fn rename_store(app: &TestApp, c: &Console<'_>, admin: &str) {
    let code = qrpay::db::store::find_store(&app.db, None)
        .await
        .unwrap()
        .code;
    let a = c
        .post_fn(
            "save_store_settings",
            "/console/store",
            &[
                ("name", "Магазин у дома"),
                ("code", code.as_str()),
                ("integrator_url", ""),
                ("rabbitmq_url", ""),
                ("time_zone", "Europe/Moscow"),
            ],
            admin,
        )
        .await;
    assert!(a.error().is_none(), "{:?}", a.error());
}

/// The audit rows of `action` on the payment: (login, before JSON, after JSON).
async fn audit_rows(app: &TestApp, action: &str, id: &str) -> Vec<(String, String, String)> {
    qrpay::db::audit::latest(&app.db, 1, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == action && r.entity == "payment" && r.entity_id == id)
        .map(|r| {
            (
                r.login,
                r.before.unwrap_or_default(),
                r.after.unwrap_or_default(),
            )
        })
        .collect()
}

async fn status(app: &TestApp, id: &str) -> String {
    qrpay::db::payment::get_payment(&app.db, id)
        .await
        .unwrap()
        .unwrap()
        .status
}

async fn support_cancels_a_pending_payment_the_bank_annuls_its_qr_and_the_till_hears_cancelled(
    app: TestApp,
) {
    let h = Harness::raiffeisen(app).await;
    let app = &h.app;
    let c = Console::new(app);
    let s = c.user("sofia", "support").await;
    let p = h.create(2_345, "normal").await;
    let id = p["id"].as_str().unwrap().to_owned();
    assert_eq!(p["status"], "pending", "{p}");
    let page = c
        .get(&format!("/console/transactions/{id}"), Some(&s))
        .await
        .body;
    assert!(
        page.contains("data-testid=\"qr-preview\""),
        "a live QR is shown"
    );

    // The till waits for the outcome.
    let poll = {
        let (client, base, key) = (app.client.clone(), app.base.clone(), app.key.clone());
        let id = id.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let r = client
                .get(format!("{base}/api/v1/payments/{id}?wait=30"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            let body: serde_json::Value = r.json().await.unwrap();
            (body, started.elapsed())
        })
    };

    let (question, token) = ask(&c, &s, "cancel_payment", &id, &[("payment_id", &id)]).await;
    assert_eq!(
        text_of(&question, "cancel-question").as_deref(),
        Some(
            "Отменить оплату 23,45\u{a0}₽? QR-код будет аннулирован в банке, касса получит ответ «отменена»."
        )
    );
    assert_eq!(
        status(app, &id).await,
        "pending",
        "nothing before confirmation"
    );

    let done = confirm(&c, &s, &id, &token).await;
    assert!(done.error().is_none(), "{:?}", done.error());
    assert!(done.location.ends_with("?done=cancel"), "{}", done.location);
    let (polled, waited) = poll.await.unwrap();
    assert_eq!(polled["status"], "cancelled", "{polled}");
    assert!(
        waited < Duration::from_secs(20),
        "the long-poll woke at once"
    );
    let row = qrpay::db::payment::get_payment(&app.db, &id)
        .await
        .unwrap()
        .unwrap();
    let at_bank = h.emulator().bank.qrs_of_order(&row.order_ref);
    assert_eq!(at_bank.len(), 1);
    assert_eq!(
        at_bank[0].1,
        RaiffeisenQrStatus::Cancelled,
        "annulled at the bank"
    );

    let page = c.follow(&done, &s).await;
    assert_eq!(
        text_of(&page, "outcome").as_deref(),
        Some("Оплата отменена, QR-код аннулирован в банке. ")
    );
    assert_eq!(text_of(&page, "detail-status").as_deref(), Some("отменена"));
    assert!(
        !page.contains("data-testid=\"qr-preview\""),
        "no scannable QR"
    );
    assert_eq!(
        text_of(&page, "qr-void-label").as_deref(),
        Some("не действует")
    );
    assert!(
        page.contains("Отменена в консоли, QR аннулирован (sofia)"),
        "{page}"
    );

    let rows = audit_rows(app, "cancel", &id).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, "sofia");
    assert!(rows[0].1.contains("\"pending\"") && rows[0].2.contains("\"cancelled\""));

    // The same confirmation again: nothing more, and it says so.
    let again = confirm(&c, &s, &id, &token).await;
    assert_eq!(again.form_message(), Some(Msg::ConfirmationGone));
    assert_eq!(audit_rows(app, "cancel", &id).await.len(), 1);
    // An ended payment cannot be cancelled.
    let refused = c
        .post_fn(
            "cancel_payment",
            &format!("/console/transactions/{id}"),
            &[("payment_id", &id)],
            &s,
        )
        .await;
    assert_eq!(refused.form_message(), Some(Msg::CancelNotOpen));
}

async fn asking_the_bank_applies_what_it_says_and_the_page_shows_it(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let app = &h.app;
    let c = Console::new(app);
    let s = c.user("adam", "admin").await;

    // A pending payment the customer paid without qrpay hearing of it.
    let p = h.create(1_500, "normal").await;
    let id = p["id"].as_str().unwrap().to_owned();
    let (_, token) = ask(&c, &s, "ask_bank", &id, &[("payment_id", &id)]).await;
    let done = confirm(&c, &s, &id, &token).await;
    assert!(done.error().is_none(), "{:?}", done.error());
    let page = c.follow(&done, &s).await;
    assert_eq!(
        text_of(&page, "outcome").as_deref(),
        Some("Банк: QR-код ждёт оплаты. ")
    );
    assert_eq!(status(app, &id).await, "pending");

    h.faults(Faults {
        drop_callbacks: 1,
        ..Faults::default()
    });
    let qr_id = qrpay::db::payment::get_payment(&app.db, &id)
        .await
        .unwrap()
        .unwrap()
        .qr_id
        .unwrap();
    let paid = h
        .emulator_post(
            "/api/nspc-mock/v01/rfuture/payment/init",
            json!({"qrId": qr_id, "amount": 15.0}),
        )
        .await;
    assert_eq!(paid.status(), 200);
    assert_eq!(status(app, &id).await, "pending", "no callback came");
    let (question, token) = ask(&c, &s, "ask_bank", &id, &[("payment_id", &id)]).await;
    assert_eq!(
        text_of(&question, "ask-question").as_deref(),
        Some("Спросить банк о состоянии оплаты сейчас?")
    );
    let done = confirm(&c, &s, &id, &token).await;
    assert!(done.error().is_none(), "{:?}", done.error());
    assert_eq!(
        status(app, &id).await,
        "paid",
        "what the bank said is applied"
    );
    let page = c.follow(&done, &s).await;
    assert_eq!(text_of(&page, "ask-done").as_deref(), Some(""));
    assert!(page.contains("Банк: оплачено."), "{page}");
    assert_eq!(text_of(&page, "detail-status").as_deref(), Some("оплачена"));

    // In doubt with no QR known: asked by its order, as the sync worker does.
    h.faults(fault("malformed"));
    let p = h.create(1_500, "normal").await;
    assert_eq!(p["status"], "unknown", "{p}");
    let doubt = p["id"].as_str().unwrap().to_owned();
    let (_, token) = ask(&c, &s, "ask_bank", &doubt, &[("payment_id", &doubt)]).await;
    let done = confirm(&c, &s, &doubt, &token).await;
    assert!(done.error().is_none(), "{:?}", done.error());
    assert_eq!(
        status(app, &doubt).await,
        "pending",
        "the bank's QR adopted"
    );
    let page = c.follow(&done, &s).await;
    assert!(
        page.contains("Банк: по этому заказу выдан QR-код, он ждёт оплаты."),
        "{page}"
    );

    let rows = audit_rows(app, "ask_bank", &id).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r.0 == "adam"));
    assert!(rows[0].2.contains("\"BankSaysPaid\""), "{rows:?}");
    // Nothing to ask about a paid payment.
    let nothing = c
        .post_fn(
            "ask_bank",
            &format!("/console/transactions/{id}"),
            &[("payment_id", &id)],
            &s,
        )
        .await;
    assert_eq!(nothing.form_message(), Some(Msg::AskBankNothing));
}

async fn a_viewer_can_neither_ask_for_nor_confirm_a_support_action(app: TestApp) {
    let c = Console::new(&app);
    let v = c.user("vera", "viewer").await;
    let s = c.user("sofia", "support").await;
    let p = app.create_payment(1_000).await;
    let id = p["id"].as_str().unwrap().to_owned();
    let page = c
        .get(&format!("/console/transactions/{id}"), Some(&v))
        .await
        .body;
    assert!(
        !page.contains("data-testid=\"support\""),
        "no support card for a viewer"
    );
    for name in ["cancel_payment", "ask_bank", "republish_events"] {
        let a = c
            .post_fn(
                name,
                &format!("/console/transactions/{id}"),
                &[("payment_id", &id)],
                &v,
            )
            .await;
        assert_eq!(a.error(), Some(ConsoleError::Forbidden), "{name}");
    }
    // A support user's token is of no use in a viewer's hands (nor in another session).
    let (_, token) = ask(&c, &s, "cancel_payment", &id, &[("payment_id", &id)]).await;
    let a = confirm(&c, &v, &id, &token).await;
    assert_eq!(a.error(), Some(ConsoleError::Forbidden));
    assert_eq!(status(&app, &id).await, "pending");
    let other = c.session_of("sofia").await;
    let a = confirm(&c, &other, &id, &token).await;
    assert_eq!(a.form_message(), Some(Msg::ConfirmationGone));
    assert_eq!(status(&app, &id).await, "pending");
    assert!(audit_rows(&app, "cancel", &id).await.is_empty());
}

async fn republishing_sends_the_payments_events_again_with_their_message_ids(
    app: TestApp,
    amqp: String,
) {
    set_url(&app, Some(&amqp)).await;
    let id = app.paid_payment(1_000).await;
    app.refund(&id, json!({"amount": 300})).await;
    drain(&mut relay(&app), &app).await;
    let published: Vec<String> = qrpay::db::outbox::states(&app.db)
        .await
        .unwrap()
        .into_iter()
        .zip(qrpay::db::outbox::payloads(&app.db).await.unwrap())
        .filter(|(_, p)| {
            let v: serde_json::Value = serde_json::from_str(p).unwrap();
            v["payment"]["id"] == id.as_str() || v["refund"]["payment_id"] == id.as_str()
        })
        .map(|(s, _)| s.event_id)
        .collect();
    assert_eq!(
        published.len(),
        4,
        "created, paid, refund created and completed"
    );
    // The consumer lost its queue: a new one sees only what is published from now on.
    let mut sub = Subscriber::bind_keys(&amqp, &["payment.*", "refund.*"])
        .await
        .unwrap();

    let c = Console::new(&app);
    let s = c.user("sofia", "support").await;
    let (question, token) = ask(&c, &s, "republish_events", &id, &[("payment_id", &id)]).await;
    assert_eq!(
        text_of(&question, "republish-question").as_deref(),
        Some("Отправить в RabbitMQ заново события этой транзакции, штук: 4?")
    );
    let done = confirm(&c, &s, &id, &token).await;
    assert!(done.error().is_none(), "{:?}", done.error());
    let watched: HashSet<String> = published.iter().cloned().collect();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while got.len() < 4 && Instant::now() < deadline {
        if let Some(m) = sub.next(Duration::from_secs(1)).await {
            let mid = m.unwrap().message_id.unwrap_or_default();
            if watched.contains(&mid) {
                got.push(mid);
            }
        }
    }
    assert_eq!(
        got, published,
        "the same messages, in the order they were written"
    );
    let page = c.follow(&done, &s).await;
    assert_eq!(
        text_of(&page, "outcome").as_deref(),
        Some("События отправлены заново, штук: ")
    );
    assert_eq!(text_of(&page, "outcome-detail").as_deref(), Some("4"));
    let rows = audit_rows(&app, "republish", &id).await;
    assert_eq!(rows.len(), 1);
    let after: serde_json::Value = serde_json::from_str(&rows[0].2).unwrap();
    assert_eq!(after["events"], 4, "{rows:?}");
}

async fn a_late_payment_says_why_and_what_was_done_and_the_journal_speaks_in_words(app: TestApp) {
    let c = Console::new(&app);
    let s = c.user("sofia", "support").await;
    // Paid after the till cancelled it: refunded in full at once (the store's default).
    let p = app.create_payment(2_000).await;
    let id = p["id"].as_str().unwrap().to_owned();
    assert_eq!(app.cancel(&id).await.body["status"], "cancelled");
    let paid = app.pay(&id).await;
    assert_eq!(paid.body["late"], true, "{}", paid.body);
    let page = c
        .get(&format!("/console/transactions/{id}"), Some(&s))
        .await
        .body;
    assert_eq!(
        text_of(&page, "detail-status").as_deref(),
        Some("возвращена полностью")
    );
    let story = page.replace("<!---->", "").replace("<!>", "");
    assert!(
        story.contains("покупатель оплатил после того, как оплату отменили."),
        "{story}"
    );
    assert!(
        story.contains("qrpay вернул деньги автоматически: 20,00\u{a0}₽ (выполнен)"),
        "{story}"
    );
    assert!(story.contains(">Покупатель оплатил поздно<"), "{story}");
    // In the list too.
    let list = c.get("/console/transactions", Some(&s)).await.body;
    assert!(
        list.contains(">возвращена полностью<"),
        "the list says it in words"
    );

    // The journal: who in words, changes as «поле: было → стало», no JSON.
    let admin = c.user("adam", "admin").await;
    rename_store(&app, &c, &admin).await;
    let journal = c.get("/console/audit", Some(&admin)).await.body;
    let clean = journal.replace("<!---->", "").replace("<!>", "");
    assert!(!clean.contains("{&quot;"), "no JSON: {clean}");
    assert!(clean.contains(">изменение<"), "{clean}");
    assert!(clean.contains(">Магазин #"), "{clean}");
    assert!(
        clean.contains("Название</span>: <span data-testid=\"was\">"),
        "{clean}"
    );
    assert!(
        clean.contains("→ <span data-testid=\"now\">Магазин у дома</span>"),
        "{clean}"
    );
    assert!(clean.contains("Возвращать поздние оплаты</span>: <span data-testid=\"was\">да</span> → <span data-testid=\"now\">нет</span>"), "{clean}");
    assert!(
        clean.contains("data-testid=\"who\">qrpay (автоматически)<"),
        "the late payment's refund is qrpay's own: {clean}"
    );
}

async fn asking_the_bank_about_a_refund_in_doubt_settles_it(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let app = &h.app;
    let c = Console::new(app);
    let s = c.user("sofia", "support").await;
    let p = h.create(3_000, "normal").await;
    let id = p["id"].as_str().unwrap().to_owned();
    h.pay(&id, false).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(app, &id).await != "paid" && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status(app, &id).await, "paid", "the bank's notice came");
    // The refund's answer is lost: it is in doubt.
    h.faults(fault("5xx"));
    let r = app.refund(&id, json!({"amount": 1_000})).await;
    let refund_id = r.body["id"].as_str().unwrap().to_owned();
    let refund = qrpay::db::refund::get_refund(&app.db, &refund_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refund.status, "unknown", "{}", r.body);
    let page = c
        .get(&format!("/console/transactions/{id}"), Some(&s))
        .await
        .body;
    assert!(
        page.contains("data-testid=\"ask-refund-submit\""),
        "beside the refund"
    );

    let form = [
        ("payment_id", id.as_str()),
        ("refund_id", refund_id.as_str()),
    ];
    let (question, token) = ask(&c, &s, "ask_bank", &id, &form).await;
    assert_eq!(
        text_of(&question, "ask-question").as_deref(),
        Some("Спросить банк о состоянии возврата сейчас?")
    );
    let done = confirm(&c, &s, &id, &token).await;
    assert!(done.error().is_none(), "{:?}", done.error());
    let refund = qrpay::db::refund::get_refund(&app.db, &refund_id)
        .await
        .unwrap()
        .unwrap();
    // Sent again (the bank never had it), it is with the bank now: done, or under way.
    let said = match refund.status.as_str() {
        "completed" => "Банк: возврат выполнен.",
        "pending" => "Банк: возврат в обработке.",
        other => panic!("still {other}: not settled as the sync worker would"),
    };
    let page = c.follow(&done, &s).await;
    assert!(page.contains(said), "{page}");
    let rows = audit_rows(app, "ask_bank", &id).await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].2.contains(&refund_id), "{rows:?}");
}
