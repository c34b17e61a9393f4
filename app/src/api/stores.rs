//! The store picker: which store the console works on, kept in the session.

use super::{parts, require};
use crate::backend::{Role, StoreItem};
use crate::error::ConsoleError;
use leptos::prelude::*;

#[server(prefix = "/console/fn", endpoint = "list_stores")]
pub async fn list_stores() -> Result<Vec<StoreItem>, ConsoleError> {
    let (backend, actor) = require(Role::Viewer)?;
    backend.list_stores(&actor).await
}

/// Picks the store; the form posts back to the page it came from, now showing that store.
#[server(prefix = "/console/fn", endpoint = "choose_store")]
pub async fn choose_store(store_id: i64) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Viewer)?;
    backend.choose_store(&parts()?, &actor, store_id).await
}
