//! Store configuration: the store's parameters, authorization servers and payment types. Admins
//! only; the server fns have checked the role and the input, the backend writes the change and
//! its audit row in one transaction.

use super::session::Actor;
use crate::error::ConsoleError;
use serde::{Deserialize, Serialize};

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
pub struct PaymentTypeItem {
    pub id: i64,
    pub name: String,
    pub auth_server_id: i64,
    pub auth_server: String,
    pub module: String,
    pub scan_customer_qr: bool,
    pub enabled: bool,
    /// Its module is a test module: no money moves.
    pub test: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentTypePage {
    pub items: Vec<PaymentTypeItem>,
    /// The store's default payment type (for tills that name none and have none of their own).
    pub default_id: Option<i64>,
    /// (id, name) of the store's authorization servers.
    pub auth_servers: Vec<(i64, String)>,
    /// The installed payment modules (`sandbox`, `raiffeisen`, …).
    pub modules: Vec<String>,
    /// The installed modules that can charge a customer's QR code (the flag «Сканировать
    /// QR-код покупателя» is refused for the others).
    pub scan_modules: Vec<String>,
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

#[async_trait::async_trait]
pub trait SettingsPort: Send + Sync + 'static {
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
    /// Sets (`None`: clears) the store's default payment type.
    async fn set_default_payment_type(
        &self,
        actor: &Actor,
        id: Option<i64>,
    ) -> Result<(), ConsoleError>;
    /// The names of the store's enabled payment types on test modules (the red banner), for
    /// every role.
    async fn enabled_test_types(&self, actor: &Actor) -> Result<Vec<String>, ConsoleError>;
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
}
