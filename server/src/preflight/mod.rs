//! Before a store takes real money: what production mode refuses at startup and what it warns
//! about (here), and the checks `qrpay doctor` and the console's «Состояние» page share
//! (`checks`). Sits beside `payments/`: it reads storage and asks the payment modules, and both
//! the command line and the console use it.

pub mod checks;

use crate::db::{self, Db};
use crate::providers::{Providers, raiffeisen};

/// Why production mode cannot run with this public URL, or `None` when it is https.
pub fn public_url_refusal(public_url: Option<&str>) -> Option<String> {
    match public_url.map(str::trim).filter(|u| !u.is_empty()) {
        None => Some(
            "production mode: set QRPAY_PUBLIC_URL (or --public-url) to qrpay's https address; customers' links and the bank's callbacks are made from it".into(),
        ),
        Some(url) if !is_https(url) => Some(format!(
            "production mode: the public URL {url} is not https; customers' pages and bank callbacks would travel unencrypted: set QRPAY_PUBLIC_URL=https://…"
        )),
        Some(_) => None,
    }
}

/// True for an `https://` URL with a host.
pub fn is_https(url: &str) -> bool {
    reqwest::Url::parse(url.trim()).is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some())
}

/// The bank addresses qrpay would send secret keys and payments to that are not https: each
/// store's Raiffeisen settings and the `QRPAY_RAIFFEISEN_*` ones.
pub async fn bank_address_refusals(
    db: &Db,
    providers: &Providers,
) -> Result<Vec<String>, sqlx::Error> {
    let mut refusals = Vec::new();
    if let Some(url) = providers.raiffeisen().and_then(|r| r.default_base_url())
        && !is_https(url)
    {
        refusals.push(format!(
            "production mode: the Raiffeisen address {url} of QRPAY_RAIFFEISEN_BASE_URL is not https: use prod, test or an https:// URL"
        ));
    }
    for store in db::store::list_stores(db).await? {
        if let Some(s) = db::raiffeisen_setting::setting_of_store(db, store.store_id).await?
            && !is_https(&s.base_url)
        {
            refusals.push(format!(
                "production mode: store {} sends payments to the Raiffeisen address {}, which is not https: `qrpay raiffeisen configure --store {} --base prod` (or an https:// URL)",
                store.code, s.base_url, store.code
            ));
        }
    }
    Ok(refusals)
}

/// What production mode warns about at startup (it still starts): no broker for a store's
/// events, payment types on test modules (they refuse payments now), a bank whose callback URL
/// was never registered through qrpay (payments then wait for polling), no console admin, no
/// `qrpay backup` of a SQLite database in the last 24 hours (PostgreSQL's `pg_dump` runs are not
/// seen by qrpay).
/// `qrpay doctor` checks all of it and more.
pub async fn production_warnings(
    db: &Db,
    providers: &Providers,
    default_broker: bool,
) -> Result<Vec<String>, sqlx::Error> {
    let mut warnings = Vec::new();
    for store in db::store::list_stores(db).await? {
        if store.rabbitmq_url.is_none() && !default_broker {
            warnings.push(format!(
                "store {}: no RabbitMQ server: its events wait in the outbox; set «RabbitMQ сервер» in the console or QRPAY_AMQP_URL",
                store.code
            ));
        }
    }
    let types = db::payment_type::list_payment_types(db).await?;
    let mut unregistered = Vec::new();
    for pt in types
        .iter()
        .filter(|t| t.enabled && t.module == raiffeisen::MODULE)
    {
        if !unregistered.contains(&pt.store_id)
            && db::raiffeisen_setting::registered_callback(db, pt.store_id)
                .await?
                .is_none()
        {
            unregistered.push(pt.store_id);
            warnings.push(format!(
                "payment type «{}» is on Raiffeisen, but no callback URL was registered through qrpay: payments are only seen by polling; `qrpay raiffeisen register-callback` or console «Модули оплаты»",
                pt.name
            ));
        }
    }
    for pt in types {
        if pt.enabled && providers.is_test(&pt.module) {
            warnings.push(format!(
                "payment type «{}» is on the test module {}: it refuses payments in production mode; switch it off or move it to a bank module",
                pt.name, pt.module
            ));
        }
    }
    if !checks::admin_exists(db).await? {
        warnings.push(
            "no console admin: `qrpay user add --login admin --role admin --password-stdin`".into(),
        );
    }
    if let Some(w) = backup_warning(db, chrono::Utc::now()).await? {
        warnings.push(w);
    }
    Ok(warnings)
}

/// How old the newest backup may be before production mode's startup warns.
pub const BACKUP_MAX_AGE: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// The warning about a SQLite database with no `qrpay backup` in [`BACKUP_MAX_AGE`] before `now`.
pub async fn backup_warning(
    db: &Db,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<String>, sqlx::Error> {
    if !matches!(db, Db::Sqlite { .. }) {
        return Ok(None);
    }
    let advice = "`qrpay backup --to FILE`, daily by the timer in docs/OPERATIONS.md";
    Ok(match db::backup::last_backup(db).await? {
        None => Some(format!(
            "no backup of this database was ever taken: {advice}"
        )),
        Some(at) if now - at > BACKUP_MAX_AGE => Some(format!(
            "no backup in the last 24 hours (the newest is of {}): {advice}",
            at.format("%Y-%m-%d %H:%M UTC")
        )),
        Some(_) => None,
    })
}
