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
