//! `qrpay backup --to FILE`: on SQLite a consistent copy taken while the server writes, verified
//! before it says so; restored, it holds every payment created before the backup began. On
//! PostgreSQL it writes nothing, prints the `pg_dump` command and exits non-zero.

use crate::helpers::{self, Backend};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn qrpay(db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qrpay"));
    cmd.env("QRPAY_DATABASE_URL", db)
        .env_remove("QRPAY_AMQP_URL")
        .env("QRPAY_LOG", "warn");
    cmd
}

/// Runs `qrpay backup --to COPY` on the database at `url`.
async fn backup(url: &str, copy: &std::path::Path) -> std::process::Output {
    let (url, copy) = (url.to_owned(), copy.to_owned());
    tokio::task::spawn_blocking(move || {
        qrpay(&url)
            .args(["backup", "--to"])
            .arg(&copy)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_backup_taken_under_load_restores_every_payment_created_before_it() {
    let app = Arc::new(helpers::spawn_app(Backend::Sqlite).await.unwrap());
    let created = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    // Two tills' worth of load: payments keep being created during the whole backup.
    let load: Vec<_> = (0..2)
        .map(|_| {
            let (app, created, stop) = (app.clone(), created.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let p = app.create_payment(1000).await;
                    created
                        .lock()
                        .unwrap()
                        .push(p["id"].as_str().unwrap().to_owned());
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    // Every payment whose creation was answered before this point must be in the copy.
    let before: Vec<String> = created.lock().unwrap().clone();
    assert!(
        before.len() > 10,
        "the load made only {} payments",
        before.len()
    );

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let out = backup(&app.database_url, &copy).await;
    let during = created.lock().unwrap().len() - before.len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "backup failed: {stdout}\n{stderr}");
    assert!(stdout.contains("integrity ok"), "{stdout}\n{stderr}");
    assert!(during > 0, "no payment was created while the backup ran");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().count() == 1,
        "the backup left temporary files beside the copy"
    );

    // A second backup to the same file is refused: a backup is never overwritten.
    let again = qrpay(&app.database_url)
        .args(["backup", "--to"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{again:?}"
    );

    // Restore: serve the copy; every payment answered before the backup began is there, and the
    // till's key still works.
    let copy_url = format!("sqlite://{}", copy.display());
    let restored = helpers::spawn_app_on(&copy_url, None, false).await;
    for id in &before {
        let r = restored
            .get_with(&format!("/api/v1/payments/{id}"), &app.key)
            .await;
        assert_eq!(
            r.status, 200,
            "payment {id} is missing from the backup: {}",
            r.body
        );
    }
}

#[test]
fn a_backup_of_a_missing_sqlite_database_fails_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/nothing.db", dir.path().display());
    let to = dir.path().join("copy.db");
    let out = qrpay(&db)
        .args(["backup", "--to"])
        .arg(&to)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    assert!(!to.exists());
    assert!(!dir.path().join("nothing.db").exists());
}

#[test]
fn on_postgres_backup_prints_the_pg_dump_command_without_the_password_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("qrpay.dump");
    let out = qrpay("postgres://qrpay:s3cret@db.example:5432/qrpay?sslmode=require")
        .args(["backup", "--to"])
        .arg(&to)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("pg_dump"), "{text}");
    assert!(text.contains(&to.display().to_string()), "{text}");
    assert!(text.contains("db.example"), "{text}");
    assert!(!text.contains("s3cret"), "the password is printed: {text}");
    assert!(!to.exists());
}

/// Production mode's startup warns about a SQLite database with no backup in 24 hours: never
/// taken, then taken (no warning), then a day old; the backup is in the audit log as the CLI's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_noted_and_production_warns_when_none_was_taken_for_a_day() {
    use qrpay::preflight::backup_warning;
    let app = helpers::spawn_app(Backend::Sqlite).await.unwrap();
    let now = chrono::Utc::now();
    let never = backup_warning(&app.db, now).await.unwrap();
    assert!(
        never
            .as_deref()
            .is_some_and(|w| w.contains("was ever taken")),
        "{never:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("daily.db");
    let out = backup(&app.database_url, &copy).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        backup_warning(&app.db, chrono::Utc::now()).await.unwrap(),
        None
    );
    let later = chrono::Utc::now() + chrono::TimeDelta::hours(25);
    let stale = backup_warning(&app.db, later).await.unwrap();
    assert!(
        stale
            .as_deref()
            .is_some_and(|w| w.contains("last 24 hours")),
        "{stale:?}"
    );

    let store = qrpay::db::store::find_store(&app.db, None).await.unwrap();
    let journal = qrpay::db::audit::latest(&app.db, store.store_id, 10)
        .await
        .unwrap();
    let noted = journal
        .iter()
        .find(|e| e.action == "backup")
        .expect("the backup is in the audit log");
    assert_eq!(noted.login, "cli");
    assert_eq!(noted.entity_id, copy.display().to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_production_mode_does_not_claim_to_see_backups() {
    let Some(app) = helpers::spawn_app(Backend::Postgres).await else {
        return;
    };
    let now = chrono::Utc::now();
    assert_eq!(
        qrpay::preflight::backup_warning(&app.db, now)
            .await
            .unwrap(),
        None
    );
}
