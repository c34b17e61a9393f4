//! The preflight checks, one list for `qrpay doctor` and the console's «Состояние» page: the
//! database, the public URL, each enabled payment type's module (the bank takes the credentials,
//! the callback URL is registered, the clocks agree), the broker, an admin, test modules in
//! production mode, disk space. Each check says what is wrong and what to do.

use crate::db::{self, Db};
use crate::providers::{ProviderError, Providers};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// What a check is about (the console names it in its language; the detail is the same text as
/// `qrpay doctor` prints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    Database,
    PublicUrl,
    PaymentType,
    Broker,
    Admin,
    TestModules,
    Disk,
    Clock,
}

/// One line of the preflight: ✓ or ✗, and what it found or what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub kind: CheckKind,
    pub ok: bool,
    pub detail: String,
}

impl Check {
    fn ok(kind: CheckKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            ok: true,
            detail: detail.into(),
        }
    }

    fn failed(kind: CheckKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            ok: false,
            detail: detail.into(),
        }
    }

    /// `✓ detail` or `✗ detail`, as `qrpay doctor` prints it.
    pub fn line(&self) -> String {
        format!("{} {}", if self.ok { "✓" } else { "✗" }, self.detail)
    }
}

/// What the checks look at: the running (or about to run) qrpay's settings.
pub struct Inputs<'a> {
    pub db: &'a Db,
    pub providers: &'a Providers,
    /// Where tills, customers and the bank reach qrpay.
    pub public_url: &'a str,
    pub production: bool,
    /// `QRPAY_AMQP_URL`: the broker of stores without their own.
    pub default_amqp_url: Option<&'a str>,
    /// A directory whose file system holds qrpay's data (the SQLite file's), for the disk check.
    pub data_dir: PathBuf,
    /// Less free space than this is a ✗.
    pub min_free_bytes: u64,
    /// Only this store's payment types and broker (the console); `None`: every store.
    pub store_id: Option<i64>,
}

/// The free space below which the disk check fails.
pub const MIN_FREE_BYTES: u64 = 1024 * 1024 * 1024;
/// The largest difference between qrpay's clock and the bank's that is fine.
const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::seconds(30);
/// How long the public URL may take to answer.
const REACH_TIMEOUT: Duration = Duration::from_secs(5);

/// Every check except reaching the database (the caller has a `Db` already): see the module.
pub async fn run(i: &Inputs<'_>) -> Vec<Check> {
    let mut checks = Vec::new();
    checks.push(migrations(i.db).await);
    checks.push(public_url(i.public_url, i.production).await);
    let stores: Vec<db::store::Store> = match db::store::list_stores(i.db).await {
        Ok(s) => s
            .into_iter()
            .filter(|s| i.store_id.is_none_or(|id| id == s.store_id))
            .collect(),
        Err(e) => {
            checks.push(Check::failed(
                CheckKind::Database,
                format!("cannot read the stores: {e}"),
            ));
            return checks;
        }
    };
    let (types, mut clock) = payment_types(i, &stores).await;
    checks.extend(types);
    checks.extend(brokers(i, &stores).await);
    checks.push(match admin_exists(i.db).await {
        Ok(true) => Check::ok(CheckKind::Admin, "a console admin exists"),
        Ok(false) => Check::failed(
            CheckKind::Admin,
            "no console admin: open the setup link qrpay logs at start, or `qrpay user add --login admin --role admin --password-stdin`",
        ),
        Err(e) => Check::failed(CheckKind::Admin, format!("cannot read the users: {e}")),
    });
    checks.push(test_modules(i, &stores).await);
    checks.push(disk(&i.data_dir, i.min_free_bytes));
    checks.push(clock.take().unwrap_or_else(|| {
        Check::ok(
            CheckKind::Clock,
            "clock: no bank module in use to compare it with",
        )
    }));
    checks
}

/// Reaching the database is the first check; the rest need it.
pub fn database_unreachable(e: &anyhow::Error) -> Check {
    Check::failed(
        CheckKind::Database,
        format!(
            "database unreachable: {e:#}; check QRPAY_DATABASE_URL (the other checks need the database)"
        ),
    )
}

pub fn database_reached(db: &Db) -> Check {
    Check::ok(
        CheckKind::Database,
        format!("database reachable ({})", db.backend_name()),
    )
}

async fn migrations(db: &Db) -> Check {
    match db.pending_migrations().await {
        Ok(p) if p.is_empty() => Check::ok(CheckKind::Database, "database migrated"),
        Ok(p) => Check::failed(
            CheckKind::Database,
            format!(
                "database not migrated: {} migration(s) to apply (from {}): run `qrpay migrate` (or start qrpay, which migrates)",
                p.len(),
                p[0]
            ),
        ),
        Err(e) => Check::failed(
            CheckKind::Database,
            format!("cannot read the applied migrations: {e}"),
        ),
    }
}

async fn public_url(url: &str, production: bool) -> Check {
    let https = super::is_https(url);
    if production && !https {
        return Check::failed(
            CheckKind::PublicUrl,
            format!(
                "public URL {url} is not https: production mode refuses it; set QRPAY_PUBLIC_URL=https://… (TLS at the reverse proxy)"
            ),
        );
    }
    let health = format!("{}/healthz", url.trim_end_matches('/'));
    let answer = async {
        let client = reqwest::Client::builder()
            .timeout(REACH_TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        let r = client
            .get(&health)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        if status.is_success() && body.trim() == "ok" {
            Ok(())
        } else {
            Err(format!("HTTP {status}, not qrpay's health answer"))
        }
    }
    .await;
    match answer {
        Ok(()) if https => Check::ok(
            CheckKind::PublicUrl,
            format!("public URL {url} is https and reaches this qrpay"),
        ),
        Ok(()) => Check::ok(
            CheckKind::PublicUrl,
            format!(
                "public URL {url} reaches this qrpay (not https: fine outside production mode only)"
            ),
        ),
        Err(why) => Check::failed(
            CheckKind::PublicUrl,
            format!(
                "public URL {url} does not reach qrpay ({health}: {why}): is qrpay running, and QRPAY_PUBLIC_URL its address as tills and the bank see it?"
            ),
        ),
    }
}

/// One check per enabled payment type, and the clock check from the first bank that answered.
async fn payment_types(i: &Inputs<'_>, stores: &[db::store::Store]) -> (Vec<Check>, Option<Check>) {
    let mut checks = Vec::new();
    let mut clock = None;
    let types = match db::payment_type::list_payment_types(i.db).await {
        Ok(t) => t,
        Err(e) => {
            let c = Check::failed(
                CheckKind::PaymentType,
                format!("cannot read the payment types: {e}"),
            );
            return (vec![c], None);
        }
    };
    for store in stores {
        let enabled: Vec<_> = types
            .iter()
            .filter(|t| t.store_id == store.store_id && t.enabled)
            .collect();
        if enabled.is_empty() {
            checks.push(Check::failed(
                CheckKind::PaymentType,
                format!(
                    "store {}: no enabled payment type: add one on a bank module (console «Виды оплаты», `qrpay payment-type add`)",
                    store.code
                ),
            ));
        }
        for pt in enabled {
            let name = format!(
                "store {}: payment type «{}» ({})",
                store.code, pt.name, pt.module
            );
            let Some(provider) = i.providers.get(&pt.module) else {
                checks.push(Check::failed(
                    CheckKind::PaymentType,
                    format!(
                        "{name}: no such payment module in this qrpay: choose an installed one"
                    ),
                ));
                continue;
            };
            if provider.is_test() {
                checks.push(if i.production {
                    Check::failed(
                        CheckKind::PaymentType,
                        format!(
                            "{name}: a test module, off in production mode (its payments are refused): switch it off"
                        ),
                    )
                } else {
                    Check::ok(
                        CheckKind::PaymentType,
                        format!("{name}: a test module; its payments are marked test, no money moves"),
                    )
                });
                continue;
            }
            let (check, bank_clock) = bank_module(i, store, &name).await;
            checks.push(check);
            if clock.is_none()
                && let Some(c) = bank_clock
            {
                clock = Some(c);
            }
        }
    }
    (checks, clock)
}

/// A bank module's payment type: settings, https in production, the bank takes the credentials,
/// the callback URL is registered; and the clock compared with the bank's.
async fn bank_module(
    i: &Inputs<'_>,
    store: &db::store::Store,
    name: &str,
) -> (Check, Option<Check>) {
    let Some(bank) = i.providers.raiffeisen() else {
        return (
            Check::failed(
                CheckKind::PaymentType,
                format!("{name}: module not installed"),
            ),
            None,
        );
    };
    let settings = match bank.settings(store.store_id).await {
        Ok(s) => s,
        Err(e) => {
            return (
                Check::failed(CheckKind::PaymentType, format!("{name}: {e}")),
                None,
            );
        }
    };
    if i.production && !super::is_https(&settings.base_url) {
        let c = Check::failed(
            CheckKind::PaymentType,
            format!(
                "{name}: the bank address {} is not https: `qrpay raiffeisen configure --base prod`",
                settings.base_url
            ),
        );
        return (c, None);
    }
    let bank_time = match bank.probe(store.store_id).await {
        Ok(t) => t,
        Err(ProviderError::Rejected { message, .. }) => {
            let c = Check::failed(
                CheckKind::PaymentType,
                format!(
                    "{name}: {message} at {}: check sbpMerchantId and the secret key (`qrpay raiffeisen configure`)",
                    settings.base_url
                ),
            );
            return (c, None);
        }
        Err(e) => {
            let c = Check::failed(
                CheckKind::PaymentType,
                format!(
                    "{name}: the bank at {} did not answer: {e}",
                    settings.base_url
                ),
            );
            return (c, None);
        }
    };
    let clock = bank_time.map(|t| {
        let skew = chrono::Utc::now() - t;
        if skew.abs() <= MAX_CLOCK_SKEW {
            Check::ok(
                CheckKind::Clock,
                format!("clock within {} s of the bank's", skew.num_seconds().abs()),
            )
        } else {
            Check::failed(
                CheckKind::Clock,
                format!(
                    "clock {} s off the bank's: QR deadlines would be wrong; synchronise the time (chrony, systemd-timesyncd)",
                    skew.num_seconds()
                ),
            )
        }
    });
    let expected = callback_url(store, i.public_url);
    let registered = db::raiffeisen_setting::registered_callback(i.db, store.store_id).await;
    let check = match registered {
        Ok(Some((url, _))) if url == expected => Check::ok(
            CheckKind::PaymentType,
            format!("{name}: the bank takes the credentials; callbacks go to {url}"),
        ),
        Ok(Some((url, _))) => Check::failed(
            CheckKind::PaymentType,
            format!(
                "{name}: the bank sends callbacks to {url}, not {expected}: register again (console «Модули оплаты», `qrpay raiffeisen register-callback --url {expected}`)"
            ),
        ),
        Ok(None) => Check::failed(
            CheckKind::PaymentType,
            format!(
                "{name}: the bank takes the credentials, but no callback URL was registered: console «Модули оплаты» or `qrpay raiffeisen register-callback --url {expected}`"
            ),
        ),
        Err(e) => Check::failed(CheckKind::PaymentType, format!("{name}: {e}")),
    };
    (check, clock)
}

/// Where the bank should call back: the store's «Адрес интегратора», else the public URL.
fn callback_url(store: &db::store::Store, public_url: &str) -> String {
    let base = store
        .integrator_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(public_url)
        .trim_end_matches('/');
    format!(
        "{base}/api/v1/callbacks/{}",
        crate::providers::raiffeisen::MODULE
    )
}

async fn brokers(i: &Inputs<'_>, stores: &[db::store::Store]) -> Vec<Check> {
    let mut checks = Vec::new();
    let exchange = crate::events::Topology::default().exchange;
    for store in stores {
        let url = store
            .rabbitmq_url
            .as_ref()
            .map(|u| u.as_str().to_owned())
            .or_else(|| i.default_amqp_url.map(str::to_owned));
        let Some(url) = url else {
            checks.push(Check::failed(
                CheckKind::Broker,
                format!(
                    "store {}: no RabbitMQ server: events wait in the outbox; set «RabbitMQ сервер» (console «Параметры магазина») or QRPAY_AMQP_URL",
                    store.code
                ),
            ));
            continue;
        };
        let shown = crate::domain::amqp_url::redact(&url);
        checks.push(match crate::events::broker::exchange_exists(&url, &exchange).await {
            Ok(true) => Check::ok(
                CheckKind::Broker,
                format!("store {}: RabbitMQ {shown} reachable, {exchange} declared", store.code),
            ),
            Ok(false) => Check::failed(
                CheckKind::Broker,
                format!(
                    "store {}: RabbitMQ {shown} has no exchange {exchange}: start qrpay (its relay declares it) and check the user may configure it",
                    store.code
                ),
            ),
            Err(e) => Check::failed(
                CheckKind::Broker,
                format!("store {}: RabbitMQ unreachable: {e}", store.code),
            ),
        });
    }
    checks
}

async fn test_modules(i: &Inputs<'_>, stores: &[db::store::Store]) -> Check {
    if !i.production {
        return Check::ok(
            CheckKind::TestModules,
            "not in production mode: test modules are on (their payments are marked test); start with --production or QRPAY_PRODUCTION=1 before taking real money",
        );
    }
    let test: Vec<&str> = i
        .providers
        .modules()
        .filter(|m| i.providers.is_test(m))
        .collect();
    let mut on = Vec::new();
    for store in stores {
        match db::payment_type::enabled_types_on(i.db, Some(store.store_id), &test).await {
            Ok(types) => on.extend(
                types
                    .into_iter()
                    .map(|t| format!("«{}» ({})", t.name, store.code)),
            ),
            Err(e) => {
                return Check::failed(
                    CheckKind::TestModules,
                    format!("cannot read the payment types: {e}"),
                );
            }
        }
    }
    if on.is_empty() {
        Check::ok(
            CheckKind::TestModules,
            "production mode: test modules are off, no payment type uses one",
        )
    } else {
        Check::failed(
            CheckKind::TestModules,
            format!(
                "production mode, but test payment types are on (they refuse payments): {}; switch them off",
                on.join(", ")
            ),
        )
    }
}

fn disk(dir: &std::path::Path, min_free: u64) -> Check {
    match free_bytes(dir) {
        Ok(free) if free >= min_free => Check::ok(
            CheckKind::Disk,
            format!(
                "disk: {} MiB free at {}",
                free / (1024 * 1024),
                dir.display()
            ),
        ),
        Ok(free) => Check::failed(
            CheckKind::Disk,
            format!(
                "disk: only {} MiB free at {} (less than {} MiB): free space or move the data",
                free / (1024 * 1024),
                dir.display(),
                min_free / (1024 * 1024)
            ),
        ),
        Err(e) => Check::failed(
            CheckKind::Disk,
            format!("disk: cannot read the free space at {}: {e}", dir.display()),
        ),
    }
}

#[cfg(unix)]
fn free_bytes(dir: &std::path::Path) -> std::io::Result<u64> {
    let s = rustix::fs::statvfs(dir)?;
    Ok(s.f_bavail.saturating_mul(s.f_frsize))
}

#[cfg(not(unix))]
fn free_bytes(_dir: &std::path::Path) -> std::io::Result<u64> {
    Ok(u64::MAX)
}

/// Where a database URL keeps its data: the SQLite file's directory, else the working directory.
pub fn data_dir(database_url: &str) -> PathBuf {
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|p| p.split('?').next().unwrap_or(p))
        .map(std::path::Path::new)
        .and_then(|p| p.parent())
        .filter(|p| !p.as_os_str().is_empty())
        .map(std::path::Path::to_path_buf);
    match path {
        Some(p) if p.exists() => p,
        _ => PathBuf::from("."),
    }
}

/// An enabled console admin exists.
pub async fn admin_exists(db: &Db) -> Result<bool, sqlx::Error> {
    Ok(db::user::list_users(db)
        .await?
        .iter()
        .any(|u| u.role == "admin" && !u.disabled))
}
