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

/// Runs `qrpay --database-url <the app's> <args>`, which must fail; returns its stderr.
async fn qrpay_fails(app: &TestApp, args: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qrpay"));
    cmd.arg("--database-url")
        .arg(&app.database_url)
        .args(args)
        .env("RUST_LOG", "warn");
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("qrpay runs"))
        .await
        .unwrap();
    assert!(!out.status.success(), "qrpay {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
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

both_backends!(
    every_configuration_change_from_the_command_line_is_in_the_journal_as_cli,
    till_set_renames_a_till_and_sets_its_language_as_the_console_does,
    a_command_line_change_beside_a_busy_server_waits_for_its_turn,
);

/// The CLI beside a serving qrpay on the same database, while tills create payments: each of its
/// changes (they read, then write, in one transaction) waits for the server's writes instead of
/// failing with "database is locked" (SQLite cannot wait for a read transaction's upgrade to a
/// write when another connection wrote in between; the CI run that found it failed 1 in 3).
async fn a_command_line_change_beside_a_busy_server_waits_for_its_turn(app: TestApp) {
    for name in ["B", "C"] {
        qrpay(
            &app,
            &["payment-type", "add", "--name", name, "--module", "sandbox"],
            "",
        )
        .await;
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    let load = async {
        let mut created = 0;
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            // Several at once, so that the server's writer is busy most of the time.
            let batch = (0..8).map(|_| app.create_payment(100));
            created += futures::future::join_all(batch).await.len();
        }
        created
    };
    let cli = async {
        for round in 0..12 {
            let name = if round % 2 == 0 { "B" } else { "C" };
            qrpay(&app, &["payment-type", "default", name], "").await;
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    let (created, ()) = tokio::join!(load, cli);
    assert!(created > 0, "the server wrote meanwhile");
    let r = app.create_payment(100).await;
    assert_eq!(r["payment_type"], "C", "{r}");
}

async fn till_set_renames_a_till_and_sets_its_language_as_the_console_does(app: TestApp) {
    let key = qrpay(&app, &["till", "add", "--name", "Касса 1"], "").await;
    let key = key.trim();
    qrpay(&app, &["till", "add", "--name", "Касса 3"], "").await;
    let store = 1;
    let till = qrpay::db::till::till_by_name(&app.db, store, "Касса 1")
        .await
        .unwrap();
    assert_eq!(till.language, "ru");

    qrpay(
        &app,
        &[
            "till",
            "set",
            "Касса 1",
            "--rename",
            " Касса 2 ",
            "--language",
            "en",
        ],
        "",
    )
    .await;
    let renamed = qrpay::db::till::till_by_name(&app.db, store, "Касса 2")
        .await
        .unwrap();
    assert_eq!(renamed.till_id, till.till_id);
    assert_eq!(renamed.language, "en");
    assert!(
        qrpay::db::till::till_by_name(&app.db, store, "Касса 1")
            .await
            .is_err()
    );
    // Its till API errors now come in English.
    let r = app
        .post_raw("/api/v1/payments", Some(key), Some("cli-lang-1"), "{}")
        .await;
    let message = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        r.status >= 400
            && !message.is_empty()
            && !message.chars().any(|c| ('а'..='я').contains(&c)),
        "{}",
        r.body
    );
    let row = qrpay::db::audit::latest(&app.db, store, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (row.entity.as_str(), row.action.as_str(), row.login.as_str()),
        ("till", "update", "cli")
    );
    let json = |s: Option<String>| serde_json::from_str::<serde_json::Value>(&s.unwrap()).unwrap();
    let (before, after) = (json(row.before), json(row.after));
    assert_eq!(
        (&before["name"], &before["language"]),
        (&"Касса 1".into(), &"ru".into())
    );
    assert_eq!(
        (&after["name"], &after["language"]),
        (&"Касса 2".into(), &"en".into())
    );

    // Bad values are refused with a reason, and nothing changes.
    let rows = qrpay::db::audit::latest(&app.db, store, 100)
        .await
        .unwrap()
        .len();
    let e = qrpay_fails(&app, &["till", "set", "Касса 2", "--language", "de"]).await;
    assert!(
        e.contains("--language") && e.contains("[possible values: ru, en]"),
        "{e}"
    );
    let e = qrpay_fails(&app, &["till", "set", "Касса 2", "--rename", "  "]).await;
    assert!(e.contains("--rename") && e.contains("Required."), "{e}");
    let long = "К".repeat(101);
    let e = qrpay_fails(&app, &["till", "set", "Касса 2", "--rename", &long]).await;
    assert!(e.contains("At most 100 characters."), "{e}");
    let e = qrpay_fails(&app, &["till", "set", "Касса 2", "--rename", "Касса 3"]).await;
    assert!(e.contains("\"Касса 3\" already exists"), "{e}");
    let e = qrpay_fails(&app, &["till", "set", "Касса 9", "--language", "en"]).await;
    assert!(e.contains("not found"), "{e}");
    assert_eq!(
        qrpay::db::audit::latest(&app.db, store, 100)
            .await
            .unwrap()
            .len(),
        rows
    );
}
