//! «Журнал»: the audit log, for support and admins.

use super::require;
use crate::backend::Role;
use crate::backend::audit::AuditItem;
use crate::error::ConsoleError;
use leptos::prelude::*;

#[server(prefix = "/console/fn", endpoint = "list_audit")]
pub async fn list_audit() -> Result<Vec<AuditItem>, ConsoleError> {
    let (backend, actor) = require(Role::Support)?;
    backend.list_audit(&actor).await
}
