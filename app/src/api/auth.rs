//! Signing in and out, and the first run's setup of the first admin.

use super::{backend, parts, require};
use crate::backend::Role;
use crate::error::{ConsoleError, FormErrors};
use crate::i18n::Msg;
use leptos::prelude::*;

/// Open to anonymous visitors: this is how they stop being anonymous.
#[server(prefix = "/console/fn", endpoint = "login")]
pub async fn login(login: String, password: String) -> Result<(), ConsoleError> {
    let backend = backend()?;
    let login = login.trim().to_owned();
    let mut errors = FormErrors::default();
    errors.keep("login", &login);
    if login.is_empty() {
        errors.field("login", Msg::Required);
    }
    if password.is_empty() {
        errors.field("password", Msg::Required);
    }
    errors.into_result()?;
    backend.login(&parts()?, &login, &password).await?;
    leptos_axum::redirect("/console/transactions");
    Ok(())
}

#[server(prefix = "/console/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), ConsoleError> {
    let (backend, _actor) = require(Role::Viewer)?;
    backend.logout(&parts()?).await?;
    leptos_axum::redirect("/console/login?done=signed_out");
    Ok(())
}

/// Open to anonymous visitors, but only with the one-time token `qrpay serve` logs while no user
/// exists; the backend checks both.
#[server(prefix = "/console/fn", endpoint = "create_first_admin")]
pub async fn create_first_admin(
    token: String,
    login: String,
    password: String,
    password_again: String,
) -> Result<(), ConsoleError> {
    let backend = backend()?;
    let login = login.trim().to_owned();
    let mut errors = FormErrors::default();
    errors.keep("login", &login);
    if login.is_empty() {
        errors.field("login", Msg::Required);
    } else if login.chars().count() > 64 || login.chars().any(char::is_control) {
        errors.field("login", Msg::LoginRules);
    }
    if password.chars().count() < 8 {
        errors.field("password", Msg::PasswordTooShort);
    } else if password != password_again {
        errors.field("password_again", Msg::PasswordsDiffer);
    }
    errors.into_result()?;
    backend
        .create_first_admin(&token, &login, &password)
        .await?;
    leptos_axum::redirect("/console/login?done=setup");
    Ok(())
}
