//! «Кассовая ссылка» of a till: show it, issue a new one, bind a printed plate. Admins only.

use super::{parse_id, require, with_typed_values};
use crate::backend::Role;
use crate::backend::cash_link::CashLinkView;
use crate::error::{ConsoleError, FormErrors};
use crate::i18n::Msg;
use leptos::prelude::*;

#[server(prefix = "/console/fn", endpoint = "get_cash_link")]
pub async fn get_cash_link(id: String) -> Result<CashLinkView, ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend.get_cash_link(&actor, parse_id(&id)?).await
}

/// Registers a new cash-register link for the till at the bank of its payment type.
#[server(prefix = "/console/fn", endpoint = "issue_cash_link")]
pub async fn issue_cash_link(id: String) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    let till_id = parse_id(&id)?;
    backend.issue_cash_link(&actor, till_id, None).await?;
    leptos_axum::redirect(&format!("/console/tills/{till_id}/cash-link?done=issued"));
    Ok(())
}

/// Binds a plate the bank printed (its QR id) to the till.
#[server(prefix = "/console/fn", endpoint = "bind_cash_link")]
pub async fn bind_cash_link(id: String, qr_id: String) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    let till_id = parse_id(&id)?;
    let mut errors = FormErrors::default();
    errors.keep("qr_id", &qr_id);
    let plate = qr_id.trim();
    if plate.is_empty() || plate.len() > 32 || !plate.bytes().all(|b| b.is_ascii_alphanumeric()) {
        errors.field("qr_id", Msg::CashLinkBadPlate);
        return Err(ConsoleError::Invalid(errors));
    }
    backend
        .issue_cash_link(&actor, till_id, Some(plate.to_owned()))
        .await
        .map_err(|e| with_typed_values(&errors, e))?;
    leptos_axum::redirect(&format!("/console/tills/{till_id}/cash-link?done=bound"));
    Ok(())
}
