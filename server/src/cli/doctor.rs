//! `qrpay doctor`: the preflight a store's IT runs before opening, with the same settings as
//! `qrpay serve` (flags or the environment file). One line per check, ✓ or ✗ with what to do;
//! the exit code is 0 only when nothing is ✗.

use super::ServeArgs;
use crate::db::Db;
use crate::preflight::checks::{self, Check, Inputs, MIN_FREE_BYTES};
use crate::providers::Providers;

pub async fn run(database_url: &str, serve: &ServeArgs) -> anyhow::Result<()> {
    let lines = checks_of(database_url, serve).await;
    for c in &lines {
        println!("{}", c.line());
    }
    let failed = lines.iter().filter(|c| !c.ok).count();
    if failed > 0 {
        anyhow::bail!("{failed} of {} checks failed (✗ above)", lines.len());
    }
    eprintln!("all {} checks passed", lines.len());
    Ok(())
}

async fn checks_of(database_url: &str, serve: &ServeArgs) -> Vec<Check> {
    let db = match Db::connect(database_url).await {
        Ok(db) => db,
        Err(e) => return vec![checks::database_unreachable(&e)],
    };
    let providers = Providers::installed(&db);
    let public_url = serve
        .public_url
        .clone()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| format!("http://{}", serve.listen));
    let inputs = Inputs {
        db: &db,
        providers: &providers,
        public_url: public_url.trim_end_matches('/'),
        production: serve.production,
        default_amqp_url: serve.amqp_url.as_deref().filter(|u| !u.trim().is_empty()),
        data_dir: checks::data_dir(database_url),
        min_free_bytes: std::env::var("QRPAY_DOCTOR_MIN_FREE_MB")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(MIN_FREE_BYTES, |mb| mb.saturating_mul(1024 * 1024)),
        store_id: None,
    };
    let mut lines = vec![checks::database_reached(&db)];
    lines.extend(checks::run(&inputs).await);
    db.close().await;
    lines
}
