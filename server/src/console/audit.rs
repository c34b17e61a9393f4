//! «Журнал»: the latest audit rows of the store, for support and admins; a refund's row reads as
//! a refund.

use super::{ConsoleBackend, internal, store_tz};
use crate::db;
use app::backend::audit::{AuditItem, AuditPort, AuditRefund};
use app::backend::{Actor, Role};
use app::error::ConsoleError;

/// How many audit entries the «Журнал» page shows.
const AUDIT_PAGE: i64 = 100;

#[async_trait::async_trait]
impl AuditPort for ConsoleBackend {
    async fn list_audit(&self, actor: &Actor) -> Result<Vec<AuditItem>, ConsoleError> {
        if actor.role < Role::Support {
            return Err(ConsoleError::Forbidden);
        }
        let store = self.store_of(actor).await?;
        let tz = store_tz(&store);
        let rows = db::audit::latest(&self.db, store.store_id, AUDIT_PAGE)
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|r| AuditItem {
                refund: refund_of(&r.action, &r.entity, r.after.as_deref()),
                local_time: r
                    .created_at
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
                login: r.login,
                action: r.action,
                entity: r.entity,
                entity_id: r.entity_id,
                before: r.before.unwrap_or_default(),
                after: r.after.unwrap_or_default(),
            })
            .collect())
    }
}

/// A refund's audit row read back for the «Журнал» page (written by `db::refund::insert_refund`).
fn refund_of(action: &str, entity: &str, after: Option<&str>) -> Option<AuditRefund> {
    if action != "refund" || entity != "payment" {
        return None;
    }
    serde_json::from_str(after?).ok()
}
