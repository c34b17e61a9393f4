//! First run: the page behind the one-time link `qrpay serve` logs while no user exists.

use crate::api::backend;
use crate::api::session::CreateFirstAdmin;
use crate::components::layout::{LangSwitch, field_error, use_lang};
use crate::error::ConsoleError;
use crate::i18n::Msg;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SetupPage() -> impl IntoView {
    let lang = use_lang();
    let token = use_query_map()
        .get_untracked()
        .get("token")
        .unwrap_or_default();
    let action = ServerAction::<CreateFirstAdmin>::new();
    let failed = action.value().get_untracked().and_then(Result::err);
    view! {
        <Title text=Msg::SetupTitle.text(lang)/>
        <main class="page login" data-testid="setup-page">
            <LangSwitch/>
            <h1>{Msg::SetupTitle.text(lang)}</h1>
            <Suspense>
                {move || {
                    let token = token.clone();
                    let failed = failed.clone();
                    Suspend::new(async move {
                        let open = match backend() {
                            Ok(b) => b.setup_open(&token).await,
                            Err(_) => false,
                        };
                        if !open {
                            return view! {
                                <p class="form-error" data-testid="setup-closed">
                                    {Msg::SetupClosed.text(lang)} " " <a href="/console/login">{Msg::SignIn.text(lang)}</a>
                                </p>
                            }
                            .into_any();
                        }
                        let form = match &failed {
                            Some(ConsoleError::Invalid(f)) => f.clone(),
                            _ => Default::default(),
                        };
                        let other = failed.as_ref().filter(|e| !matches!(e, ConsoleError::Invalid(_))).map(|e| e.message());
                                                let login_value = form.value("login").unwrap_or_default();
                        view! {
                            <p>{Msg::SetupLead.text(lang)}</p>
                            {other.map(|m| view! { <p class="form-error" role="alert">{m.text(lang)}</p> })}
                            <ActionForm action=action attr:class="card form">
                                <input type="hidden" name="token" value=token.clone()/>
                                <label>{Msg::Login.text(lang)} <input name="login" value=login_value.clone() autocomplete="username" data-testid="setup-login"/></label>
                                {field_error(&form, "login", lang)}
                                <label>{Msg::Password.text(lang)} <input type="password" name="password" autocomplete="new-password" data-testid="setup-password"/></label>
                                {field_error(&form, "password", lang)}
                                <label>{Msg::PasswordAgain.text(lang)} <input type="password" name="password_again" autocomplete="new-password" data-testid="setup-password-again"/></label>
                                {field_error(&form, "password_again", lang)}
                                <button type="submit" data-testid="setup-submit">{Msg::SetupCreate.text(lang)}</button>
                            </ActionForm>
                        }
                        .into_any()
                    })
                }}
            </Suspense>
        </main>
    }
}
