//! «Интеграция → Серверы авторизации», tab «Оплаты»: the list, the add/edit form of a «QR оплата»
//! server (a new one's name is pre-filled with one no other server has), and delete after a
//! confirmation step (refused while a payment type uses the server). Admins only.

use crate::api::settings::{DeleteAuthServer, SaveAuthServer, list_auth_servers};
use crate::components::layout::{ConsoleLayout, field_error, use_lang};
use crate::components::page_error::PageError;
use crate::error::{ConsoleError, FormErrors};
use crate::i18n::Msg;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The form's failure and its form-level message (a field's message stands beside the field).
pub fn failure(err: Option<ConsoleError>) -> (FormErrors, Option<Msg>) {
    match err {
        Some(ConsoleError::Invalid(f)) => {
            let m = f.form;
            (f, m)
        }
        Some(e) => (FormErrors::default(), Some(e.message())),
        None => (FormErrors::default(), None),
    }
}

/// `base`, or `base 2`, `base 3`, … : the first that is not in `taken`.
pub fn free_name(base: &str, taken: &[&str]) -> String {
    std::iter::once(base.to_owned())
        .chain((2..).map(|n| format!("{base} {n}")))
        .find(|candidate| !taken.contains(&candidate.as_str()))
        .expect("BUG: the names run out only after every integer")
}

#[component]
pub fn AuthServersPage() -> impl IntoView {
    let lang = use_lang();
    let save = ServerAction::<SaveAuthServer>::new();
    let delete = ServerAction::<DeleteAuthServer>::new();
    let (form, save_error) = failure(save.value().get_untracked().and_then(Result::err));
    let (_, delete_error) = failure(delete.value().get_untracked().and_then(Result::err));
    let query = use_query_map().get_untracked();
    let notice = query.get("done").and_then(|d| match d.as_str() {
        "saved" => Some(Msg::Saved),
        "deleted" => Some(Msg::Deleted),
        _ => None,
    });
    let editing: Option<i64> = query.get("edit").and_then(|s| s.parse().ok());
    let confirm: Option<i64> = query.get("delete").and_then(|s| s.parse().ok());
    view! {
        <Title text=Msg::AuthServers.text(lang)/>
        <ConsoleLayout active=Msg::AuthServers>
            <h1>{Msg::AuthServers.text(lang)}</h1>
            <nav class="tabs"><a class="active" href="/console/auth-servers" data-testid="tab-payments">{Msg::TabPayments.text(lang)}</a></nav>
            {notice.map(|m| view! { <p class="notice" data-testid="notice">{m.text(lang)}</p> })}
            {delete_error.map(|m| view! { <p class="form-error" role="alert" data-testid="delete-error">{m.text(lang)}</p> })}
            <Suspense>
                {move || {
                    let form = form.clone();
                    Suspend::new(async move {
                    match list_auth_servers().await {
                        Err(e) => view! { <PageError error=e/> }.into_any(),
                        Ok(list) => {
                            let current = editing.and_then(|id| list.iter().find(|a| a.id == id).cloned());
                            let confirming = confirm.and_then(|id| list.iter().find(|a| a.id == id).cloned());
                            let taken: Vec<&str> = list.iter().map(|a| a.name.as_str()).collect();
                            let name = form.value("name").or_else(|| current.as_ref().map(|a| a.name.clone()))
                                .unwrap_or_else(|| free_name(Msg::QrPayment.text(lang), &taken));
                            let timeout = form.value("response_timeout_secs")
                                .or_else(|| current.as_ref().map(|a| a.response_timeout_secs.to_string()))
                                .unwrap_or_default();
                            let heading = if current.is_some() { Msg::Edit } else { Msg::AddQrPayment };
                            view! {
                                {confirming.map(|a| view! {
                                    <div class="card confirm" data-testid="delete-confirm">
                                        <p><strong>{a.name.clone()}</strong> " — " {Msg::DeleteAuthServerConfirm.text(lang)}</p>
                                        <ActionForm action=delete attr:class="inline">
                                            <input type="hidden" name="id" value=a.id.to_string()/>
                                            <button type="submit" class="danger" data-testid="delete-yes">{Msg::Delete.text(lang)}</button>
                                        </ActionForm>
                                        " " <a href="/console/auth-servers" data-testid="delete-cancel">{Msg::Cancel.text(lang)}</a>
                                    </div>
                                })}
                                {if list.is_empty() {
                                    view! { <p data-testid="no-auth-servers">{Msg::NoAuthServers.text(lang)}</p> }.into_any()
                                } else {
                                    view! {
                                        <table class="grid" data-testid="auth-servers">
                                            <thead><tr>
                                                <th>{Msg::Name.text(lang)}</th>
                                                <th class="num">{Msg::ResponseTimeout.text(lang)}</th>
                                                <th class="num">{Msg::UsedBy.text(lang)}</th>
                                                <th></th>
                                            </tr></thead>
                                            <tbody>
                                                {list.into_iter().map(|a| view! {
                                                    <tr data-testid="auth-server-row" data-id=a.id.to_string()>
                                                        <td data-testid="name">{a.name.clone()}</td>
                                                        <td class="num" data-testid="timeout">{a.response_timeout_secs}</td>
                                                        <td class="num" data-testid="used-by">{a.used_by}</td>
                                                        <td class="actions">
                                                            <a href=format!("/console/auth-servers?edit={}", a.id) data-testid="edit">{Msg::Edit.text(lang)}</a>
                                                            <a href=format!("/console/auth-servers?delete={}", a.id) class="danger" data-testid="delete">{Msg::Delete.text(lang)}</a>
                                                        </td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    }.into_any()
                                }}
                                <ActionForm action=save attr:class="card form" attr:data-testid="auth-server-form">
                                    <h2>{heading.text(lang)}</h2>
                                    {save_error.map(|m| view! { <p class="form-error" role="alert" data-testid="form-error">{m.text(lang)}</p> })}
                                    <input type="hidden" name="id" value=current.as_ref().map(|a| a.id.to_string()).unwrap_or_default()/>
                                    <label>
                                        {Msg::Name.text(lang)}
                                        <input name="name" value=name maxlength="100" data-testid="name-input"/>
                                    </label>
                                    {field_error(&form, "name", lang)}
                                    <label>
                                        {Msg::ResponseTimeout.text(lang)}
                                        <input name="response_timeout_secs" value=timeout inputmode="numeric" data-testid="timeout-input"/>
                                    </label>
                                    {field_error(&form, "response_timeout_secs", lang)}
                                    <p class="buttons">
                                        <button type="submit" data-testid="save">{Msg::Save.text(lang)}</button>
                                        {current.is_some().then(|| view! { <a href="/console/auth-servers">{Msg::Cancel.text(lang)}</a> })}
                                    </p>
                                </ActionForm>
                            }.into_any()
                        }
                    }
                })}}
            </Suspense>
        </ConsoleLayout>
    }
}

#[cfg(test)]
mod tests {
    use super::free_name;

    #[test]
    fn a_new_servers_name_never_clashes_with_an_existing_one() {
        assert_eq!(free_name("QR оплата", &[]), "QR оплата");
        assert_eq!(free_name("QR оплата", &["QR оплата"]), "QR оплата 2");
        assert_eq!(
            free_name("QR оплата", &["QR оплата", "QR оплата 2", "Другой"]),
            "QR оплата 3"
        );
        assert_eq!(free_name("QR оплата", &["QR оплата 2"]), "QR оплата");
    }
}
