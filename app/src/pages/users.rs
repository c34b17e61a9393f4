//! «Пользователи»: the console's users, adding one, changing a role, disabling and enabling, and
//! setting a new password the admin types. Admins only.

use crate::api::current_actor;
use crate::api::users::{
    CreateUser, DisableUser, EnableUser, ResetUserPassword, SetUserRole, list_users,
};
use crate::backend::Role;
use crate::components::layout::{ConsoleLayout, field_error, use_lang};
use crate::components::page_error::PageError;
use crate::i18n::{Lang, Msg};
use crate::pages::auth_servers::failure;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const ROLES: [Role; 3] = [Role::Viewer, Role::Support, Role::Admin];

/// The role choices of a `<select name="role">`, `selected` chosen.
fn role_options(selected: &str, lang: Lang) -> impl IntoView + use<> {
    ROLES
        .iter()
        .map(|r| {
            view! { <option value=r.code() selected=selected == r.code()>{r.label().text(lang)}</option> }
        })
        .collect_view()
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let lang = use_lang();
    let create = ServerAction::<CreateUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let disable = ServerAction::<DisableUser>::new();
    let enable = ServerAction::<EnableUser>::new();
    let reset = ServerAction::<ResetUserPassword>::new();
    let (form, create_error) = failure(create.value().get_untracked().and_then(Result::err));
    let (reset_form, reset_error) = failure(reset.value().get_untracked().and_then(Result::err));
    // A refused role change, disable or enable says why above the list.
    let action_error = [
        set_role.value().get_untracked(),
        disable.value().get_untracked(),
        enable.value().get_untracked(),
    ]
    .into_iter()
    .flatten()
    .find_map(Result::err)
    .map(|e| failure(Some(e)).1.unwrap_or(Msg::BadRequest));
    let query = use_query_map().get_untracked();
    let notice = query.get("done").and_then(|d| match d.as_str() {
        "created" => Some(Msg::UserAdded),
        "role" => Some(Msg::RoleChanged),
        "disabled" => Some(Msg::UserWasDisabled),
        "enabled" => Some(Msg::UserWasEnabled),
        "password" => Some(Msg::PasswordWasReset),
        _ => None,
    });
    let resetting: Option<i64> = query.get("reset").and_then(|s| s.parse().ok());
    let me = current_actor().map(|a| a.user_id);
    let failed = create_error.is_some() || !form.fields.is_empty();
    view! {
        <Title text=Msg::Users.text(lang)/>
        <ConsoleLayout active=Msg::Users>
            <h1>{Msg::Users.text(lang)}</h1>
            <p class="lead">{Msg::UsersLead.text(lang)}</p>
            // A refused change comes back to the page it was sent from, whose `done` is stale.
            {notice.filter(|_| action_error.is_none()).map(|m| view! { <p class="notice" data-testid="notice">{m.text(lang)}</p> })}
            {action_error.map(|m| view! { <p class="form-error" role="alert" data-testid="action-error">{m.text(lang)}</p> })}
            <Suspense>
                {move || {
                    let form = form.clone();
                    let reset_form = reset_form.clone();
                    Suspend::new(async move {
                    match list_users().await {
                        Err(e) => view! { <PageError error=e/> }.into_any(),
                        Ok(users) => {
                            let target = resetting.and_then(|id| users.iter().find(|u| u.id == id).cloned());
                            let login = if failed { form.value("login").unwrap_or_default() } else { String::new() };
                            let role = if failed { form.value("role").unwrap_or_default() } else { Role::Viewer.code().to_owned() };
                            view! {
                                {target.map(|u| view! {
                                    <ActionForm action=reset attr:class="card form" attr:data-testid="reset-form">
                                        <h2>{Msg::ResetPasswordFor.text(lang)} " " <span data-testid="reset-login">{u.login.clone()}</span></h2>
                                        {reset_error.map(|m| view! { <p class="form-error" role="alert">{m.text(lang)}</p> })}
                                        <input type="hidden" name="id" value=u.id.to_string()/>
                                        <label>
                                            {Msg::NewPassword.text(lang)}
                                            <input type="password" name="password" autocomplete="new-password" data-testid="reset-password-input"/>
                                        </label>
                                        {field_error(&reset_form, "password", lang)}
                                        <label>
                                            {Msg::PasswordAgain.text(lang)}
                                            <input type="password" name="password_again" autocomplete="new-password" data-testid="reset-password-again-input"/>
                                        </label>
                                        {field_error(&reset_form, "password_again", lang)}
                                        <p class="buttons">
                                            <button type="submit" data-testid="reset-save">{Msg::ResetPassword.text(lang)}</button>
                                            " " <a href="/console/users" data-testid="reset-cancel">{Msg::Cancel.text(lang)}</a>
                                        </p>
                                    </ActionForm>
                                })}
                                {if users.is_empty() {
                                    view! { <p data-testid="no-users">{Msg::NoUsers.text(lang)}</p> }.into_any()
                                } else {
                                    view! {
                                        <table class="grid" data-testid="users">
                                            <thead><tr>
                                                <th>{Msg::Login.text(lang)}</th>
                                                <th>{Msg::Role.text(lang)}</th>
                                                <th>{Msg::UserState.text(lang)}</th>
                                                <th>{Msg::UserCreated.text(lang)}</th>
                                                <th>{Msg::LastSignIn.text(lang)}</th>
                                                <th></th>
                                            </tr></thead>
                                            <tbody>
                                                {users.into_iter().map(|u| {
                                                    let is_me = me == Some(u.id);
                                                    let (id, id_state) = (u.id.to_string(), u.id.to_string());
                                                    view! {
                                                        <tr data-testid="user-row" data-login=u.login.clone() class:disabled=u.disabled>
                                                            <td>
                                                                <span data-testid="login">{u.login.clone()}</span>
                                                                {is_me.then(|| view! { " " <small class="muted" data-testid="me">"(" {Msg::ItIsYou.text(lang)} ")"</small> })}
                                                            </td>
                                                            <td>
                                                                <ActionForm action=set_role attr:class="inline role-form">
                                                                    <input type="hidden" name="id" value=id/>
                                                                    <select name="role" aria-label=Msg::Role.text(lang) data-testid="row-role-input">
                                                                        {role_options(u.role.code(), lang)}
                                                                    </select>
                                                                    " " <button type="submit" data-testid="change-role">{Msg::ChangeRole.text(lang)}</button>
                                                                </ActionForm>
                                                            </td>
                                                            <td data-testid="state">{if u.disabled { Msg::UserDisabled.text(lang) } else { Msg::UserActive.text(lang) }}</td>
                                                            <td class="time" data-testid="created">{u.created.clone()}</td>
                                                            <td class="time" data-testid="last-login">{u.last_login.clone().unwrap_or_else(|| "—".into())}</td>
                                                            <td class="actions">
                                                                <a href=format!("/console/users?reset={}", u.id) data-testid="reset">{Msg::ResetPassword.text(lang)}</a>
                                                                {if u.disabled {
                                                                    view! {
                                                                        <ActionForm action=enable attr:class="inline">
                                                                            <input type="hidden" name="id" value=id_state.clone()/>
                                                                            <button type="submit" data-testid="enable">{Msg::Enable.text(lang)}</button>
                                                                        </ActionForm>
                                                                    }.into_any()
                                                                } else {
                                                                    view! {
                                                                        <ActionForm action=disable attr:class="inline">
                                                                            <input type="hidden" name="id" value=id_state.clone()/>
                                                                            <button type="submit" class="danger" data-testid="disable">{Msg::Disable.text(lang)}</button>
                                                                        </ActionForm>
                                                                    }.into_any()
                                                                }}
                                                            </td>
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    }.into_any()
                                }}
                                <ActionForm action=create attr:class="card form" attr:data-testid="user-form">
                                    <h2>{Msg::AddUser.text(lang)}</h2>
                                    {create_error.map(|m| view! { <p class="form-error" role="alert" data-testid="form-error">{m.text(lang)}</p> })}
                                    <label>
                                        {Msg::Login.text(lang)}
                                        <input name="login" value=login maxlength="64" autocomplete="off" data-testid="login-input"/>
                                    </label>
                                    {field_error(&form, "login", lang)}
                                    <label>
                                        {Msg::Role.text(lang)}
                                        <select name="role" data-testid="role-input">{role_options(&role, lang)}</select>
                                    </label>
                                    {field_error(&form, "role", lang)}
                                    <label>
                                        {Msg::Password.text(lang)}
                                        <input type="password" name="password" autocomplete="new-password" data-testid="password-input"/>
                                    </label>
                                    {field_error(&form, "password", lang)}
                                    <label>
                                        {Msg::PasswordAgain.text(lang)}
                                        <input type="password" name="password_again" autocomplete="new-password" data-testid="password-again-input"/>
                                    </label>
                                    {field_error(&form, "password_again", lang)}
                                    <p class="buttons"><button type="submit" data-testid="add-user">{Msg::AddUser.text(lang)}</button></p>
                                </ActionForm>
                            }.into_any()
                        }
                    }
                })}}
            </Suspense>
        </ConsoleLayout>
    }
}
