//! The console's backend: `app::backend::AdminBackend` over the database, plus what the console
//! router needs around it (the session's user, the one-time setup link).

use crate::auth::password;
use crate::db::{self, Db};
use crate::providers::{ProviderError, raiffeisen};
use app::backend::StoreItem;
use app::backend::{
    Actor, AdminBackend, RefundLine, Role, TimelineLine, TransactionDetail, TransactionList,
    TransactionPage, TransactionQuery, TransactionRow,
};
use app::backend::{AuditItem, AuthServerInput, AuthServerItem, TillInput, TillItem};
use app::backend::{AuditRefund, PaymentModulesPage, RaiffeisenInput, RaiffeisenSettingsView};
use app::backend::{DASHBOARD_DAYS, Dashboard, DashboardDay, UserItem};
use app::backend::{PaymentTypeInput, PaymentTypeItem, PaymentTypePage, StoreSettings};
use app::error::ConsoleError;
use app::error::FormErrors;
use app::i18n::Msg;
use axum::http::request::Parts;
use chrono::TimeDelta;
use db::audit::Who;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use tower_sessions::Session;

/// Failed logins allowed per login within `THROTTLE_WINDOW`; the next attempts wait.
pub const MAX_FAILURES: i64 = 5;
pub const THROTTLE_WINDOW: TimeDelta = TimeDelta::minutes(15);
const TRANSACTIONS_PAGE: i64 = 50;
/// The session key of the signed-in user.
const SESSION_USER: &str = "user";
/// The session key of a new till's key, kept until the next page shows it once.
const SESSION_NEW_KEY: &str = "new_till_key";
/// How many audit entries the «Журнал» page shows.
const AUDIT_PAGE: i64 = 100;
/// The session key of when the session was last marked as used (unix seconds).
const SESSION_SEEN: &str = "seen";
/// The store picked in the console's store picker.
const SESSION_STORE: &str = "store";
/// A session is saved again (which moves its expiry) at most this often, not on every request:
/// SQLite has one writer, and payments need it more.
const SEEN_EVERY_SECS: i64 = 300;

#[derive(Serialize, Deserialize, Debug, Clone, Copy)]
struct SessionUser {
    user_id: i64,
}

pub struct ConsoleBackend {
    db: Db,
    /// The installed payment modules, for the «Виды оплаты» form.
    providers: crate::providers::Providers,
    /// While no user exists: the token of the one-time setup link.
    setup_token: Mutex<Option<String>>,
    /// Refunds go through the payment service (absent only in tests that never refund).
    payments: Option<std::sync::Arc<crate::payments::service::PaymentService>>,
}

fn internal(e: impl std::fmt::Display) -> ConsoleError {
    tracing::error!(error = %e, "console backend");
    ConsoleError::Internal
}

fn session(parts: &Parts) -> Result<Session, ConsoleError> {
    parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| internal("no session layer on the console router"))
}

impl ConsoleBackend {
    pub fn new(db: Db) -> Self {
        Self {
            providers: crate::providers::Providers::installed(&db),
            db,
            setup_token: Mutex::new(None),
            payments: None,
        }
    }

    /// The payment service console refunds go through.
    pub fn with_payments(
        mut self,
        payments: std::sync::Arc<crate::payments::service::PaymentService>,
    ) -> Self {
        self.payments = Some(payments);
        self
    }

    /// On a database without users: makes the one-time setup token (256 random bits) and returns it.
    pub async fn open_setup(&self) -> anyhow::Result<Option<String>> {
        if db::config::count_users(&self.db).await? > 0 {
            return Ok(None);
        }
        let token = crate::auth::till_key::generate()
            .trim_start_matches("qrp_")
            .to_owned();
        *self.setup_token.lock().expect("BUG: poisoned") = Some(token.clone());
        Ok(Some(token))
    }

    /// The signed-in user of a session, if the session holds one who may still sign in.
    pub async fn actor_of(&self, session: &Session) -> Result<Option<Actor>, ConsoleError> {
        let Some(su) = session
            .get::<SessionUser>(SESSION_USER)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let user = db::console::user_by_id(&self.db, su.user_id)
            .await
            .map_err(internal)?;
        let now = chrono::Utc::now().timestamp();
        let seen = session
            .get::<i64>(SESSION_SEEN)
            .await
            .map_err(internal)?
            .unwrap_or(0);
        if now - seen >= SEEN_EVERY_SECS {
            session.insert(SESSION_SEEN, now).await.map_err(internal)?;
        }
        let Some((u, role)) = user.and_then(|u| {
            let role = Role::parse(&u.role)?;
            (!u.disabled).then_some((u, role))
        }) else {
            return Ok(None);
        };
        Ok(Some(Actor {
            user_id: u.app_user_id,
            login: u.login,
            role,
            store_id: self.session_store(session).await?,
        }))
    }

    /// The store the actor works on (picked in the session, else the first).
    pub(crate) async fn store_of(&self, actor: &Actor) -> Result<db::config::Store, ConsoleError> {
        db::config::store_by_id(&self.db, actor.store_id)
            .await
            .map_err(internal)
    }

    /// The store a session works on: its picked store (`choose_store` checked that it exists, and
    /// stores are never deleted), else the first one. Each request then reads it once, in
    /// `store_of`.
    async fn session_store(&self, session: &Session) -> Result<i64, ConsoleError> {
        let picked = session.get::<i64>(SESSION_STORE).await.map_err(internal)?;
        if let Some(id) = picked {
            return Ok(id);
        }
        db::config::find_store(&self.db, None)
            .await
            .map(|s| s.store_id)
            .map_err(internal)
    }

    fn setup_token_matches(&self, token: &str) -> bool {
        match &*self.setup_token.lock().expect("BUG: poisoned") {
            Some(t) => constant_time_eq(t.as_bytes(), token.as_bytes()),
            None => false,
        }
    }
}

// ---- admin configuration helpers ----

/// A second check behind the server fn's `require`: configuration changes are for admins.
fn admin_only(actor: &Actor) -> Result<(), ConsoleError> {
    if actor.role >= Role::Admin {
        Ok(())
    } else {
        Err(ConsoleError::Forbidden)
    }
}

fn who(actor: &Actor) -> Who<'_> {
    Who {
        app_user_id: Some(actor.user_id),
        login: &actor.login,
    }
}

/// «Name taken» beside the name field, the typed values kept.
fn name_taken(values: &[(&str, &str)]) -> ConsoleError {
    let mut f = FormErrors::default();
    f.field("name", Msg::NameTaken);
    for (k, v) in values {
        f.keep(k, v);
    }
    ConsoleError::Invalid(f)
}

/// The store's time zone; an unknown one (the console checks it before saving) is logged and
/// read as Europe/Moscow.
fn store_tz(store: &db::config::Store) -> chrono_tz::Tz {
    store.time_zone.parse().unwrap_or_else(|_| {
        tracing::warn!(time_zone = %store.time_zone, "unknown store time zone; using Europe/Moscow");
        chrono_tz::Europe::Moscow
    })
}

/// How long «Проверить подключение» waits for RabbitMQ.
const RABBITMQ_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

fn valid_http_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .unwrap_or(false)
}

/// Constant-time comparison of two byte strings of possibly different lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[async_trait::async_trait]
impl AdminBackend for ConsoleBackend {
    async fn login(&self, parts: &Parts, login: &str, pw: &str) -> Result<Actor, ConsoleError> {
        let form_error = |m| ConsoleError::form(m, &[("login", login)]);
        let since = db::now() - THROTTLE_WINDOW;
        let failures = db::console::count_login_failures_since(&self.db, login, since)
            .await
            .map_err(internal)?;
        if failures >= MAX_FAILURES {
            tracing::warn!(login, "console login throttled");
            return Err(form_error(app::i18n::Msg::LoginThrottled));
        }
        let user = db::console::user_by_login(&self.db, login)
            .await
            .map_err(internal)?;
        // Unknown logins are verified against a dummy hash: same work, same time.
        let phc = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| password::dummy_hash().to_owned());
        let pw = pw.to_owned();
        let matches = tokio::task::spawn_blocking(move || password::verify(&phc, &pw))
            .await
            .map_err(internal)?;
        let actor = match user {
            Some(u) if matches && !u.disabled => Role::parse(&u.role).map(|role| Actor {
                user_id: u.app_user_id,
                login: u.login,
                role,
                store_id: 0,
            }),
            _ => None,
        };
        let Some(actor) = actor else {
            db::console::record_login_failure(&self.db, login, since)
                .await
                .map_err(internal)?;
            tracing::info!(login, "console login failed");
            return Err(form_error(app::i18n::Msg::LoginFailed));
        };
        db::console::clear_login_failures(&self.db, login)
            .await
            .map_err(internal)?;
        let session = session(parts)?;
        let actor = Actor {
            store_id: self.session_store(&session).await?,
            ..actor
        };
        // A new id at sign-in: an id planted before it (session fixation) is worth nothing.
        session.cycle_id().await.map_err(internal)?;
        session
            .insert(
                SESSION_USER,
                SessionUser {
                    user_id: actor.user_id,
                },
            )
            .await
            .map_err(internal)?;
        session
            .insert(SESSION_SEEN, chrono::Utc::now().timestamp())
            .await
            .map_err(internal)?;
        if let Err(e) = db::users::record_sign_in(&self.db, actor.user_id).await {
            tracing::warn!(login, error = %e, "cannot record the sign-in time");
        }
        tracing::info!(login, role = ?actor.role, "console login");
        Ok(actor)
    }

    async fn list_stores(&self, _actor: &Actor) -> Result<Vec<StoreItem>, ConsoleError> {
        let stores = db::config::list_stores(&self.db).await.map_err(internal)?;
        Ok(stores
            .into_iter()
            .map(|s| StoreItem {
                store_id: s.store_id,
                code: s.code,
                name: s.name,
            })
            .collect())
    }

    async fn choose_store(
        &self,
        parts: &Parts,
        actor: &Actor,
        store_id: i64,
    ) -> Result<(), ConsoleError> {
        match db::config::store_by_id(&self.db, store_id).await {
            Ok(_) => {}
            Err(db::config::ConfigError::NotFound(_)) => return Err(ConsoleError::NotFound),
            Err(e) => return Err(internal(e)),
        }
        session(parts)?
            .insert(SESSION_STORE, store_id)
            .await
            .map_err(internal)?;
        tracing::info!(login = %actor.login, store_id, "console store picked");
        Ok(())
    }

    async fn logout(&self, parts: &Parts) -> Result<(), ConsoleError> {
        session(parts)?.flush().await.map_err(internal)
    }

    async fn setup_open(&self, token: &str) -> bool {
        self.setup_token_matches(token) && matches!(db::config::count_users(&self.db).await, Ok(0))
    }

    async fn create_first_admin(
        &self,
        token: &str,
        login: &str,
        pw: &str,
    ) -> Result<(), ConsoleError> {
        if !self.setup_open(token).await {
            return Err(ConsoleError::form(app::i18n::Msg::SetupClosed, &[]));
        }
        let pw = pw.to_owned();
        let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
            .await
            .map_err(internal)?
            .map_err(|_| ConsoleError::form(app::i18n::Msg::PasswordTooShort, &[]))?;
        match db::config::add_user(&self.db, login, &hash, "admin").await {
            Ok(_) => {}
            Err(db::config::ConfigError::Duplicate(_)) => {
                return Err(ConsoleError::form(
                    app::i18n::Msg::LoginTaken,
                    &[("login", login)],
                ));
            }
            Err(db::config::ConfigError::Invalid(_)) => {
                return Err(ConsoleError::form(
                    app::i18n::Msg::LoginRules,
                    &[("login", login)],
                ));
            }
            Err(e) => return Err(internal(e)),
        }
        *self.setup_token.lock().expect("BUG: poisoned") = None;
        tracing::info!(login, "first console admin created through the setup link");
        Ok(())
    }

    // ---- transactions journey (issue 4, part b) ----

    /// Every role may read transactions.
    async fn search_transactions(
        &self,
        actor: &Actor,
        query: &TransactionQuery,
    ) -> Result<TransactionPage, ConsoleError> {
        let (store, tz) = self.store(actor).await?;
        let tills = db::console::store_tills(&self.db, store.store_id)
            .await
            .map_err(internal)?;
        let parsed = parse_query(query, tz, &tills);
        let mut rows = db::console::search_payments(
            &self.db,
            store.store_id,
            &parsed.filter,
            parsed.after.as_ref(),
            TRANSACTIONS_PAGE + 1,
        )
        .await
        .map_err(internal)?;
        let next = if rows.len() as i64 > TRANSACTIONS_PAGE {
            rows.truncate(TRANSACTIONS_PAGE as usize);
            rows.last().map(|r| cursor_of(r.created_at, &r.payment_id))
        } else {
            None
        };
        let (total_count, total_amount, total_refunded) =
            db::console::payment_totals(&self.db, store.store_id, tz, &parsed.filter)
                .await
                .map_err(internal)?;
        Ok(TransactionPage {
            store_name: store.name,
            time_zone: tz.name().to_owned(),
            rows: rows.into_iter().map(|r| row_view(r, tz)).collect(),
            errors: parsed.errors,
            tills: tills
                .into_iter()
                .map(|(id, name)| (id.to_string(), name))
                .collect(),
            total_count,
            total_amount,
            total_refunded,
            next,
        })
    }

    async fn transaction_detail(
        &self,
        actor: &Actor,
        payment_id: &str,
    ) -> Result<TransactionDetail, ConsoleError> {
        let (store, tz) = self.store(actor).await?;
        let p = db::payments::get_payment(&self.db, payment_id)
            .await
            .map_err(internal)?
            .filter(|p| p.store_id == store.store_id)
            .ok_or(ConsoleError::NotFound)?;
        let events = db::payments::events_of(&self.db, payment_id)
            .await
            .map_err(internal)?;
        let refunds = db::payments::refunds_of(&self.db, payment_id)
            .await
            .map_err(internal)?;
        let local = |t: chrono::DateTime<chrono::Utc>| {
            t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string()
        };
        let qr_svg = p
            .qr_payload
            .as_deref()
            .and_then(|payload| crate::qr::svg(payload, 220).ok());
        let refund_nonce = {
            use rand::RngCore;
            let mut b = [0u8; 16];
            rand::rng().fill_bytes(&mut b);
            b.iter().map(|x| format!("{x:02x}")).collect()
        };
        Ok(TransactionDetail {
            payment_id: p.payment_id.clone(),
            status: p.status.clone(),
            amount: p.amount,
            refunded_amount: p.refunded_amount,
            receipt: p.receipt.clone(),
            order_ref: p.order_ref.clone(),
            qr_id: p.qr_id.clone(),
            bank_transaction_id: p.bank_transaction_id.clone(),
            till: tills_name(&self.db, p.till_id).await?,
            payment_type: p.payment_type_name.clone(),
            module: p.module.clone(),
            local_time: local(p.created_at),
            paid_local_time: p.paid_at.map(local),
            time_zone: tz.name().to_owned(),
            qr_svg,
            timeline: events
                .into_iter()
                .map(|e| TimelineLine {
                    local_time: local(e.created_at),
                    from_status: e.from_status,
                    to_status: e.to_status,
                    trigger: e.trigger,
                    detail: e.detail,
                })
                .collect(),
            refunds: refunds
                .into_iter()
                .map(|r| RefundLine {
                    local_time: local(r.created_at),
                    refund_id: r.refund_id,
                    amount: r.amount,
                    status: r.status,
                    reason: r.reason,
                })
                .collect(),
            refund_nonce,
        })
    }

    async fn refund_payment(
        &self,
        actor: &Actor,
        payment_id: &str,
        amount: Option<i64>,
        reason: Option<&str>,
        nonce: &str,
        confirmed: bool,
    ) -> Result<i64, ConsoleError> {
        // The server fn checked this already; checked again where the money moves.
        if actor.role < Role::Support {
            return Err(ConsoleError::Forbidden);
        }
        let (store, _) = self.store(actor).await?;
        let p = db::payments::get_payment(&self.db, payment_id)
            .await
            .map_err(internal)?
            .filter(|p| p.store_id == store.store_id)
            .ok_or(ConsoleError::NotFound)?;
        let amount_error = |m| {
            let mut f = app::error::FormErrors::default();
            f.field("amount", m);
            ConsoleError::Invalid(f)
        };
        if !confirmed {
            if p.status != "paid" {
                return Err(amount_error(Msg::RefundNotPaid));
            }
            let left = p.amount - p.refunded_amount;
            let k = amount.unwrap_or(left);
            if k <= 0 || k > left {
                return Err(amount_error(Msg::RefundExceedsLeft));
            }
            return Ok(k);
        }
        let payments = self
            .payments
            .as_ref()
            .ok_or_else(|| internal("the console has no payment service"))?;
        let amount = match amount {
            Some(k) => Some(
                crate::domain::Amount::parse(k).map_err(|_| amount_error(Msg::RefundBadAmount))?,
            ),
            None => None,
        };
        let key = format!("console:{payment_id}:{nonce}");
        match payments
            .refund_by_console(&who(actor), payment_id, amount, reason, &key)
            .await
        {
            Ok(r) if r.status == "declined" => {
                tracing::warn!(payment_id, refund_id = %r.refund_id, login = %actor.login, "console refund declined by the bank");
                Err(amount_error(Msg::RefundDeclined))
            }
            Ok(r) => {
                tracing::info!(payment_id, refund_id = %r.refund_id, amount = r.amount, login = %actor.login, "console refund");
                Ok(r.amount)
            }
            Err(e) => match e {
                crate::payments::Error::NotPaid(_) => Err(amount_error(Msg::RefundNotPaid)),
                crate::payments::Error::RefundExceeds { .. } => {
                    Err(amount_error(Msg::RefundExceedsLeft))
                }
                crate::payments::Error::NotFound(_) => Err(ConsoleError::NotFound),
                _ => Err(internal(e)),
            },
        }
    }

    // ---- end of the transactions journey block ----

    /// Every role may read transactions: `actor` only picks the store.
    async fn list_transactions(&self, actor: &Actor) -> Result<TransactionList, ConsoleError> {
        let (store, tz) = self.store(actor).await?;
        let rows = db::console::latest_payments(&self.db, store.store_id, TRANSACTIONS_PAGE)
            .await
            .map_err(internal)?;
        Ok(TransactionList {
            store_name: store.name,
            time_zone: tz.name().to_owned(),
            rows: rows.into_iter().map(|r| row_view(r, tz)).collect(),
        })
    }

    // ---- admin configuration: authorization servers, tills, audit log ----

    async fn list_auth_servers(&self, actor: &Actor) -> Result<Vec<AuthServerItem>, ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let rows = db::settings::list_auth_servers(&self.db, store.store_id)
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|r| AuthServerItem {
                id: r.auth_server_id,
                name: r.name,
                response_timeout_secs: r.response_timeout_secs,
                used_by: r.used_by,
            })
            .collect())
    }

    async fn save_auth_server(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: AuthServerInput,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let timeout = input.response_timeout_secs.to_string();
        let values = [
            ("name", input.name.as_str()),
            ("response_timeout_secs", timeout.as_str()),
        ];
        let saved = match id {
            None => db::settings::create_auth_server(
                &self.db,
                &who(actor),
                store.store_id,
                &input.name,
                input.response_timeout_secs,
            )
            .await
            .map(|_| ()),
            Some(id) => {
                db::settings::update_auth_server(
                    &self.db,
                    &who(actor),
                    store.store_id,
                    id,
                    &input.name,
                    input.response_timeout_secs,
                )
                .await
            }
        };
        match saved {
            Ok(()) => Ok(()),
            Err(db::config::ConfigError::Duplicate(_)) => Err(name_taken(&values)),
            Err(db::config::ConfigError::NotFound(_)) => Err(ConsoleError::NotFound),
            Err(e) => Err(internal(e)),
        }
    }

    async fn delete_auth_server(&self, actor: &Actor, id: i64) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        match db::settings::delete_auth_server(&self.db, &who(actor), store.store_id, id).await {
            Ok(()) => Ok(()),
            Err(db::settings::DeleteError::InUse(_)) => {
                Err(ConsoleError::form(Msg::AuthServerInUse, &[]))
            }
            Err(db::settings::DeleteError::Config(db::config::ConfigError::NotFound(_))) => {
                Err(ConsoleError::NotFound)
            }
            Err(e) => Err(internal(e)),
        }
    }

    async fn list_tills(&self, actor: &Actor) -> Result<Vec<TillItem>, ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let tills = db::config::list_tills(&self.db).await.map_err(internal)?;
        Ok(tills
            .into_iter()
            .filter(|t| t.store_id == store.store_id)
            .map(|t| {
                let o = t.outputs();
                TillItem {
                    id: t.till_id,
                    name: t.name,
                    kind: t.kind,
                    key_prefix: t.key_prefix,
                    revoked: t.revoked_at.is_some(),
                    screen: o.screen,
                    display: o.display,
                    receipt: o.receipt,
                    paper_width: o.paper_width,
                    escpos_native: o.escpos_native,
                }
            })
            .collect())
    }

    async fn create_till(&self, actor: &Actor, input: TillInput) -> Result<String, ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let key = crate::auth::till_key::generate();
        let created = db::settings::create_till(
            &self.db,
            &who(actor),
            db::settings::NewTill {
                store_id: store.store_id,
                name: &input.name,
                kind: &input.kind,
                key_hash: &crate::auth::till_key::hash(&key),
                key_prefix: &crate::auth::till_key::display_prefix(&key),
                outputs: crate::qr::outputs::TillOutputs {
                    screen: input.screen,
                    display: input.display,
                    receipt: input.receipt,
                    paper_width: input.paper_width,
                    escpos_native: input.escpos_native,
                },
            },
        )
        .await;
        match created {
            Ok(_) => Ok(key),
            Err(db::config::ConfigError::Duplicate(_)) => Err(name_taken(&[])),
            Err(e) => Err(internal(e)),
        }
    }

    async fn revoke_till(&self, actor: &Actor, id: i64) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        match db::settings::revoke_till(&self.db, &who(actor), store.store_id, id).await {
            Ok(_) => Ok(()),
            Err(db::config::ConfigError::NotFound(_)) => Err(ConsoleError::NotFound),
            Err(e) => Err(internal(e)),
        }
    }

    async fn set_till_outputs(
        &self,
        actor: &Actor,
        id: i64,
        o: TillInput,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let outputs = crate::qr::outputs::TillOutputs {
            screen: o.screen,
            display: o.display,
            receipt: o.receipt,
            paper_width: o.paper_width,
            escpos_native: o.escpos_native,
        };
        match db::settings::set_till_outputs(&self.db, &who(actor), store.store_id, id, &outputs)
            .await
        {
            Ok(()) => Ok(()),
            Err(db::config::ConfigError::NotFound(_)) => Err(ConsoleError::NotFound),
            Err(e) => Err(internal(e)),
        }
    }

    async fn set_key_flash(&self, parts: &Parts, key: String) -> Result<(), ConsoleError> {
        session(parts)?
            .insert(SESSION_NEW_KEY, key)
            .await
            .map_err(internal)
    }

    async fn take_key_flash(&self, parts: &Parts) -> Result<Option<String>, ConsoleError> {
        session(parts)?
            .remove::<String>(SESSION_NEW_KEY)
            .await
            .map_err(internal)
    }

    async fn list_audit(&self, actor: &Actor) -> Result<Vec<AuditItem>, ConsoleError> {
        if actor.role < Role::Support {
            return Err(ConsoleError::Forbidden);
        }
        let store = self.store_of(actor).await?;
        let tz = store_tz(&store);
        let rows = db::audit::latest(&self.db, store.store_id, AUDIT_PAGE)
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|r| AuditItem {
                refund: refund_of(&r.action, &r.entity, r.after.as_deref()),
                local_time: r
                    .created_at
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
                login: r.login,
                action: r.action,
                entity: r.entity,
                entity_id: r.entity_id,
                before: r.before.unwrap_or_default(),
                after: r.after.unwrap_or_default(),
            })
            .collect())
    }

    async fn list_payment_types(&self, actor: &Actor) -> Result<PaymentTypePage, ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let servers = db::settings::list_auth_servers(&self.db, store.store_id)
            .await
            .map_err(internal)?;
        let types = db::config::list_payment_types(&self.db)
            .await
            .map_err(internal)?;
        let server_name = |id: i64| {
            servers
                .iter()
                .find(|a| a.auth_server_id == id)
                .map(|a| a.name.clone())
                .unwrap_or_default()
        };
        Ok(PaymentTypePage {
            items: types
                .into_iter()
                .filter(|p| p.store_id == store.store_id)
                .map(|p| PaymentTypeItem {
                    id: p.payment_type_id,
                    name: p.name,
                    auth_server: server_name(p.auth_server_id),
                    auth_server_id: p.auth_server_id,
                    module: p.module,
                    scan_customer_qr: p.scan_customer_qr,
                    enabled: p.enabled,
                })
                .collect(),
            auth_servers: servers
                .iter()
                .map(|a| (a.auth_server_id, a.name.clone()))
                .collect(),
            modules: self.providers.modules().map(str::to_owned).collect(),
        })
    }

    async fn save_payment_type(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: PaymentTypeInput,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let mut errors = FormErrors::default();
        match self.providers.get(&input.module) {
            None => errors.field("module", Msg::ModuleUnknown),
            Some(p) if input.scan_customer_qr && !p.capabilities().customer_presented_qr => {
                errors.field("scan_customer_qr", Msg::ScanNotSupported)
            }
            Some(_) => {}
        }
        if db::settings::auth_server_by_id(&self.db, store.store_id, input.auth_server_id)
            .await
            .is_err()
        {
            errors.field("auth_server_id", Msg::AuthServerUnknown);
        }
        errors.into_result()?;
        let saved = db::settings::save_payment_type(
            &self.db,
            &who(actor),
            id,
            db::settings::PaymentTypeFields {
                store_id: store.store_id,
                auth_server_id: input.auth_server_id,
                name: &input.name,
                module: &input.module,
                scan_customer_qr: input.scan_customer_qr,
                enabled: input.enabled,
            },
        )
        .await;
        match saved {
            Ok(_) => Ok(()),
            Err(db::config::ConfigError::Duplicate(_)) => Err(name_taken(&[])),
            Err(db::config::ConfigError::NotFound(_)) => Err(ConsoleError::NotFound),
            Err(e) => Err(internal(e)),
        }
    }

    async fn store_settings(&self, actor: &Actor) -> Result<StoreSettings, ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        Ok(StoreSettings {
            name: store.name,
            code: store.code,
            integrator_url: store.integrator_url.unwrap_or_default(),
            rabbitmq_url: store
                .rabbitmq_url
                .as_deref()
                .map(crate::events::outbox::redact)
                .unwrap_or_default(),
            time_zone: store.time_zone,
            refund_late_payments: store.refund_late_payments,
        })
    }

    async fn save_store_settings(
        &self,
        actor: &Actor,
        input: StoreSettings,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let name = input.name.trim();
        let code = input.code.trim();
        let integrator = input.integrator_url.trim();
        let rabbit = input.rabbitmq_url.trim();
        let tz = input.time_zone.trim();
        // The values go back into the URL on an error: never the broker password.
        let mut errors = FormErrors::default();
        errors.keep("name", &input.name);
        errors.keep("code", &input.code);
        errors.keep("integrator_url", &input.integrator_url);
        errors.keep("rabbitmq_url", &crate::events::outbox::redact(rabbit));
        errors.keep("time_zone", &input.time_zone);
        errors.keep(
            "refund_late_payments",
            if input.refund_late_payments { "on" } else { "" },
        );
        if let Err(m) = app::api::settings::check_name(name) {
            errors.field("name", m);
        }
        if !db::config::valid_store_code(code) {
            errors.field("code", Msg::StoreCodeRules);
        }
        if !integrator.is_empty() && !valid_http_url(integrator) {
            errors.field("integrator_url", Msg::UrlInvalid);
        }
        // The form shows the stored URL with its password as ***: sent back unchanged, it keeps it.
        let stored_shown = store
            .rabbitmq_url
            .as_deref()
            .map(crate::events::outbox::redact);
        let rabbit_url = if rabbit.is_empty() {
            None
        } else if stored_shown.as_deref() == Some(rabbit) {
            store.rabbitmq_url.clone()
        } else if let Ok(url) = crate::domain::AmqpUrl::parse(rabbit) {
            Some(url)
        } else {
            errors.field("rabbitmq_url", Msg::RabbitMqUrlInvalid);
            None
        };
        if tz.parse::<chrono_tz::Tz>().is_err() {
            errors.field("time_zone", Msg::TimeZoneInvalid);
        }
        errors.clone().into_result()?;
        let fields = db::settings::StoreFields {
            code: code.to_owned(),
            name: name.to_owned(),
            integrator_url: (!integrator.is_empty()).then(|| integrator.to_owned()),
            rabbitmq_url: rabbit_url,
            time_zone: tz.to_owned(),
            refund_late_payments: input.refund_late_payments,
        };
        match db::settings::update_store(&self.db, &who(actor), store.store_id, &fields).await {
            Ok(()) => Ok(()),
            Err(db::config::ConfigError::Duplicate(_)) => {
                errors.field("code", Msg::CodeTaken);
                Err(ConsoleError::Invalid(errors))
            }
            Err(e) => Err(internal(e)),
        }
    }

    async fn check_rabbitmq(&self, actor: &Actor, url: &str) -> Result<bool, ConsoleError> {
        admin_only(actor)?;
        let url = url.trim();
        let store = self.store_of(actor).await?;
        let stored_shown = store
            .rabbitmq_url
            .as_deref()
            .map(crate::events::outbox::redact);
        let url = if stored_shown.as_deref() == Some(url) {
            store.rabbitmq_url.as_deref().unwrap_or_default().to_owned()
        } else {
            url.to_owned()
        };
        if crate::events::outbox::check_url(&url).is_err() {
            let mut f = FormErrors::default();
            f.field("rabbitmq_url", Msg::RabbitMqUrlInvalid);
            return Err(ConsoleError::Invalid(f));
        }
        let props = lapin::ConnectionProperties::default()
            .with_connection_name("qrpay console check".into());
        let ok = match tokio::time::timeout(
            RABBITMQ_CHECK_TIMEOUT,
            lapin::Connection::connect(&url, props),
        )
        .await
        {
            Ok(Ok(conn)) => {
                let _ = conn.close(200, "checked".into()).await;
                true
            }
            Ok(Err(e)) => {
                tracing::info!(url = %crate::events::outbox::redact(&url), error = %e, "RabbitMQ check failed");
                false
            }
            Err(_) => false,
        };
        Ok(ok)
    }

    // ---- payment module settings (issue 4) ----

    async fn payment_modules(&self, actor: &Actor) -> Result<PaymentModulesPage, ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let row = db::raiffeisen::setting_of_store(&self.db, store.store_id)
            .await
            .map_err(internal)?;
        let (base, custom_url) = match row.as_ref().map(|r| r.base_url.as_str()) {
            None | Some(raiffeisen::TEST_BASE_URL) => ("test", String::new()),
            Some(raiffeisen::PRODUCTION_BASE_URL) => ("production", String::new()),
            Some(url) => ("custom", url.to_owned()),
        };
        Ok(PaymentModulesPage {
            modules: self.providers.modules().map(str::to_owned).collect(),
            raiffeisen: RaiffeisenSettingsView {
                base: base.to_owned(),
                custom_url,
                sbp_merchant_id: row
                    .as_ref()
                    .map(|r| r.sbp_merchant_id.clone())
                    .unwrap_or_default(),
                secret_set: row.is_some(),
                callback_url: callback_url_of(&store),
                production_url: raiffeisen::PRODUCTION_BASE_URL.to_owned(),
                test_url: raiffeisen::TEST_BASE_URL.to_owned(),
            },
        })
    }

    async fn save_raiffeisen_settings(
        &self,
        actor: &Actor,
        input: RaiffeisenInput,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        // The typed values go back with the messages; the secret key never does (it would end up
        // in the URL of a JavaScript-less post).
        let mut errors = FormErrors::default();
        errors.keep("base", &input.base);
        errors.keep("custom_url", &input.custom_url);
        errors.keep("sbp_merchant_id", &input.sbp_merchant_id);
        let base_url = match input.base.as_str() {
            "production" => Some(raiffeisen::PRODUCTION_BASE_URL.to_owned()),
            "test" => Some(raiffeisen::TEST_BASE_URL.to_owned()),
            "custom" => {
                let url = input.custom_url.trim();
                if url.is_empty() {
                    errors.field("custom_url", Msg::Required);
                    None
                } else if !valid_http_url(url) {
                    errors.field("custom_url", Msg::UrlInvalid);
                    None
                } else {
                    raiffeisen::parse_base_url(url).ok()
                }
            }
            _ => {
                errors.field("base", Msg::BaseInvalid);
                None
            }
        };
        let merchant = if input.sbp_merchant_id.trim().is_empty() {
            errors.field("sbp_merchant_id", Msg::Required);
            None
        } else {
            raiffeisen::parse_merchant_id(&input.sbp_merchant_id)
                .map_err(|_| errors.field("sbp_merchant_id", Msg::MerchantIdRules))
                .ok()
        };
        let secret = if input.secret_key.trim().is_empty() {
            None
        } else {
            raiffeisen::SecretKey::parse(&input.secret_key)
                .map_err(|_| errors.field("secret_key", Msg::SecretKeyInvalid))
                .ok()
        };
        let stored = db::raiffeisen::setting_of_store(&self.db, store.store_id)
            .await
            .map_err(internal)?;
        if stored.is_none() && input.secret_key.trim().is_empty() {
            errors.field("secret_key", Msg::SecretKeyRequired);
        }
        let (Some(base_url), Some(merchant), true) = (base_url, merchant, errors.fields.is_empty())
        else {
            return Err(ConsoleError::Invalid(errors));
        };
        let saved = db::raiffeisen::save_setting_audited(
            &self.db,
            &who(actor),
            store.store_id,
            &base_url,
            &merchant,
            secret.as_ref().map(raiffeisen::SecretKey::expose),
        )
        .await
        .map_err(internal)?;
        if !saved {
            // The stored settings vanished between the check and the save.
            errors.field("secret_key", Msg::SecretKeyRequired);
            return Err(ConsoleError::Invalid(errors));
        }
        tracing::info!(store_id = store.store_id, login = %actor.login, secret_changed = secret.is_some(), "Raiffeisen settings saved");
        Ok(())
    }

    async fn register_raiffeisen_callback(&self, actor: &Actor) -> Result<String, ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let Some(url) = callback_url_of(&store) else {
            return Err(ConsoleError::form(Msg::CallbackNoIntegrator, &[]));
        };
        let stored = db::raiffeisen::setting_of_store(&self.db, store.store_id)
            .await
            .map_err(internal)?;
        if stored.is_none() {
            return Err(ConsoleError::form(Msg::CallbackNoSecret, &[]));
        }
        let bank = self
            .providers
            .raiffeisen()
            .ok_or_else(|| internal("the raiffeisen module is not installed"))?;
        match bank.register_callback(store.store_id, &url).await {
            Ok(registered) => {
                tracing::info!(store_id = store.store_id, url = %registered, login = %actor.login, "callback URL registered with Raiffeisen");
                Ok(registered)
            }
            Err(e) => {
                tracing::warn!(store_id = store.store_id, error = %e, "Raiffeisen refused the callback URL");
                let (msg, said) = match e {
                    ProviderError::Rejected { code, message } if message.is_empty() => {
                        (Msg::CallbackRejected, code)
                    }
                    ProviderError::Rejected { code, message } => {
                        (Msg::CallbackRejected, format!("{code}: {message}"))
                    }
                    ProviderError::NoAnswer(why) => (Msg::CallbackNoAnswer, why),
                };
                Err(ConsoleError::form(msg, &[("bank_said", &said)]))
            }
        }
    }

    // ---- users and dashboard (issue 4) ----

    async fn list_users(&self, actor: &Actor) -> Result<Vec<UserItem>, ConsoleError> {
        admin_only(actor)?;
        let (_, tz) = self.store(actor).await?;
        let local = |t: chrono::DateTime<chrono::Utc>| {
            t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
        };
        let rows = db::users::list_users(&self.db).await.map_err(internal)?;
        Ok(rows
            .into_iter()
            .filter_map(|u| {
                Some(UserItem {
                    id: u.app_user_id,
                    role: Role::parse(&u.role)?,
                    login: u.login,
                    disabled: u.disabled,
                    created: local(u.created_at),
                    last_login: u.last_login_at.map(local),
                })
            })
            .collect())
    }

    async fn create_user(
        &self,
        actor: &Actor,
        login: &str,
        role: Role,
        pw: &str,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let hash = hash_new_password(pw).await?;
        db::users::create_user(&self.db, &who(actor), login, &hash, role.code())
            .await
            .map(|_| tracing::info!(login, by = %actor.login, "console user added"))
            .map_err(user_error)
    }

    async fn set_user_role(&self, actor: &Actor, id: i64, role: Role) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        db::users::set_role(&self.db, &who(actor), id, role.code())
            .await
            .map_err(user_error)
    }

    async fn set_user_disabled(
        &self,
        actor: &Actor,
        id: i64,
        disabled: bool,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        db::users::set_disabled(&self.db, &who(actor), id, disabled)
            .await
            .map_err(user_error)
    }

    async fn reset_user_password(
        &self,
        actor: &Actor,
        id: i64,
        pw: &str,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let hash = hash_new_password(pw).await?;
        db::users::reset_password(&self.db, &who(actor), id, &hash)
            .await
            .map_err(user_error)
    }

    /// Every role may read the dashboard.
    async fn dashboard(&self, actor: &Actor) -> Result<Dashboard, ConsoleError> {
        let (store, tz) = self.store(actor).await?;
        let today = chrono::Utc::now().with_timezone(&tz).date_naive();
        let (dates, bounds) = day_bounds(tz, today, DASHBOARD_DAYS);
        let totals = db::dashboard::paid_per_day(&self.db, store.store_id, &bounds)
            .await
            .map_err(internal)?;
        let mut pending = db::dashboard::pending(&self.db, store.store_id, DASHBOARD_LIST + 1)
            .await
            .map_err(internal)?;
        let mut late = db::dashboard::late_unrefunded(&self.db, store.store_id, DASHBOARD_LIST + 1)
            .await
            .map_err(internal)?;
        let more_pending = pending.len() as i64 > DASHBOARD_LIST;
        let more_late = late.len() as i64 > DASHBOARD_LIST;
        pending.truncate(DASHBOARD_LIST as usize);
        late.truncate(DASHBOARD_LIST as usize);
        Ok(Dashboard {
            store_name: store.name,
            time_zone: tz.name().to_owned(),
            days: dates
                .into_iter()
                .zip(totals)
                .map(|(d, t)| DashboardDay {
                    date: d.format("%Y-%m-%d").to_string(),
                    count: t.count,
                    amount: t.amount,
                    refunded: t.refunded,
                })
                .collect(),
            pending: pending.into_iter().map(|r| row_view(r, tz)).collect(),
            more_pending,
            late: late.into_iter().map(|r| row_view(r, tz)).collect(),
            more_late,
        })
    }
}

// ---- payment module settings helpers (issue 4) ----

/// The store's callback URL for the bank: its integrator address plus the callback path.
fn callback_url_of(store: &db::config::Store) -> Option<String> {
    let base = store
        .integrator_url
        .as_deref()?
        .trim()
        .trim_end_matches('/');
    (!base.is_empty()).then(|| format!("{base}/api/v1/callbacks/{}", raiffeisen::MODULE))
}

/// The argon2id hash of a password typed in a form (off the async threads); a password the
/// hasher refuses is a message beside the `password` field.
async fn hash_new_password(pw: &str) -> Result<String, ConsoleError> {
    let pw = pw.to_owned();
    tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(internal)?
        .map_err(|_| {
            let mut f = FormErrors::default();
            f.field("password", Msg::PasswordTooShort);
            ConsoleError::Invalid(f)
        })
}

/// A refund's audit row read back for the «Журнал» page (written by `db::payments::insert_refund`).
fn refund_of(action: &str, entity: &str, after: Option<&str>) -> Option<AuditRefund> {
    if action != "refund" || entity != "payment" {
        return None;
    }
    serde_json::from_str(after?).ok()
}

// ---- users and dashboard helpers (issue 4) ----

/// How many pending (and late) payments the dashboard lists.
const DASHBOARD_LIST: i64 = 50;

fn user_error(e: db::users::UserError) -> ConsoleError {
    use db::users::UserError as E;
    match e {
        E::LoginTaken(login) => {
            let mut f = FormErrors::default();
            f.field("login", Msg::LoginTaken);
            f.keep("login", &login);
            ConsoleError::Invalid(f)
        }
        E::NotFound(_) => ConsoleError::NotFound,
        E::Yourself => ConsoleError::form(Msg::NotYourself, &[]),
        E::LastAdmin => ConsoleError::form(Msg::LastAdmin, &[]),
        E::Db(e) => internal(e),
    }
}

/// The `days` days ending with `today` (oldest first) and the UTC instants of their local
/// starts plus the end of today: `days + 1` bounds. A midnight that does not exist (a DST jump
/// at 00:00) starts its day at the first local time that does.
fn day_bounds(
    tz: chrono_tz::Tz,
    today: chrono::NaiveDate,
    days: usize,
) -> (Vec<chrono::NaiveDate>, Vec<chrono::DateTime<chrono::Utc>>) {
    use chrono::TimeZone;
    let start = |d: chrono::NaiveDate| {
        let midnight = d.and_hms_opt(0, 0, 0).expect("BUG: midnight exists");
        (0..=180)
            .find_map(|m| {
                tz.from_local_datetime(&(midnight + TimeDelta::minutes(m)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_else(|| midnight.and_utc())
    };
    let dates: Vec<_> = (0..days as u64)
        .rev()
        .filter_map(|back| today.checked_sub_days(chrono::Days::new(back)))
        .collect();
    let mut bounds: Vec<_> = dates.iter().copied().map(start).collect();
    bounds.push(start(today.succ_opt().unwrap_or(today)));
    (dates, bounds)
}

// ---- transactions journey helpers (issue 4, part b) ----

/// Rows of the CSV export fetched per query.
const CSV_BATCH: i64 = 1000;

impl ConsoleBackend {
    /// The actor's store, and its time zone.
    async fn store(
        &self,
        actor: &Actor,
    ) -> Result<(db::config::Store, chrono_tz::Tz), ConsoleError> {
        let store = self.store_of(actor).await?;
        let tz = store_tz(&store);
        Ok((store, tz))
    }

    /// The whole filter (the `after` cursor and bad fields ignored) as CSV: `;`-separated, a
    /// header row, amounts as `1234.56`, times in the store's time zone.
    pub async fn transactions_csv(
        &self,
        actor: &Actor,
        query: &TransactionQuery,
    ) -> Result<String, ConsoleError> {
        let (store, tz) = self.store(actor).await?;
        let tills = db::console::store_tills(&self.db, store.store_id)
            .await
            .map_err(internal)?;
        let parsed = parse_query(query, tz, &tills);
        let mut out = String::from(
            "created_at;payment_id;status;amount;refunded;receipt;till;order_ref;qr_id;bank_transaction_id\r\n",
        );
        let mut after = None;
        loop {
            let rows = db::console::search_payments(
                &self.db,
                store.store_id,
                &parsed.filter,
                after.as_ref(),
                CSV_BATCH,
            )
            .await
            .map_err(internal)?;
            let full = rows.len() as i64 == CSV_BATCH;
            for r in &rows {
                let fields = [
                    r.created_at
                        .with_timezone(&tz)
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string(),
                    r.payment_id.clone(),
                    r.status.clone(),
                    csv_amount(r.amount),
                    csv_amount(r.refunded_amount),
                    r.receipt.clone(),
                    r.till_name.clone(),
                    r.order_ref.clone(),
                    r.qr_id.clone().unwrap_or_default(),
                    r.bank_transaction_id.clone().unwrap_or_default(),
                ];
                let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                out.push_str(&line.join(";"));
                out.push_str("\r\n");
            }
            match rows.last() {
                Some(last) if full => after = Some((last.created_at, last.payment_id.clone())),
                _ => break,
            }
        }
        Ok(out)
    }
}

async fn tills_name(db: &Db, till_id: i64) -> Result<String, ConsoleError> {
    let name: Option<(String,)> = db::read!(db, |c| sqlx::query_as(
        "select name from till where till_id = $1"
    )
    .bind(till_id)
    .fetch_optional(c)
    .await)
    .map_err(internal)?;
    Ok(name.map(|n| n.0).unwrap_or_default())
}

fn row_view(r: db::console::TransactionRow, tz: chrono_tz::Tz) -> TransactionRow {
    TransactionRow {
        payment_id: r.payment_id,
        local_time: r
            .created_at
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        amount: r.amount,
        refunded_amount: r.refunded_amount,
        status: r.status,
        receipt: r.receipt,
        till: r.till_name,
    }
}

/// `1234.56`, as spreadsheets read it.
fn csv_amount(kopecks: i64) -> String {
    let sign = if kopecks < 0 { "-" } else { "" };
    let k = kopecks.abs();
    format!("{sign}{}.{:02}", k / 100, k % 100)
}

/// Quotes a field that holds `;`, `"` or a line break; a leading `=`, `+`, `-`, `@` is prefixed
/// with `'` so a spreadsheet never runs a receipt number as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// `<created_at RFC 3339, nanoseconds>~<payment_id>`.
fn cursor_of(at: chrono::DateTime<chrono::Utc>, payment_id: &str) -> String {
    format!(
        "{}~{payment_id}",
        at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
    )
}

struct ParsedQuery {
    filter: db::console::PaymentFilter,
    after: Option<(chrono::DateTime<chrono::Utc>, String)>,
    errors: Vec<(String, Msg)>,
}

const STATUSES: [&str; 8] = [
    "creating",
    "pending",
    "paid",
    "declined",
    "expired",
    "cancelled",
    "failed",
    "unknown",
];

/// Checks every field of the filter; a bad one gets a message and is left out of the filter.
fn parse_query(q: &TransactionQuery, tz: chrono_tz::Tz, tills: &[(i64, String)]) -> ParsedQuery {
    use chrono::{NaiveDate, TimeZone};
    let mut errors = Vec::new();
    let mut f = db::console::PaymentFilter::default();
    let mut bad = |field: &str, m: Msg| errors.push((field.to_owned(), m));
    if !q.status.is_empty() {
        if STATUSES.contains(&q.status.as_str()) {
            f.status = Some(q.status.clone());
        } else {
            bad("status", Msg::BadStatus);
        }
    }
    let day_start = |d: NaiveDate| {
        let midnight = d.and_hms_opt(0, 0, 0).expect("BUG: midnight exists");
        tz.from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.with_timezone(&chrono::Utc))
    };
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let from = if q.from.is_empty() {
        None
    } else {
        match date(&q.from) {
            Some(d) => Some(d),
            None => {
                bad("from", Msg::BadDate);
                None
            }
        }
    };
    let to = if q.to.is_empty() {
        None
    } else {
        match date(&q.to) {
            Some(d) if from.is_some_and(|f| d < f) => {
                bad("to", Msg::DatesReversed);
                None
            }
            Some(d) => Some(d),
            None => {
                bad("to", Msg::BadDate);
                None
            }
        }
    };
    f.from = from.and_then(day_start);
    f.until = to.and_then(|d| d.succ_opt()).and_then(day_start);
    if !q.till.is_empty() {
        match q
            .till
            .parse::<i64>()
            .ok()
            .filter(|id| tills.iter().any(|t| t.0 == *id))
        {
            Some(id) => f.till_id = Some(id),
            None => bad("till", Msg::BadTill),
        }
    }
    for (name, value, slot) in [
        ("min", &q.min, &mut f.min_amount),
        ("max", &q.max, &mut f.max_amount),
    ] {
        if !value.is_empty() {
            match app::api::transactions::parse_rubles(value) {
                Some(k) => *slot = Some(k),
                None => bad(name, Msg::BadMoney),
            }
        }
    }
    if !q.q.is_empty() {
        if q.q.chars().count() > 128 {
            bad("q", Msg::TextTooLong);
        } else {
            f.text = Some(q.q.clone());
        }
    }
    let after = if q.after.is_empty() {
        None
    } else {
        let parsed = q.after.split_once('~').and_then(|(t, id)| {
            let t = chrono::DateTime::parse_from_rfc3339(t).ok()?;
            (!id.is_empty() && id.len() <= 64)
                .then(|| (t.with_timezone(&chrono::Utc), id.to_owned()))
        });
        if parsed.is_none() {
            bad("after", Msg::BadCursor);
        }
        parsed
    };
    ParsedQuery {
        filter: f,
        after,
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_amounts_use_a_dot_and_two_decimals() {
        assert_eq!(csv_amount(123456), "1234.56");
        assert_eq!(csv_amount(5), "0.05");
    }

    #[test]
    fn csv_fields_with_separators_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("a;b"), "\"a;b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=1+2"), "'=1+2");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn a_bad_filter_field_gets_a_message_and_is_left_out() {
        let q = TransactionQuery {
            status: "nope".into(),
            from: "2026-13-01".into(),
            till: "99".into(),
            min: "abc".into(),
            max: "10,50".into(),
            after: "garbage".into(),
            ..Default::default()
        };
        let p = parse_query(&q, chrono_tz::Europe::Moscow, &[(1, "k".into())]);
        let fields: Vec<&str> = p.errors.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(fields, ["status", "from", "till", "min", "after"]);
        assert!(
            p.filter.status.is_none() && p.filter.from.is_none() && p.filter.min_amount.is_none()
        );
        assert_eq!(p.filter.max_amount, Some(1050));
        assert!(p.after.is_none());
    }

    #[test]
    fn a_period_is_whole_days_in_the_store_time_zone() {
        let q = TransactionQuery {
            from: "2026-11-01".into(),
            to: "2026-11-01".into(),
            ..Default::default()
        };
        let p = parse_query(&q, chrono_tz::Europe::Moscow, &[]);
        assert_eq!(
            p.filter.from.unwrap().to_rfc3339(),
            "2026-10-31T21:00:00+00:00"
        );
        assert_eq!(
            p.filter.until.unwrap().to_rfc3339(),
            "2026-11-01T21:00:00+00:00"
        );
    }

    #[test]
    fn the_dashboard_days_are_local_days_ending_today_even_across_a_clock_change() {
        use chrono::{NaiveDate, TimeZone};
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let (dates, bounds) = day_bounds(chrono_tz::Europe::Moscow, d(2026, 3, 14), 14);
        assert_eq!(dates.len(), 14);
        assert_eq!(bounds.len(), 15);
        assert_eq!((dates[0], dates[13]), (d(2026, 3, 1), d(2026, 3, 14)));
        assert_eq!(
            bounds[0],
            chrono::Utc.with_ymd_and_hms(2026, 2, 28, 21, 0, 0).unwrap()
        );
        assert_eq!(
            bounds[14],
            chrono::Utc.with_ymd_and_hms(2026, 3, 14, 21, 0, 0).unwrap()
        );
        // Berlin moves its clocks on 2026-03-29: that day has 23 hours.
        let (_, b) = day_bounds(chrono_tz::Europe::Berlin, d(2026, 3, 30), 2);
        assert_eq!(b[1] - b[0], TimeDelta::hours(23));
        assert_eq!(b[2] - b[1], TimeDelta::hours(24));
        // Santiago skips midnight when it moves its clocks (2026-09-06 starts at 01:00).
        let (_, b) = day_bounds(chrono_tz::America::Santiago, d(2026, 9, 6), 1);
        assert_eq!(b[1] - b[0], TimeDelta::hours(23));
    }
}
