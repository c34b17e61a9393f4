//! «Состояние»: the preflight checks of `qrpay doctor` (`preflight::checks`) for the admin's
//! store, as the running qrpay sees them.

use super::{ConsoleBackend, admin_only, internal};
use crate::preflight::checks::{self, Inputs, MIN_FREE_BYTES};
use app::backend::Actor;
use app::backend::health::{HealthCheck, HealthPort};
use app::error::ConsoleError;

#[async_trait::async_trait]
impl HealthPort for ConsoleBackend {
    async fn health_checks(&self, actor: &Actor) -> Result<Vec<HealthCheck>, ConsoleError> {
        admin_only(actor)?;
        let payments = self
            .payments
            .as_ref()
            .ok_or_else(|| internal("the console has no payment service"))?;
        let inputs = Inputs {
            db: &self.db,
            providers: payments.providers(),
            public_url: payments.public_url(),
            production: payments.production(),
            default_amqp_url: self.health.amqp_url.as_deref(),
            data_dir: self.health.data_dir.clone(),
            min_free_bytes: MIN_FREE_BYTES,
            store_id: Some(actor.store_id),
        };
        let mut list = vec![checks::database_reached(&self.db)];
        list.extend(checks::run(&inputs).await);
        Ok(list
            .into_iter()
            .map(|c| HealthCheck {
                kind: serde_json::to_value(c.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                ok: c.ok,
                detail: c.detail,
            })
            .collect())
    }
}

/// What the «Состояние» page needs besides the payment service: the default broker and where
/// the data lives.
#[derive(Debug, Clone, Default)]
pub struct HealthSettings {
    pub amqp_url: Option<String>,
    pub data_dir: std::path::PathBuf,
}
