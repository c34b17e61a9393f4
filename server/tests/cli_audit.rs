//! The command line's configuration changes (`qrpay user`, `store`, `till`, `auth-server`,
//! `payment-type`, `raiffeisen configure`, `events url`) are audited like the console's: one row
//! each, actor `cli`, in the store's «Журнал». Runs the real `qrpay` binary against the test
//! application's database.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::helpers::console::{Console, add_user};
use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `qrpay --database-url <the app's> <args>`, feeding `stdin`; returns stdout.
pub(crate) async fn qrpay(app: &TestApp, args: &[&str], stdin: &str) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qrpay"));
    cmd.arg("--database-url")
        .arg(&app.database_url)
        .args(args)
        .env_remove("QRPAY_AMQP_URL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let stdin = stdin.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().expect("qrpay runs");
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(stdin.as_bytes())
            .expect("stdin written");
        child.wait_with_output().expect("qrpay ends")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "qrpay {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// (entity, action, login) of a store's journal, newest first.
async fn journal(app: &TestApp, store_id: i64) -> Vec<(String, String, String, Option<i64>)> {
    qrpay::db::audit::latest(&app.db, store_id, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.entity, e.action, e.login, e.app_user_id))
        .collect()
}

async fn every_configuration_change_from_the_command_line_is_in_the_journal_as_cli(app: TestApp) {
    assert!(journal(&app, 1).await.is_empty(), "nothing audited yet");
    qrpay(
        &app,
        &[
            "user",
            "add",
            "--login",
            "ops",
            "--role",
            "support",
            "--password-stdin",
        ],
        "a long enough password\n",
    )
    .await;
    qrpay(
        &app,
        &[
            "auth-server",
            "add",
            "--name",
            "Банк CLI",
            "--timeout",
            "90",
        ],
        "",
    )
    .await;
    qrpay(
        &app,
        &[
            "payment-type",
            "add",
            "--name",
            "CLI QR",
            "--module",
            "sandbox",
            "--auth-server",
            "Банк CLI",
        ],
        "",
    )
    .await;
    let key = qrpay(&app, &["till", "add", "--name", "Касса CLI"], "").await;
    qrpay(
        &app,
        &["till", "set", "Касса CLI", "--paper-width", "384"],
        "",
    )
    .await;
    qrpay(&app, &["till", "revoke", "Касса CLI"], "").await;
    qrpay(
        &app,
        &["events", "url", "amqp://u:broker-secret@127.0.0.1:5672/%2f"],
        "",
    )
    .await;
    qrpay(&app, &["events", "url", "--clear"], "").await;
    qrpay(
        &app,
        &[
            "raiffeisen",
            "configure",
            "--merchant-id",
            "MA0000000552",
            "--secret-key-stdin",
        ],
        "raif-secret-key\n",
    )
    .await;
    qrpay(
        &app,
        &["store", "add", "--code", "north", "--name", "Северный"],
        "",
    )
    .await;

    let cli = |e: &str, a: &str| (e.to_owned(), a.to_owned(), "cli".to_owned(), None);
    assert_eq!(
        journal(&app, 1).await,
        vec![
            cli("raiffeisen_setting", "create"),
            cli("store", "update"),
            cli("store", "update"),
            cli("till", "revoke"),
            cli("till", "update"),
            cli("till", "create"),
            cli("payment_type", "create"),
            cli("auth_server", "create"),
            cli("app_user", "create"),
        ]
    );
    let north = qrpay::db::store::find_store(&app.db, Some("north"))
        .await
        .unwrap()
        .store_id;
    let north_rows: Vec<_> = journal(&app, north)
        .await
        .into_iter()
        .filter(|r| r.0 != "app_user")
        .collect();
    assert_eq!(
        north_rows,
        vec![
            cli("payment_type", "create"),
            cli("auth_server", "create"),
            cli("store", "create"),
        ]
    );
    let text: String = qrpay::db::audit::latest(&app.db, 1, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| format!("{:?} {:?}", e.before, e.after))
        .collect();
    assert!(text.contains("u:***@127.0.0.1"), "{text}");
    assert!(!text.contains("broker-secret"), "no broker password");
    assert!(!text.contains(key.trim()), "no till key");
    assert!(!text.contains("a long enough password"), "no password");
    assert!(!text.contains("raif-secret-key"), "no bank secret key");

    // The console's «Журнал» shows them, with «CLI» as who made them.
    add_user(&app, "root", "admin").await;
    let c = Console::new(&app);
    let s = c.session_of("root").await;
    let page = c.get("/console/audit", Some(&s)).await;
    assert_eq!(page.status, 200);
    let body = page.body.replace("<!---->", "").replace("<!>", "");
    assert_eq!(body.matches(r#"data-testid="audit-row""#).count(), 9);
    assert_eq!(
        body.matches(r#"data-testid="who">CLI<"#).count(),
        9,
        "{body}"
    );
}

both_backends!(every_configuration_change_from_the_command_line_is_in_the_journal_as_cli);
