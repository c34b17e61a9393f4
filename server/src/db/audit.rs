//! The audit log: who changed what in the configuration, when, and the values before and after.
//! Changes write their row inside their own transaction, so a change without its row never exists.

use super::{Db, Tx, now};
use chrono::{DateTime, Utc};

/// Who made a change, as the audit log names them: a console user (their id and login), a till
/// (`till:<name>`), the command line (`cli`) or qrpay itself (`qrpay`, `qrpay:late-payment`).
#[derive(Debug, Clone)]
pub struct Who<'a> {
    pub app_user_id: Option<i64>,
    pub login: &'a str,
}

impl<'a> Who<'a> {
    /// The `qrpay` command line (`till add`, `store add`, `events url`, …).
    pub const CLI: Who<'static> = Who::named("cli");
    /// qrpay itself, on its own initiative.
    pub const QRPAY: Who<'static> = Who::named("qrpay");
    /// The automatic refund of a payment that was paid after qrpay gave up on it.
    pub const LATE_PAYMENT: Who<'static> = Who::named("qrpay:late-payment");
    /// Filling an empty or scratch database: the first start's defaults, `qrpay seed`, the
    /// benchmarks' fixtures and the tests'. Nobody changed a configuration, so its writes leave
    /// no audit row.
    pub const SEED: Who<'static> = Who::named("seed");

    /// A console user.
    pub const fn user(app_user_id: i64, login: &'a str) -> Self {
        Who {
            app_user_id: Some(app_user_id),
            login,
        }
    }

    /// A till; `login` is its [`Who::till_login`].
    pub const fn till(login: &'a str) -> Self {
        Who::named(login)
    }

    /// How the audit log names the till called `name`.
    pub fn till_login(name: &str) -> String {
        format!("till:{name}")
    }

    const fn named(login: &'a str) -> Self {
        Who {
            app_user_id: None,
            login,
        }
    }

    /// Whether this actor's changes are written to the audit log (all but [`Who::SEED`]).
    pub fn is_recorded(&self) -> bool {
        self.app_user_id.is_some() || self.login != Who::SEED.login
    }
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// The store the change belongs to; `None` for what all stores share (console users).
    pub store_id: Option<i64>,
    /// `create`, `update`, `delete`, `revoke`, …
    pub action: &'a str,
    /// `auth_server`, `till`, …
    pub entity: &'a str,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub audit_log_id: i64,
    pub app_user_id: Option<i64>,
    pub login: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// Compact JSON text.
    pub before: Option<String>,
    pub after: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Writes the audit row of a change inside the change's transaction (nothing for [`Who::SEED`]).
/// The JSON goes as text (SQLite checks it with `json_valid`, PostgreSQL casts it to `jsonb`), so
/// the SQL differs by backend.
pub async fn record(tx: &mut Tx, who: &Who<'_>, change: Change<'_>) -> Result<(), sqlx::Error> {
    if !who.is_recorded() {
        return Ok(());
    }
    let at = now();
    let before = change.before.map(|v| v.to_string());
    let after = change.after.map(|v| v.to_string());
    const COLUMNS: &str = "insert into audit_log (app_user_id, login, action, entity, entity_id, before, after, created_at, store_id)";
    match tx {
        Tx::Sqlite(t) => {
            sqlx::query(&format!(
                "{COLUMNS} values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(who.app_user_id)
            .bind(who.login)
            .bind(change.action)
            .bind(change.entity)
            .bind(&change.entity_id)
            .bind(before)
            .bind(after)
            .bind(at)
            .bind(change.store_id)
            .execute(&mut **t)
            .await?;
        }
        Tx::Postgres(t) => {
            sqlx::query(&format!(
                "{COLUMNS} values ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)"
            ))
            .bind(who.app_user_id)
            .bind(who.login)
            .bind(change.action)
            .bind(change.entity)
            .bind(&change.entity_id)
            .bind(before)
            .bind(after)
            .bind(at)
            .bind(change.store_id)
            .execute(&mut **t)
            .await?;
        }
    }
    Ok(())
}

/// Writes the audit row of something done outside a configuration write (a support action
/// in the console), in its own transaction.
pub async fn record_alone(db: &Db, who: &Who<'_>, change: Change<'_>) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    record(&mut tx, who, change).await?;
    tx.commit().await
}

/// The newest `limit` entries of a store and of what all stores share, newest first.
pub async fn latest(db: &Db, store_id: i64, limit: i64) -> Result<Vec<Entry>, sqlx::Error> {
    const SELECT: &str = "select audit_log_id, app_user_id, login, action, entity, entity_id";
    const REST: &str = "created_at from audit_log where store_id = $2 or store_id is null \
                        order by audit_log_id desc limit $1";
    match db {
        Db::Sqlite { read, .. } => {
            sqlx::query_as(&format!("{SELECT}, before, after, {REST}"))
                .bind(limit)
                .bind(store_id)
                .fetch_all(read)
                .await
        }
        Db::Postgres(pool) => {
            sqlx::query_as(&format!(
                "{SELECT}, before::text as before, after::text as after, {REST}"
            ))
            .bind(limit)
            .bind(store_id)
            .fetch_all(pool)
            .await
        }
    }
}
