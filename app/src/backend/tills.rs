//! «Кассы»: the store's tills, their keys (shown once), names, kinds, languages and QR outputs. Admins only; each change
//! writes its audit row in its transaction.

use super::session::Actor;
use crate::error::ConsoleError;
use http::request::Parts;
use serde::{Deserialize, Serialize};

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
    /// The payment type the till uses when it names none (`None`: the store's default).
    pub payment_type_id: Option<i64>,
    pub payment_type: Option<String>,
    /// The language of the till's error messages (`ru`, `en`).
    pub language: String,
    /// «Последний запрос»: when the till was last heard from, in the store's time zone (to the
    /// minute); `None`: never.
    pub last_seen: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TillInput {
    pub name: String,
    pub kind: String,
    /// `ru` or `en` (a new till starts with Russian).
    pub language: String,
    pub screen: bool,
    pub display: bool,
    pub receipt: bool,
    pub paper_width: u32,
    pub escpos_native: bool,
}

#[async_trait::async_trait]
pub trait TillsPort: Send + Sync + 'static {
    async fn list_tills(&self, actor: &Actor) -> Result<Vec<TillItem>, ConsoleError>;
    /// Creates a till and returns its key (the only time it exists in clear).
    async fn create_till(&self, actor: &Actor, input: TillInput) -> Result<String, ConsoleError>;
    async fn revoke_till(&self, actor: &Actor, id: i64) -> Result<(), ConsoleError>;
    /// Renames a till, changes its kind, its messages' language, its QR outputs, paper width
    /// and native ESC/POS.
    async fn update_till(
        &self,
        actor: &Actor,
        id: i64,
        input: TillInput,
    ) -> Result<(), ConsoleError>;
    /// Sets (`None`: back to the store's default) the payment type the till uses when it names
    /// none.
    async fn set_till_payment_type(
        &self,
        actor: &Actor,
        id: i64,
        payment_type_id: Option<i64>,
    ) -> Result<(), ConsoleError>;
    /// Keeps a new till's key in the session until the next page takes it.
    async fn set_key_flash(&self, parts: &Parts, key: String) -> Result<(), ConsoleError>;
    /// Takes (and removes) the key kept by `set_key_flash`.
    async fn take_key_flash(&self, parts: &Parts) -> Result<Option<String>, ConsoleError>;
}
