//! «Кассы»: adding tills (the key shown once), revoking them, renaming them, their kind, language
//! and QR outputs. Admins only.

use super::settings::check_name;
use super::{parse_id, parts, require, with_typed_values};
use crate::backend::Role;
use crate::backend::tills::{TillInput, TillItem};
use crate::error::{ConsoleError, FormErrors};
use crate::i18n::Msg;
use leptos::prelude::*;

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
                language: "ru".into(),
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

/// Changes a till: its name, kind, the language of its messages, QR outputs, paper width and
/// native ESC/POS.
#[server(prefix = "/console/fn", endpoint = "save_till")]
#[allow(clippy::too_many_arguments)]
pub async fn save_till(
    id: String,
    name: String,
    kind: String,
    language: String,
    screen: Option<String>,
    display: Option<String>,
    receipt: Option<String>,
    paper_width: Option<String>,
    escpos_native: Option<String>,
) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    let id = parse_id(&id)?;
    let mut errors = FormErrors::default();
    errors.keep("name", &name);
    errors.keep("kind", &kind);
    errors.keep("language", &language);
    // A till without a receipt output shows no paper width: the saved one stays the default.
    let paper_width = paper_width.unwrap_or_else(|| "576".into());
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
    if !matches!(language.as_str(), "ru" | "en") {
        errors.field("language", Msg::TillLanguageInvalid);
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
    backend
        .update_till(
            &actor,
            id,
            TillInput {
                name,
                kind,
                language,
                screen: screen.is_some(),
                display: display.is_some(),
                receipt: receipt.is_some(),
                paper_width,
                escpos_native: escpos_native.is_some(),
            },
        )
        .await
        .map_err(|e| with_typed_values(&errors, e))?;
    leptos_axum::redirect("/console/tills?done=saved");
    Ok(())
}

/// Sets the payment type a till uses when it names none ("" = the store's default).
#[server(prefix = "/console/fn", endpoint = "save_till_payment_type")]
pub async fn save_till_payment_type(
    id: String,
    payment_type_id: String,
) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    let id = parse_id(&id)?;
    let payment_type_id = match payment_type_id.trim() {
        "" => None,
        s => Some(parse_id(s)?),
    };
    backend
        .set_till_payment_type(&actor, id, payment_type_id)
        .await?;
    leptos_axum::redirect("/console/tills?done=saved");
    Ok(())
}

/// The key of a till created just before, once; not a server function (pages call it).
pub async fn take_new_till_key() -> Result<Option<String>, ConsoleError> {
    let (backend, _actor) = require(Role::Admin)?;
    backend.take_key_flash(&parts()?).await
}
