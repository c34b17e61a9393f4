//! Stores (`store`): their parameters, the first start's default store, and the changes an
//! operator makes to them (each with its audit row).

use super::audit::{self, Change, Who};
use super::{ConfigError, Db, Tx, duplicate_or, in_tx, now, read};
use crate::domain::AmqpUrl;
use serde_json::json;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Store {
    pub store_id: i64,
    pub code: String,
    pub name: String,
    pub integrator_url: Option<String>,
    pub rabbitmq_url: Option<AmqpUrl>,
    pub time_zone: String,
    pub refund_late_payments: bool,
}

/// The store's parameters as the console edits them (the caller has checked them).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoreFields {
    pub code: String,
    pub name: String,
    pub integrator_url: Option<String>,
    pub rabbitmq_url: Option<AmqpUrl>,
    pub time_zone: String,
    pub refund_late_payments: bool,
}

// A stored broker URL is read as text (and written with `as_deref`).
impl<DB: sqlx::Database> sqlx::Type<DB> for AmqpUrl
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for AmqpUrl
where
    String: sqlx::Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        <String as sqlx::Decode<DB>>::decode(value).map(AmqpUrl::from_stored)
    }
}

const STORE_COLUMNS: &str =
    "store_id, code, name, integrator_url, rabbitmq_url, time_zone, refund_late_payments";

/// On first start: a default store, an authorization server «QR оплата» (120 s) and — unless
/// `test_type` is false (production mode) — the test payment type «СБП QR (тест)» on the sandbox
/// bank as the store's default, so that a new user can take a payment at once. Returns true
/// when it created them.
pub async fn ensure_defaults(db: &Db, test_type: bool) -> Result<bool, sqlx::Error> {
    let stores: i64 = read!(db, |c| sqlx::query_scalar("select count(*) from store")
        .fetch_one(c)
        .await)?;
    if stores > 0 {
        return Ok(false);
    }
    add_store_with(db, &Who::SEED, "main", "Магазин", test_type).await?;
    Ok(true)
}

/// The name of the payment type a new store gets on the sandbox bank: it says it is a test.
pub const TEST_PAYMENT_TYPE: &str = "СБП QR (тест)";

/// What [`add_store_with_defaults`] created.
#[derive(Debug, Clone, Copy)]
pub struct DefaultStore {
    pub store_id: i64,
    pub auth_server_id: i64,
    pub payment_type_id: i64,
}

/// A store with what a new store needs to take a payment at once: an authorization server
/// «QR оплата» (120 s) and the test payment type «СБП QR (тест)» on the sandbox bank, the
/// store's default. One transaction, with an audit row for each of the three.
pub async fn add_store_with_defaults(
    db: &Db,
    who: &Who<'_>,
    code: &str,
    name: &str,
) -> Result<DefaultStore, sqlx::Error> {
    let (store_id, auth_server_id, payment_type_id) =
        add_store_with(db, who, code, name, true).await?;
    Ok(DefaultStore {
        store_id,
        auth_server_id,
        payment_type_id: payment_type_id.expect("BUG: asked for the test type"),
    })
}

/// [`add_store_with_defaults`], with the test payment type only when `test_type` (production
/// mode creates none: a store there starts with no payment type until a bank is configured).
pub async fn add_store_with(
    db: &Db,
    who: &Who<'_>,
    code: &str,
    name: &str,
    test_type: bool,
) -> Result<(i64, i64, Option<i64>), sqlx::Error> {
    let at = now();
    let mut tx = db.begin().await?;
    let store_id = insert_store(&mut tx, who, code, name).await?;
    let (auth_server_id, payment_type_id) = in_tx!(&mut tx, |c| {
        let auth_server_id: i64 = sqlx::query_scalar(
            "insert into auth_server (store_id, name, response_timeout_secs, created_at, updated_at) \
             values ($1, 'QR оплата', 120, $2, $2) returning auth_server_id",
        )
        .bind(store_id)
        .bind(at)
        .fetch_one(&mut *c)
        .await?;
        let mut payment_type_id = None;
        if test_type {
            let id: i64 = sqlx::query_scalar(
                "insert into payment_type (store_id, auth_server_id, name, module, created_at, updated_at) \
                 values ($1, $2, $3, 'sandbox', $4, $4) returning payment_type_id",
            )
            .bind(store_id)
            .bind(auth_server_id)
            .bind(TEST_PAYMENT_TYPE)
            .bind(at)
            .fetch_one(&mut *c)
            .await?;
            sqlx::query("update store set default_payment_type_id = $2 where store_id = $1")
                .bind(store_id)
                .bind(id)
                .execute(&mut *c)
                .await?;
            payment_type_id = Some(id);
        }
        Ok::<_, sqlx::Error>((auth_server_id, payment_type_id))
    })?;
    let mut created = vec![(
        "auth_server",
        auth_server_id,
        json!({ "name": "QR оплата", "response_timeout_secs": 120 }),
    )];
    if let Some(payment_type_id) = payment_type_id {
        created.push((
            "payment_type",
            payment_type_id,
            json!({ "name": TEST_PAYMENT_TYPE, "auth_server_id": auth_server_id, "module": "sandbox",
                    "scan_customer_qr": false, "enabled": true, "store_default": true }),
        ));
    }
    for (entity, id, after) in created {
        audit::record(
            &mut tx,
            who,
            Change {
                store_id: Some(store_id),
                action: "create",
                entity,
                entity_id: id.to_string(),
                before: None,
                after: Some(after),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok((store_id, auth_server_id, payment_type_id))
}

/// Inserts the store row and its audit row.
async fn insert_store(
    tx: &mut Tx,
    who: &Who<'_>,
    code: &str,
    name: &str,
) -> Result<i64, sqlx::Error> {
    let at = now();
    let store_id: i64 = in_tx!(tx, |c| sqlx::query_scalar(
        "insert into store (code, name, created_at, updated_at) values ($1, $2, $3, $3) \
         returning store_id"
    )
    .bind(code)
    .bind(name)
    .bind(at)
    .fetch_one(&mut *c)
    .await)?;
    audit::record(
        tx,
        who,
        Change {
            store_id: Some(store_id),
            action: "create",
            entity: "store",
            entity_id: store_id.to_string(),
            before: None,
            after: Some(json!({ "code": code, "name": name })),
        },
    )
    .await?;
    Ok(store_id)
}

/// The store named by `code`, or the first store when no code is given.
pub async fn find_store(db: &Db, code: Option<&str>) -> Result<Store, ConfigError> {
    let sql = format!(
        "select {STORE_COLUMNS} from store where ($1 is null or code = $1) \
         order by store_id limit 1"
    );
    let store: Option<Store> = read!(db, |c| sqlx::query_as(&sql)
        .bind(code)
        .fetch_optional(c)
        .await)?;
    store.ok_or_else(|| ConfigError::NotFound(format!("store {}", code.unwrap_or("(any)"))))
}

/// Every store, in the order they were added.
pub async fn list_stores(db: &Db) -> Result<Vec<Store>, sqlx::Error> {
    let sql = format!("select {STORE_COLUMNS} from store order by store_id");
    read!(db, |c| sqlx::query_as(&sql).fetch_all(c).await)
}

pub async fn store_by_id(db: &Db, store_id: i64) -> Result<Store, ConfigError> {
    let sql = format!("select {STORE_COLUMNS} from store where store_id = $1");
    let store: Option<Store> = read!(db, |c| sqlx::query_as(&sql)
        .bind(store_id)
        .fetch_optional(c)
        .await)?;
    store.ok_or_else(|| ConfigError::NotFound(format!("store {store_id}")))
}

/// A store code: 1–32 Latin letters, digits, «-» and «_».
pub fn valid_store_code(code: &str) -> bool {
    (1..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_new_store(code: &str, name: &str) -> Result<(), ConfigError> {
    if !valid_store_code(code) {
        return Err(ConfigError::Invalid(
            "the store code must be 1-32 Latin letters, digits, '-' or '_'".into(),
        ));
    }
    if name.is_empty() {
        return Err(ConfigError::Invalid(
            "the store name must not be empty".into(),
        ));
    }
    Ok(())
}

/// Adds a bare store (the console's store picker lists it), with its audit row.
pub async fn add_store(db: &Db, who: &Who<'_>, code: &str, name: &str) -> Result<i64, ConfigError> {
    let (code, name) = (code.trim(), name.trim());
    check_new_store(code, name)?;
    let mut tx = db.begin().await?;
    let store_id = insert_store(&mut tx, who, code, name)
        .await
        .map_err(|e| duplicate_or(e, format!("store {code:?}")))?;
    tx.commit().await?;
    Ok(store_id)
}

/// [`add_store_with_defaults`] for an operator: the code and name are checked first, and a taken
/// code is `Duplicate`. Returns the new store's id.
pub async fn add_store_ready_to_pay(
    db: &Db,
    who: &Who<'_>,
    code: &str,
    name: &str,
) -> Result<i64, ConfigError> {
    add_store_ready(db, who, code, name, true).await
}

/// [`add_store_ready_to_pay`], with the test payment type only when `test_type`.
pub async fn add_store_ready(
    db: &Db,
    who: &Who<'_>,
    code: &str,
    name: &str,
    test_type: bool,
) -> Result<i64, ConfigError> {
    let (code, name) = (code.trim(), name.trim());
    check_new_store(code, name)?;
    add_store_with(db, who, code, name, test_type)
        .await
        .map(|s| s.0)
        .map_err(|e| duplicate_or(e, format!("store {code:?}")))
}

fn store_json(f: &StoreFields) -> serde_json::Value {
    json!({
        "code": f.code, "name": f.name, "integrator_url": f.integrator_url,
        // The broker password never goes into the audit log.
        "rabbitmq_url": f.rabbitmq_url.as_ref().map(AmqpUrl::redacted),
        "time_zone": f.time_zone, "refund_late_payments": f.refund_late_payments,
    })
}

/// The store's fields inside the transaction, or `NotFound`.
async fn fields_in(tx: &mut Tx, store_id: i64) -> Result<StoreFields, ConfigError> {
    let before: Option<StoreFields> = in_tx!(tx, |c| sqlx::query_as(
        "select code, name, integrator_url, rabbitmq_url, time_zone, refund_late_payments \
         from store where store_id = $1"
    )
    .bind(store_id)
    .fetch_optional(&mut *c)
    .await)?;
    before.ok_or_else(|| ConfigError::NotFound(format!("store {store_id}")))
}

/// Updates the store's parameters and writes the audit row.
pub async fn update_store(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    f: &StoreFields,
) -> Result<(), ConfigError> {
    let mut tx = db.begin().await?;
    let before = fields_in(&mut tx, store_id).await?;
    update_store_in(&mut tx, who, store_id, &before, f).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes `f` over `before` (read in the same transaction) and the audit row.
async fn update_store_in(
    tx: &mut Tx,
    who: &Who<'_>,
    store_id: i64,
    before: &StoreFields,
    f: &StoreFields,
) -> Result<(), ConfigError> {
    let at = now();
    in_tx!(tx, |c| sqlx::query(
        "update store set code = $2, name = $3, integrator_url = $4, rabbitmq_url = $5, \
         time_zone = $6, refund_late_payments = $7, updated_at = $8 where store_id = $1"
    )
    .bind(store_id)
    .bind(&f.code)
    .bind(&f.name)
    .bind(&f.integrator_url)
    .bind(f.rabbitmq_url.as_deref())
    .bind(&f.time_zone)
    .bind(f.refund_late_payments)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|_| ()))
    .map_err(|e| duplicate_or(e, format!("store code {:?}", f.code)))?;
    audit::record(
        tx,
        who,
        Change {
            store_id: Some(store_id),
            action: "update",
            entity: "store",
            entity_id: store_id.to_string(),
            before: Some(store_json(before)),
            after: Some(store_json(f)),
        },
    )
    .await?;
    Ok(())
}

/// Switches the store's «refund late payments» setting.
pub async fn set_refund_late_payments(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    on: bool,
) -> Result<(), ConfigError> {
    let mut tx = db.begin().await?;
    let before = fields_in(&mut tx, store_id).await?;
    let after = StoreFields {
        refund_late_payments: on,
        ..before.clone()
    };
    update_store_in(&mut tx, who, store_id, &before, &after).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets the store's «RabbitMQ сервер» (`None` clears it: events then wait in the outbox).
pub async fn set_rabbitmq_url(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    url: Option<&AmqpUrl>,
) -> Result<(), ConfigError> {
    let mut tx = db.begin().await?;
    let before = fields_in(&mut tx, store_id).await?;
    let after = StoreFields {
        rabbitmq_url: url.cloned(),
        ..before.clone()
    };
    update_store_in(&mut tx, who, store_id, &before, &after).await?;
    tx.commit().await?;
    Ok(())
}
