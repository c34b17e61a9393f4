//! Finding 4: a no-JavaScript post's error travels back in the URL (`__err`) and the page
//! trusted it: a crafted link showed «Вернуть 0,01 ₽?» over hidden fields refunding 123,45 ₽,
//! and pre-filled «Параметры магазина» with an attacker's addresses. Now a page shows an error
//! and typed-back values only from the session's flash, which the server wrote itself; and a
//! confirmation is server state: the question, its amount and a one-time token are kept in the
//! session, the confirm post carries only the payment and the token, and refunds exactly what
//! was shown, once.

use crate::console_support::{ask, confirm};
use crate::helpers::TestApp;
use crate::helpers::console::{Console, text_of};
use app::error::{ConsoleError, FormErrors};
use app::i18n::Msg;
use leptos::server_fn::error::ServerFnUrlError;

fn forged(page: &str, fn_path: &str, form: Option<Msg>, values: &[(&str, &str)]) -> String {
    let err = ConsoleError::Invalid(FormErrors {
        form,
        fields: Vec::new(),
        values: values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    });
    let url = ServerFnUrlError::new(fn_path, err)
        .to_url(&format!("http://x{page}"))
        .unwrap();
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

async fn a_crafted_link_shows_no_confirmation_and_prefills_nothing(app: TestApp) {
    let c = Console::new(&app);
    let admin = c.user("root", "admin").await;
    let id = app.paid_payment(50_000).await;
    let page = format!("/console/transactions/{id}?confirm=refund");
    let link = forged(
        &page,
        "/console/fn/refund_payment",
        Some(Msg::RefundNeedsConfirm),
        &[
            ("confirm_amount", "1"),
            ("mode", "part"),
            ("amount", "123,45"),
            ("nonce", "evilnonce1"),
            ("token", "eviltoken1"),
        ],
    );
    let shown = c.get(&link, Some(&admin)).await;
    assert_eq!(shown.status, 200);
    assert!(
        text_of(&shown.body, "refund-question").is_none(),
        "a crafted link showed a refund confirmation"
    );
    assert!(
        !shown.body.contains("name=\"token\""),
        "no confirmation form"
    );
    assert!(!shown.body.contains("123,45") && !shown.body.contains("eviltoken1"));

    let link = forged(
        "/console/store",
        "/console/fn/save_store_settings",
        Some(Msg::BadRequest),
        &[
            ("integrator_url", "https://attacker.example/hook"),
            ("amqp_url", "amqp://attacker.example/"),
        ],
    );
    let store = c.get(&link, Some(&admin)).await;
    assert_eq!(store.status, 200);
    assert!(
        !store.body.contains("attacker.example"),
        "a crafted link pre-filled the store settings"
    );
}

async fn the_real_confirmation_shows_from_the_session_and_refunds_what_it_showed(app: TestApp) {
    let c = Console::new(&app);
    let s = c.user("sofia", "support").await;
    let id = app.paid_payment(50_000).await;
    let form = [
        ("payment_id", id.as_str()),
        ("mode", "part"),
        ("amount", "12,50"),
        ("reason", ""),
    ];
    let (page, token) = ask(&c, &s, "refund_payment", &id, &form).await;
    assert_eq!(
        text_of(&page, "refund-question").as_deref(),
        Some("Вернуть 12,50\u{a0}₽?")
    );
    assert!(
        !page.contains("name=\"amount\" value=\"12,50\""),
        "no amount in the form"
    );
    // A confirm post that also carries another amount refunds what was shown.
    let done = c
        .post_fn(
            "confirm_action",
            &format!("/console/transactions/{id}"),
            &[
                ("payment_id", id.as_str()),
                ("token", token.as_str()),
                ("mode", "part"),
                ("amount", "123,45"),
            ],
            &s,
        )
        .await;
    assert!(done.error().is_none(), "{:?}", done.error());
    assert_eq!(refunded(&app, &id).await, 1250);
    // The question is gone with its token.
    let again = c
        .get(
            &format!("/console/transactions/{id}?confirm=refund"),
            Some(&s),
        )
        .await
        .body;
    assert!(text_of(&again, "refund-question").is_none());
}

async fn a_used_foreign_or_wrong_token_refunds_nothing_and_says_so(app: TestApp) {
    let c = Console::new(&app);
    let s = c.user("sofia", "support").await;
    let id = app.paid_payment(50_000).await;
    let other = app.paid_payment(50_000).await;
    let form = [("payment_id", id.as_str()), ("mode", "full")];

    let (_, token) = ask(&c, &s, "refund_payment", &id, &form).await;
    let wrong = confirm(&c, &s, &id, "0123456789abcdef0123456789abcdef").await;
    assert_eq!(wrong.form_message(), Some(Msg::ConfirmationGone));
    let late = confirm(&c, &s, &id, &token).await;
    assert_eq!(
        late.form_message(),
        Some(Msg::ConfirmationGone),
        "a wrong token ends the question"
    );

    let (_, token) = ask(&c, &s, "refund_payment", &id, &form).await;
    let foreign = confirm(&c, &s, &other, &token).await;
    assert_eq!(foreign.form_message(), Some(Msg::ConfirmationGone));
    assert_eq!(refunded(&app, &id).await, 0);
    assert_eq!(refunded(&app, &other).await, 0);

    let (_, token) = ask(&c, &s, "refund_payment", &id, &form).await;
    let done = confirm(&c, &s, &id, &token).await;
    assert!(done.error().is_none(), "{:?}", done.error());
    let twice = confirm(&c, &s, &id, &token).await;
    assert_eq!(twice.form_message(), Some(Msg::ConfirmationGone));
    let page = c.follow(&twice, &s).await;
    assert_eq!(
        text_of(&page, "action-error").as_deref(),
        Some("Это подтверждение уже использовано или устарело: ничего не сделано.")
    );
    assert_eq!(refunded(&app, &id).await, 50_000, "refunded once");
    assert_eq!(
        qrpay::db::refund::refunds_of(&app.db, &id)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn refunded(app: &TestApp, id: &str) -> i64 {
    qrpay::db::payment::get_payment(&app.db, id)
        .await
        .unwrap()
        .unwrap()
        .refunded_amount
}

crate::both_backends!(
    a_crafted_link_shows_no_confirmation_and_prefills_nothing,
    the_real_confirmation_shows_from_the_session_and_refunds_what_it_showed,
    a_used_foreign_or_wrong_token_refunds_nothing_and_says_so,
);
