//! Online copies of a SQLite database (`qrpay backup`): `VACUUM INTO` a temporary file beside the
//! target (a consistent snapshot; the server keeps writing to the WAL meanwhile), `PRAGMA
//! integrity_check` on the copy, then an atomic rename. (PostgreSQL is copied with `pg_dump`: see
//! `cli::backup`.)

use anyhow::{Context, bail};
use sqlx::sqlite::{SqliteConnectOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// What a finished SQLite backup holds.
#[derive(Debug)]
pub struct SqliteBackup {
    pub bytes: u64,
    pub payments: i64,
}

/// Copies the SQLite database at `url` to `to` (which must not exist) and checks the copy.
pub async fn sqlite_backup(url: &str, to: &Path) -> anyhow::Result<SqliteBackup> {
    if to.exists() {
        bail!(
            "{} already exists; a backup never overwrites a file (choose another name)",
            to.display()
        );
    }
    let source = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("{url:?} is not a valid sqlite: URL"))?;
    if !source.get_filename().exists() {
        bail!(
            "there is no database at {} (check QRPAY_DATABASE_URL)",
            source.get_filename().display()
        );
    }
    let partial = partial_path(to)?;
    let _ = std::fs::remove_file(&partial);
    let result = copy_and_check(source, &partial).await;
    let copied = match result {
        Ok(copied) => copied,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, to)
        .with_context(|| format!("cannot rename {} to {}", partial.display(), to.display()))?;
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename itself is durable once the folder is synced.
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(copied)
}

/// `FILE.partial-PID` beside the target, so that the final rename stays on one file system.
fn partial_path(to: &Path) -> anyhow::Result<PathBuf> {
    let name = to
        .file_name()
        .with_context(|| format!("{} is not a file name", to.display()))?;
    let mut partial = name.to_os_string();
    partial.push(format!(".partial-{}", std::process::id()));
    Ok(to.with_file_name(partial))
}

async fn copy_and_check(source: SqliteConnectOptions, to: &Path) -> anyhow::Result<SqliteBackup> {
    let target = to
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", to.display()))?;
    // The server's writer may hold the database for a moment: wait for it as the server does.
    let mut conn = source
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30))
        .synchronous(SqliteSynchronous::Full)
        // A copy of a big database takes seconds by nature: no "slow statement" warnings.
        .disable_statement_logging()
        .connect()
        .await
        .context("cannot open the database")?;
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(&mut conn)
        .await
        .with_context(|| format!("cannot write the copy to {target}"))?;
    conn.close().await.ok();
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {target}"))?;

    let mut copy = SqliteConnectOptions::new()
        .filename(to)
        .read_only(true)
        .disable_statement_logging()
        .connect()
        .await
        .with_context(|| format!("cannot open the copy {target}"))?;
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut copy)
        .await
        .context("integrity_check on the copy failed")?;
    if problems != ["ok"] {
        bail!(
            "the copy failed its integrity check: {}",
            problems.join("; ")
        );
    }
    let payments: i64 = sqlx::query_scalar("select count(*) from payment")
        .fetch_one(&mut copy)
        .await
        .context("the copy has no payment table: is this a qrpay database?")?;
    copy.close().await.ok();
    let bytes = std::fs::metadata(to)?.len();
    Ok(SqliteBackup { bytes, payments })
}

/// Notes a finished backup in the audit log (action `backup`, entity `database`, what it holds):
/// the «Журнал» lists it and production mode's startup looks for the newest one.
pub async fn record_backup(
    db: &super::Db,
    who: &super::audit::Who<'_>,
    to: &Path,
    done: &SqliteBackup,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    super::audit::record(
        &mut tx,
        who,
        super::audit::Change {
            store_id: None,
            action: "backup",
            entity: "database",
            entity_id: to.display().to_string(),
            before: None,
            after: Some(serde_json::json!({"bytes": done.bytes, "payments": done.payments})),
        },
    )
    .await?;
    tx.commit().await
}

/// When the newest backup recorded by [`record_backup`] was taken.
pub async fn last_backup(
    db: &super::Db,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, sqlx::Error> {
    super::read!(db, |c| sqlx::query_scalar(
        "select max(created_at) from audit_log where action = 'backup' and entity = 'database'"
    )
    .fetch_one(c)
    .await)
}
