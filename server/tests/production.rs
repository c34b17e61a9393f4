//! Production mode (issue 13 part 2): startup refuses what would lose money or leak (a public URL
//! or a bank address that is not https) with one clear line and a failing exit code; test
//! modules are off (their payment types answer 422 `payment_type_disabled` saying why, the
//! sandbox routes answer 404, a new database gets no test payment type).

use crate::both_backends;
use crate::helpers::{Backend, TestApp, fresh_database, new_key, spawn_app_on, spawn_app_with};
use qrpay::config::Settings;
use qrpay::db::audit::Who;
use qrpay::startup::Application;
use serde_json::json;
use std::process::Command;

both_backends!(
    production_mode_turns_test_modules_off_and_the_sandbox_routes_answer_404,
    production_mode_refuses_a_bank_address_that_is_not_https,
    in_production_mode_the_console_says_beside_the_module_that_a_test_module_is_off,
);

const HTTPS: &str = "https://qrpay.example.ru";

fn production(public_url: Option<&str>) -> impl FnOnce(&mut Settings) {
    let public_url = public_url.map(str::to_owned);
    move |s: &mut Settings| {
        s.production = true;
        s.public_url = public_url;
    }
}

/// The error `Application::build` stops with in production mode, on a fresh database.
async fn refusal(backend: Backend, public_url: Option<&str>) -> Option<String> {
    let (url, _dir) = fresh_database(backend).await?;
    let mut settings = Settings::new(&url, "127.0.0.1:0".parse().unwrap());
    production(public_url)(&mut settings);
    Application::build(settings)
        .await
        .err()
        .map(|e| format!("{e:#}"))
}

#[tokio::test]
async fn production_mode_refuses_a_public_url_that_is_missing_or_not_https() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(none) = refusal(backend, None).await else {
            continue;
        };
        assert!(none.contains("QRPAY_PUBLIC_URL"), "{none}");
        let http = refusal(backend, Some("http://qrpay.example.ru"))
            .await
            .unwrap();
        assert!(http.contains("is not https"), "{http}");
        assert!(!http.contains('\n'), "one line: {http}");
    }
}

/// `qrpay serve` as a store's IT starts it, in a fresh directory.
fn serve(envs: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qrpay"));
    cmd.env(
        "QRPAY_DATABASE_URL",
        format!("sqlite://{}/qrpay.db", dir.path().display()),
    )
    .env_remove("QRPAY_AMQP_URL")
    .env_remove("QRPAY_PRODUCTION")
    .env_remove("QRPAY_PUBLIC_URL")
    .env("RUST_LOG", "warn")
    .env("QRPAY_LISTEN", "127.0.0.1:0");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let child = cmd
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A refusal ends the process at once; a server that started would run until killed.
    let pid = child.id();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(20));
        let _ = Command::new("kill").arg(pid.to_string()).status();
    });
    let out = child.wait_with_output().unwrap();
    drop(killer);
    out
}

#[test]
fn the_binary_refuses_to_start_in_production_over_http_with_one_clear_line() {
    for (envs, args) in [
        (
            vec![],
            vec![
                "serve",
                "--production",
                "--public-url",
                "http://qrpay.example.ru",
            ],
        ),
        (
            vec![
                ("QRPAY_PRODUCTION", "1"),
                ("QRPAY_PUBLIC_URL", "http://10.0.0.5:3000"),
            ],
            vec!["serve"],
        ),
    ] {
        let out = serve(&envs, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} started: {stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(
            lines[0].starts_with("qrpay: production mode:") && lines[0].contains("not https"),
            "{stderr}"
        );
    }
}

async fn production_mode_turns_test_modules_off_and_the_sandbox_routes_answer_404(app: TestApp) {
    // Before: a demo with a test payment.
    let demo = app.create_payment(500).await;
    let demo_id = demo["id"].as_str().unwrap().to_owned();
    let (url, dir) = (app.database_url.clone(), app.dir.clone());
    drop(app);
    // The same database, now in production mode.
    let app = spawn_app_with(&url, dir.clone(), production(Some(HTTPS))).await;
    // The message is checked in English: the till API answers in Russian unless asked.
    let r = app
        .post_in(
            "en",
            "/api/v1/payments",
            Some(&new_key()),
            &json!({"amount": 500, "receipt": "P-1"}).to_string(),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "payment_type_disabled", "payment_type"),
        "{}",
        r.body
    );
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("test module") && message.contains("production mode"),
        "{message}"
    );
    for action in ["pay", "decline"] {
        let r = app
            .post_raw(
                &format!("/api/v1/sandbox/payments/{demo_id}/{action}"),
                Some(&app.key),
                None,
                "",
            )
            .await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{action}");
    }
    // The old test payment still says what it is.
    let old = app.get(&format!("/api/v1/payments/{demo_id}")).await;
    assert_eq!(old.body["test"], true);
    drop(app);

    // Out of production mode the same routes work again: the 404 was the mode.
    let app = spawn_app_on(&url, dir, true).await;
    assert_eq!(app.pay(&demo_id).await.status, 200);
}

#[tokio::test]
async fn a_new_database_in_production_mode_gets_no_test_payment_type() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some((url, dir)) = fresh_database(backend).await else {
            continue;
        };
        let app = spawn_app_with(&url, dir, production(Some(HTTPS))).await;
        let types = qrpay::db::payment_type::list_payment_types(&app.db)
            .await
            .unwrap();
        assert!(types.is_empty(), "{types:?}");
        let r = app
            .create_payment_raw(
                &json!({"amount": 500, "receipt": "P-1"}).to_string(),
                &new_key(),
            )
            .await;
        assert_eq!((r.status, r.code()), (422, "unknown_payment_type"));
        // The store and its authorization server are there, ready for a bank's payment type.
        let store = qrpay::db::store::find_store(&app.db, None).await.unwrap();
        assert_eq!(store.code, "main");
        qrpay::db::payment_type::first_auth_server(&app.db, store.store_id)
            .await
            .unwrap();
    }
}

async fn production_mode_refuses_a_bank_address_that_is_not_https(app: TestApp) {
    let store = qrpay::db::store::find_store(&app.db, None).await.unwrap();
    qrpay::db::raiffeisen_setting::save_setting(
        &app.db,
        &Who::SEED,
        store.store_id,
        "http://127.0.0.1:9",
        "MA0000000552",
        Some("secret"),
    )
    .await
    .unwrap();
    let (url, dir) = (app.database_url.clone(), app.dir.clone());
    drop(app);
    let mut settings = Settings::new(&url, "127.0.0.1:0".parse().unwrap());
    production(Some(HTTPS))(&mut settings);
    let e = format!("{:#}", Application::build(settings).await.err().unwrap());
    assert!(
        e.contains("http://127.0.0.1:9") && e.contains("not https") && !e.contains('\n'),
        "{e}"
    );
    // An https address is accepted.
    let app = spawn_app_on(&url, dir.clone(), true).await;
    qrpay::db::raiffeisen_setting::save_setting(
        &app.db,
        &Who::SEED,
        store.store_id,
        "https://test.ecom.raiffeisen.ru/api",
        "MA0000000552",
        // A new address takes the key typed again.
        Some("secret"),
    )
    .await
    .unwrap();
    drop(app);
    spawn_app_with(&url, dir, production(Some(HTTPS))).await;
}

#[test]
fn production_mode_starts_over_https_and_warns_about_what_it_cannot_fix_itself() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/qrpay.db", dir.path().display());
    // A demo database first: its test payment type stays on.
    let migrate = Command::new(env!("CARGO_BIN_EXE_qrpay"))
        .args(["--database-url", &db, "migrate"])
        .env_remove("QRPAY_PRODUCTION")
        .output()
        .unwrap();
    assert!(migrate.status.success());
    // A bank payment type whose callback URL was never registered through qrpay.
    let mut configure = Command::new(env!("CARGO_BIN_EXE_qrpay"))
        .args([
            "--database-url",
            &db,
            "raiffeisen",
            "configure",
            "--base-url",
            "test",
        ])
        .args(["--merchant-id", "MA0000000552", "--secret-key-stdin"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    configure
        .stdin
        .take()
        .unwrap()
        .write_all(b"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.secret")
        .unwrap();
    assert!(configure.wait().unwrap().success());
    // In production mode the command line adds no payment type on a test module.
    let refused = Command::new(env!("CARGO_BIN_EXE_qrpay"))
        .args([
            "--database-url",
            &db,
            "payment-type",
            "add",
            "--name",
            "Песочница",
        ])
        .args(["--module", "sandbox"])
        .env("QRPAY_PRODUCTION", "1")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("test module"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let add = Command::new(env!("CARGO_BIN_EXE_qrpay"))
        .args([
            "--database-url",
            &db,
            "payment-type",
            "add",
            "--name",
            "СБП Райффайзен",
        ])
        .args(["--module", "raiffeisen"])
        .output()
        .unwrap();
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_qrpay"))
        .args([
            "--database-url",
            &db,
            "serve",
            "--production",
            "--public-url",
            HTTPS,
        ])
        .env_remove("QRPAY_AMQP_URL")
        .env("QRPAY_LISTEN", "127.0.0.1:0")
        .env("QRPAY_OPS_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(running, "it started: {stderr}");
    for warning in [
        "no RabbitMQ server",
        "«СБП QR (тест)» is on the test module sandbox",
        "no console admin",
        "«СБП Райффайзен» is on Raiffeisen, but no callback URL was registered",
    ] {
        assert!(stderr.contains(warning), "{warning}: {stderr}");
    }
}

async fn in_production_mode_the_console_says_beside_the_module_that_a_test_module_is_off(
    app: TestApp,
) {
    let (url, dir) = (app.database_url.clone(), app.dir.clone());
    drop(app);
    let app = spawn_app_with(&url, dir, production(Some(HTTPS))).await;
    let c = crate::helpers::console::Console::new(&app);
    let s = c.user("ada", "admin").await;
    let store = qrpay::db::store::find_store(&app.db, None).await.unwrap();
    let server = qrpay::db::payment_type::first_auth_server(&app.db, store.store_id)
        .await
        .unwrap()
        .auth_server_id
        .to_string();
    let form = |enabled: bool| {
        let mut f = vec![
            ("name", "Песочница"),
            ("auth_server_id", server.as_str()),
            ("module", "sandbox"),
        ];
        if enabled {
            f.push(("enabled", "on"));
        }
        f
    };
    let a = c
        .post_fn(
            "save_payment_type",
            "/console/payment-types",
            &form(true),
            &s,
        )
        .await;
    assert_eq!(
        a.field("module"),
        Some(app::i18n::Msg::TestModuleInProduction),
        "{:?}",
        a.error()
    );
    // Switched off it may be kept (a store's history names it).
    let a = c
        .post_fn(
            "save_payment_type",
            "/console/payment-types",
            &form(false),
            &s,
        )
        .await;
    assert_eq!(
        a.location,
        "/console/payment-types?done=saved",
        "{:?}",
        a.error()
    );
}
