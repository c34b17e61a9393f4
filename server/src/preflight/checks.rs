//! The preflight checks, one list for `qrpay doctor` and the console's «Состояние» page: the
//! database, the public URL, each enabled payment type's module (the bank takes the credentials,
//! the callback URL is registered, the clocks agree), the broker, an admin, test modules in
//! production mode, disk space. Each check says what is wrong and what to do, as a `Phrase` (a
//! message key and its values) that `qrpay doctor` prints in English and the console shows in the
//! reader's language.

use crate::db::{self, Db};
use crate::providers::{ProviderError, Providers};
use app::i18n::{Lang, Msg, Phrase};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// What a check is about (the console names it in its language).
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
    pub detail: Phrase,
}

impl Check {
    fn ok(kind: CheckKind, detail: Phrase) -> Self {
        Self {
            kind,
            ok: true,
            detail,
        }
    }

    fn failed(kind: CheckKind, detail: Phrase) -> Self {
        Self {
            kind,
            ok: false,
            detail,
        }
    }

    /// `✓ detail` or `✗ detail`, as `qrpay doctor` prints it: in English, the language of the
    /// server's other output and of the documentation an operator searches.
    pub fn line(&self) -> String {
        format!(
            "{} {}",
            if self.ok { "✓" } else { "✗" },
            self.detail.text(Lang::En)
        )
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
                Phrase::new(Msg::CheckStoresUnreadable).code("error", e),
            ));
            return checks;
        }
    };
    let (types, mut clock) = payment_types(i, &stores).await;
    checks.extend(types);
    checks.extend(brokers(i, &stores).await);
    checks.push(match admin_exists(i.db).await {
        Ok(true) => Check::ok(CheckKind::Admin, Phrase::new(Msg::CheckAdminOk)),
        Ok(false) => Check::failed(CheckKind::Admin, Phrase::new(Msg::CheckAdminNone)),
        Err(e) => Check::failed(
            CheckKind::Admin,
            Phrase::new(Msg::CheckUsersUnreadable).code("error", e),
        ),
    });
    checks.push(test_modules(i, &stores).await);
    checks.push(disk(&i.data_dir, i.min_free_bytes));
    checks.push(
        clock
            .take()
            .unwrap_or_else(|| Check::ok(CheckKind::Clock, Phrase::new(Msg::CheckClockNoBank))),
    );
    checks
}

/// Reaching the database is the first check; the rest need it.
pub fn database_unreachable(e: &anyhow::Error) -> Check {
    Check::failed(
        CheckKind::Database,
        Phrase::new(Msg::CheckDatabaseUnreachable).code("error", format!("{e:#}")),
    )
}

pub fn database_reached(db: &Db) -> Check {
    Check::ok(
        CheckKind::Database,
        Phrase::new(Msg::CheckDatabaseReached).code("backend", db.backend_name()),
    )
}

async fn migrations(db: &Db) -> Check {
    match db.pending_migrations().await {
        Ok(p) if p.is_empty() => Check::ok(CheckKind::Database, Phrase::new(Msg::CheckMigrated)),
        Ok(p) => Check::failed(
            CheckKind::Database,
            Phrase::new(Msg::CheckNotMigrated)
                .number("count", p.len() as u64)
                .code("first", p[0]),
        ),
        Err(e) => Check::failed(
            CheckKind::Database,
            Phrase::new(Msg::CheckMigrationsUnreadable).code("error", e),
        ),
    }
}

async fn public_url(url: &str, production: bool) -> Check {
    let https = super::is_https(url);
    if production && !https {
        return Check::failed(
            CheckKind::PublicUrl,
            Phrase::new(Msg::CheckPublicUrlRefused).code("url", url),
        );
    }
    let health = format!("{}/healthz", url.trim_end_matches('/'));
    let answer = async {
        let client = reqwest::Client::builder()
            .timeout(REACH_TIMEOUT)
            .build()
            .map_err(|e| Phrase::new(Msg::CheckPublicUrlUnreachable).code("error", e))?;
        let r = client
            .get(&health)
            .send()
            .await
            .map_err(|e| Phrase::new(Msg::CheckPublicUrlUnreachable).code("error", e))?;
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        if status.is_success() && body.trim() == "ok" {
            Ok(())
        } else {
            Err(Phrase::new(Msg::CheckPublicUrlNotQrpay).code("status", status))
        }
    }
    .await;
    match answer {
        Ok(()) if https => Check::ok(
            CheckKind::PublicUrl,
            Phrase::new(Msg::CheckPublicUrlHttps).code("url", url),
        ),
        Ok(()) => Check::ok(
            CheckKind::PublicUrl,
            Phrase::new(Msg::CheckPublicUrlHttp).code("url", url),
        ),
        Err(why) => Check::failed(
            CheckKind::PublicUrl,
            why.code("url", url).code("health", &health),
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
                Phrase::new(Msg::CheckTypesUnreadable).code("error", e),
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
                Phrase::new(Msg::CheckNoEnabledType).code("store", &store.code),
            ));
        }
        for pt in enabled {
            // Every line about the payment type names it the same way.
            let about = |msg| {
                Phrase::new(msg)
                    .code("store", &store.code)
                    .name("type", &pt.name)
                    .code("module", &pt.module)
            };
            let Some(provider) = i.providers.get(&pt.module) else {
                checks.push(Check::failed(
                    CheckKind::PaymentType,
                    about(Msg::CheckTypeNoModule),
                ));
                continue;
            };
            if provider.is_test() {
                checks.push(if i.production {
                    Check::failed(
                        CheckKind::PaymentType,
                        about(Msg::CheckTypeTestInProduction),
                    )
                } else {
                    Check::ok(CheckKind::PaymentType, about(Msg::CheckTypeTest))
                });
                continue;
            }
            let (check, bank_clock) = bank_module(i, store, &about).await;
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
    about: &impl Fn(Msg) -> Phrase,
) -> (Check, Option<Check>) {
    let failed = |p: Phrase| (Check::failed(CheckKind::PaymentType, p), None);
    let Some(bank) = i.providers.raiffeisen() else {
        return failed(about(Msg::CheckTypeNotInstalled));
    };
    let settings = match bank.settings(store.store_id).await {
        Ok(s) => s,
        Err(e) => return failed(about(Msg::CheckTypeFailed).code("error", e)),
    };
    let base = settings.base_url.as_str();
    if i.production && !super::is_https(base) {
        return failed(about(Msg::CheckBankNotHttps).code("base", base));
    }
    let bank_time = match bank.probe(store.store_id).await {
        Ok(t) => t,
        Err(ProviderError::Rejected { message, .. }) => {
            return failed(
                about(Msg::CheckBankRejected)
                    .code("error", message)
                    .code("base", base),
            );
        }
        Err(e) => {
            return failed(
                about(Msg::CheckBankNoAnswer)
                    .code("base", base)
                    .code("error", e),
            );
        }
    };
    let clock = bank_time.map(|t| {
        let skew = chrono::Utc::now() - t;
        if skew.abs() <= MAX_CLOCK_SKEW {
            Check::ok(
                CheckKind::Clock,
                Phrase::new(Msg::CheckClockOk).number("seconds", skew.num_seconds().abs()),
            )
        } else {
            Check::failed(
                CheckKind::Clock,
                Phrase::new(Msg::CheckClockOff).number("seconds", skew.num_seconds()),
            )
        }
    });
    let expected = callback_url(store, i.public_url);
    let registered = db::raiffeisen_setting::registered_callback(i.db, store.store_id).await;
    let check = match registered {
        Ok(Some((url, _))) if url == expected => Check::ok(
            CheckKind::PaymentType,
            about(Msg::CheckCallbackOk).code("url", url),
        ),
        Ok(Some((url, _))) => Check::failed(
            CheckKind::PaymentType,
            about(Msg::CheckCallbackElsewhere)
                .code("url", url)
                .code("expected", expected),
        ),
        Ok(None) => Check::failed(
            CheckKind::PaymentType,
            about(Msg::CheckCallbackNone).code("expected", expected),
        ),
        Err(e) => Check::failed(
            CheckKind::PaymentType,
            about(Msg::CheckTypeFailed).code("error", e),
        ),
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
                Phrase::new(Msg::CheckBrokerNone).code("store", &store.code),
            ));
            continue;
        };
        let shown = crate::domain::amqp_url::redact(&url);
        let about = |msg| {
            Phrase::new(msg)
                .code("store", &store.code)
                .code("url", &shown)
                .code("exchange", &exchange)
        };
        checks.push(
            match crate::events::broker::exchange_exists(&url, &exchange).await {
                Ok(true) => Check::ok(CheckKind::Broker, about(Msg::CheckBrokerOk)),
                Ok(false) => Check::failed(CheckKind::Broker, about(Msg::CheckBrokerNoExchange)),
                Err(e) => Check::failed(
                    CheckKind::Broker,
                    Phrase::new(Msg::CheckBrokerUnreachable)
                        .code("store", &store.code)
                        .code("error", e),
                ),
            },
        );
    }
    checks
}

async fn test_modules(i: &Inputs<'_>, stores: &[db::store::Store]) -> Check {
    if !i.production {
        return Check::ok(CheckKind::TestModules, Phrase::new(Msg::CheckNotProduction));
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
                    Phrase::new(Msg::CheckTypesUnreadable).code("error", e),
                );
            }
        }
    }
    if on.is_empty() {
        Check::ok(
            CheckKind::TestModules,
            Phrase::new(Msg::CheckTestModulesOff),
        )
    } else {
        Check::failed(
            CheckKind::TestModules,
            Phrase::new(Msg::CheckTestModulesOn).name("types", on.join(", ")),
        )
    }
}

fn disk(dir: &std::path::Path, min_free: u64) -> Check {
    let mib = |bytes: u64| bytes / (1024 * 1024);
    match free_bytes(dir) {
        Ok(free) if free >= min_free => Check::ok(
            CheckKind::Disk,
            Phrase::new(Msg::CheckDiskOk)
                .number("free", mib(free))
                .code("dir", dir.display()),
        ),
        Ok(free) => Check::failed(
            CheckKind::Disk,
            Phrase::new(Msg::CheckDiskLow)
                .number("free", mib(free))
                .code("dir", dir.display())
                .number("min", mib(min_free)),
        ),
        Err(e) => Check::failed(
            CheckKind::Disk,
            Phrase::new(Msg::CheckDiskUnreadable)
                .code("dir", dir.display())
                .code("error", e),
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
