//! The console's admin configuration over HTTP, as a browser without JavaScript uses it:
//! authorization servers, tills (the key shown once), the audit log, and role refusals.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::helpers::console::Console;
use crate::helpers::db::scalar;
use app::error::ConsoleError;
use app::i18n::Msg;

async fn auth_server_id(app: &TestApp, name: &str) -> i64 {
    let store = qrpay::db::store::find_store(&app.db, None).await.unwrap();
    qrpay::db::payment_type::auth_server_by_name(&app.db, store.store_id, name)
        .await
        .unwrap()
        .auth_server_id
}

const AUTH_PAGE: &str = "/console/auth-servers";
const TILLS_PAGE: &str = "/console/tills";
const TYPES_PAGE: &str = "/console/payment-types";
const STORE_PAGE: &str = "/console/store";
const RABBITMQ: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

async fn an_admin_adds_edits_and_deletes_an_authorization_server_and_each_change_is_audited(
    app: TestApp,
) {
    let c = Console::new(&app);
    let s = c.user("root", "admin").await;
    let page = c.get(AUTH_PAGE, Some(&s)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(r#"value="QR оплата 2""#),
        "the name is prefilled with one the store's «QR оплата» does not clash with"
    );
    assert!(page.body.contains("Таймаут ожидания ответа, сек"));

    let a = c
        .post_fn(
            "save_auth_server",
            AUTH_PAGE,
            &[
                ("id", ""),
                ("name", "QR оплата 2"),
                ("response_timeout_secs", "90"),
            ],
            &s,
        )
        .await;
    assert_eq!(
        (a.status, a.location.as_str()),
        (302, "/console/auth-servers?done=saved")
    );
    let id = auth_server_id(&app, "QR оплата 2").await;
    let page = c.get(&a.location, Some(&s)).await;
    assert!(page.body.contains("QR оплата 2") && page.body.contains("Сохранено."));
    assert!(
        page.body.contains(r#"value="QR оплата 3""#),
        "the next free name is offered"
    );
    // Delete asks first: the list links to a confirmation, which holds the form.
    assert!(!page.body.contains(r#"data-testid="delete-confirm""#));
    let ask = c.get(&format!("{AUTH_PAGE}?delete={id}"), Some(&s)).await;
    assert!(ask.body.contains(r#"data-testid="delete-confirm""#));
    assert!(ask.body.contains(r#"data-testid="delete-yes""#));

    let edit = c.get(&format!("{AUTH_PAGE}?edit={id}"), Some(&s)).await;
    assert!(
        edit.body.contains(r#"value="90""#),
        "the edit form has the saved values"
    );
    let a = c
        .post_fn(
            "save_auth_server",
            &format!("{AUTH_PAGE}?edit={id}"),
            &[
                ("id", &id.to_string()),
                ("name", "Банк Б"),
                ("response_timeout_secs", "3600"),
            ],
            &s,
        )
        .await;
    assert_eq!(a.error(), None);
    let store = qrpay::db::store::find_store(&app.db, None).await.unwrap();
    let saved = qrpay::db::payment_type::auth_server_by_name(&app.db, store.store_id, "Банк Б")
        .await
        .unwrap();
    assert_eq!(
        (saved.auth_server_id, saved.response_timeout_secs),
        (id, 3600)
    );

    let a = c
        .post_fn(
            "delete_auth_server",
            AUTH_PAGE,
            &[("id", &id.to_string())],
            &s,
        )
        .await;
    assert_eq!(
        a.location,
        "/console/auth-servers?done=deleted",
        "{:?}",
        a.error()
    );
    assert_eq!(
        scalar(
            &app,
            &format!("select count(*) from auth_server where auth_server_id = {id}")
        )
        .await,
        0
    );

    let audit = qrpay::db::audit::latest(&app.db, 1, 10).await.unwrap();
    let actions: Vec<_> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.login.as_str()))
        .collect();
    assert_eq!(
        actions,
        [("delete", "root"), ("update", "root"), ("create", "root")]
    );
    let update = &audit[1];
    let before: serde_json::Value =
        serde_json::from_str(update.before.as_deref().unwrap()).unwrap();
    let after: serde_json::Value = serde_json::from_str(update.after.as_deref().unwrap()).unwrap();
    assert_eq!(before["name"], "QR оплата 2");
    assert_eq!(after["response_timeout_secs"], 3600);
    assert!(audit[0].after.is_none() && audit[2].before.is_none());
    let journal = c.get("/console/audit", Some(&s)).await;
    assert_eq!(journal.status, 200);
    assert_eq!(
        journal.body.matches(r#"data-testid="audit-row""#).count(),
        3
    );
}

async fn authorization_server_errors_stand_beside_the_field_keep_the_values_and_save_nothing(
    app: TestApp,
) {
    let c = Console::new(&app);
    let s = c.user("root", "admin").await;
    let before = scalar(&app, "select count(*) from auth_server").await;
    for (name, timeout, field, msg) in [
        ("", "60", "name", Msg::Required),
        ("   ", "60", "name", Msg::Required),
        ("Сервер", "", "response_timeout_secs", Msg::Required),
        ("Сервер", "0", "response_timeout_secs", Msg::TimeoutRange),
        ("Сервер", "3601", "response_timeout_secs", Msg::TimeoutRange),
        ("Сервер", "1.5", "response_timeout_secs", Msg::TimeoutRange),
        ("Сервер", "abc", "response_timeout_secs", Msg::TimeoutRange),
        (&"Я".repeat(101), "60", "name", Msg::NameTooLong),
        ("QR оплата", "60", "name", Msg::NameTaken),
    ] {
        let a = c
            .post_fn(
                "save_auth_server",
                AUTH_PAGE,
                &[("name", name), ("response_timeout_secs", timeout)],
                &s,
            )
            .await;
        assert_eq!(a.field(field), Some(msg), "{name:?} {timeout:?}");
        assert_eq!(a.kept("name").as_deref(), Some(name));
        assert_eq!(a.kept("response_timeout_secs").as_deref(), Some(timeout));
        // The page the browser is sent back to shows the message beside the field and the values.
        let path = a.location.trim_start_matches(&app.base);
        let page = c.get(path, Some(&s)).await;
        assert!(
            page.body
                .contains(&format!(r#"data-testid="error-{field}""#)),
            "{name:?} {timeout:?}"
        );
        if !timeout.is_empty() {
            assert!(
                page.body.contains(&format!(r#"value="{timeout}""#)),
                "{timeout:?} kept"
            );
        }
    }
    assert_eq!(
        scalar(&app, "select count(*) from auth_server").await,
        before
    );
    assert_eq!(scalar(&app, "select count(*) from audit_log").await, 0);
}

async fn an_authorization_server_used_by_a_payment_type_cannot_be_deleted(app: TestApp) {
    let c = Console::new(&app);
    let s = c.user("root", "admin").await;
    let id = auth_server_id(&app, "QR оплата").await;
    let page = c.get(AUTH_PAGE, Some(&s)).await;
    assert!(
        page.body.contains(r#"used-by" class="num">1</td>"#),
        "{}",
        page.body
    );
    let a = c
        .post_fn(
            "delete_auth_server",
            AUTH_PAGE,
            &[("id", &id.to_string())],
            &s,
        )
        .await;
    assert_eq!(a.form_message(), Some(Msg::AuthServerInUse));
    let back = c
        .get(a.location.trim_start_matches(&app.base), Some(&s))
        .await;
    assert!(back.body.contains("Нельзя удалить"));
    assert_eq!(scalar(&app, "select count(*) from auth_server").await, 1);
    assert_eq!(scalar(&app, "select count(*) from audit_log").await, 0);
}

async fn viewer_and_support_are_refused_by_every_admin_function_and_see_no_admin_links(
    app: TestApp,
) {
    let c = Console::new(&app);
    let id = auth_server_id(&app, "QR оплата").await.to_string();
    let calls: [(&str, Vec<(&str, &str)>); 12] = [
        ("list_auth_servers", vec![]),
        (
            "save_auth_server",
            vec![("name", "X"), ("response_timeout_secs", "5")],
        ),
        ("delete_auth_server", vec![("id", &id)]),
        ("list_tills", vec![]),
        (
            "create_till",
            vec![
                ("name", "Касса X"),
                ("kind", "till"),
                ("paper_width", "576"),
            ],
        ),
        ("revoke_till", vec![("id", "1")]),
        ("list_payment_types", vec![]),
        ("get_store_settings", vec![]),
        (
            "save_store_settings",
            vec![
                ("name", "Z"),
                ("code", "z"),
                ("integrator_url", ""),
                ("rabbitmq_url", ""),
                ("time_zone", "UTC"),
            ],
        ),
        (
            "check_rabbitmq",
            vec![("rabbitmq_url", "amqp://127.0.0.1:1/%2f")],
        ),
        (
            "save_till",
            vec![
                ("id", "1"),
                ("name", "T"),
                ("kind", "till"),
                ("language", "ru"),
                ("paper_width", "384"),
            ],
        ),
        (
            "save_payment_type",
            vec![
                ("name", "Y"),
                ("auth_server_id", &id),
                ("module", "sandbox"),
            ],
        ),
    ];
    let tills_before = scalar(&app, "select count(*) from till").await;
    for (login, role) in [("vera", "viewer"), ("sasha", "support")] {
        let s = c.user(login, role).await;
        for (path, form) in &calls {
            let a = c.post_fn(path, "/console/transactions", form, &s).await;
            assert_eq!(a.error(), Some(ConsoleError::Forbidden), "{role} {path}");
        }
        for page in [AUTH_PAGE, TILLS_PAGE, TYPES_PAGE, STORE_PAGE] {
            let p = c.get(page, Some(&s)).await;
            assert_eq!(p.status, 403, "{role} {page}");
            assert!(
                p.body.contains(Msg::Forbidden.text(app::i18n::Lang::Ru)),
                "{role} {page}"
            );
            assert!(!p.body.contains("data-testid=\"till-form\""));
        }
        let home = c.get("/console/transactions", Some(&s)).await;
        assert!(!home.body.contains("nav-auth-servers") && !home.body.contains("nav-tills"));
        let journal = c.post_fn("list_audit", "/console/audit", &[], &s).await;
        match role {
            "viewer" => {
                assert_eq!(journal.error(), Some(ConsoleError::Forbidden));
                assert!(!home.body.contains("nav-audit"));
            }
            _ => {
                assert_eq!(journal.error(), None, "support may read the journal");
                assert!(home.body.contains("nav-audit"));
                assert_eq!(c.get("/console/audit", Some(&s)).await.status, 200);
            }
        }
    }
    assert_eq!(scalar(&app, "select count(*) from auth_server").await, 1);
    assert_eq!(scalar(&app, "select count(*) from payment_type").await, 1);
    assert_eq!(
        scalar(&app, "select count(*) from till").await,
        tills_before
    );
    assert_eq!(scalar(&app, "select count(*) from audit_log").await, 0);
}

async fn a_new_till_key_is_shown_once_works_and_is_revoked_after_a_confirmation(app: TestApp) {
    let c = Console::new(&app);
    let s = c.user("root", "admin").await;
    let a = c
        .post_fn(
            "create_till",
            TILLS_PAGE,
            &[
                ("name", "<b>Касса 7</b>"),
                ("kind", "kiosk"),
                ("screen", "on"),
                ("paper_width", "384"),
                ("escpos_native", "on"),
            ],
            &s,
        )
        .await;
    assert_eq!(a.location, "/console/tills?done=created", "{:?}", a.error());
    assert!(!a.location.contains("qrp_"), "the key is never in the URL");
    let page = c.get(&a.location, Some(&s)).await;
    assert_eq!(page.cache_control, "no-store");
    let start = page.body.find("qrp_").expect("the key is shown");
    let key: String = page.body[start..].chars().take(4 + 64).collect();
    assert!(key[4..].chars().all(|ch| ch.is_ascii_hexdigit()), "{key}");
    assert!(
        page.body.contains("&lt;b&gt;Касса 7&lt;/b&gt;"),
        "HTML in a name is text: {}",
        page.body
    );
    assert!(!page.body.contains("<b>Касса 7</b>"));
    let till = qrpay::db::till::till_by_key_hash(&app.db, &qrpay::auth::till_key::hash(&key))
        .await
        .unwrap()
        .expect("the shown key is the till's");
    let again = c.get(TILLS_PAGE, Some(&s)).await;
    assert!(!again.body.contains(&key), "the key is shown once");
    assert!(
        again.body.contains(&key[..10]),
        "its prefix stays in the list"
    );

    let stored = qrpay::db::till::till_by_name(&app.db, till.store_id, "<b>Касса 7</b>")
        .await
        .unwrap();
    assert_eq!(
        (
            stored.kind.as_str(),
            stored.qr_outputs.as_str(),
            stored.paper_width,
            stored.escpos_native
        ),
        ("kiosk", "screen", 384, true)
    );

    let confirm = c
        .get(&format!("{TILLS_PAGE}?revoke={}", till.till_id), Some(&s))
        .await;
    assert!(confirm.body.contains(r#"data-testid="revoke-confirm""#));
    assert!(
        qrpay::db::till::till_by_name(&app.db, till.store_id, "<b>Касса 7</b>")
            .await
            .unwrap()
            .revoked_at
            .is_none(),
        "showing the confirmation revokes nothing"
    );
    let a = c
        .post_fn(
            "revoke_till",
            &format!("{TILLS_PAGE}?revoke={}", till.till_id),
            &[("id", &till.till_id.to_string())],
            &s,
        )
        .await;
    assert_eq!(a.location, "/console/tills?done=revoked", "{:?}", a.error());
    assert!(
        qrpay::db::till::till_by_key_hash(&app.db, &qrpay::auth::till_key::hash(&key))
            .await
            .unwrap()
            .is_none()
    );
    let audit = qrpay::db::audit::latest(&app.db, 1, 10).await.unwrap();
    let actions: Vec<_> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.entity.as_str()))
        .collect();
    assert_eq!(actions, [("revoke", "till"), ("create", "till")]);
    assert!(
        !audit[1].after.as_deref().unwrap().contains(&key),
        "no key in the audit log"
    );
}

async fn till_form_errors_stand_beside_the_field_keep_the_values_and_save_nothing(app: TestApp) {
    let c = Console::new(&app);
    let s = c.user("root", "admin").await;
    let store = qrpay::db::store::find_store(&app.db, None).await.unwrap();
    qrpay::db::till::create_till(
        &app.db,
        &qrpay::db::audit::Who::SEED,
        qrpay::db::till::NewTill {
            store_id: store.store_id,
            name: "Касса 1",
            kind: "till",
            key_hash: "h",
            key_prefix: "qrp_000000",
            outputs: Default::default(),
        },
    )
    .await
    .unwrap();
    let before = scalar(&app, "select count(*) from till").await;
    for (name, kind, width, field, msg) in [
        ("", "till", "576", "name", Msg::Required),
        ("Касса 9", "robot", "576", "kind", Msg::KindInvalid),
        (
            "Касса 9",
            "till",
            "100",
            "paper_width",
            Msg::PaperWidthInvalid,
        ),
        ("Касса 1", "till", "576", "name", Msg::NameTaken),
    ] {
        let a = c
            .post_fn(
                "create_till",
                TILLS_PAGE,
                &[
                    ("name", name),
                    ("kind", kind),
                    ("receipt", "on"),
                    ("paper_width", width),
                ],
                &s,
            )
            .await;
        assert_eq!(a.field(field), Some(msg), "{name:?} {kind:?} {width:?}");
        assert_eq!(a.kept("name").as_deref(), Some(name));
        assert_eq!(a.kept("receipt").as_deref(), Some("on"));
        assert_eq!(a.kept("screen").as_deref(), Some(""));
        let page = c
            .get(a.location.trim_start_matches(&app.base), Some(&s))
            .await;
        assert!(
            page.body
                .contains(&format!(r#"data-testid="error-{field}""#))
        );
        assert!(!page.body.contains("qrp_") || !page.body.contains(r#"data-testid="new-key""#));
    }
    assert_eq!(scalar(&app, "select count(*) from till").await, before);
    assert_eq!(scalar(&app, "select count(*) from audit_log").await, 0);
}

async fn an_admin_adds_and_edits_a_payment_type_with_an_installed_module(app: TestApp) {
    let c = Console::new(&app);
    let s = c.user("root", "admin").await;
    let server = auth_server_id(&app, "QR оплата").await.to_string();
    let page = c.get(TYPES_PAGE, Some(&s)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"<datalist id="payment-modules">"#));
    assert!(
        page.body.contains(r#"<option value="sandbox">"#),
        "installed modules are suggested"
    );
    let a = c
        .post_fn(
            "save_payment_type",
            TYPES_PAGE,
            &[
                ("name", "Карта <i>"),
                ("auth_server_id", &server),
                ("module", "sandbox"),
                ("enabled", "on"),
            ],
            &s,
        )
        .await;
    assert_eq!(
        a.location,
        "/console/payment-types?done=saved",
        "{:?}",
        a.error()
    );
    let types = qrpay::db::payment_type::list_payment_types(&app.db)
        .await
        .unwrap();
    let added = types.iter().find(|p| p.name == "Карта <i>").expect("added");
    assert_eq!(
        (added.module.as_str(), added.enabled, added.scan_customer_qr),
        ("sandbox", true, false)
    );
    let page = c.get(&a.location, Some(&s)).await;
    assert!(page.body.contains("Карта &lt;i&gt;") && page.body.contains("Сохранено."));

    let id = added.payment_type_id.to_string();
    let a = c
        .post_fn(
            "save_payment_type",
            &format!("{TYPES_PAGE}?edit={id}"),
            &[
                ("id", &id),
                ("name", "Карта"),
                ("auth_server_id", &server),
                ("module", "sandbox"),
            ],
            &s,
        )
        .await;
    assert_eq!(a.error(), None);
    let types = qrpay::db::payment_type::list_payment_types(&app.db)
        .await
        .unwrap();
    let edited = types
        .iter()
        .find(|p| p.payment_type_id == added.payment_type_id)
        .unwrap();
    assert_eq!((edited.name.as_str(), edited.enabled), ("Карта", false));
    let audit = qrpay::db::audit::latest(&app.db, 1, 10).await.unwrap();
    let actions: Vec<_> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.entity.as_str()))
        .collect();
    assert_eq!(
        actions,
        [("update", "payment_type"), ("create", "payment_type")]
    );
    let json = |v: &Option<String>| -> serde_json::Value {
        serde_json::from_str(v.as_deref().unwrap()).unwrap()
    };
    assert_eq!(json(&audit[0].before)["enabled"], true);
    assert_eq!(json(&audit[0].after)["enabled"], false);
}

async fn payment_type_errors_stand_beside_the_field_keep_the_values_and_save_nothing(app: TestApp) {
    let c = Console::new(&app);
    let s = c.user("root", "admin").await;
    let server = auth_server_id(&app, "QR оплата").await.to_string();
    for (name, srv, module, scan, field, msg) in [
        ("", server.as_str(), "sandbox", "", "name", Msg::Required),
        ("Новый", server.as_str(), "", "", "module", Msg::Required),
        (
            "Новый",
            server.as_str(),
            "visa",
            "",
            "module",
            Msg::ModuleUnknown,
        ),
        (
            "Новый",
            server.as_str(),
            "raiffeisen",
            "on",
            "scan_customer_qr",
            Msg::ScanNotSupported,
        ),
        (
            "Новый",
            "999999",
            "sandbox",
            "",
            "auth_server_id",
            Msg::AuthServerUnknown,
        ),
        (
            "Новый",
            "x",
            "sandbox",
            "",
            "auth_server_id",
            Msg::AuthServerUnknown,
        ),
        (
            "СБП QR (тест)",
            server.as_str(),
            "sandbox",
            "",
            "name",
            Msg::NameTaken,
        ),
    ] {
        let mut form = vec![("name", name), ("auth_server_id", srv), ("module", module)];
        if !scan.is_empty() {
            form.push(("scan_customer_qr", scan));
        }
        let a = c.post_fn("save_payment_type", TYPES_PAGE, &form, &s).await;
        assert_eq!(a.field(field), Some(msg), "{name:?} {module:?} {scan:?}");
        assert_eq!(a.kept("module").as_deref(), Some(module));
        assert_eq!(a.kept("scan_customer_qr").as_deref(), Some(scan));
        let page = c
            .get(a.location.trim_start_matches(&app.base), Some(&s))
            .await;
        assert!(
            page.body
                .contains(&format!(r#"data-testid="error-{field}""#)),
            "{field}"
        );
        if !module.is_empty() {
            assert!(
                page.body.contains(&format!(r#"value="{module}""#)),
                "{module} kept"
            );
        }
    }
    assert_eq!(scalar(&app, "select count(*) from payment_type").await, 1);
    assert_eq!(scalar(&app, "select count(*) from audit_log").await, 0);
}

fn store_form<'a>(
    name: &'a str,
    code: &'a str,
    rabbit: &'a str,
    tz: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("code", code),
        ("integrator_url", "https://erp.example/qrpay"),
        ("rabbitmq_url", rabbit),
        ("time_zone", tz),
    ]
}

async fn an_admin_saves_the_store_parameters_and_the_broker_password_is_never_shown(app: TestApp) {
    let c = Console::new(&app);
    let s = c.user("root", "admin").await;
    let page = c.get(STORE_PAGE, Some(&s)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("RabbitMQ сервер") && page.body.contains("Проверить подключение"));
    // The switch is off in this form (no refund_late_payments field).
    let a = c
        .post_fn(
            "save_store_settings",
            STORE_PAGE,
            &store_form("Магазин <b>1</b>", "shop-1", RABBITMQ, "Asia/Yekaterinburg"),
            &s,
        )
        .await;
    assert_eq!(a.location, "/console/store?done=saved", "{:?}", a.error());
    let store = qrpay::db::store::find_store(&app.db, None).await.unwrap();
    assert_eq!(
        (
            store.name.as_str(),
            store.code.as_str(),
            store.time_zone.as_str(),
            store.refund_late_payments
        ),
        ("Магазин <b>1</b>", "shop-1", "Asia/Yekaterinburg", false)
    );
    assert_eq!(store.rabbitmq_url.as_deref(), Some(RABBITMQ));
    assert_eq!(
        store.integrator_url.as_deref(),
        Some("https://erp.example/qrpay")
    );
    let page = c.get(&a.location, Some(&s)).await;
    assert!(
        !page.body.contains("guest:guest"),
        "the password is not shown"
    );
    assert!(page.body.contains("guest:***@127.0.0.1"));
    assert!(page.body.contains("Магазин &lt;b&gt;1&lt;/b&gt;"));
    // Sent back as shown (redacted), the stored URL with its password stays.
    let redacted = "amqp://guest:***@127.0.0.1:5672/%2f";
    let mut form = store_form("Магазин", "shop-1", redacted, "Europe/Moscow");
    form.push(("refund_late_payments", "on"));
    let a = c
        .post_fn("save_store_settings", STORE_PAGE, &form, &s)
        .await;
    assert_eq!(a.error(), None);
    let store = qrpay::db::store::find_store(&app.db, None).await.unwrap();
    assert_eq!(store.rabbitmq_url.as_deref(), Some(RABBITMQ));
    assert!(store.refund_late_payments);
    let audit = qrpay::db::audit::latest(&app.db, 1, 10).await.unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(
        (audit[0].entity.as_str(), audit[0].action.as_str()),
        ("store", "update")
    );
    for e in &audit {
        assert!(
            !e.after.as_deref().unwrap().contains("guest:guest"),
            "no password in the audit log"
        );
    }

    // «Проверить подключение» really connects: the local broker answers, a closed port does not.
    let ok = c
        .post_fn(
            "check_rabbitmq",
            STORE_PAGE,
            &[("rabbitmq_url", redacted)],
            &s,
        )
        .await;
    assert_eq!(ok.location, "/console/store?check=ok", "{:?}", ok.error());
    assert!(
        c.get(&ok.location, Some(&s))
            .await
            .body
            .contains("Подключение к RabbitMQ установлено.")
    );
    let bad = c
        .post_fn(
            "check_rabbitmq",
            STORE_PAGE,
            &[("rabbitmq_url", "amqp://guest:guest@127.0.0.1:1/%2f")],
            &s,
        )
        .await;
    assert_eq!(bad.location, "/console/store?check=failed");
    assert!(
        c.get(&bad.location, Some(&s))
            .await
            .body
            .contains("Не удалось подключиться")
    );
    let invalid = c
        .post_fn(
            "check_rabbitmq",
            STORE_PAGE,
            &[("rabbitmq_url", "http://x")],
            &s,
        )
        .await;
    assert_eq!(invalid.field("rabbitmq_url"), Some(Msg::RabbitMqUrlInvalid));
}

async fn store_parameter_errors_stand_beside_the_field_keep_the_values_and_save_nothing(
    app: TestApp,
) {
    let c = Console::new(&app);
    let s = c.user("root", "admin").await;
    let before = qrpay::db::store::find_store(&app.db, None).await.unwrap();
    for (form, field, msg) in [
        (
            store_form("", "main", "", "Europe/Moscow"),
            "name",
            Msg::Required,
        ),
        (
            store_form("М", "кириллица", "", "Europe/Moscow"),
            "code",
            Msg::StoreCodeRules,
        ),
        (
            store_form("М", "main", "http://127.0.0.1:5672", "Europe/Moscow"),
            "rabbitmq_url",
            Msg::RabbitMqUrlInvalid,
        ),
        (
            store_form("М", "main", "", "Mars/Olympus"),
            "time_zone",
            Msg::TimeZoneInvalid,
        ),
        (
            store_form("М", "main", "", ""),
            "time_zone",
            Msg::TimeZoneInvalid,
        ),
    ] {
        let a = c
            .post_fn("save_store_settings", STORE_PAGE, &form, &s)
            .await;
        assert_eq!(a.field(field), Some(msg), "{form:?}");
        assert_eq!(a.kept("time_zone").as_deref(), Some(form[4].1));
        let page = c
            .get(a.location.trim_start_matches(&app.base), Some(&s))
            .await;
        assert!(
            page.body
                .contains(&format!(r#"data-testid="error-{field}""#)),
            "{field}"
        );
    }
    let mut bad_url = store_form("М", "main", "", "Europe/Moscow");
    bad_url[2] = ("integrator_url", "ftp://x");
    let a = c
        .post_fn("save_store_settings", STORE_PAGE, &bad_url, &s)
        .await;
    assert_eq!(a.field("integrator_url"), Some(Msg::UrlInvalid));
    // A typed password never goes back into the URL.
    let a = c
        .post_fn(
            "save_store_settings",
            STORE_PAGE,
            &store_form("М", "main", "amqp://u:secret@h/%2f", "Nowhere"),
            &s,
        )
        .await;
    assert_eq!(
        a.kept("rabbitmq_url").as_deref(),
        Some("amqp://u:***@h/%2f")
    );
    assert!(!a.location.contains("secret"));
    let after = qrpay::db::store::find_store(&app.db, None).await.unwrap();
    assert_eq!(
        (after.name, after.code, after.time_zone),
        (before.name, before.code, before.time_zone)
    );
    assert_eq!(scalar(&app, "select count(*) from audit_log").await, 0);
}

async fn an_admin_changes_a_till_outputs_and_a_bad_paper_width_changes_nothing(app: TestApp) {
    let c = Console::new(&app);
    let s = c.user("root", "admin").await;
    let store = qrpay::db::store::find_store(&app.db, None).await.unwrap();
    let id = qrpay::db::till::create_till(
        &app.db,
        &qrpay::db::audit::Who::SEED,
        qrpay::db::till::NewTill {
            store_id: store.store_id,
            name: "Касса 5",
            kind: "till",
            key_hash: "h5",
            key_prefix: "qrp_555555",
            outputs: Default::default(),
        },
    )
    .await
    .unwrap()
    .to_string();
    let page = c.get(&format!("{TILLS_PAGE}?edit={id}"), Some(&s)).await;
    assert!(page.body.contains(r#"data-testid="outputs-form""#));
    let bad = c
        .post_fn(
            "save_till",
            &format!("{TILLS_PAGE}?edit={id}"),
            &[
                ("id", &id),
                ("name", "Касса 5"),
                ("kind", "till"),
                ("language", "ru"),
                ("receipt", "on"),
                ("paper_width", "100"),
            ],
            &s,
        )
        .await;
    assert_eq!(bad.field("paper_width"), Some(Msg::PaperWidthInvalid));
    assert_eq!(bad.kept("receipt").as_deref(), Some("on"));
    let till = qrpay::db::till::till_by_name(&app.db, store.store_id, "Касса 5")
        .await
        .unwrap();
    assert_eq!(
        (till.qr_outputs.as_str(), till.paper_width),
        ("screen,display,receipt", 576)
    );
    let ok = c
        .post_fn(
            "save_till",
            &format!("{TILLS_PAGE}?edit={id}"),
            &[
                ("id", &id),
                ("name", "Касса 5"),
                ("kind", "till"),
                ("language", "ru"),
                ("receipt", "on"),
                ("paper_width", "384"),
                ("escpos_native", "on"),
            ],
            &s,
        )
        .await;
    assert_eq!(ok.location, "/console/tills?done=saved", "{:?}", ok.error());
    let till = qrpay::db::till::till_by_name(&app.db, store.store_id, "Касса 5")
        .await
        .unwrap();
    assert_eq!(
        (
            till.qr_outputs.as_str(),
            till.paper_width,
            till.escpos_native
        ),
        ("receipt", 384, true)
    );
    let audit = qrpay::db::audit::latest(&app.db, 1, 10).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].entity.as_str(), audit[0].action.as_str()),
        ("till", "update")
    );
}

both_backends!(
    an_admin_changes_a_till_outputs_and_a_bad_paper_width_changes_nothing,
    an_admin_saves_the_store_parameters_and_the_broker_password_is_never_shown,
    store_parameter_errors_stand_beside_the_field_keep_the_values_and_save_nothing,
    an_admin_adds_and_edits_a_payment_type_with_an_installed_module,
    payment_type_errors_stand_beside_the_field_keep_the_values_and_save_nothing,
    an_admin_adds_edits_and_deletes_an_authorization_server_and_each_change_is_audited,
    authorization_server_errors_stand_beside_the_field_keep_the_values_and_save_nothing,
    an_authorization_server_used_by_a_payment_type_cannot_be_deleted,
    viewer_and_support_are_refused_by_every_admin_function_and_see_no_admin_links,
    a_new_till_key_is_shown_once_works_and_is_revoked_after_a_confirmation,
    till_form_errors_stand_beside_the_field_keep_the_values_and_save_nothing,
);
