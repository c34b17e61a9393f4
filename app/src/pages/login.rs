//! The login page; a signed-in visitor goes straight to the dashboard.

use crate::api::current_actor;
use crate::api::session::Login;
use crate::components::layout::{LangSwitch, field_error, use_lang};
use crate::error::ConsoleError;
use crate::i18n::Msg;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let lang = use_lang();
    if current_actor().is_some() {
        return view! { <Redirect path="/console"/> }.into_any();
    }
    let action = ServerAction::<Login>::new();
    let failed = action.value().get_untracked().and_then(Result::err);
    let notice = use_query_map()
        .get_untracked()
        .get("done")
        .and_then(|d| match d.as_str() {
            "signed_out" => Some(Msg::SignedOut),
            "setup" => Some(Msg::SetupDone),
            _ => None,
        });
    let form = match &failed {
        Some(ConsoleError::Invalid(f)) => f.clone(),
        _ => Default::default(),
    };
    let form_error = match &failed {
        Some(ConsoleError::Invalid(f)) => f.form,
        Some(e) => Some(e.message()),
        None => None,
    };
    let login_value = form.value("login").unwrap_or_default();
    view! {
        <Title text=Msg::LoginTitle.text(lang)/>
        <main class="page login" data-testid="login-page">
            <LangSwitch/>
            <h1>{Msg::Console.text(lang)}</h1>
            {notice.map(|m| view! { <p class="notice" data-testid="notice">{m.text(lang)}</p> })}
            {form_error
                .map(|m| view! { <p class="form-error" role="alert" data-testid="login-error">{m.text(lang)}</p> })}
            <ActionForm action=action attr:class="card form">
                <h2>{Msg::LoginTitle.text(lang)}</h2>
                <label>
                    {Msg::Login.text(lang)}
                    <input name="login" autocomplete="username" autofocus value=login_value.clone() data-testid="login-input"/>
                </label>
                {field_error(&form, "login", lang)}
                <label>
                    {Msg::Password.text(lang)}
                    <input type="password" name="password" autocomplete="current-password" data-testid="password-input"/>
                </label>
                {field_error(&form, "password", lang)}
                <button type="submit" data-testid="login-submit">{Msg::SignIn.text(lang)}</button>
            </ActionForm>
        </main>
    }
    .into_any()
}
