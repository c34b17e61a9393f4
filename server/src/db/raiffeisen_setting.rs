//! The Raiffeisen payment module's settings per store (`raiffeisen_setting`). The secret key is
//! only ever read by the module itself; nothing here renders it.

use super::audit::{self, Change, Who};
use super::{Db, in_tx, now, read};
use serde_json::json;

/// One store's row, as stored.
#[derive(Clone, sqlx::FromRow)]
pub struct RaiffeisenSettingRow {
    pub store_id: i64,
    pub base_url: String,
    pub sbp_merchant_id: String,
    pub secret_key: String,
}

impl std::fmt::Debug for RaiffeisenSettingRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaiffeisenSettingRow")
            .field("store_id", &self.store_id)
            .field("base_url", &self.base_url)
            .field("sbp_merchant_id", &self.sbp_merchant_id)
            .field("secret_key", &"***")
            .finish()
    }
}

pub async fn setting_of_store(
    db: &Db,
    store_id: i64,
) -> Result<Option<RaiffeisenSettingRow>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select store_id, base_url, sbp_merchant_id, secret_key from raiffeisen_setting \
         where store_id = $1"
    )
    .bind(store_id)
    .fetch_optional(c)
    .await)
}

/// The callback URL last registered with the bank for the store, and when (`None`: never, or
/// not since these settings were stored).
pub async fn registered_callback(
    db: &Db,
    store_id: i64,
) -> Result<Option<(String, chrono::DateTime<chrono::Utc>)>, sqlx::Error> {
    let row: Option<(Option<String>, Option<chrono::DateTime<chrono::Utc>>)> = read!(db, |c| {
        sqlx::query_as(
            "select callback_url, callback_registered_at from raiffeisen_setting where store_id = $1"
        )
        .bind(store_id)
        .fetch_optional(c)
        .await
    })?;
    Ok(row.and_then(|(url, at)| url.zip(at)))
}

/// Notes that the bank accepted `url` as the store's callback URL (the bank has no call that
/// reads it back, so `qrpay doctor` checks this note). A store without its own settings row
/// (the `QRPAY_RAIFFEISEN_*` ones) has nowhere to keep it.
pub async fn record_callback(db: &Db, store_id: i64, url: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    in_tx!(&mut tx, |c| sqlx::query(
        "update raiffeisen_setting set callback_url = $2, callback_registered_at = $3 \
         where store_id = $1"
    )
    .bind(store_id)
    .bind(url)
    .bind(now())
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    tx.commit().await
}

/// What the audit log keeps of a row: never the secret key, only whether one is set and, after a
/// save, whether it was changed.
fn audit_json(base_url: &str, sbp_merchant_id: &str, secret: &str) -> serde_json::Value {
    json!({ "base_url": base_url, "sbp_merchant_id": sbp_merchant_id, "secret_key": secret })
}

/// Creates or updates the store's settings and writes the audit row in the same transaction.
/// `secret_key: None` keeps the stored key; returns `false` (nothing saved) when there is no
/// stored key to keep, or the address changes (a new address takes the key again).
pub async fn save_setting(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    base_url: &str,
    sbp_merchant_id: &str,
    secret_key: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let at = now();
    let mut tx = db.begin().await?;
    let before: Option<(String, String)> = in_tx!(&mut tx, |c| sqlx::query_as(
        "select base_url, sbp_merchant_id from raiffeisen_setting where store_id = $1"
    )
    .bind(store_id)
    .fetch_optional(&mut *c)
    .await)?;
    match (&before, secret_key) {
        // The stored key is kept only for the address it was given with: it is sent there.
        (Some((url, _)), None) if url != base_url => return Ok(false),
        (Some(_), secret_key) => in_tx!(&mut tx, |c| sqlx::query(
            // An absent key keeps the stored one.
            "update raiffeisen_setting set base_url = $2, sbp_merchant_id = $3, \
             secret_key = coalesce($4, secret_key), updated_at = $5 where store_id = $1"
        )
        .bind(store_id)
        .bind(base_url)
        .bind(sbp_merchant_id)
        .bind(secret_key)
        .bind(at)
        .execute(&mut *c)
        .await
        .map(|_| ()))?,
        (None, Some(secret_key)) => in_tx!(&mut tx, |c| sqlx::query(
            "insert into raiffeisen_setting (store_id, base_url, sbp_merchant_id, secret_key, \
             created_at, updated_at) values ($1, $2, $3, $4, $5, $5)"
        )
        .bind(store_id)
        .bind(base_url)
        .bind(sbp_merchant_id)
        .bind(secret_key)
        .bind(at)
        .execute(&mut *c)
        .await
        .map(|_| ()))?,
        (None, None) => return Ok(false),
    }
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(store_id),
            action: if before.is_some() { "update" } else { "create" },
            entity: "raiffeisen_setting",
            entity_id: store_id.to_string(),
            before: before.map(|(url, id)| audit_json(&url, &id, "set")),
            after: Some(audit_json(
                base_url,
                sbp_merchant_id,
                if secret_key.is_some() {
                    "changed"
                } else {
                    "set"
                },
            )),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
