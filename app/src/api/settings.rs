//! Admin configuration: authorization servers, tills, and the audit log of their changes.
//! Every change is for admins only; the audit log may also be read by support.

use super::{parts, require};
use crate::backend::{AuditItem, AuthServerInput, AuthServerItem, Role, TillInput, TillItem};
use crate::backend::{PaymentTypeInput, PaymentTypePage, StoreSettings};
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

/// Puts the values the person typed back around the backend's field errors (e.g. «name
/// taken»), so the form comes back filled in.
fn with_typed_values(typed: &FormErrors, e: ConsoleError) -> ConsoleError {
    match e {
        ConsoleError::Invalid(f) => {
            let mut errors = typed.clone();
            errors.fields = f.fields;
            errors.form = f.form;
            ConsoleError::Invalid(errors)
        }
        e => e,
    }
}

fn parse_id(s: &str) -> Result<i64, ConsoleError> {
    s.trim().parse().map_err(|_| ConsoleError::NotFound)
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

#[server(prefix = "/console/fn", endpoint = "list_tills")]
pub async fn list_tills() -> Result<Vec<TillItem>, ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend.list_tills(&actor).await
}

/// Adds a till; its key goes into the session (never the URL) for the next page to show once.
#[server(prefix = "/console/fn", endpoint = "create_till")]
#[allow(clippy::too_many_arguments)]
pub async fn create_till(
    name: String,
    kind: String,
    screen: Option<String>,
    display: Option<String>,
    receipt: Option<String>,
    paper_width: String,
    escpos_native: Option<String>,
) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    let mut errors = FormErrors::default();
    errors.keep("name", &name);
    errors.keep("kind", &kind);
    errors.keep("paper_width", &paper_width);
    for (k, v) in [
        ("screen", &screen),
        ("display", &display),
        ("receipt", &receipt),
        ("escpos_native", &escpos_native),
    ] {
        errors.keep(k, if v.is_some() { "on" } else { "" });
    }
    let checked_name = check_name(&name).map_err(|m| errors.field("name", m)).ok();
    if !matches!(kind.as_str(), "till" | "kiosk") {
        errors.field("kind", Msg::KindInvalid);
    }
    let width = match paper_width.trim() {
        "384" => Some(384),
        "576" => Some(576),
        _ => {
            errors.field("paper_width", Msg::PaperWidthInvalid);
            None
        }
    };
    let (Some(name), Some(paper_width), true) = (checked_name, width, errors.fields.is_empty())
    else {
        return Err(ConsoleError::Invalid(errors));
    };
    let key = backend
        .create_till(
            &actor,
            TillInput {
                name,
                kind,
                screen: screen.is_some(),
                display: display.is_some(),
                receipt: receipt.is_some(),
                paper_width,
                escpos_native: escpos_native.is_some(),
            },
        )
        .await
        .map_err(|e| with_typed_values(&errors, e))?;
    backend.set_key_flash(&parts()?, key).await?;
    leptos_axum::redirect("/console/tills?done=created");
    Ok(())
}

/// Revokes a till's key; the page asks for confirmation before showing this form.
#[server(prefix = "/console/fn", endpoint = "revoke_till")]
pub async fn revoke_till(id: String) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend.revoke_till(&actor, parse_id(&id)?).await?;
    leptos_axum::redirect("/console/tills?done=revoked");
    Ok(())
}

/// Changes a till's QR outputs, paper width and native ESC/POS.
#[server(prefix = "/console/fn", endpoint = "save_till_outputs")]
pub async fn save_till_outputs(
    id: String,
    screen: Option<String>,
    display: Option<String>,
    receipt: Option<String>,
    paper_width: String,
    escpos_native: Option<String>,
) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    let id = parse_id(&id)?;
    let mut errors = FormErrors::default();
    errors.keep("paper_width", &paper_width);
    for (k, v) in [
        ("screen", &screen),
        ("display", &display),
        ("receipt", &receipt),
        ("escpos_native", &escpos_native),
    ] {
        errors.keep(k, if v.is_some() { "on" } else { "" });
    }
    let paper_width = match paper_width.trim() {
        "384" => 384,
        "576" => 576,
        _ => {
            errors.field("paper_width", Msg::PaperWidthInvalid);
            return Err(ConsoleError::Invalid(errors));
        }
    };
    backend
        .set_till_outputs(
            &actor,
            id,
            TillInput {
                name: String::new(),
                kind: String::new(),
                screen: screen.is_some(),
                display: display.is_some(),
                receipt: receipt.is_some(),
                paper_width,
                escpos_native: escpos_native.is_some(),
            },
        )
        .await?;
    leptos_axum::redirect("/console/tills?done=saved");
    Ok(())
}

/// The key of a till created just before, once; not a server function (pages call it).
pub async fn take_new_till_key() -> Result<Option<String>, ConsoleError> {
    let (backend, _actor) = require(Role::Admin)?;
    backend.take_key_flash(&parts()?).await
}

#[server(prefix = "/console/fn", endpoint = "list_audit")]
pub async fn list_audit() -> Result<Vec<AuditItem>, ConsoleError> {
    let (backend, actor) = require(Role::Support)?;
    backend.list_audit(&actor).await
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
