//! Finding 5: an admin changed only the API address (the empty key field keeps the stored key),
//! pressed «Зарегистрировать callback URL», and the key went as a Bearer header to the new
//! address. Now a new address needs the key typed again, and addresses are https (plain http
//! only to loopback outside production mode).

use crate::helpers::TestApp;
use crate::helpers::console::Console;
use app::error::ConsoleError;
use app::i18n::Msg;

const SAVE: &str = "save_raiffeisen_settings";
const PAGE: &str = "/console/modules";
const SECRET: &str = "eyJhbGciOiJIUzI1NiJ9.console-secret-7f3a";

fn form<'a>(url: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("base", "custom"),
        ("custom_url", url),
        ("sbp_merchant_id", "MA0000000552"),
        ("secret_key", secret),
    ]
}

fn field(a: &crate::helpers::console::Answer, name: &str) -> Option<Msg> {
    match a.error() {
        Some(ConsoleError::Invalid(f)) => f.error(name),
        _ => None,
    }
}

async fn stored_url(app: &TestApp) -> String {
    let store = qrpay::db::store::find_store(&app.db, None).await.unwrap();
    qrpay::db::raiffeisen_setting::setting_of_store(&app.db, store.store_id)
        .await
        .unwrap()
        .map(|r| r.base_url)
        .unwrap_or_default()
}

async fn a_new_bank_address_needs_the_key_again_and_must_be_https(app: TestApp) {
    let c = Console::new(&app);
    let s = c.user("root", "admin").await;
    let a = c
        .post_fn(
            SAVE,
            PAGE,
            &form("https://pay-test.raif.ru/api", SECRET),
            &s,
        )
        .await;
    assert_eq!(a.error(), None);
    // The address changed, the key field left empty: refused, nothing saved.
    let a = c
        .post_fn(SAVE, PAGE, &form("https://evil.example/api", ""), &s)
        .await;
    assert_eq!(
        field(&a, "secret_key"),
        Some(Msg::SecretKeyRetype),
        "{:?}",
        a.error()
    );
    assert_eq!(stored_url(&app).await, "https://pay-test.raif.ru/api");
    // The same address with the key field empty keeps the key, as before.
    let a = c
        .post_fn(SAVE, PAGE, &form("https://pay-test.raif.ru/api", ""), &s)
        .await;
    assert_eq!(a.error(), None);
    // Plain http to another host is refused; loopback (the emulator) is fine outside production.
    let a = c
        .post_fn(SAVE, PAGE, &form("http://evil.example/api", SECRET), &s)
        .await;
    assert_eq!(field(&a, "custom_url"), Some(Msg::UrlInvalid));
    for url in ["http://127.0.0.1:9/api", "http://[::1]:9/api"] {
        let a = c.post_fn(SAVE, PAGE, &form(url, SECRET), &s).await;
        assert_eq!(a.error(), None, "{url}");
        assert_eq!(stored_url(&app).await, url);
    }
}

crate::both_backends!(a_new_bank_address_needs_the_key_again_and_must_be_https);
