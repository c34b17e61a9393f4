//! Signing in and out, the first run's setup of the first admin, and the store picker (which
//! store the console works on, kept in the session).

use super::{backend, parts, require};
use crate::backend::Role;
use crate::backend::session::StoreItem;
use crate::error::{ConsoleError, FormErrors};
use crate::i18n::Msg;
use leptos::prelude::*;

/// The shortest password a console user may have (the server's hashing refuses shorter ones too).
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A new user's login (trimmed by the caller): 1–64 characters, no control characters. Puts the
/// message beside the `login` field.
pub fn check_new_login(login: &str, errors: &mut FormErrors) {
    if login.is_empty() {
        errors.field("login", Msg::Required);
    } else if login.chars().count() > 64 || login.chars().any(char::is_control) {
        errors.field("login", Msg::LoginRules);
    }
}

/// A new password typed twice: long enough, and the same both times. Puts the message beside the
/// `password` or `password_again` field.
pub fn check_new_password(password: &str, again: &str, errors: &mut FormErrors) {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        errors.field("password", Msg::PasswordTooShort);
    } else if password != again {
        errors.field("password_again", Msg::PasswordsDiffer);
    }
}

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
    let parts = parts()?;
    if let Err(e) = backend.login(&parts, &login, &password).await {
        too_many_for_scripts(&parts, &e);
        return Err(e);
    }
    leptos_axum::redirect("/console");
    Ok(())
}

/// A throttled sign-in answers scripts with 429; a browser's form post still goes back to the
/// form (a redirect) to show the message.
fn too_many_for_scripts(parts: &http::request::Parts, e: &ConsoleError) {
    let throttled = matches!(e, ConsoleError::Invalid(f)
        if matches!(f.form, Some(Msg::TooManyAttempts | Msg::LoginThrottled)));
    let browser = parts
        .headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if throttled
        && !browser
        && let Some(options) = use_context::<leptos_axum::ResponseOptions>()
    {
        options.set_status(http::StatusCode::TOO_MANY_REQUESTS);
    }
}

#[server(prefix = "/console/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), ConsoleError> {
    let (backend, _actor) = require(Role::Viewer)?;
    backend.logout(&parts()?).await?;
    leptos_axum::redirect("/console/login?done=signed_out");
    Ok(())
}

/// «Выйти везде»: ends every session of the signed-in user (other browsers, a forgotten one).
#[server(prefix = "/console/fn", endpoint = "logout_everywhere")]
pub async fn logout_everywhere() -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Viewer)?;
    backend.logout_everywhere(&parts()?, &actor).await?;
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
    check_new_login(&login, &mut errors);
    check_new_password(&password, &password_again, &mut errors);
    errors.into_result()?;
    backend
        .create_first_admin(&token, &login, &password)
        .await?;
    leptos_axum::redirect("/console/login?done=setup");
    Ok(())
}

#[server(prefix = "/console/fn", endpoint = "list_stores")]
pub async fn list_stores() -> Result<Vec<StoreItem>, ConsoleError> {
    let (backend, actor) = require(Role::Viewer)?;
    backend.list_stores(&actor).await
}

/// Picks the store; the form posts back to the page it came from, now showing that store.
#[server(prefix = "/console/fn", endpoint = "choose_store")]
pub async fn choose_store(store_id: i64) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Viewer)?;
    backend.choose_store(&parts()?, &actor, store_id).await
}
