//! «Сводка»: the store's day and the last two weeks at a glance. Every role may read it.

use super::require;
use crate::backend::Role;
use crate::backend::dashboard::Dashboard;
use crate::error::ConsoleError;
use leptos::prelude::*;

/// `test`: count test payments too (the page's filter).
#[server(prefix = "/console/fn", endpoint = "get_dashboard")]
pub async fn get_dashboard(#[server(default)] test: bool) -> Result<Dashboard, ConsoleError> {
    let (backend, actor) = require(Role::Viewer)?;
    backend.dashboard(&actor, test).await
}
