//! «Журнал»: the audit log of configuration changes and refunds, for support and admins.

use super::session::Actor;
use crate::error::ConsoleError;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditItem {
    /// In the store's time zone.
    pub local_time: String,
    pub login: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// What changed, field by field (nested fields as `outer.inner`); for a creation every
    /// field it was created with, for a deletion every field it had.
    pub changes: Vec<AuditChange>,
    /// For a refund's row: what was refunded, for a readable line instead of JSON.
    pub refund: Option<AuditRefund>,
}

/// One field of a change: its name as stored and its values before and after, as text (`true` /
/// `false` for yes and no; `None` where there was no value).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A refund as its audit row tells it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRefund {
    pub payment_id: String,
    pub refund_id: String,
    /// Kopecks.
    pub amount: i64,
    pub reason: Option<String>,
    /// qrpay's own refund of a late payment: its reason is told in the reader's words.
    #[serde(default)]
    pub automatic: bool,
}

#[async_trait::async_trait]
pub trait AuditPort: Send + Sync + 'static {
    async fn list_audit(&self, actor: &Actor) -> Result<Vec<AuditItem>, ConsoleError>;
}
