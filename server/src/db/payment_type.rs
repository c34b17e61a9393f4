//! Payment types (`payment_type`) and the authorization servers they go through
//! (`auth_server`): what a till may ask to be paid with. Each change writes its audit row in the
//! same transaction.

use super::audit::{self, Change, Who};
use super::{ConfigError, Db, Tx, duplicate_or, in_tx, now, read, read_inline};
use serde_json::json;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthServer {
    pub auth_server_id: i64,
    pub store_id: i64,
    pub name: String,
    pub response_timeout_secs: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentType {
    pub payment_type_id: i64,
    pub store_id: i64,
    pub auth_server_id: i64,
    pub name: String,
    pub module: String,
    pub scan_customer_qr: bool,
    pub enabled: bool,
    /// The authorization server's response timeout: the QR's lifetime.
    pub response_timeout_secs: i64,
}

const AUTH_SERVER: &str = "select auth_server_id, store_id, name, response_timeout_secs from auth_server where store_id = $1";

const PAYMENT_TYPE_COLUMNS: &str = "pt.payment_type_id, pt.store_id, pt.auth_server_id, pt.name, \
     pt.module, pt.scan_customer_qr, pt.enabled, a.response_timeout_secs";

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
    let sql = format!("{AUTH_SERVER} and auth_server_id = $2");
    let found: Option<AuthServer> = read!(db, |c| sqlx::query_as(&sql)
        .bind(store_id)
        .bind(auth_server_id)
        .fetch_optional(c)
        .await)?;
    found.ok_or_else(|| ConfigError::NotFound(format!("authorization server {auth_server_id}")))
}

pub async fn auth_server_by_name(
    db: &Db,
    store_id: i64,
    name: &str,
) -> Result<AuthServer, ConfigError> {
    let sql = format!("{AUTH_SERVER} and name = $2");
    let found: Option<AuthServer> = read!(db, |c| sqlx::query_as(&sql)
        .bind(store_id)
        .bind(name)
        .fetch_optional(c)
        .await)?;
    found.ok_or_else(|| ConfigError::NotFound(format!("authorization server {name:?}")))
}

/// The first authorization server of the store (the default for new payment types).
pub async fn first_auth_server(db: &Db, store_id: i64) -> Result<AuthServer, ConfigError> {
    let sql = format!("{AUTH_SERVER} order by auth_server_id limit 1");
    let found: Option<AuthServer> = read!(db, |c| sqlx::query_as(&sql)
        .bind(store_id)
        .fetch_optional(c)
        .await)?;
    found.ok_or_else(|| ConfigError::NotFound("authorization server (the store has none)".into()))
}

/// Adds an authorization server (name and timeout checked here) and its audit row.
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

/// The store's authorization server inside a change's transaction, or `NotFound`.
async fn auth_server_in(
    tx: &mut Tx,
    store_id: i64,
    auth_server_id: i64,
) -> Result<AuthServer, ConfigError> {
    let sql = format!("{AUTH_SERVER} and auth_server_id = $2");
    let found: Option<AuthServer> = in_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(store_id)
        .bind(auth_server_id)
        .fetch_optional(&mut *c)
        .await)?;
    found.ok_or_else(|| ConfigError::NotFound(format!("authorization server {auth_server_id}")))
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
    let before = auth_server_in(&mut tx, store_id, auth_server_id).await?;
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
    let before = auth_server_in(&mut tx, store_id, auth_server_id).await?;
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

/// A payment type as the console and the CLI write it (the caller has checked module and
/// capabilities, and that the authorization server belongs to the store).
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
    if name.is_empty() {
        return Err(ConfigError::Invalid("the name must not be empty".into()));
    }
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

/// The payment type a till asks for by name; when it names none, the till's default, else the
/// store's default — never a guess. `None` when there is no such type (or no default). The
/// till's cash link comes with it, from the same read.
pub async fn payment_type_for_payment(
    db: &Db,
    store_id: i64,
    till_id: i64,
    name: Option<&str>,
) -> Result<Option<PaymentTypeForTill>, sqlx::Error> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "select {PAYMENT_TYPE_COLUMNS}, l.cash_link_module as link_module, \
               l.cash_link_qr_id as link_qr_id, l.cash_link_payload as link_payload \
             from payment_type pt \
             join auth_server a on a.auth_server_id = pt.auth_server_id \
             left join till l on l.till_id = $3 and l.store_id = pt.store_id \
               and l.cash_link_qr_id is not null \
             where pt.store_id = $1 and (($2 is not null and pt.name = $2) or ($2 is null \
               and pt.payment_type_id = coalesce( \
                 (select t.default_payment_type_id from till t where t.till_id = $3 and t.store_id = $1), \
                 (select s.default_payment_type_id from store s where s.store_id = $1))))"
        )
    });
    read_inline!(db, |c| {
        use rusqlite::OptionalExtension;
        let params: [(&str, &dyn rusqlite::ToSql); 3] =
            [("$1", &store_id), ("$2", &name), ("$3", &till_id)];
        c.prepare_cached(&SQL)?
            .query_row(&params[..], |row| {
                Ok(PaymentTypeForTill {
                    payment_type: PaymentType {
                        payment_type_id: row.get(0)?,
                        store_id: row.get(1)?,
                        auth_server_id: row.get(2)?,
                        name: row.get(3)?,
                        module: row.get(4)?,
                        scan_customer_qr: row.get(5)?,
                        enabled: row.get(6)?,
                        response_timeout_secs: row.get(7)?,
                    },
                    link_module: row.get(8)?,
                    link_qr_id: row.get(9)?,
                    link_payload: row.get(10)?,
                })
            })
            .optional()
    });
    read!(db, |c| sqlx::query_as(SQL.as_str())
        .bind(store_id)
        .bind(name)
        .bind(till_id)
        .fetch_optional(c)
        .await)
}

/// A payment type as a till gets it, with the till's cash link if it has one.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentTypeForTill {
    #[sqlx(flatten)]
    pub payment_type: PaymentType,
    link_module: Option<String>,
    link_qr_id: Option<String>,
    link_payload: Option<String>,
}

/// A till's cash link as a payment takes it: its module, QR id and link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TillLink {
    pub module: String,
    pub qr_id: String,
    pub payload: String,
}

impl PaymentTypeForTill {
    /// The till's cash link, if it has one (of any module).
    pub fn cash_link(&self) -> Option<TillLink> {
        Some(TillLink {
            module: self.link_module.clone()?,
            qr_id: self.link_qr_id.clone()?,
            payload: self.link_payload.clone()?,
        })
    }
}

/// The id and name of the store's default payment type (for tills that name none and have no
/// default of their own), if it has one.
pub async fn store_default_payment_type(
    db: &Db,
    store_id: i64,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select pt.payment_type_id, pt.name from store s \
         join payment_type pt on pt.payment_type_id = s.default_payment_type_id \
         where s.store_id = $1"
    )
    .bind(store_id)
    .fetch_optional(c)
    .await)
}

/// The payment type `id` when it belongs to the store (`None` clears a default).
async fn own_payment_type(
    tx: &mut Tx,
    store_id: i64,
    id: Option<i64>,
) -> Result<Option<(i64, String)>, ConfigError> {
    let Some(id) = id else {
        return Ok(None);
    };
    let found: Option<(i64, String)> = in_tx!(tx, |c| {
        sqlx::query_as(
        "select payment_type_id, name from payment_type where store_id = $1 and payment_type_id = $2"
    )
    .bind(store_id)
    .bind(id)
    .fetch_optional(&mut *c)
    .await
    })?;
    found
        .map(Some)
        .ok_or_else(|| ConfigError::NotFound(format!("payment type {id}")))
}

/// Sets (or with `None` clears) the store's default payment type, with its audit row.
pub async fn set_store_default_payment_type(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    payment_type_id: Option<i64>,
) -> Result<(), ConfigError> {
    set_default_of(
        db,
        who,
        store_id,
        ("store", "store_id", store_id),
        payment_type_id,
    )
    .await
}

/// Sets (or with `None` clears) the payment type a till uses when it names none, with its audit
/// row. The type must belong to the till's store.
pub async fn set_till_payment_type(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    till_id: i64,
    payment_type_id: Option<i64>,
) -> Result<(), ConfigError> {
    set_default_of(
        db,
        who,
        store_id,
        ("till", "till_id", till_id),
        payment_type_id,
    )
    .await
}

/// Sets `default_payment_type_id` of the store's row `(table, key column, id)` (the store itself
/// or one of its tills) to one of the store's own payment types, with its audit row.
async fn set_default_of(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    (table, key, id): (&'static str, &'static str, i64),
    payment_type_id: Option<i64>,
) -> Result<(), ConfigError> {
    let mut tx = db.begin().await?;
    let chosen = own_payment_type(&mut tx, store_id, payment_type_id).await?;
    let before_sql =
        format!("select default_payment_type_id from {table} where store_id = $1 and {key} = $2");
    let before: Option<Option<i64>> = in_tx!(&mut tx, |c| sqlx::query_scalar(&before_sql)
        .bind(store_id)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?;
    let Some(before) = before else {
        return Err(ConfigError::NotFound(format!("{table} {id}")));
    };
    let update_sql = format!(
        "update {table} set default_payment_type_id = $2, updated_at = $3 where {key} = $1"
    );
    in_tx!(&mut tx, |c| sqlx::query(&update_sql)
        .bind(id)
        .bind(payment_type_id)
        .bind(now())
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(store_id),
            action: "update",
            entity: table,
            entity_id: id.to_string(),
            before: Some(json!({ "default_payment_type_id": before })),
            after: Some(json!({ "default_payment_type_id": payment_type_id,
                                "default_payment_type": chosen.map(|c| c.1) })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The store's enabled payment types on `modules` (names, by id): the console's banner and the
/// production checks look for test modules this way.
pub async fn enabled_types_on(
    db: &Db,
    store_id: Option<i64>,
    modules: &[&str],
) -> Result<Vec<PaymentType>, sqlx::Error> {
    let all = list_payment_types(db).await?;
    Ok(all
        .into_iter()
        .filter(|pt| pt.enabled && modules.contains(&pt.module.as_str()))
        .filter(|pt| store_id.is_none_or(|s| pt.store_id == s))
        .collect())
}

pub async fn list_payment_types(db: &Db) -> Result<Vec<PaymentType>, sqlx::Error> {
    let sql = format!(
        "select {PAYMENT_TYPE_COLUMNS} from payment_type pt \
         join auth_server a on a.auth_server_id = pt.auth_server_id order by pt.payment_type_id"
    );
    read!(db, |c| sqlx::query_as(&sql).fetch_all(c).await)
}
