//! «Статические QR»: list, issue (name, purpose, optional amount, payment type), deactivate
//! after a confirmation step. Admins only.

use super::transactions::parse_rubles;
use super::{parse_id, require, with_typed_values};
use crate::backend::Role;
use crate::backend::static_qrs::{StaticQrInput, StaticQrItem};
use crate::error::{ConsoleError, FormErrors};
use crate::i18n::Msg;
use leptos::prelude::*;

#[server(prefix = "/console/fn", endpoint = "list_static_qrs")]
pub async fn list_static_qrs() -> Result<Vec<StaticQrItem>, ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend.list_static_qrs(&actor).await
}

#[server(prefix = "/console/fn", endpoint = "issue_static_qr")]
pub async fn issue_static_qr(
    name: String,
    purpose: Option<String>,
    amount: Option<String>,
    payment_type_id: Option<String>,
) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    let purpose = purpose.unwrap_or_default();
    let amount = amount.unwrap_or_default();
    let payment_type_id = payment_type_id.unwrap_or_default();
    let mut errors = FormErrors::default();
    errors.keep("name", &name);
    errors.keep("purpose", &purpose);
    errors.keep("amount", &amount);
    errors.keep("payment_type_id", &payment_type_id);
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 60 {
        errors.field("name", Msg::StaticQrBadName);
    }
    if purpose.chars().count() > 140 {
        errors.field("purpose", Msg::StaticQrBadPurpose);
    }
    let kopecks = if amount.trim().is_empty() {
        None
    } else {
        match parse_rubles(&amount) {
            Some(k) if k > 0 => Some(k),
            _ => {
                errors.field("amount", Msg::RefundBadAmount);
                None
            }
        }
    };
    let payment_type_id = match payment_type_id.trim() {
        "" => None,
        id => Some(parse_id(id)?),
    };
    if !errors.fields.is_empty() {
        return Err(ConsoleError::Invalid(errors));
    }
    let purpose = purpose.trim();
    let id = backend
        .issue_static_qr(
            &actor,
            StaticQrInput {
                name,
                purpose: (!purpose.is_empty()).then(|| purpose.to_owned()),
                amount: kopecks,
                payment_type_id,
            },
        )
        .await
        .map_err(|e| with_typed_values(&errors, e))?;
    leptos_axum::redirect(&format!("/console/static-qrs?done=issued&shown={id}"));
    Ok(())
}

/// Deactivates a static QR; the page asks for confirmation before showing this form.
#[server(prefix = "/console/fn", endpoint = "deactivate_static_qr")]
pub async fn deactivate_static_qr(id: String) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend.deactivate_static_qr(&actor, parse_id(&id)?).await?;
    leptos_axum::redirect("/console/static-qrs?done=deactivated");
    Ok(())
}
