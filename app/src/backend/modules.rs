//! «Модули оплаты»: the installed payment modules and the store's Raiffeisen settings. Admins
//! only.

use super::session::Actor;
use crate::error::ConsoleError;
use serde::{Deserialize, Serialize};

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

#[async_trait::async_trait]
pub trait ModulesPort: Send + Sync + 'static {
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
}
