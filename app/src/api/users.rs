//! «Пользователи»: console users, for admins only. The typed values come back with any message;
//! passwords never do (they would end up in the URL).

use super::session::{check_new_login, check_new_password};
use super::{parse_id, require, with_typed_values};
use crate::backend::Role;
use crate::backend::users::UserItem;
use crate::error::{ConsoleError, FormErrors};
use crate::i18n::Msg;
use leptos::prelude::*;

#[server(prefix = "/console/fn", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserItem>, ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend.list_users(&actor).await
}

/// Adds a user; the password is typed twice and checked as on the first-run page.
#[server(prefix = "/console/fn", endpoint = "create_user")]
pub async fn create_user(
    login: String,
    role: String,
    password: String,
    password_again: String,
) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    let login = login.trim().to_owned();
    let mut errors = FormErrors::default();
    errors.keep("login", &login);
    errors.keep("role", &role);
    check_new_login(&login, &mut errors);
    let parsed = Role::parse(role.trim());
    if parsed.is_none() {
        errors.field("role", Msg::RoleInvalid);
    }
    check_new_password(&password, &password_again, &mut errors);
    let Some(role) = parsed.filter(|_| errors.fields.is_empty()) else {
        return Err(ConsoleError::Invalid(errors));
    };
    backend
        .create_user(&actor, &login, role, &password)
        .await
        // The backend's field errors (a taken login) come back with the typed values.
        .map_err(|e| with_typed_values(&errors, e))?;
    leptos_axum::redirect("/console/users?done=created");
    Ok(())
}

#[server(prefix = "/console/fn", endpoint = "set_user_role")]
pub async fn set_user_role(id: String, role: String) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    let id = parse_id(&id)?;
    let Some(role) = Role::parse(role.trim()) else {
        return Err(ConsoleError::form(Msg::RoleInvalid, &[]));
    };
    backend.set_user_role(&actor, id, role).await?;
    leptos_axum::redirect("/console/users?done=role");
    Ok(())
}

#[server(prefix = "/console/fn", endpoint = "disable_user")]
pub async fn disable_user(id: String) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend
        .set_user_disabled(&actor, parse_id(&id)?, true)
        .await?;
    leptos_axum::redirect("/console/users?done=disabled");
    Ok(())
}

#[server(prefix = "/console/fn", endpoint = "enable_user")]
pub async fn enable_user(id: String) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    backend
        .set_user_disabled(&actor, parse_id(&id)?, false)
        .await?;
    leptos_axum::redirect("/console/users?done=enabled");
    Ok(())
}

/// The admin types the new password (twice); it is never shown back.
#[server(prefix = "/console/fn", endpoint = "reset_user_password")]
pub async fn reset_user_password(
    id: String,
    password: String,
    password_again: String,
) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Admin)?;
    let id = parse_id(&id)?;
    let mut errors = FormErrors::default();
    check_new_password(&password, &password_again, &mut errors);
    errors.into_result()?;
    backend.reset_user_password(&actor, id, &password).await?;
    leptos_axum::redirect("/console/users?done=password");
    Ok(())
}
