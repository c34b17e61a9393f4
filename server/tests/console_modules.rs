//! «Модули оплаты» over HTTP, as a browser without JavaScript uses it: Raiffeisen settings per
//! store (the secret key write-only), registering the callback URL at the bank emulator, the
//! settings reaching the next payment without a restart, and role refusals.

use crate::both_backends;
use crate::helpers::console::{Answer, Console, add_user};
use crate::helpers::db::{Arg, execute_with};
use crate::helpers::{TestApp, new_key};
use app::error::ConsoleError;
use app::i18n::{Lang, Msg};
use qrpay::db::audit::Who;
use qrpay::db::payment_type::{PaymentTypeFields, create_auth_server, save_payment_type};
use qrpay::db::store::find_store;
use qrpay::emulator::{EmulatorConfig, EmulatorHandle, Faults};
use serde_json::json;

const PAGE: &str = "/console/modules";
const SAVE: &str = "/console/fn/save_raiffeisen_settings";
const REGISTER: &str = "/console/fn/register_raiffeisen_callback";
const MERCHANT: &str = "MA0000000552";
const SECRET: &str = "eyJhbGciOiJIUzI1NiJ9.console-secret-7f3a";

/// The `after` JSON of every audit row about the Raiffeisen settings, oldest first.
async fn setting_audit(app: &TestApp) -> Vec<serde_json::Value> {
    let mut rows: Vec<_> = qrpay::db::audit::latest(&app.db, 1, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entity == "raiffeisen_setting")
        .collect();
    rows.reverse();
    rows.iter()
        .map(|e| serde_json::from_str(e.after.as_deref().unwrap()).unwrap())
        .collect()
}

async fn stored(app: &TestApp) -> Option<qrpay::db::raiffeisen_setting::RaiffeisenSettingRow> {
    let store = find_store(&app.db, None).await.unwrap();
    qrpay::db::raiffeisen_setting::setting_of_store(&app.db, store.store_id)
        .await
        .unwrap()
}

fn form<'a>(
    base: &'a str,
    url: &'a str,
    merchant: &'a str,
    secret: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("base", base),
        ("custom_url", url),
        ("sbp_merchant_id", merchant),
        ("secret_key", secret),
    ]
}

fn invalid(a: &Answer) -> app::error::FormErrors {
    match a.error() {
        Some(ConsoleError::Invalid(f)) => f,
        other => panic!("expected field errors, got {other:?} ({})", a.location),
    }
}

async fn emulator() -> EmulatorHandle {
    qrpay::emulator::spawn(
        EmulatorConfig {
            merchant_id: MERCHANT.into(),
            secret_key: SECRET.into(),
            callback_url: None,
            faults: Faults::default(),
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

async fn viewer_support_and_anonymous_are_refused_and_only_admins_see_the_link(app: TestApp) {
    add_user(&app, "vera", "viewer").await;
    add_user(&app, "sasha", "support").await;
    add_user(&app, "root", "admin").await;
    let c = Console::new(&app);
    let anonymous = c.get(PAGE, None).await;
    assert_eq!(
        (anonymous.status, anonymous.location.as_str()),
        (303, "/console/login")
    );
    let save = form("test", "", MERCHANT, SECRET);
    for login in ["vera", "sasha"] {
        let s = c.session_of(login).await;
        let page = c.get(PAGE, Some(&s)).await;
        assert!(page.body.contains(Msg::Forbidden.text(Lang::Ru)), "{login}");
        assert!(!page.body.contains("data-testid=\"raiffeisen-form\""));
        assert!(!page.body.contains("nav-modules"), "{login}");
        for (path, f) in [(SAVE, save.clone()), (REGISTER, vec![])] {
            let a = c.post(path, PAGE, &f, Some(&s)).await;
            assert_eq!(a.error(), Some(ConsoleError::Forbidden), "{login} {path}");
        }
        let a = c
            .post("/console/fn/get_payment_modules", PAGE, &[], Some(&s))
            .await;
        assert_eq!(a.error(), Some(ConsoleError::Forbidden), "{login}");
    }
    let a = c.post(SAVE, PAGE, &save, None).await;
    assert_eq!((a.status, a.location.as_str()), (303, "/console/login"));
    assert!(stored(&app).await.is_none(), "nothing saved");
    assert!(setting_audit(&app).await.is_empty());

    let s = c.session_of("root").await;
    let page = c.get(PAGE, Some(&s)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-testid=\"nav-modules\""));
    assert!(page.body.contains("Модули оплаты"));
    assert!(page.body.contains("data-testid=\"raiffeisen-form\""));
    assert!(page.body.contains(Msg::ModuleNothingToSet.text(Lang::Ru)));
    assert!(page.body.contains(Msg::SecretKeyNotSet.text(Lang::Ru)));
}

async fn bad_values_stand_beside_their_fields_the_typed_values_stay_and_nothing_is_saved(
    app: TestApp,
) {
    add_user(&app, "root", "admin").await;
    let c = Console::new(&app);
    let s = c.session_of("root").await;
    // No key stored yet: an empty key is refused too.
    let a = c
        .post(
            SAVE,
            PAGE,
            &form("custom", "ftp://bank", "MA-<b>1</b>", ""),
            Some(&s),
        )
        .await;
    let f = invalid(&a);
    assert_eq!(f.error("custom_url"), Some(Msg::UrlInvalid));
    assert_eq!(f.error("sbp_merchant_id"), Some(Msg::MerchantIdRules));
    assert_eq!(f.error("secret_key"), Some(Msg::SecretKeyRequired));
    assert_eq!(f.value("custom_url").as_deref(), Some("ftp://bank"));
    assert_eq!(f.value("sbp_merchant_id").as_deref(), Some("MA-<b>1</b>"));
    let page = c
        .get(&a.location.replace(&app.base, ""), Some(&s))
        .await
        .body;
    for field in ["custom_url", "sbp_merchant_id", "secret_key"] {
        assert!(
            page.contains(&format!("data-testid=\"error-{field}\"")),
            "{field}"
        );
    }
    assert!(page.contains("value=\"ftp://bank\""));
    assert!(
        page.contains("value=\"MA-&lt;b&gt;1&lt;/b&gt;\""),
        "HTML stays text"
    );
    assert!(
        page.contains("value=\"custom\" checked"),
        "the choice stays"
    );

    // A key with a space, a missing merchant id and an unknown base: each named, the key never
    // travels back (it would sit in the URL).
    let a = c
        .post(SAVE, PAGE, &form("moon", "", "", "bad key"), Some(&s))
        .await;
    let f = invalid(&a);
    assert_eq!(f.error("base"), Some(Msg::BaseInvalid));
    assert_eq!(f.error("sbp_merchant_id"), Some(Msg::Required));
    assert_eq!(f.error("secret_key"), Some(Msg::SecretKeyInvalid));
    assert_eq!(f.value("secret_key"), None);
    assert!(!a.location.contains("bad"), "{}", a.location);
    let a = c
        .post(SAVE, PAGE, &form("custom", "", MERCHANT, SECRET), Some(&s))
        .await;
    assert_eq!(invalid(&a).error("custom_url"), Some(Msg::Required));
    assert!(!a.location.contains("console-secret"), "{}", a.location);

    assert!(stored(&app).await.is_none());
    assert!(setting_audit(&app).await.is_empty());
}

async fn the_secret_key_is_never_shown_and_an_empty_field_keeps_it(app: TestApp) {
    add_user(&app, "root", "admin").await;
    let c = Console::new(&app);
    let s = c.session_of("root").await;
    let a = c
        .post(
            SAVE,
            PAGE,
            &form("production", "", MERCHANT, SECRET),
            Some(&s),
        )
        .await;
    assert_eq!(a.location, "/console/modules?done=saved", "{:?}", a.error());
    let row = stored(&app).await.unwrap();
    assert_eq!(
        row.base_url,
        qrpay::providers::raiffeisen::PRODUCTION_BASE_URL
    );
    assert_eq!(row.secret_key, SECRET);
    let page = c.get("/console/modules?done=saved", Some(&s)).await.body;
    assert!(page.contains("data-testid=\"notice\""));
    assert!(page.contains("data-set=\"true\""));
    assert!(page.contains(&format!(">{}<", Msg::SecretKeySet.text(Lang::Ru))));
    assert!(page.contains("value=\"production\" checked"));
    assert!(page.contains(&format!("value=\"{MERCHANT}\"")));

    // Saved again with an empty key field and the same address: the key stays, the rest
    // changes (a new address needs the key again: tests/security/raiffeisen_secret.rs).
    let a = c
        .post(
            SAVE,
            PAGE,
            &form("production", "", "MA341037", ""),
            Some(&s),
        )
        .await;
    assert_eq!(a.location, "/console/modules?done=saved", "{:?}", a.error());
    let row = stored(&app).await.unwrap();
    assert_eq!(row.secret_key, SECRET, "an empty field keeps the key");
    assert_eq!(row.sbp_merchant_id, "MA341037");
    assert_eq!(
        row.base_url,
        qrpay::providers::raiffeisen::PRODUCTION_BASE_URL
    );
    // A new key replaces it.
    let a = c
        .post(
            SAVE,
            PAGE,
            &form("test", "", "MA341037", "eyJ.second-key"),
            Some(&s),
        )
        .await;
    assert!(a.error().is_none(), "{:?}", a.error());
    assert_eq!(stored(&app).await.unwrap().secret_key, "eyJ.second-key");

    // One audit row per save; the key appears only as set or changed.
    let audit = setting_audit(&app).await;
    let keys: Vec<_> = audit
        .iter()
        .map(|a| a["secret_key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["changed", "set", "changed"]);
    assert_eq!(
        audit[1]["base_url"],
        qrpay::providers::raiffeisen::PRODUCTION_BASE_URL
    );
    for page in [PAGE, "/console/audit", "/console/store"] {
        let body = c.get(page, Some(&s)).await.body;
        assert!(!body.contains("console-secret"), "{page}");
        assert!(!body.contains("second-key"), "{page}");
    }
    // What a script would get from the server function: the state, never the key.
    let raw = c
        .http
        .post(format!("{}/console/fn/get_payment_modules", app.base))
        .header(reqwest::header::COOKIE, &s)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);
    let raw = raw.text().await.unwrap();
    assert!(raw.contains("\"secret_set\":true"), "{raw}");
    assert!(!raw.contains("second-key"), "{raw}");
}

async fn saved_settings_reach_the_next_payment_without_a_restart(app: TestApp) {
    let bank = emulator().await;
    let store = find_store(&app.db, None).await.unwrap();
    let server = create_auth_server(&app.db, &Who::SEED, store.store_id, "QR rf", 30)
        .await
        .unwrap();
    save_payment_type(
        &app.db,
        &Who::SEED,
        None,
        PaymentTypeFields {
            store_id: store.store_id,
            auth_server_id: server,
            name: "rf",
            module: "raiffeisen",
            scan_customer_qr: false,
            enabled: true,
        },
    )
    .await
    .unwrap();
    add_user(&app, "root", "admin").await;
    let c = Console::new(&app);
    let s = c.session_of("root").await;
    let create = || async {
        app.create_payment_raw(
            &json!({"amount": 100, "receipt": "M-1", "payment_type": "rf"}).to_string(),
            &new_key(),
        )
        .await
    };
    let url = bank.base_url();
    let a = c
        .post(
            SAVE,
            PAGE,
            &form("custom", &url, MERCHANT, SECRET),
            Some(&s),
        )
        .await;
    assert!(a.error().is_none(), "{:?}", a.error());
    let r = create().await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (201, Some("pending")),
        "{}",
        r.body
    );
    // A merchant id the bank does not know, saved in the console: the very next payment uses it.
    let a = c
        .post(SAVE, PAGE, &form("custom", &url, "MA999", ""), Some(&s))
        .await;
    assert!(a.error().is_none(), "{:?}", a.error());
    let r = create().await;
    assert_eq!(
        (r.status, r.code()),
        (502, "provider_rejected"),
        "{}",
        r.body
    );
    assert!(
        r.body.to_string().contains("MERCHANT_NOT_REGISTERED"),
        "{}",
        r.body
    );
    let a = c
        .post(SAVE, PAGE, &form("custom", &url, MERCHANT, ""), Some(&s))
        .await;
    assert!(a.error().is_none(), "{:?}", a.error());
    assert_eq!(create().await.body["status"], "pending");
}

async fn the_register_button_records_the_callback_url_at_the_bank_or_says_why_not(app: TestApp) {
    let bank = emulator().await;
    add_user(&app, "root", "admin").await;
    let c = Console::new(&app);
    let s = c.session_of("root").await;
    let register = || c.post(REGISTER, PAGE, &[], Some(&s));
    let shown = |a: Answer| {
        let s = s.clone();
        let c = &c;
        let base = app.base.clone();
        async move { c.get(&a.location.replace(&base, ""), Some(&s)).await.body }
    };

    // No integrator address yet.
    let a = register().await;
    assert_eq!(a.form_message(), Some(Msg::CallbackNoIntegrator));
    let page = shown(a).await;
    assert!(page.contains("data-testid=\"register-error\""));
    assert!(page.contains(Msg::CallbackNoIntegrator.text(Lang::Ru)));
    assert!(page.contains("data-testid=\"callback-url-missing\""));

    execute_with(
        &app,
        "update store set integrator_url = $1",
        &[Arg::Text(&format!("{}/", app.base))],
    )
    .await;
    let expected = format!("{}/api/v1/callbacks/raiffeisen", app.base);
    // No settings, so no key.
    let a = register().await;
    assert_eq!(a.form_message(), Some(Msg::CallbackNoSecret));
    assert_eq!(bank.bank.callback_url(), None);

    // A key the bank does not accept: the bank's refusal in words.
    let a = c
        .post(
            SAVE,
            PAGE,
            &form("custom", &bank.base_url(), MERCHANT, "eyJ.wrong"),
            Some(&s),
        )
        .await;
    assert!(a.error().is_none(), "{:?}", a.error());
    let a = register().await;
    assert_eq!(a.form_message(), Some(Msg::CallbackRejected));
    let page = shown(a).await;
    assert!(page.contains("data-testid=\"bank-said\""));
    assert!(page.contains("UNAUTHORIZED"), "the bank's words are shown");
    assert_eq!(bank.bank.callback_url(), None);

    // The right key: the bank records the store's callback URL.
    let a = c
        .post(
            SAVE,
            PAGE,
            &form("custom", &bank.base_url(), MERCHANT, SECRET),
            Some(&s),
        )
        .await;
    assert!(a.error().is_none(), "{:?}", a.error());
    let a = register().await;
    assert_eq!(
        a.location,
        "/console/modules?callback=registered",
        "{:?}",
        a.error()
    );
    assert_eq!(bank.bank.callback_url(), Some(expected.clone()));
    let page = shown(a).await;
    assert!(page.contains("data-testid=\"register-result\""));
    assert!(page.contains(&expected));
    assert!(!page.contains(SECRET));
}

both_backends!(
    viewer_support_and_anonymous_are_refused_and_only_admins_see_the_link,
    bad_values_stand_beside_their_fields_the_typed_values_stay_and_nothing_is_saved,
    the_secret_key_is_never_shown_and_an_empty_field_keeps_it,
    saved_settings_reach_the_next_payment_without_a_restart,
    the_register_button_records_the_callback_url_at_the_bank_or_says_why_not,
);
