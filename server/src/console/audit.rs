//! «Журнал»: the latest audit rows of the store, for support and admins; a refund's row reads as
//! a refund.

use super::{ConsoleBackend, internal, store_tz};
use crate::db;
use app::backend::audit::{AuditChange, AuditItem, AuditPort, AuditRefund};
use app::backend::{Actor, Role};
use app::error::ConsoleError;
use serde_json::Value;

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
                changes: changes(r.before.as_deref(), r.after.as_deref()),
            })
            .collect())
    }
}

/// A refund's audit row read back for the «Журнал» page (written by `db::refund::insert_refund`).
fn refund_of(action: &str, entity: &str, after: Option<&str>) -> Option<AuditRefund> {
    if action != "refund" || entity != "payment" {
        return None;
    }
    let mut refund: AuditRefund = serde_json::from_str(after?).ok()?;
    refund.automatic = refund.reason.as_deref() == Some(crate::payments::LATE_REFUND_REASON);
    Some(refund)
}

/// The fields that differ between an audit row's `before` and `after` JSON, nested objects
/// flattened (`qr_outputs.screen`), by field name.
fn changes(before: Option<&str>, after: Option<&str>) -> Vec<AuditChange> {
    let parse = |s: Option<&str>| {
        let mut flat = Vec::new();
        if let Some(v) = s.and_then(|s| serde_json::from_str::<Value>(s).ok()) {
            flatten("", &v, &mut flat);
        }
        flat
    };
    let (before, after) = (parse(before), parse(after));
    let mut fields: Vec<&String> = after.iter().map(|(k, _)| k).collect();
    for (k, _) in &before {
        if !fields.contains(&k) {
            fields.push(k);
        }
    }
    let value = |list: &[(String, Option<String>)], k: &str| {
        list.iter()
            .find(|(f, _)| f == k)
            .and_then(|(_, v)| v.clone())
    };
    fields
        .into_iter()
        .map(|k| AuditChange {
            field: k.clone(),
            before: value(&before, k),
            after: value(&after, k),
        })
        .filter(|c| c.before != c.after)
        .collect()
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, Option<String>)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Null => out.push((prefix.to_owned(), None)),
        Value::String(s) => out.push((prefix.to_owned(), Some(s.clone()))),
        other => out.push((prefix.to_owned(), Some(other.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_lists_only_the_fields_that_differ_nested_ones_flattened() {
        let got = changes(
            Some(
                r#"{"name":"Касса 1","revoked":false,"qr_outputs":{"screen":true,"receipt":true}}"#,
            ),
            Some(
                r#"{"name":"Касса 1","revoked":true,"qr_outputs":{"screen":false,"receipt":true}}"#,
            ),
        );
        let got: Vec<_> = got
            .iter()
            .map(|c| (c.field.as_str(), c.before.as_deref(), c.after.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("qr_outputs.screen", Some("true"), Some("false")),
                ("revoked", Some("false"), Some("true")),
            ]
        );
        let created = changes(None, Some(r#"{"name":"QR","timeout":null}"#));
        assert_eq!(created.len(), 1, "{created:?}");
        assert_eq!(created[0].after.as_deref(), Some("QR"));
    }
}
