//! Store configuration: «Параметры магазина», authorization servers and payment types. Admins
//! only.

use super::{parse_id, require, with_typed_values};
use crate::backend::Role;
use crate::backend::settings::{AuthServerInput, AuthServerItem};
use crate::backend::settings::{PaymentTypeInput, PaymentTypePage, StoreSettings};
use crate::error::{ConsoleError, FormErrors};
use crate::i18n::Msg;
use leptos::prelude::*;

/// The longest name of an authorization server or till.
pub const MAX_NAME: usize = 100;

/// A trimmed name, or the message to show beside its field.
pub fn check_name(name: &str) -> Result<String, Msg> {
    let name = name.trim();
    if name.is_empty() {
        Err(Msg::Required)
    } else if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        Err(Msg::NameTooLong)
    } else {
        Ok(name.to_owned())
    }
}

/// The response timeout in seconds (1–3600), or the message for its field.
pub fn check_timeout(s: &str) -> Result<i64, Msg> {
    let s = s.trim();
    if s.is_empty() {
        return Err(Msg::Required);
    }
    s.parse::<i64>()
        .ok()
        .filter(|t| (1..=3600).contains(t))
        .ok_or(Msg::TimeoutRange)
}

#[server(prefix = "/console/fn", endpoint = "list_auth_servers")]
pub async fn list_auth_servers() -> Result<Vec<AuthServerItem>, ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend.list_auth_servers(&actor).await
}

/// Adds (no `id`) or changes an authorization server of the «QR оплата» kind.
#[server(prefix = "/console/fn", endpoint = "save_auth_server")]
pub async fn save_auth_server(
    id: Option<String>,
    name: String,
    response_timeout_secs: String,
) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    let id = match id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(parse_id(s)?),
        None => None,
    };
    let mut errors = FormErrors::default();
    errors.keep("name", &name);
    errors.keep("response_timeout_secs", &response_timeout_secs);
    let name = check_name(&name).map_err(|m| errors.field("name", m)).ok();
    let timeout = check_timeout(&response_timeout_secs)
        .map_err(|m| errors.field("response_timeout_secs", m))
        .ok();
    let (Some(name), Some(timeout)) = (name, timeout) else {
        return Err(ConsoleError::Invalid(errors));
    };
    backend
        .save_auth_server(
            &actor,
            id,
            AuthServerInput {
                name,
                response_timeout_secs: timeout,
            },
        )
        .await?;
    leptos_axum::redirect("/console/auth-servers?done=saved");
    Ok(())
}

#[server(prefix = "/console/fn", endpoint = "delete_auth_server")]
pub async fn delete_auth_server(id: String) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend.delete_auth_server(&actor, parse_id(&id)?).await?;
    leptos_axum::redirect("/console/auth-servers?done=deleted");
    Ok(())
}

#[server(prefix = "/console/fn", endpoint = "list_payment_types")]
pub async fn list_payment_types() -> Result<PaymentTypePage, ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend.list_payment_types(&actor).await
}

/// Adds (no `id`) or changes a payment type. The module and what it can do are checked by the
/// backend, which knows the installed modules.
#[server(prefix = "/console/fn", endpoint = "save_payment_type")]
pub async fn save_payment_type(
    id: Option<String>,
    name: String,
    auth_server_id: String,
    module: String,
    scan_customer_qr: Option<String>,
    enabled: Option<String>,
) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    let id = match id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(parse_id(s)?),
        None => None,
    };
    let mut errors = FormErrors::default();
    errors.keep("name", &name);
    errors.keep("auth_server_id", &auth_server_id);
    errors.keep("module", &module);
    errors.keep(
        "scan_customer_qr",
        if scan_customer_qr.is_some() { "on" } else { "" },
    );
    errors.keep("enabled", if enabled.is_some() { "on" } else { "" });
    let checked_name = check_name(&name).map_err(|m| errors.field("name", m)).ok();
    let server = auth_server_id.trim().parse::<i64>().ok();
    if server.is_none() {
        errors.field("auth_server_id", Msg::AuthServerUnknown);
    }
    let module = module.trim().to_owned();
    if module.is_empty() {
        errors.field("module", Msg::Required);
    }
    let (Some(name), Some(auth_server_id), true) = (checked_name, server, errors.fields.is_empty())
    else {
        return Err(ConsoleError::Invalid(errors));
    };
    backend
        .save_payment_type(
            &actor,
            id,
            PaymentTypeInput {
                name,
                auth_server_id,
                module,
                scan_customer_qr: scan_customer_qr.is_some(),
                enabled: enabled.is_some(),
            },
        )
        .await
        .map_err(|e| with_typed_values(&errors, e))?;
    leptos_axum::redirect("/console/payment-types?done=saved");
    Ok(())
}

/// Sets the store's default payment type ("" clears it).
#[server(prefix = "/console/fn", endpoint = "save_default_payment_type")]
pub async fn save_default_payment_type(payment_type_id: String) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    let id = match payment_type_id.trim() {
        "" => None,
        s => Some(parse_id(s)?),
    };
    backend.set_default_payment_type(&actor, id).await?;
    leptos_axum::redirect("/console/payment-types?done=saved");
    Ok(())
}

/// The store's enabled test payment types, for the banner every page shows while there are any.
#[server(prefix = "/console/fn", endpoint = "get_test_types")]
pub async fn get_test_types() -> Result<Vec<String>, ConsoleError> {
    let (backend, actor) = require(Role::Viewer)?;
    backend.enabled_test_types(&actor).await
}

#[server(prefix = "/console/fn", endpoint = "get_store_settings")]
pub async fn get_store_settings() -> Result<StoreSettings, ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend.store_settings(&actor).await
}

/// Saves «Параметры магазина»; every value is checked by the backend (it knows the time zones and
/// the RabbitMQ URL rules), the typed values come back with the messages.
#[server(prefix = "/console/fn", endpoint = "save_store_settings")]
pub async fn save_store_settings(
    name: String,
    code: String,
    integrator_url: String,
    rabbitmq_url: String,
    time_zone: String,
    refund_late_payments: Option<String>,
) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend
        .save_store_settings(
            &actor,
            StoreSettings {
                name,
                code,
                integrator_url,
                rabbitmq_url,
                time_zone,
                refund_late_payments: refund_late_payments.is_some(),
            },
        )
        .await?;
    leptos_axum::redirect("/console/store?done=saved");
    Ok(())
}

/// «Проверить подключение»: really connects to the URL in the form and shows the result.
#[server(prefix = "/console/fn", endpoint = "check_rabbitmq")]
pub async fn check_rabbitmq(rabbitmq_url: String) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    let ok = backend.check_rabbitmq(&actor, &rabbitmq_url).await?;
    leptos_axum::redirect(if ok {
        "/console/store?check=ok"
    } else {
        "/console/store?check=failed"
    });
    Ok(())
}
