//! «Модули оплаты»: the store's Raiffeisen settings (the secret key write-only) and registering
//! the bank's callback URL. Admins only.

use super::{ConsoleBackend, admin_only, internal, valid_http_url, who};
use crate::db;
use crate::providers::{ProviderError, raiffeisen};
use app::backend::Actor;
use app::backend::modules::{
    ModulesPort, PaymentModulesPage, RaiffeisenInput, RaiffeisenSettingsView,
};
use app::error::{ConsoleError, FormErrors};
use app::i18n::Msg;

#[async_trait::async_trait]
impl ModulesPort for ConsoleBackend {
    async fn payment_modules(&self, actor: &Actor) -> Result<PaymentModulesPage, ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let row = db::raiffeisen_setting::setting_of_store(&self.db, store.store_id)
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
                } else {
                    // https, or http to loopback outside production (the emulator).
                    let parsed = valid_http_url(url)
                        .then(|| raiffeisen::parse_base_url(url, self.production).ok())
                        .flatten();
                    if parsed.is_none() {
                        errors.field("custom_url", Msg::UrlInvalid);
                    }
                    parsed
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
        let stored = db::raiffeisen_setting::setting_of_store(&self.db, store.store_id)
            .await
            .map_err(internal)?;
        if stored.is_none() && input.secret_key.trim().is_empty() {
            errors.field("secret_key", Msg::SecretKeyRequired);
        }
        // The key goes to the API address as a Bearer header: a new address is confirmed
        // together with the key, never sent the stored one unasked.
        if let (Some(stored), Some(new), None) = (&stored, &base_url, &secret)
            && stored.base_url != *new
        {
            errors.field("secret_key", Msg::SecretKeyRetype);
        }
        let (Some(base_url), Some(merchant), true) = (base_url, merchant, errors.fields.is_empty())
        else {
            return Err(ConsoleError::Invalid(errors));
        };
        let saved = db::raiffeisen_setting::save_setting(
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
        let stored = db::raiffeisen_setting::setting_of_store(&self.db, store.store_id)
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
                tracing::info!(store_id = store.store_id, url = %crate::telemetry::quoted(&registered), login = %actor.login, "callback URL registered with Raiffeisen");
                if let Err(e) =
                    db::raiffeisen_setting::record_callback(&self.db, store.store_id, &registered)
                        .await
                {
                    tracing::warn!(error = %e, "cannot note the registered callback URL");
                }
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
}

/// The store's callback URL for the bank: its integrator address plus the callback path.
fn callback_url_of(store: &db::store::Store) -> Option<String> {
    let base = store
        .integrator_url
        .as_deref()?
        .trim()
        .trim_end_matches('/');
    (!base.is_empty()).then(|| format!("{base}/api/v1/callbacks/{}", raiffeisen::MODULE))
}
