//! What the console needs from the rest of qrpay, as a trait: the server crate implements it over
//! the database; this crate never sees sqlx. Server functions find it in the Leptos context.

use crate::error::ConsoleError;
use crate::i18n::Msg;
use http::request::Parts;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Console roles, ordered by what they may do: an admin may do all a support user may, who may do
/// all a viewer may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    Viewer,
    Support,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "support" => Some(Role::Support),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    /// The role as stored and as forms send it.
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Support => "support",
            Role::Viewer => "viewer",
        }
    }

    pub fn label(self) -> Msg {
        match self {
            Role::Admin => Msg::RoleAdmin,
            Role::Support => Msg::RoleSupport,
            Role::Viewer => Msg::RoleViewer,
        }
    }
}

/// The signed-in user of a request, put into the request's extensions by the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: i64,
    pub login: String,
    pub role: Role,
    /// The store this user works on: the one picked in the console (kept in the session), else
    /// the first store.
    pub store_id: i64,
}

/// A store of the store picker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoreItem {
    pub store_id: i64,
    pub code: String,
    pub name: String,
}

/// One line of the transactions list, times already in the store's time zone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransactionRow {
    pub payment_id: String,
    /// `2026-11-29 21:59:16`, in the store's time zone.
    pub local_time: String,
    pub amount: i64,
    pub refunded_amount: i64,
    pub status: String,
    pub receipt: String,
    pub till: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransactionList {
    pub store_name: String,
    pub time_zone: String,
    pub rows: Vec<TransactionRow>,
}

// ---- transactions journey: filters, detail, refunds (issue 4, part b) ----

/// The transactions filter as typed in the GET form (checked by the backend, which says what was
/// wrong beside each field and ignores that field).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TransactionQuery {
    pub status: String,
    /// `YYYY-MM-DD`, a day in the store's time zone (inclusive).
    pub from: String,
    pub to: String,
    /// A till id.
    pub till: String,
    /// Rubles, `12,50` or `12.50`.
    pub min: String,
    pub max: String,
    /// Receipt, order ref, QR id, bank transaction id or payment id (exact).
    pub q: String,
    /// Keyset cursor: `<created_at RFC 3339>~<payment_id>` of the last row shown.
    pub after: String,
}

impl TransactionQuery {
    pub const FIELDS: [&'static str; 8] =
        ["status", "from", "to", "till", "min", "max", "q", "after"];

    pub fn get(&self, name: &str) -> &str {
        match name {
            "status" => &self.status,
            "from" => &self.from,
            "to" => &self.to,
            "till" => &self.till,
            "min" => &self.min,
            "max" => &self.max,
            "q" => &self.q,
            "after" => &self.after,
            _ => "",
        }
    }

    pub fn set(&mut self, name: &str, value: &str) {
        let v = value.trim().to_owned();
        match name {
            "status" => self.status = v,
            "from" => self.from = v,
            "to" => self.to = v,
            "till" => self.till = v,
            "min" => self.min = v,
            "max" => self.max = v,
            "q" => self.q = v,
            "after" => self.after = v,
            _ => {}
        }
    }

    /// The query string of the filter (without `after`), percent-encoded, non-empty values only.
    pub fn filter_query(&self) -> String {
        Self::FIELDS[..7]
            .iter()
            .filter(|f| !self.get(f).is_empty())
            .map(|f| format!("{f}={}", url_encode(self.get(f))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes everything but unreserved characters.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One page of the filtered list with the totals of the whole filter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransactionPage {
    pub store_name: String,
    pub time_zone: String,
    pub rows: Vec<TransactionRow>,
    /// Messages beside the filter fields that were ignored.
    pub errors: Vec<(String, Msg)>,
    /// The store's tills: (id, name).
    pub tills: Vec<(String, String)>,
    pub total_count: i64,
    pub total_amount: i64,
    pub total_refunded: i64,
    /// The `after` cursor of the next page, when there is one.
    pub next: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineLine {
    pub local_time: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub trigger: String,
    pub detail: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefundLine {
    pub refund_id: String,
    pub local_time: String,
    pub amount: i64,
    pub status: String,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransactionDetail {
    pub payment_id: String,
    pub status: String,
    pub amount: i64,
    pub refunded_amount: i64,
    pub receipt: String,
    pub order_ref: String,
    pub qr_id: Option<String>,
    pub bank_transaction_id: Option<String>,
    pub till: String,
    pub payment_type: String,
    pub module: String,
    pub local_time: String,
    pub paid_local_time: Option<String>,
    pub time_zone: String,
    /// The payment's QR as an SVG document (server-made, no user text in it).
    pub qr_svg: Option<String>,
    pub timeline: Vec<TimelineLine>,
    pub refunds: Vec<RefundLine>,
    /// A fresh random value for the refund form: the same form sent twice refunds once.
    pub refund_nonce: String,
}

impl TransactionDetail {
    pub fn left(&self) -> i64 {
        self.amount - self.refunded_amount
    }
}

// ---- end of the transactions journey block ----

#[async_trait::async_trait]
pub trait AdminBackend: Send + Sync + 'static {
    /// Checks the password (throttled per login), starts a fresh session for the user.
    async fn login(
        &self,
        parts: &Parts,
        login: &str,
        password: &str,
    ) -> Result<Actor, ConsoleError>;
    /// Ends the request's session.
    async fn logout(&self, parts: &Parts) -> Result<(), ConsoleError>;
    /// Every store; any signed-in user may pick the store the console works on.
    async fn list_stores(&self, actor: &Actor) -> Result<Vec<StoreItem>, ConsoleError>;
    /// Remembers the picked store in the session; an unknown store is `NotFound`.
    async fn choose_store(
        &self,
        parts: &Parts,
        actor: &Actor,
        store_id: i64,
    ) -> Result<(), ConsoleError>;
    /// True while no user exists and `token` is the one-time setup token.
    async fn setup_open(&self, token: &str) -> bool;
    /// Creates the first admin with the one-time setup token.
    async fn create_first_admin(
        &self,
        token: &str,
        login: &str,
        password: &str,
    ) -> Result<(), ConsoleError>;
    async fn list_transactions(&self, actor: &Actor) -> Result<TransactionList, ConsoleError>;

    // ---- transactions journey (issue 4, part b) ----
    /// One page (newest first) of the payments that match `query`, with the filter's totals.
    async fn search_transactions(
        &self,
        actor: &Actor,
        query: &TransactionQuery,
    ) -> Result<TransactionPage, ConsoleError>;
    async fn transaction_detail(
        &self,
        actor: &Actor,
        payment_id: &str,
    ) -> Result<TransactionDetail, ConsoleError>;
    /// Refunds `amount` kopecks (all that is left when `None`). With `confirmed == false` it only
    /// checks and returns the amount that would be refunded; errors name the `amount` field.
    async fn refund_payment(
        &self,
        actor: &Actor,
        payment_id: &str,
        amount: Option<i64>,
        reason: Option<&str>,
        nonce: &str,
        confirmed: bool,
    ) -> Result<i64, ConsoleError>;
    // ---- end of the transactions journey block ----
    // ---- admin configuration: authorization servers, tills, audit log ----
    // The server fns have checked the role and the input; these write the change and its audit
    // row in one transaction.
    async fn list_auth_servers(&self, actor: &Actor) -> Result<Vec<AuthServerItem>, ConsoleError>;
    /// Creates (`id` = None) or updates an authorization server.
    async fn save_auth_server(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: AuthServerInput,
    ) -> Result<(), ConsoleError>;
    /// Refused with `Msg::AuthServerInUse` while a payment type uses it.
    async fn delete_auth_server(&self, actor: &Actor, id: i64) -> Result<(), ConsoleError>;
    async fn list_tills(&self, actor: &Actor) -> Result<Vec<TillItem>, ConsoleError>;
    /// Creates a till and returns its key (the only time it exists in clear).
    async fn create_till(&self, actor: &Actor, input: TillInput) -> Result<String, ConsoleError>;
    async fn revoke_till(&self, actor: &Actor, id: i64) -> Result<(), ConsoleError>;
    /// Changes a till's QR outputs, paper width and native ESC/POS (name and kind stay).
    async fn set_till_outputs(
        &self,
        actor: &Actor,
        id: i64,
        outputs: TillInput,
    ) -> Result<(), ConsoleError>;
    /// Keeps a new till's key in the session until the next page takes it.
    async fn set_key_flash(&self, parts: &Parts, key: String) -> Result<(), ConsoleError>;
    /// Takes (and removes) the key kept by `set_key_flash`.
    async fn take_key_flash(&self, parts: &Parts) -> Result<Option<String>, ConsoleError>;
    async fn list_audit(&self, actor: &Actor) -> Result<Vec<AuditItem>, ConsoleError>;
    /// The payment types, with what their form offers (servers, installed modules).
    async fn list_payment_types(&self, actor: &Actor) -> Result<PaymentTypePage, ConsoleError>;
    /// Creates (`id` = None) or updates a payment type; an unknown module, a server of another
    /// store, or scanning a module cannot do come back as field errors.
    async fn save_payment_type(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: PaymentTypeInput,
    ) -> Result<(), ConsoleError>;
    /// The store's parameters; the RabbitMQ password is shown as `***`.
    async fn store_settings(&self, actor: &Actor) -> Result<StoreSettings, ConsoleError>;
    /// Checks and saves the store's parameters; bad values come back as field errors. A RabbitMQ
    /// URL equal to the shown (redacted) one keeps the stored URL.
    async fn save_store_settings(
        &self,
        actor: &Actor,
        input: StoreSettings,
    ) -> Result<(), ConsoleError>;
    /// Really connects to the RabbitMQ URL (or the stored one, for the redacted form value).
    async fn check_rabbitmq(&self, actor: &Actor, url: &str) -> Result<bool, ConsoleError>;

    // ---- payment module settings (issue 4) ----
    /// The installed modules and the store's Raiffeisen settings (the secret only as set or not).
    async fn payment_modules(&self, actor: &Actor) -> Result<PaymentModulesPage, ConsoleError>;
    /// Checks and saves the store's Raiffeisen settings with their audit row; an empty secret
    /// keeps the stored one. Bad values come back as field errors (never with the secret).
    async fn save_raiffeisen_settings(
        &self,
        actor: &Actor,
        input: RaiffeisenInput,
    ) -> Result<(), ConsoleError>;
    /// Tells the bank the store's callback URL (integrator address + callback path); returns the
    /// URL the bank confirmed. A refusal names why (no address, no key, the bank's words).
    async fn register_raiffeisen_callback(&self, actor: &Actor) -> Result<String, ConsoleError>;
    // ---- users and dashboard (issue 4) ----
    // Users are admin only; each change writes its audit row in its transaction. Changes that
    // take an enabled admin away from the actor themselves or from the last one are refused with
    // a form message.
    async fn list_users(&self, actor: &Actor) -> Result<Vec<UserItem>, ConsoleError>;
    /// Adds a user (login and password checked by the server fn); a taken login is a field error.
    async fn create_user(
        &self,
        actor: &Actor,
        login: &str,
        role: Role,
        password: &str,
    ) -> Result<(), ConsoleError>;
    async fn set_user_role(&self, actor: &Actor, id: i64, role: Role) -> Result<(), ConsoleError>;
    async fn set_user_disabled(
        &self,
        actor: &Actor,
        id: i64,
        disabled: bool,
    ) -> Result<(), ConsoleError>;
    async fn reset_user_password(
        &self,
        actor: &Actor,
        id: i64,
        password: &str,
    ) -> Result<(), ConsoleError>;
    /// The actor's store today and over the last `DASHBOARD_DAYS` days, in its time zone.
    async fn dashboard(&self, actor: &Actor) -> Result<Dashboard, ConsoleError>;
    // ---- end of the users and dashboard block ----
}

// ---- admin configuration DTOs ----

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthServerItem {
    pub id: i64,
    pub name: String,
    pub response_timeout_secs: i64,
    /// How many payment types use it.
    pub used_by: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthServerInput {
    pub name: String,
    pub response_timeout_secs: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TillItem {
    pub id: i64,
    pub name: String,
    /// `till` or `kiosk`.
    pub kind: String,
    pub key_prefix: String,
    pub revoked: bool,
    pub screen: bool,
    pub display: bool,
    pub receipt: bool,
    pub paper_width: u32,
    pub escpos_native: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TillInput {
    pub name: String,
    pub kind: String,
    pub screen: bool,
    pub display: bool,
    pub receipt: bool,
    pub paper_width: u32,
    pub escpos_native: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditItem {
    /// In the store's time zone.
    pub local_time: String,
    pub login: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// Compact JSON, empty when there was none.
    pub before: String,
    pub after: String,
    /// For a refund's row: what was refunded, for a readable line instead of JSON.
    pub refund: Option<AuditRefund>,
}

/// A refund as its audit row tells it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRefund {
    pub payment_id: String,
    pub refund_id: String,
    /// Kopecks.
    pub amount: i64,
    pub reason: Option<String>,
}

/// The backend as a Leptos context value (one exact type to look up).
#[derive(Clone)]
pub struct Backend(pub Arc<dyn AdminBackend>);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentTypeItem {
    pub id: i64,
    pub name: String,
    pub auth_server_id: i64,
    pub auth_server: String,
    pub module: String,
    pub scan_customer_qr: bool,
    pub enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentTypePage {
    pub items: Vec<PaymentTypeItem>,
    /// (id, name) of the store's authorization servers.
    pub auth_servers: Vec<(i64, String)>,
    /// The installed payment modules (`sandbox`, `raiffeisen`, …).
    pub modules: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentTypeInput {
    pub name: String,
    pub auth_server_id: i64,
    pub module: String,
    pub scan_customer_qr: bool,
    pub enabled: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreSettings {
    pub name: String,
    pub code: String,
    pub integrator_url: String,
    pub rabbitmq_url: String,
    pub time_zone: String,
    pub refund_late_payments: bool,
}

// ---- payment module settings (issue 4) ----

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentModulesPage {
    /// The installed payment modules (`raiffeisen`, `sandbox`, …).
    pub modules: Vec<String>,
    pub raiffeisen: RaiffeisenSettingsView,
}

/// The store's Raiffeisen settings as the page shows them: never the secret key itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RaiffeisenSettingsView {
    /// `production`, `test` or `custom`.
    pub base: String,
    /// The API address when `base` is `custom`.
    pub custom_url: String,
    pub sbp_merchant_id: String,
    /// Whether the store has a secret key.
    pub secret_set: bool,
    /// What «Зарегистрировать callback URL» would send, when the store has an integrator address.
    pub callback_url: Option<String>,
    /// The bank's API addresses behind the `production` and `test` choices.
    pub production_url: String,
    pub test_url: String,
}

/// The Raiffeisen form as posted. `Debug` masks the secret key.
#[derive(Clone, PartialEq)]
pub struct RaiffeisenInput {
    pub base: String,
    pub custom_url: String,
    pub sbp_merchant_id: String,
    /// Empty: keep the stored key.
    pub secret_key: String,
}

impl std::fmt::Debug for RaiffeisenInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaiffeisenInput")
            .field("base", &self.base)
            .field("custom_url", &self.custom_url)
            .field("sbp_merchant_id", &self.sbp_merchant_id)
            .field("secret_key", &"***")
            .finish()
    }
}

// ---- users and dashboard DTOs (issue 4) ----

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserItem {
    pub id: i64,
    pub login: String,
    pub role: Role,
    pub disabled: bool,
    /// In the store's time zone.
    pub created: String,
    /// When the user last signed in, in the store's time zone; `None` when never (or before
    /// qrpay kept it).
    pub last_login: Option<String>,
}

/// How many days the dashboard's chart shows, today included.
pub const DASHBOARD_DAYS: usize = 14;

/// Paid payments created on one day of the store's calendar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DashboardDay {
    /// `YYYY-MM-DD` in the store's time zone.
    pub date: String,
    pub count: i64,
    pub amount: i64,
    pub refunded: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub store_name: String,
    pub time_zone: String,
    /// The last `DASHBOARD_DAYS` days, oldest first; the last one is today.
    pub days: Vec<DashboardDay>,
    /// Payments pending now, the soonest to expire first.
    pub pending: Vec<TransactionRow>,
    /// More are pending than listed.
    pub more_pending: bool,
    /// Late payments (paid after expiry or cancel) not yet refunded in full, newest first.
    pub late: Vec<TransactionRow>,
    pub more_late: bool,
}

impl Dashboard {
    pub fn today(&self) -> Option<&DashboardDay> {
        self.days.last()
    }
}
