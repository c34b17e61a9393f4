//! Configuration rows: store, authorization servers, payment types, tills and console users.

use super::{Db, is_unique_violation, now, read, write};
use crate::qr::outputs::TillOutputs;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Store {
    pub store_id: i64,
    pub code: String,
    pub name: String,
    pub integrator_url: Option<String>,
    pub rabbitmq_url: Option<String>,
    pub time_zone: String,
    pub refund_late_payments: bool,
}

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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Till {
    pub till_id: i64,
    pub store_id: i64,
    pub store_code: String,
    pub name: String,
    pub kind: String,
    pub key_prefix: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub qr_outputs: String,
    pub paper_width: i64,
    pub escpos_native: bool,
}

impl Till {
    pub fn outputs(&self) -> TillOutputs {
        TillOutputs::from_columns(&self.qr_outputs, self.paper_width, self.escpos_native)
    }
}

/// What a valid till key grants: this till, in this store.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TillIdentity {
    pub till_id: i64,
    pub store_id: i64,
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} already exists")]
    Duplicate(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

const PAYMENT_TYPE_COLUMNS: &str = "pt.payment_type_id, pt.store_id, pt.auth_server_id, pt.name, \
     pt.module, pt.scan_customer_qr, pt.enabled, a.response_timeout_secs";

/// On first start: a default store, an authorization server «QR оплата» (120 s) and a payment
/// type «СБП QR» on the sandbox bank, so that a new user can take a payment at once.
/// Returns true when it created them.
pub async fn ensure_defaults(db: &Db) -> Result<bool, sqlx::Error> {
    let stores: i64 = read!(db, |c| sqlx::query_scalar("select count(*) from store")
        .fetch_one(c)
        .await)?;
    if stores > 0 {
        return Ok(false);
    }
    add_store_with_defaults(db, "main", "Магазин").await?;
    Ok(true)
}

/// What [`add_store_with_defaults`] created.
#[derive(Debug, Clone, Copy)]
pub struct DefaultStore {
    pub store_id: i64,
    pub auth_server_id: i64,
    pub payment_type_id: i64,
}

/// A store with what a new store needs to take a payment at once: an authorization server
/// «QR оплата» (120 s) and a payment type «СБП QR» on the sandbox bank. One transaction.
pub async fn add_store_with_defaults(
    db: &Db,
    code: &str,
    name: &str,
) -> Result<DefaultStore, sqlx::Error> {
    let at = now();
    write!(db, |c| {
        let store_id: i64 = sqlx::query_scalar(
            "insert into store (code, name, created_at, updated_at) values ($1, $2, $3, $3) \
             returning store_id",
        )
        .bind(code)
        .bind(name)
        .bind(at)
        .fetch_one(&mut *c)
        .await?;
        let auth_server_id: i64 = sqlx::query_scalar(
            "insert into auth_server (store_id, name, response_timeout_secs, created_at, updated_at) \
             values ($1, 'QR оплата', 120, $2, $2) returning auth_server_id",
        )
        .bind(store_id)
        .bind(at)
        .fetch_one(&mut *c)
        .await?;
        let payment_type_id: i64 = sqlx::query_scalar(
            "insert into payment_type (store_id, auth_server_id, name, module, created_at, updated_at) \
             values ($1, $2, 'СБП QR', 'sandbox', $3, $3) returning payment_type_id",
        )
        .bind(store_id)
        .bind(auth_server_id)
        .bind(at)
        .fetch_one(&mut *c)
        .await?;
        Ok::<_, sqlx::Error>(DefaultStore {
            store_id,
            auth_server_id,
            payment_type_id,
        })
    })
}

/// The store named by `code`, or the first store when no code is given.
pub async fn find_store(db: &Db, code: Option<&str>) -> Result<Store, ConfigError> {
    let sql = "select store_id, code, name, integrator_url, rabbitmq_url, time_zone, refund_late_payments \
               from store where ($1 is null or code = $1) order by store_id limit 1";
    let store: Option<Store> = read!(db, |c| sqlx::query_as(sql)
        .bind(code)
        .fetch_optional(c)
        .await)?;
    store.ok_or_else(|| ConfigError::NotFound(format!("store {}", code.unwrap_or("(any)"))))
}

/// Every store, in the order they were added.
pub async fn list_stores(db: &Db) -> Result<Vec<Store>, sqlx::Error> {
    let sql = "select store_id, code, name, integrator_url, rabbitmq_url, time_zone, refund_late_payments \
               from store order by store_id";
    read!(db, |c| sqlx::query_as(sql).fetch_all(c).await)
}

pub async fn store_by_id(db: &Db, store_id: i64) -> Result<Store, ConfigError> {
    let sql = "select store_id, code, name, integrator_url, rabbitmq_url, time_zone, refund_late_payments \
               from store where store_id = $1";
    let store: Option<Store> = read!(db, |c| sqlx::query_as(sql)
        .bind(store_id)
        .fetch_optional(c)
        .await)?;
    store.ok_or_else(|| ConfigError::NotFound(format!("store {store_id}")))
}

pub async fn add_auth_server(
    db: &Db,
    store_id: i64,
    name: &str,
    timeout_secs: i64,
) -> Result<i64, ConfigError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ConfigError::Invalid("the name must not be empty".into()));
    }
    if !(1..=3600).contains(&timeout_secs) {
        return Err(ConfigError::Invalid(
            "the response timeout must be 1-3600 seconds".into(),
        ));
    }
    let at = now();
    let inserted: Result<i64, sqlx::Error> = write!(db, |c| {
        sqlx::query_scalar(
        "insert into auth_server (store_id, name, response_timeout_secs, created_at, updated_at) \
         values ($1, $2, $3, $4, $4) returning auth_server_id"
    )
    .bind(store_id)
    .bind(name)
    .bind(timeout_secs)
    .bind(at)
    .fetch_one(c)
    .await
    });
    inserted.map_err(|e| duplicate_or(e, format!("authorization server {name:?}")))
}

pub async fn auth_server_by_name(
    db: &Db,
    store_id: i64,
    name: &str,
) -> Result<AuthServer, ConfigError> {
    let found: Option<AuthServer> = read!(db, |c| sqlx::query_as(
        "select auth_server_id, store_id, name, response_timeout_secs from auth_server \
         where store_id = $1 and name = $2"
    )
    .bind(store_id)
    .bind(name)
    .fetch_optional(c)
    .await)?;
    found.ok_or_else(|| ConfigError::NotFound(format!("authorization server {name:?}")))
}

/// The first authorization server of the store (the default for new payment types).
pub async fn first_auth_server(db: &Db, store_id: i64) -> Result<AuthServer, ConfigError> {
    let found: Option<AuthServer> = read!(db, |c| sqlx::query_as(
        "select auth_server_id, store_id, name, response_timeout_secs from auth_server \
         where store_id = $1 order by auth_server_id limit 1"
    )
    .bind(store_id)
    .fetch_optional(c)
    .await)?;
    found.ok_or_else(|| ConfigError::NotFound("authorization server (the store has none)".into()))
}

pub struct NewPaymentType<'a> {
    pub store_id: i64,
    pub auth_server_id: i64,
    pub name: &'a str,
    pub module: &'a str,
    pub scan_customer_qr: bool,
}

/// Adds a payment type; the caller has checked that the module exists and can do what is asked.
pub async fn add_payment_type(db: &Db, new: NewPaymentType<'_>) -> Result<i64, ConfigError> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(ConfigError::Invalid("the name must not be empty".into()));
    }
    let at = now();
    let inserted: Result<i64, sqlx::Error> = write!(db, |c| {
        sqlx::query_scalar(
        "insert into payment_type (store_id, auth_server_id, name, module, scan_customer_qr, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $6) returning payment_type_id"
    )
    .bind(new.store_id)
    .bind(new.auth_server_id)
    .bind(name)
    .bind(new.module)
    .bind(new.scan_customer_qr)
    .bind(at)
    .fetch_one(c)
    .await
    });
    inserted.map_err(|e| duplicate_or(e, format!("payment type {name:?}")))
}

/// The payment type a till asks for by name, or the store's first enabled one.
pub async fn payment_type_for_payment(
    db: &Db,
    store_id: i64,
    name: Option<&str>,
) -> Result<Option<PaymentType>, sqlx::Error> {
    let sql = format!(
        "select {PAYMENT_TYPE_COLUMNS} from payment_type pt \
         join auth_server a on a.auth_server_id = pt.auth_server_id \
         where pt.store_id = $1 and ($2 is null or pt.name = $2) \
         and ($2 is not null or pt.enabled = $3) \
         order by pt.payment_type_id limit 1"
    );
    read!(db, |c| sqlx::query_as(&sql)
        .bind(store_id)
        .bind(name)
        .bind(true)
        .fetch_optional(c)
        .await)
}

pub async fn list_payment_types(db: &Db) -> Result<Vec<PaymentType>, sqlx::Error> {
    let sql = format!(
        "select {PAYMENT_TYPE_COLUMNS} from payment_type pt \
         join auth_server a on a.auth_server_id = pt.auth_server_id order by pt.payment_type_id"
    );
    read!(db, |c| sqlx::query_as(&sql).fetch_all(c).await)
}

pub async fn add_till(
    db: &Db,
    store_id: i64,
    name: &str,
    kind: &str,
    key_hash: &str,
    key_prefix: &str,
) -> Result<i64, ConfigError> {
    add_till_with_outputs(
        db,
        store_id,
        name,
        kind,
        key_hash,
        key_prefix,
        &TillOutputs::default(),
    )
    .await
}

/// Adds a till with its QR outputs in one statement.
pub async fn add_till_with_outputs(
    db: &Db,
    store_id: i64,
    name: &str,
    kind: &str,
    key_hash: &str,
    key_prefix: &str,
    outputs: &TillOutputs,
) -> Result<i64, ConfigError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ConfigError::Invalid(
            "the till name must not be empty".into(),
        ));
    }
    if !matches!(kind, "till" | "kiosk") {
        return Err(ConfigError::Invalid(
            "the kind must be till or kiosk".into(),
        ));
    }
    if !crate::qr::escpos::WIDTHS.contains(&outputs.paper_width) {
        return Err(ConfigError::Invalid(
            "the paper width must be 384 (58 mm) or 576 (80 mm) dots".into(),
        ));
    }
    let at = now();
    let list = outputs.list();
    let inserted: Result<i64, sqlx::Error> = write!(db, |c| {
        sqlx::query_scalar(
        "insert into till (store_id, name, kind, key_hash, key_prefix, qr_outputs, paper_width, \
         escpos_native, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         returning till_id"
    )
    .bind(store_id)
    .bind(name)
    .bind(kind)
    .bind(key_hash)
    .bind(key_prefix)
    .bind(&list)
    .bind(i64::from(outputs.paper_width))
    .bind(outputs.escpos_native)
    .bind(at)
    .fetch_one(c)
    .await
    });
    inserted.map_err(|e| duplicate_or(e, format!("till {name:?}")))
}

pub async fn list_tills(db: &Db) -> Result<Vec<Till>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select t.till_id, t.store_id, s.code as store_code, t.name, t.kind, t.key_prefix, \
         t.revoked_at, t.created_at, t.qr_outputs, t.paper_width, t.escpos_native \
         from till t join store s on s.store_id = t.store_id order by s.code, t.name"
    )
    .fetch_all(c)
    .await)
}

/// Sets where the till shows its QR and how it prints it.
pub async fn set_till_outputs(
    db: &Db,
    store_id: i64,
    name: &str,
    outputs: &TillOutputs,
) -> Result<(), ConfigError> {
    if !crate::qr::escpos::WIDTHS.contains(&outputs.paper_width) {
        return Err(ConfigError::Invalid(
            "the paper width must be 384 (58 mm) or 576 (80 mm) dots".into(),
        ));
    }
    let at = now();
    let list = outputs.list();
    let changed = write!(db, |c| {
        sqlx::query(
        "update till set qr_outputs = $3, paper_width = $4, escpos_native = $5, updated_at = $6 \
         where store_id = $1 and name = $2"
    )
    .bind(store_id)
    .bind(name)
    .bind(&list)
    .bind(i64::from(outputs.paper_width))
    .bind(outputs.escpos_native)
    .bind(at)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if changed == 0 {
        return Err(ConfigError::NotFound(format!("till {name:?}")));
    }
    Ok(())
}

/// The till named `name` in the store.
pub async fn till_by_name(db: &Db, store_id: i64, name: &str) -> Result<Till, ConfigError> {
    let found: Option<Till> = read!(db, |c| sqlx::query_as(
        "select t.till_id, t.store_id, s.code as store_code, t.name, t.kind, t.key_prefix, \
         t.revoked_at, t.created_at, t.qr_outputs, t.paper_width, t.escpos_native \
         from till t join store s on s.store_id = t.store_id where t.store_id = $1 and t.name = $2"
    )
    .bind(store_id)
    .bind(name)
    .fetch_optional(c)
    .await)?;
    found.ok_or_else(|| ConfigError::NotFound(format!("till {name:?}")))
}

/// Revokes the till's key; its requests get 401 from then on. Returns false if already revoked.
pub async fn revoke_till(db: &Db, store_id: i64, name: &str) -> Result<bool, ConfigError> {
    let at = now();
    let (exists, changed): (i64, u64) = write!(db, |c| {
        let exists: i64 =
            sqlx::query_scalar("select count(*) from till where store_id = $1 and name = $2")
                .bind(store_id)
                .bind(name)
                .fetch_one(&mut *c)
                .await?;
        let changed = sqlx::query(
            "update till set revoked_at = $3, updated_at = $3 \
             where store_id = $1 and name = $2 and revoked_at is null",
        )
        .bind(store_id)
        .bind(name)
        .bind(at)
        .execute(&mut *c)
        .await?
        .rows_affected();
        Ok::<_, sqlx::Error>((exists, changed))
    })?;
    if exists == 0 {
        return Err(ConfigError::NotFound(format!("till {name:?}")));
    }
    Ok(changed > 0)
}

pub async fn till_by_key_hash(
    db: &Db,
    key_hash: &str,
) -> Result<Option<TillIdentity>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select till_id, store_id, name from till where key_hash = $1 and revoked_at is null"
    )
    .bind(key_hash)
    .fetch_optional(c)
    .await)
}

pub async fn add_user(
    db: &Db,
    login: &str,
    password_hash: &str,
    role: &str,
) -> Result<i64, ConfigError> {
    let login = login.trim();
    if login.is_empty() || login.chars().count() > 64 || login.chars().any(char::is_control) {
        return Err(ConfigError::Invalid(
            "the login must be 1-64 characters without control characters".into(),
        ));
    }
    if !matches!(role, "admin" | "support" | "viewer") {
        return Err(ConfigError::Invalid(
            "the role must be admin, support or viewer".into(),
        ));
    }
    let at = now();
    let inserted: Result<i64, sqlx::Error> = write!(db, |c| sqlx::query_scalar(
        "insert into app_user (login, password_hash, role, created_at, updated_at) \
         values ($1, $2, $3, $4, $4) returning app_user_id"
    )
    .bind(login)
    .bind(password_hash)
    .bind(role)
    .bind(at)
    .fetch_one(c)
    .await);
    inserted.map_err(|e| duplicate_or(e, format!("user {login:?}")))
}

pub async fn count_users(db: &Db) -> Result<i64, sqlx::Error> {
    read!(db, |c| sqlx::query_scalar("select count(*) from app_user")
        .fetch_one(c)
        .await)
}

fn duplicate_or(err: sqlx::Error, what: String) -> ConfigError {
    if is_unique_violation(&err) {
        ConfigError::Duplicate(what)
    } else {
        ConfigError::Db(err)
    }
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

/// Adds a store (the console's store picker lists it).
pub async fn add_store(db: &Db, code: &str, name: &str) -> Result<i64, ConfigError> {
    let (code, name) = (code.trim(), name.trim());
    check_new_store(code, name)?;
    let at = now();
    let inserted: Result<i64, sqlx::Error> = write!(db, |c| {
        sqlx::query_scalar(
        "insert into store (code, name, created_at, updated_at) values ($1, $2, $3, $3) returning store_id"
    )
    .bind(code)
    .bind(name)
    .bind(at)
    .fetch_one(c)
    .await
    });
    inserted.map_err(|e| duplicate_or(e, format!("store {code:?}")))
}

/// [`add_store_with_defaults`] for an operator: the code and name are checked first, and a taken
/// code is `Duplicate`. Returns the new store's id.
pub async fn add_store_ready_to_pay(db: &Db, code: &str, name: &str) -> Result<i64, ConfigError> {
    let (code, name) = (code.trim(), name.trim());
    check_new_store(code, name)?;
    add_store_with_defaults(db, code, name)
        .await
        .map(|s| s.store_id)
        .map_err(|e| duplicate_or(e, format!("store {code:?}")))
}

/// Switches the store's «refund late payments» setting.
pub async fn set_refund_late_payments(db: &Db, store_id: i64, on: bool) -> Result<(), sqlx::Error> {
    let at = now();
    write!(db, |c| sqlx::query(
        "update store set refund_late_payments = $2, updated_at = $3 where store_id = $1"
    )
    .bind(store_id)
    .bind(on)
    .bind(at)
    .execute(c)
    .await
    .map(|_| ()))
}
