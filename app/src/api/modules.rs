//! «Модули оплаты»: the store's payment module settings (Raiffeisen: bank address, sbpMerchantId,
//! write-only secret key) and registering the bank's callback URL. Admins only.

use super::require;
use crate::backend::Role;
use crate::backend::modules::{PaymentModulesPage, RaiffeisenInput};
use crate::error::ConsoleError;
use leptos::prelude::*;

#[server(prefix = "/console/fn", endpoint = "get_payment_modules")]
pub async fn get_payment_modules() -> Result<PaymentModulesPage, ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend.payment_modules(&actor).await
}

/// Saves the Raiffeisen settings. The backend checks every value (it knows the bank's formats);
/// the typed values come back with the messages, the secret key never does.
#[server(prefix = "/console/fn", endpoint = "save_raiffeisen_settings")]
pub async fn save_raiffeisen_settings(
    base: Option<String>,
    custom_url: Option<String>,
    sbp_merchant_id: String,
    secret_key: Option<String>,
) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend
        .save_raiffeisen_settings(
            &actor,
            RaiffeisenInput {
                base: base.unwrap_or_default(),
                custom_url: custom_url.unwrap_or_default(),
                sbp_merchant_id,
                secret_key: secret_key.unwrap_or_default(),
            },
        )
        .await?;
    leptos_axum::redirect("/console/modules?done=saved");
    Ok(())
}

/// «Зарегистрировать callback URL»: the bank's answer shows on the page (ok, or why not).
#[server(prefix = "/console/fn", endpoint = "register_raiffeisen_callback")]
pub async fn register_raiffeisen_callback() -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend.register_raiffeisen_callback(&actor).await?;
    leptos_axum::redirect("/console/modules?callback=registered");
    Ok(())
}
