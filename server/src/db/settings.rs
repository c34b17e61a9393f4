//! Configuration changes made in the console. Each one writes its audit row in the same
//! transaction as the change.

use super::audit::{self, Change, Who};
use super::config::{AuthServer, ConfigError};
use super::{Db, in_tx, is_unique_violation, now, read};
use crate::qr::outputs::TillOutputs;
use serde_json::json;

/// An authorization server with how many payment types use it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthServerRow {
    pub auth_server_id: i64,
    pub name: String,
    pub response_timeout_secs: i64,
    pub used_by: i64,
}

fn auth_server_json(name: &str, timeout: i64) -> serde_json::Value {
    json!({ "name": name, "response_timeout_secs": timeout })
}

fn check_auth_server(name: &str, timeout_secs: i64) -> Result<(), ConfigError> {
    if name.trim().is_empty() {
        return Err(ConfigError::Invalid("the name must not be empty".into()));
    }
    if !(1..=3600).contains(&timeout_secs) {
        return Err(ConfigError::Invalid(
            "the response timeout must be 1-3600 seconds".into(),
        ));
    }
    Ok(())
}

fn duplicate_or(err: sqlx::Error, what: String) -> ConfigError {
    if is_unique_violation(&err) {
        ConfigError::Duplicate(what)
    } else {
        ConfigError::Db(err)
    }
}

pub async fn list_auth_servers(db: &Db, store_id: i64) -> Result<Vec<AuthServerRow>, sqlx::Error> {
    read!(db, |c| {
        sqlx::query_as(
        "select a.auth_server_id, a.name, a.response_timeout_secs, \
         (select count(*) from payment_type pt where pt.auth_server_id = a.auth_server_id) as used_by \
         from auth_server a where a.store_id = $1 order by a.name, a.auth_server_id"
    )
    .bind(store_id)
    .fetch_all(c)
    .await
    })
}

pub async fn auth_server_by_id(
    db: &Db,
    store_id: i64,
    auth_server_id: i64,
) -> Result<AuthServer, ConfigError> {
    let found: Option<AuthServer> = read!(db, |c| sqlx::query_as(
        "select auth_server_id, store_id, name, response_timeout_secs from auth_server \
         where store_id = $1 and auth_server_id = $2"
    )
    .bind(store_id)
    .bind(auth_server_id)
    .fetch_optional(c)
    .await)?;
    found.ok_or_else(|| ConfigError::NotFound(format!("authorization server {auth_server_id}")))
}

pub async fn create_auth_server(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    name: &str,
    timeout_secs: i64,
) -> Result<i64, ConfigError> {
    let name = name.trim();
    check_auth_server(name, timeout_secs)?;
    let at = now();
    let mut tx = db.begin().await?;
    let id: i64 = in_tx!(&mut tx, |c| {
        sqlx::query_scalar(
        "insert into auth_server (store_id, name, response_timeout_secs, created_at, updated_at) \
         values ($1, $2, $3, $4, $4) returning auth_server_id"
    )
    .bind(store_id)
    .bind(name)
    .bind(timeout_secs)
    .bind(at)
    .fetch_one(&mut *c)
    .await
    })
    .map_err(|e| duplicate_or(e, format!("authorization server {name:?}")))?;
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(store_id),
            action: "create",
            entity: "auth_server",
            entity_id: id.to_string(),
            before: None,
            after: Some(auth_server_json(name, timeout_secs)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_auth_server(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    auth_server_id: i64,
    name: &str,
    timeout_secs: i64,
) -> Result<(), ConfigError> {
    let name = name.trim();
    check_auth_server(name, timeout_secs)?;
    let at = now();
    let mut tx = db.begin().await?;
    let before: Option<AuthServer> = in_tx!(&mut tx, |c| sqlx::query_as(
        "select auth_server_id, store_id, name, response_timeout_secs from auth_server \
         where store_id = $1 and auth_server_id = $2"
    )
    .bind(store_id)
    .bind(auth_server_id)
    .fetch_optional(&mut *c)
    .await)?;
    let Some(before) = before else {
        return Err(ConfigError::NotFound(format!(
            "authorization server {auth_server_id}"
        )));
    };
    in_tx!(&mut tx, |c| sqlx::query(
        "update auth_server set name = $3, response_timeout_secs = $4, updated_at = $5 \
         where store_id = $1 and auth_server_id = $2"
    )
    .bind(store_id)
    .bind(auth_server_id)
    .bind(name)
    .bind(timeout_secs)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|_| ()))
    .map_err(|e| duplicate_or(e, format!("authorization server {name:?}")))?;
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(store_id),
            action: "update",
            entity: "auth_server",
            entity_id: auth_server_id.to_string(),
            before: Some(auth_server_json(&before.name, before.response_timeout_secs)),
            after: Some(auth_server_json(name, timeout_secs)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Why a delete was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error("used by {0} payment types")]
    InUse(i64),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl From<sqlx::Error> for DeleteError {
    fn from(e: sqlx::Error) -> Self {
        DeleteError::Config(ConfigError::Db(e))
    }
}

/// Deletes an authorization server no payment type uses.
pub async fn delete_auth_server(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    auth_server_id: i64,
) -> Result<(), DeleteError> {
    let mut tx = db.begin().await?;
    let before: Option<AuthServer> = in_tx!(&mut tx, |c| sqlx::query_as(
        "select auth_server_id, store_id, name, response_timeout_secs from auth_server \
         where store_id = $1 and auth_server_id = $2"
    )
    .bind(store_id)
    .bind(auth_server_id)
    .fetch_optional(&mut *c)
    .await)?;
    let Some(before) = before else {
        return Err(ConfigError::NotFound(format!("authorization server {auth_server_id}")).into());
    };
    let used_by: i64 = in_tx!(&mut tx, |c| sqlx::query_scalar(
        "select count(*) from payment_type where auth_server_id = $1"
    )
    .bind(auth_server_id)
    .fetch_one(&mut *c)
    .await)?;
    if used_by > 0 {
        return Err(DeleteError::InUse(used_by));
    }
    in_tx!(&mut tx, |c| sqlx::query(
        "delete from auth_server where store_id = $1 and auth_server_id = $2"
    )
    .bind(store_id)
    .bind(auth_server_id)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(store_id),
            action: "delete",
            entity: "auth_server",
            entity_id: auth_server_id.to_string(),
            before: Some(auth_server_json(&before.name, before.response_timeout_secs)),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A new till, with its key already hashed.
pub struct NewTill<'a> {
    pub store_id: i64,
    pub name: &'a str,
    pub kind: &'a str,
    pub key_hash: &'a str,
    pub key_prefix: &'a str,
    pub outputs: TillOutputs,
}

fn till_json(name: &str, kind: &str, key_prefix: &str, outputs: &TillOutputs) -> serde_json::Value {
    json!({
        "name": name,
        "kind": kind,
        "key_prefix": key_prefix,
        "qr_outputs": outputs.list(),
        "paper_width": outputs.paper_width,
        "escpos_native": outputs.escpos_native,
    })
}

/// Adds a till (the caller has checked name, kind and outputs) and its audit row.
pub async fn create_till(db: &Db, who: &Who<'_>, new: NewTill<'_>) -> Result<i64, ConfigError> {
    let name = new.name.trim();
    let at = now();
    let list = new.outputs.list();
    let mut tx = db.begin().await?;
    let id: i64 = in_tx!(&mut tx, |c| {
        sqlx::query_scalar(
        "insert into till (store_id, name, kind, key_hash, key_prefix, qr_outputs, paper_width, \
         escpos_native, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         returning till_id"
    )
    .bind(new.store_id)
    .bind(name)
    .bind(new.kind)
    .bind(new.key_hash)
    .bind(new.key_prefix)
    .bind(&list)
    .bind(i64::from(new.outputs.paper_width))
    .bind(new.outputs.escpos_native)
    .bind(at)
    .fetch_one(&mut *c)
    .await
    })
    .map_err(|e| duplicate_or(e, format!("till {name:?}")))?;
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(new.store_id),
            action: "create",
            entity: "till",
            entity_id: id.to_string(),
            before: None,
            after: Some(till_json(name, new.kind, new.key_prefix, &new.outputs)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Revokes a till's key by id; `false` when it was already revoked.
pub async fn revoke_till(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    till_id: i64,
) -> Result<bool, ConfigError> {
    let at = now();
    let mut tx = db.begin().await?;
    let name: Option<String> = in_tx!(&mut tx, |c| sqlx::query_scalar(
        "select name from till where store_id = $1 and till_id = $2"
    )
    .bind(store_id)
    .bind(till_id)
    .fetch_optional(&mut *c)
    .await)?;
    let Some(name) = name else {
        return Err(ConfigError::NotFound(format!("till {till_id}")));
    };
    let changed = in_tx!(&mut tx, |c| sqlx::query(
        "update till set revoked_at = $3, updated_at = $3 \
         where store_id = $1 and till_id = $2 and revoked_at is null"
    )
    .bind(store_id)
    .bind(till_id)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    if changed == 0 {
        return Ok(false);
    }
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(store_id),
            action: "revoke",
            entity: "till",
            entity_id: till_id.to_string(),
            before: Some(json!({ "name": name, "revoked": false })),
            after: Some(json!({ "name": name, "revoked": true })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// A payment type as the console edits it (the caller has checked module and capabilities, and
/// that the authorization server belongs to the store).
pub struct PaymentTypeFields<'a> {
    pub store_id: i64,
    pub auth_server_id: i64,
    pub name: &'a str,
    pub module: &'a str,
    pub scan_customer_qr: bool,
    pub enabled: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct PaymentTypeState {
    auth_server_id: i64,
    name: String,
    module: String,
    scan_customer_qr: bool,
    enabled: bool,
}

fn payment_type_json(
    name: &str,
    auth_server_id: i64,
    module: &str,
    scan: bool,
    enabled: bool,
) -> serde_json::Value {
    json!({ "name": name, "auth_server_id": auth_server_id, "module": module,
            "scan_customer_qr": scan, "enabled": enabled })
}

/// Creates (`id` = None) or updates a payment type, with its audit row.
pub async fn save_payment_type(
    db: &Db,
    who: &Who<'_>,
    id: Option<i64>,
    f: PaymentTypeFields<'_>,
) -> Result<i64, ConfigError> {
    let name = f.name.trim();
    let at = now();
    let after = payment_type_json(
        name,
        f.auth_server_id,
        f.module,
        f.scan_customer_qr,
        f.enabled,
    );
    let mut tx = db.begin().await?;
    let (id, action, before) = match id {
        None => {
            let id: i64 = in_tx!(&mut tx, |c| sqlx::query_scalar(
                "insert into payment_type (store_id, auth_server_id, name, module, scan_customer_qr, \
                 enabled, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $7) \
                 returning payment_type_id"
            )
            .bind(f.store_id)
            .bind(f.auth_server_id)
            .bind(name)
            .bind(f.module)
            .bind(f.scan_customer_qr)
            .bind(f.enabled)
            .bind(at)
            .fetch_one(&mut *c)
            .await)
            .map_err(|e| duplicate_or(e, format!("payment type {name:?}")))?;
            (id, "create", None)
        }
        Some(id) => {
            let before: Option<PaymentTypeState> = in_tx!(&mut tx, |c| {
                sqlx::query_as(
                "select auth_server_id, name, module, scan_customer_qr, enabled from payment_type \
                 where store_id = $1 and payment_type_id = $2"
            )
            .bind(f.store_id)
            .bind(id)
            .fetch_optional(&mut *c)
            .await
            })?;
            let Some(b) = before else {
                return Err(ConfigError::NotFound(format!("payment type {id}")));
            };
            in_tx!(&mut tx, |c| sqlx::query(
                "update payment_type set auth_server_id = $3, name = $4, module = $5, \
                 scan_customer_qr = $6, enabled = $7, updated_at = $8 \
                 where store_id = $1 and payment_type_id = $2"
            )
            .bind(f.store_id)
            .bind(id)
            .bind(f.auth_server_id)
            .bind(name)
            .bind(f.module)
            .bind(f.scan_customer_qr)
            .bind(f.enabled)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|_| ()))
            .map_err(|e| duplicate_or(e, format!("payment type {name:?}")))?;
            let before = payment_type_json(
                &b.name,
                b.auth_server_id,
                &b.module,
                b.scan_customer_qr,
                b.enabled,
            );
            (id, "update", Some(before))
        }
    };
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(f.store_id),
            action,
            entity: "payment_type",
            entity_id: id.to_string(),
            before,
            after: Some(after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The store's parameters as the console edits them (the caller has checked them).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoreFields {
    pub code: String,
    pub name: String,
    pub integrator_url: Option<String>,
    pub rabbitmq_url: Option<String>,
    pub time_zone: String,
    pub refund_late_payments: bool,
}

fn store_json(f: &StoreFields) -> serde_json::Value {
    json!({
        "code": f.code, "name": f.name, "integrator_url": f.integrator_url,
        // The broker password never goes into the audit log.
        "rabbitmq_url": f.rabbitmq_url.as_deref().map(crate::events::outbox::redact),
        "time_zone": f.time_zone, "refund_late_payments": f.refund_late_payments,
    })
}

/// Updates the store's parameters and writes the audit row.
pub async fn update_store(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    f: &StoreFields,
) -> Result<(), ConfigError> {
    let at = now();
    let mut tx = db.begin().await?;
    let before: Option<StoreFields> = in_tx!(&mut tx, |c| sqlx::query_as(
        "select code, name, integrator_url, rabbitmq_url, time_zone, refund_late_payments \
             from store where store_id = $1"
    )
    .bind(store_id)
    .fetch_optional(&mut *c)
    .await)?;
    let Some(before) = before else {
        return Err(ConfigError::NotFound(format!("store {store_id}")));
    };
    in_tx!(&mut tx, |c| sqlx::query(
        "update store set code = $2, name = $3, integrator_url = $4, rabbitmq_url = $5, \
         time_zone = $6, refund_late_payments = $7, updated_at = $8 where store_id = $1"
    )
    .bind(store_id)
    .bind(&f.code)
    .bind(&f.name)
    .bind(&f.integrator_url)
    .bind(&f.rabbitmq_url)
    .bind(&f.time_zone)
    .bind(f.refund_late_payments)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|_| ()))
    .map_err(|e| duplicate_or(e, format!("store code {:?}", f.code)))?;
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(store_id),
            action: "update",
            entity: "store",
            entity_id: store_id.to_string(),
            before: Some(store_json(&before)),
            after: Some(store_json(f)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes where a till shows its QR and how it prints it, with the audit row.
pub async fn set_till_outputs(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    till_id: i64,
    outputs: &TillOutputs,
) -> Result<(), ConfigError> {
    let at = now();
    let mut tx = db.begin().await?;
    let before: Option<(String, String, String, i64, bool)> = in_tx!(&mut tx, |c| sqlx::query_as(
        "select name, kind, qr_outputs, paper_width, escpos_native from till \
         where store_id = $1 and till_id = $2"
    )
    .bind(store_id)
    .bind(till_id)
    .fetch_optional(&mut *c)
    .await)?;
    let Some((name, kind, list, width, native)) = before else {
        return Err(ConfigError::NotFound(format!("till {till_id}")));
    };
    let old = TillOutputs::from_columns(&list, width, native);
    in_tx!(&mut tx, |c| sqlx::query(
        "update till set qr_outputs = $3, paper_width = $4, escpos_native = $5, updated_at = $6 \
         where store_id = $1 and till_id = $2"
    )
    .bind(store_id)
    .bind(till_id)
    .bind(outputs.list())
    .bind(i64::from(outputs.paper_width))
    .bind(outputs.escpos_native)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    let state = |o: &TillOutputs| {
        json!({ "name": name, "kind": kind, "qr_outputs": o.list(),
                "paper_width": o.paper_width, "escpos_native": o.escpos_native })
    };
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(store_id),
            action: "update",
            entity: "till",
            entity_id: till_id.to_string(),
            before: Some(state(&old)),
            after: Some(state(outputs)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
