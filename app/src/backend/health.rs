//! «Состояние»: the preflight checks qrpay doctor prints, for the store's admins.

use super::session::Actor;
use crate::error::ConsoleError;
use crate::i18n::Phrase;
use serde::{Deserialize, Serialize};

/// One check: what it is about (`database`, `public_url`, `payment_type`, `broker`, `admin`,
/// `test_modules`, `disk`, `clock`), whether it passed, and what it found or what to do (in no
/// language yet: the page says it in the reader's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub kind: String,
    pub ok: bool,
    pub detail: Phrase,
}

#[async_trait::async_trait]
pub trait HealthPort: Send + Sync + 'static {
    /// The checks of `qrpay doctor` for the actor's store (admins only: they name addresses).
    async fn health_checks(&self, actor: &Actor) -> Result<Vec<HealthCheck>, ConsoleError>;
}
