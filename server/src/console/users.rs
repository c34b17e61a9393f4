//! «Пользователи»: console users, for admins. Each change writes its audit row in its
//! transaction; `db::user` refuses to take the last enabled admin away.

use super::{ConsoleBackend, admin_only, internal, who};
use crate::auth::password;
use crate::db;
use app::backend::users::{UserItem, UsersPort};
use app::backend::{Actor, Role};
use app::error::{ConsoleError, FormErrors};
use app::i18n::Msg;

#[async_trait::async_trait]
impl UsersPort for ConsoleBackend {
    async fn list_users(&self, actor: &Actor) -> Result<Vec<UserItem>, ConsoleError> {
        admin_only(actor)?;
        let (_, tz) = self.store(actor).await?;
        let local = |t: chrono::DateTime<chrono::Utc>| {
            t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
        };
        let rows = db::user::list_users(&self.db).await.map_err(internal)?;
        Ok(rows
            .into_iter()
            .filter_map(|u| {
                Some(UserItem {
                    id: u.app_user_id,
                    role: Role::parse(&u.role)?,
                    login: u.login,
                    disabled: u.disabled,
                    created: local(u.created_at),
                    last_login: u.last_login_at.map(local),
                })
            })
            .collect())
    }

    async fn create_user(
        &self,
        actor: &Actor,
        login: &str,
        role: Role,
        pw: &str,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let hash = hash_new_password(pw).await?;
        db::user::create_user(&self.db, &who(actor), login, &hash, role.code())
            .await
            .map(|_| tracing::info!(login = %crate::telemetry::quoted(login), by = %actor.login, "console user added"))
            .map_err(user_error)
    }

    async fn set_user_role(&self, actor: &Actor, id: i64, role: Role) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        db::user::set_role(&self.db, &who(actor), id, role.code())
            .await
            .map_err(user_error)
    }

    async fn set_user_disabled(
        &self,
        actor: &Actor,
        id: i64,
        disabled: bool,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        db::user::set_disabled(&self.db, &who(actor), id, disabled)
            .await
            .map_err(user_error)
    }

    async fn reset_user_password(
        &self,
        actor: &Actor,
        id: i64,
        pw: &str,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let hash = hash_new_password(pw).await?;
        db::user::reset_password(&self.db, &who(actor), id, &hash)
            .await
            .map_err(user_error)
    }
}

/// The argon2id hash of a password typed in a form (off the async threads); a password the
/// hasher refuses is a message beside the `password` field.
async fn hash_new_password(pw: &str) -> Result<String, ConsoleError> {
    let pw = pw.to_owned();
    tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(internal)?
        .map_err(|_| {
            let mut f = FormErrors::default();
            f.field("password", Msg::PasswordTooShort);
            ConsoleError::Invalid(f)
        })
}

fn user_error(e: db::user::UserError) -> ConsoleError {
    use db::user::UserError as E;
    match e {
        E::LoginTaken(login) => {
            let mut f = FormErrors::default();
            f.field("login", Msg::LoginTaken);
            f.keep("login", &login);
            ConsoleError::Invalid(f)
        }
        E::NotFound(_) => ConsoleError::NotFound,
        E::Yourself => ConsoleError::form(Msg::NotYourself, &[]),
        E::LastAdmin => ConsoleError::form(Msg::LastAdmin, &[]),
        E::Db(e) => internal(e),
    }
}
