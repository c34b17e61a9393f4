//! Reading payments for the «Транзакции» page.

use super::require;
use crate::backend::{Role, TransactionList};
use crate::error::ConsoleError;
use leptos::prelude::*;

/// The store's latest payments; every role may read them.
#[server(prefix = "/console/fn", endpoint = "list_transactions")]
pub async fn list_transactions() -> Result<TransactionList, ConsoleError> {
    let (backend, actor) = require(Role::Viewer)?;
    backend.list_transactions(&actor).await
}
