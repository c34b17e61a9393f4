//! «Состояние»: the preflight checks. Admins only.

use super::require;
use crate::backend::Role;
use crate::backend::health::HealthCheck;
use crate::error::ConsoleError;
use leptos::prelude::*;

#[server(prefix = "/console/fn", endpoint = "get_health_checks")]
pub async fn get_health_checks() -> Result<Vec<HealthCheck>, ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend.health_checks(&actor).await
}
