//! Finding 4: a no-JavaScript post's error travels back in the URL (`__err`) and the page
//! trusted it: a crafted link showed «Вернуть 0,01 ₽?» over hidden fields refunding 123,45 ₽,
//! and pre-filled «Параметры магазина» with an attacker's addresses. Now a page shows an error
//! and typed-back values only from the session's flash, which the server wrote itself.

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
    let page = format!("/console/transactions/{id}");
    let link = forged(
        &page,
        "/console/fn/refund_payment",
        Some(Msg::RefundNeedsConfirm),
        &[
            ("confirm_amount", "1"),
            ("mode", "part"),
            ("amount", "123,45"),
            ("nonce", "evilnonce1"),
        ],
    );
    let shown = c.get(&link, Some(&admin)).await;
    assert_eq!(shown.status, 200);
    assert!(
        text_of(&shown.body, "refund-question").is_none(),
        "a crafted link showed a refund confirmation"
    );
    assert!(!shown.body.contains("123,45") && !shown.body.contains("evilnonce1"));

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

async fn the_real_confirmation_shows_once_from_the_session(app: TestApp) {
    let c = Console::new(&app);
    let s = c.user("sofia", "support").await;
    let id = app.paid_payment(50_000).await;
    let from = format!("/console/transactions/{id}");
    let form = [
        ("payment_id", id.as_str()),
        ("mode", "part"),
        ("amount", "12,50"),
        ("reason", ""),
        ("nonce", "realnonce1"),
    ];
    let ask = c
        .post("/console/fn/refund_payment", &from, &form, Some(&s))
        .await;
    assert_eq!(ask.form_message(), Some(Msg::RefundNeedsConfirm));
    let page = c
        .get(&ask.location.replace(&app.base, ""), Some(&s))
        .await
        .body;
    assert_eq!(
        text_of(&page, "refund-question").as_deref(),
        Some("Вернуть 12,50\u{a0}₽?")
    );
    // The flash is read once: the same link again shows the plain page.
    let again = c
        .get(&ask.location.replace(&app.base, ""), Some(&s))
        .await
        .body;
    assert!(text_of(&again, "refund-question").is_none());
}

crate::both_backends!(
    a_crafted_link_shows_no_confirmation_and_prefills_nothing,
    the_real_confirmation_shows_once_from_the_session,
);
