//! Console users (`app_user`): sign-in look-ups and the changes the «Пользователи» page and the
//! CLI make (add, change role, disable or enable, reset the password). Each change writes its
//! audit row in the same transaction (never the password or its hash), and no change leaves the
//! console without an enabled admin.

use super::audit::{self, Change, Who};
use super::{Db, Tx, in_tx, is_unique_violation, now, read, write};
use chrono::{DateTime, Utc};
use serde_json::json;

/// A user as sign-in sees it.
#[derive(sqlx::FromRow, Debug)]
pub struct UserRow {
    pub app_user_id: i64,
    pub login: String,
    pub password_hash: String,
    pub role: String,
    pub disabled: bool,
    /// Raised by a password reset, a disable, a role change and «Выйти везде»: sessions signed
    /// in under an older epoch are over.
    pub session_epoch: i64,
}

/// A user as the list shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserListRow {
    pub app_user_id: i64,
    pub login: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// Why a change of a user was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("the login {0:?} is taken")]
    LoginTaken(String),
    #[error("user {0} not found")]
    NotFound(i64),
    /// An admin tried to disable or demote themselves.
    #[error("an admin cannot disable or demote themselves")]
    Yourself,
    /// The change would leave no enabled admin.
    #[error("the last enabled admin cannot be disabled or demoted")]
    LastAdmin,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

#[derive(Debug, sqlx::FromRow)]
struct Current {
    login: String,
    role: String,
    disabled: bool,
}

pub async fn user_by_login(db: &Db, login: &str) -> Result<Option<UserRow>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select app_user_id, login, password_hash, role, disabled, session_epoch from app_user \
         where login = $1"
    )
    .bind(login)
    .fetch_optional(c)
    .await)
}

pub async fn user_by_id(db: &Db, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select app_user_id, login, password_hash, role, disabled, session_epoch from app_user \
         where app_user_id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)
}

pub async fn count_users(db: &Db) -> Result<i64, sqlx::Error> {
    read!(db, |c| sqlx::query_scalar("select count(*) from app_user")
        .fetch_one(c)
        .await)
}

pub async fn list_users(db: &Db) -> Result<Vec<UserListRow>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select app_user_id, login, role, disabled, created_at, last_login_at from app_user \
         order by login, app_user_id"
    )
    .fetch_all(c)
    .await)
}

/// Remembers when the user last signed in (shown on the users page).
pub async fn record_sign_in(db: &Db, app_user_id: i64) -> Result<(), sqlx::Error> {
    let at = now();
    write!(db, |c| sqlx::query(
        "update app_user set last_login_at = $2 where app_user_id = $1"
    )
    .bind(app_user_id)
    .bind(at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Checks a new user's login (1-64 characters without control characters) and role; the console
/// checks them in its form, the CLI and the setup link call this.
pub fn check_new_user(login: &str, role: &str) -> Result<(), String> {
    if login.is_empty() || login.chars().count() > 64 || login.chars().any(char::is_control) {
        return Err("the login must be 1-64 characters without control characters".into());
    }
    if !matches!(role, "admin" | "support" | "viewer") {
        return Err("the role must be admin, support or viewer".into());
    }
    Ok(())
}

/// Adds a user (login and role checked by the caller, the password already hashed).
pub async fn create_user(
    db: &Db,
    who: &Who<'_>,
    login: &str,
    password_hash: &str,
    role: &str,
) -> Result<i64, UserError> {
    let at = now();
    let mut tx = db.begin().await?;
    let id: i64 = in_tx!(&mut tx, |c| sqlx::query_scalar(
        "insert into app_user (login, password_hash, role, created_at, updated_at) \
         values ($1, $2, $3, $4, $4) returning app_user_id"
    )
    .bind(login)
    .bind(password_hash)
    .bind(role)
    .bind(at)
    .fetch_one(&mut *c)
    .await)
    .map_err(|e| {
        if is_unique_violation(&e) {
            UserError::LoginTaken(login.to_owned())
        } else {
            UserError::Db(e)
        }
    })?;
    record(
        &mut tx,
        who,
        "create",
        id.to_string(),
        None,
        Some(json!({ "login": login, "role": role, "disabled": false })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates the first user, an admin, only while there is no user at all: the check and the
/// insert are one statement in one transaction (on PostgreSQL under a transaction-level advisory
/// lock, so two qrpay instances with their own setup links cannot both pass). `Ok(None)`: users
/// exist already. Like the first start's defaults it writes no audit row (nobody to name yet).
pub async fn create_first_admin(
    db: &Db,
    login: &str,
    password_hash: &str,
) -> Result<Option<i64>, UserError> {
    let at = now();
    let mut tx = db.begin().await?;
    if let Tx::Postgres(t) = &mut tx {
        sqlx::query("select pg_advisory_xact_lock(hashtext('qrpay.first_admin'))")
            .execute(&mut **t)
            .await?;
    }
    let id: Option<i64> = in_tx!(&mut tx, |c| sqlx::query_scalar(
        "insert into app_user (login, password_hash, role, created_at, updated_at) \
         select $1, $2, 'admin', $3, $3 where not exists (select 1 from app_user) \
         returning app_user_id"
    )
    .bind(login)
    .bind(password_hash)
    .bind(at)
    .fetch_optional(&mut *c)
    .await)?;
    tx.commit().await?;
    Ok(id)
}

/// The user's row inside the transaction; on PostgreSQL the enabled admins are locked first, so
/// that two admins demoting each other at once cannot both pass the last-admin check (SQLite
/// has one writer: its transactions never overlap).
async fn current(tx: &mut Tx, app_user_id: i64) -> Result<Current, UserError> {
    if let Tx::Postgres(t) = &mut *tx {
        sqlx::query(
            "select app_user_id from app_user where role = 'admin' and not disabled for update",
        )
        .execute(&mut **t)
        .await?;
    }
    let row: Option<Current> = in_tx!(tx, |c| sqlx::query_as(
        "select login, role, disabled from app_user where app_user_id = $1"
    )
    .bind(app_user_id)
    .fetch_optional(&mut *c)
    .await)?;
    row.ok_or(UserError::NotFound(app_user_id))
}

/// Refuses a change that takes an enabled admin away: from the admin making it, or from the
/// console when that admin is the last one.
async fn keep_an_admin(
    tx: &mut Tx,
    who: &Who<'_>,
    app_user_id: i64,
    user: &Current,
) -> Result<(), UserError> {
    if who.app_user_id == Some(app_user_id) {
        return Err(UserError::Yourself);
    }
    if user.role == "admin" && !user.disabled {
        let admins: i64 = in_tx!(tx, |c| sqlx::query_scalar(
            "select count(*) from app_user where role = 'admin' and not disabled"
        )
        .fetch_one(&mut *c)
        .await)?;
        if admins <= 1 {
            return Err(UserError::LastAdmin);
        }
    }
    Ok(())
}

pub async fn set_role(
    db: &Db,
    who: &Who<'_>,
    app_user_id: i64,
    role: &str,
) -> Result<(), UserError> {
    let mut tx = db.begin().await?;
    let user = current(&mut tx, app_user_id).await?;
    if user.role == role {
        return Ok(());
    }
    if role != "admin" {
        keep_an_admin(&mut tx, who, app_user_id, &user).await?;
    }
    let at = now();
    in_tx!(&mut tx, |c| sqlx::query(
        "update app_user set role = $2, updated_at = $3, session_epoch = session_epoch + 1 \
         where app_user_id = $1"
    )
    .bind(app_user_id)
    .bind(role)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    record(
        &mut tx,
        who,
        "update",
        app_user_id.to_string(),
        Some(json!({ "login": user.login, "role": user.role })),
        Some(json!({ "login": user.login, "role": role })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Disables or enables a user. Either way the user's sessions end (the epoch moves on), so a
/// disable and enable in between two requests does not bring an old session back.
pub async fn set_disabled(
    db: &Db,
    who: &Who<'_>,
    app_user_id: i64,
    disabled: bool,
) -> Result<(), UserError> {
    let mut tx = db.begin().await?;
    let user = current(&mut tx, app_user_id).await?;
    if user.disabled == disabled {
        return Ok(());
    }
    if disabled {
        keep_an_admin(&mut tx, who, app_user_id, &user).await?;
    }
    let at = now();
    in_tx!(&mut tx, |c| sqlx::query(
        "update app_user set disabled = $2, updated_at = $3, session_epoch = session_epoch + 1 \
         where app_user_id = $1"
    )
    .bind(app_user_id)
    .bind(disabled)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    record(
        &mut tx,
        who,
        if disabled { "disable" } else { "enable" },
        app_user_id.to_string(),
        Some(json!({ "login": user.login, "disabled": user.disabled })),
        Some(json!({ "login": user.login, "disabled": disabled })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of the user («Выйти везде»): their epoch moves on.
pub async fn end_sessions(db: &Db, app_user_id: i64) -> Result<(), sqlx::Error> {
    write!(db, |c| sqlx::query(
        "update app_user set session_epoch = session_epoch + 1 where app_user_id = $1"
    )
    .bind(app_user_id)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Sets a new password hash and ends the user's sessions; the audit row says only that the
/// password was reset.
pub async fn reset_password(
    db: &Db,
    who: &Who<'_>,
    app_user_id: i64,
    password_hash: &str,
) -> Result<(), UserError> {
    let mut tx = db.begin().await?;
    let user: Option<(String,)> = in_tx!(&mut tx, |c| sqlx::query_as(
        "select login from app_user where app_user_id = $1"
    )
    .bind(app_user_id)
    .fetch_optional(&mut *c)
    .await)?;
    let Some((login,)) = user else {
        return Err(UserError::NotFound(app_user_id));
    };
    let at = now();
    in_tx!(&mut tx, |c| sqlx::query(
        "update app_user set password_hash = $2, updated_at = $3, \
         session_epoch = session_epoch + 1 where app_user_id = $1"
    )
    .bind(app_user_id)
    .bind(password_hash)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    record(
        &mut tx,
        who,
        "password_reset",
        app_user_id.to_string(),
        None,
        Some(json!({ "login": login, "password": "password reset" })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The audit row of a change to a console user: users belong to every store (`store_id` null).
async fn record(
    tx: &mut Tx,
    who: &Who<'_>,
    action: &str,
    entity_id: String,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), sqlx::Error> {
    audit::record(
        tx,
        who,
        Change {
            store_id: None,
            action,
            entity: "app_user",
            entity_id,
            before,
            after,
        },
    )
    .await
}
