//! Raiffeisen SBP settings per store (`raiffeisen_setting`). The secret key is only ever read by
//! the module itself; nothing here renders it.

use super::{Db, now, read, write};

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

/// Creates or replaces the store's settings.
pub async fn save_setting(db: &Db, row: &RaiffeisenSettingRow) -> Result<(), sqlx::Error> {
    let at = now();
    write!(db, |c| {
        sqlx::query(
        "insert into raiffeisen_setting (store_id, base_url, sbp_merchant_id, secret_key, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $5) on conflict (store_id) do update set \
         base_url = excluded.base_url, sbp_merchant_id = excluded.sbp_merchant_id, \
         secret_key = excluded.secret_key, updated_at = excluded.updated_at"
    )
    .bind(row.store_id)
    .bind(&row.base_url)
    .bind(&row.sbp_merchant_id)
    .bind(&row.secret_key)
    .bind(at)
    .execute(c)
    .await
    .map(|_| ())
    })
}
