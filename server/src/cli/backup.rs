//! `qrpay backup --to FILE`: a verified online copy of a SQLite database, noted in the audit
//! log (production mode warns at startup when none was taken in 24 h); on PostgreSQL, the
//! `pg_dump` command to run instead (exit code 1: no file was written, so a script that chains
//! on success never mistakes the advice for a backup).

use crate::db::Db;
use crate::db::audit::Who;
use crate::db::backup::{record_backup, sqlite_backup};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// The file to write (must not exist). Safe while `qrpay serve` runs.
    #[arg(long)]
    pub to: PathBuf,
}

pub async fn run(database_url: &str, args: BackupArgs) -> anyhow::Result<()> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        anyhow::bail!(
            "this is a PostgreSQL database, which qrpay does not copy itself; back it up with pg_dump \
             (password from PGPASSWORD or ~/.pgpass):\n  {}\nrestore into an empty database with:\n  \
             pg_restore --no-owner --dbname=DATABASE_URL {}",
            pg_dump_command(database_url, &args.to),
            shell_quote(&args.to.display().to_string()),
        );
    }
    let started = std::time::Instant::now();
    let done = sqlite_backup(database_url, &args.to).await?;
    println!(
        "backup written to {} ({} bytes, {} payments, integrity ok, {} ms)",
        args.to.display(),
        done.bytes,
        done.payments,
        started.elapsed().as_millis()
    );
    // The copy is good whatever happens next; only the note of it may fail.
    let noted = match Db::connect(database_url).await {
        Ok(db) => record_backup(&db, &Who::CLI, &args.to, &done)
            .await
            .map_err(anyhow::Error::from),
        Err(e) => Err(e),
    };
    if let Err(e) = noted {
        eprintln!("warning: the backup is good, but it could not be noted in the audit log: {e:#}");
    }
    Ok(())
}

/// The `pg_dump` command that backs up the PostgreSQL database at `url` into `to`, with the
/// password left out of the URL (pg_dump takes it from `PGPASSWORD` or `~/.pgpass`).
pub fn pg_dump_command(url: &str, to: &Path) -> String {
    let shown = match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "postgres://USER@HOST:5432/DATABASE".to_owned(),
    };
    format!(
        "pg_dump --format=custom --file={} {}",
        shell_quote(&to.display().to_string()),
        shell_quote(&shown)
    )
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-:@=+,".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pg_dump_command_leaves_the_password_out_and_quotes() {
        let c = pg_dump_command(
            "postgres://qrpay:p%40ss@db:5432/qrpay?sslmode=require",
            Path::new("/var/backups/qrpay it.dump"),
        );
        assert_eq!(
            c,
            "pg_dump --format=custom --file='/var/backups/qrpay it.dump' 'postgres://qrpay@db:5432/qrpay?sslmode=require'"
        );
    }
}
