//! «Сверка»: kept comparisons of the bank's registry with qrpay, for support and admins.

use super::require;
use crate::backend::Role;
use crate::backend::reconcile::{ReconcileDetail, ReconcileSummary};
use crate::error::ConsoleError;
use leptos::prelude::*;

#[server(prefix = "/console/fn", endpoint = "list_reconciliations")]
pub async fn list_reconciliations() -> Result<Vec<ReconcileSummary>, ConsoleError> {
    let (backend, actor) = require(Role::Support)?;
    backend.list_reconciliations(&actor).await
}

#[server(prefix = "/console/fn", endpoint = "get_reconciliation")]
pub async fn get_reconciliation(id: i64) -> Result<Option<ReconcileDetail>, ConsoleError> {
    let (backend, actor) = require(Role::Support)?;
    backend.get_reconciliation(&actor, id).await
}

/// «Спросить банк» on a difference "paid at the bank, not in qrpay" (after the page's
/// confirmation step): asks the bank about the payment's order, then back to the comparison with
/// the outcome. Support and admins.
#[server(prefix = "/console/fn", endpoint = "ask_bank_about_payment")]
pub async fn ask_bank_about_payment(id: String, payment_id: String) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Support)?;
    let id = super::parse_id(&id)?;
    let outcome = backend
        .ask_bank_about_payment(&actor, id, &payment_id)
        .await?;
    leptos_axum::redirect(&format!(
        "/console/reconcile?id={id}&asked={}&outcome={outcome}",
        crate::backend::transactions::url_encode(&payment_id)
    ));
    Ok(())
}
