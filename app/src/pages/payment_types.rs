//! «Виды оплаты»: the list and the add/edit form (name, authorization server, payment module with
//! suggestions of the installed ones, scanning the customer's QR, enabled). Admins only.

use crate::api::settings::{SaveDefaultPaymentType, SavePaymentType, list_payment_types};
use crate::components::layout::{ConsoleLayout, field_error, use_lang};
use crate::components::page_error::PageError;
use crate::i18n::Msg;
use crate::pages::auth_servers::failure;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn PaymentTypesPage() -> impl IntoView {
    let lang = use_lang();
    let save = ServerAction::<SavePaymentType>::new();
    let save_default = ServerAction::<SaveDefaultPaymentType>::new();
    let (form, save_error) = failure(save.value().get_untracked().and_then(Result::err));
    let failed = save_error.is_some() || !form.fields.is_empty();
    let query = use_query_map().get_untracked();
    let notice = (query.get("done").as_deref() == Some("saved")).then_some(Msg::Saved);
    let editing: Option<i64> = query.get("edit").and_then(|s| s.parse().ok());
    view! {
        <Title text=Msg::PaymentTypes.text(lang)/>
        <ConsoleLayout active=Msg::PaymentTypes>
            <h1>{Msg::PaymentTypes.text(lang)}</h1>
            {notice.map(|m| view! { <p class="notice" data-testid="notice">{m.text(lang)}</p> })}
            <Suspense>
                {move || {
                    let form = form.clone();
                    Suspend::new(async move {
                    match list_payment_types().await {
                        Err(e) => view! { <PageError error=e/> }.into_any(),
                        Ok(page) => {
                            let current = editing.and_then(|id| page.items.iter().find(|p| p.id == id).cloned());
                            let value = |k: &str, saved: Option<String>, default: &str| {
                                if failed { form.value(k).unwrap_or_default() } else { saved.unwrap_or_else(|| default.to_owned()) }
                            };
                            let name = value("name", current.as_ref().map(|p| p.name.clone()), "");
                            let server = value("auth_server_id", current.as_ref().map(|p| p.auth_server_id.to_string()), "");
                            let module = value("module", current.as_ref().map(|p| p.module.clone()), "");
                            let on = |k: &str, saved: Option<bool>, default: bool| {
                                if failed { form.value(k).as_deref() == Some("on") } else { saved.unwrap_or(default) }
                            };
                            let scan = on("scan_customer_qr", current.as_ref().map(|p| p.scan_customer_qr), false);
                            let enabled = on("enabled", current.as_ref().map(|p| p.enabled), true);
                            let heading = if current.is_some() { Msg::Edit } else { Msg::AddPaymentType };
                            let yes_no = move |b: bool| if b { Msg::Yes.text(lang) } else { Msg::No.text(lang) };
                            view! {
                                {if page.items.is_empty() {
                                    view! { <p data-testid="no-payment-types">{Msg::NoPaymentTypes.text(lang)}</p> }.into_any()
                                } else {
                                    view! {
                                        <table class="grid" data-testid="payment-types">
                                            <thead><tr>
                                                <th>{Msg::Name.text(lang)}</th>
                                                <th>{Msg::AuthServer.text(lang)}</th>
                                                <th>{Msg::PaymentModule.text(lang)}</th>
                                                <th>{Msg::ScanCustomerQr.text(lang)}</th>
                                                <th>{Msg::Enabled.text(lang)}</th>
                                                <th></th>
                                            </tr></thead>
                                            <tbody>
                                                {page.items.iter().cloned().map(|p| view! {
                                                    <tr data-testid="payment-type-row" data-id=p.id.to_string()>
                                                        <td><span data-testid="name">{p.name}</span> {p.test.then(|| crate::pages::dashboard::test_badge(lang))}</td>
                                                        <td data-testid="auth-server">{p.auth_server}</td>
                                                        <td><code data-testid="module">{p.module}</code></td>
                                                        <td data-testid="scan">{yes_no(p.scan_customer_qr)}</td>
                                                        <td data-testid="enabled">{yes_no(p.enabled)}</td>
                                                        <td class="actions"><a href=format!("/console/payment-types?edit={}", p.id) data-testid="edit">{Msg::Edit.text(lang)}</a></td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    }.into_any()
                                }}
                                <ActionForm action=save_default attr:class="card form" attr:data-testid="default-form">
                                    <h2>{Msg::DefaultPaymentType.text(lang)}</h2>
                                    <p class="muted">{Msg::DefaultPaymentTypeLead.text(lang)}</p>
                                    <label>
                                        {Msg::DefaultPaymentType.text(lang)}
                                        <select name="payment_type_id" data-testid="default-input">
                                            <option value="" selected=page.default_id.is_none()>{Msg::NoDefault.text(lang)}</option>
                                            {page.items.iter().map(|p| {
                                                let label = if p.test { format!("{} ({})", p.name, Msg::TestBadge.text(lang)) } else { p.name.clone() };
                                                view! { <option value=p.id.to_string() selected=page.default_id == Some(p.id)>{label}</option> }
                                            }).collect_view()}
                                        </select>
                                    </label>
                                    <p class="buttons"><button type="submit" data-testid="save-default">{Msg::Save.text(lang)}</button></p>
                                </ActionForm>
                                <ActionForm action=save attr:class="card form" attr:data-testid="payment-type-form">
                                    <h2>{heading.text(lang)}</h2>
                                    {save_error.map(|m| view! { <p class="form-error" role="alert" data-testid="form-error">{m.text(lang)}</p> })}
                                    <input type="hidden" name="id" value=current.as_ref().map(|p| p.id.to_string()).unwrap_or_default()/>
                                    <label>
                                        {Msg::Name.text(lang)}
                                        <input name="name" value=name maxlength="100" data-testid="name-input"/>
                                    </label>
                                    {field_error(&form, "name", lang)}
                                    <label>
                                        {Msg::AuthServer.text(lang)}
                                        <select name="auth_server_id" data-testid="auth-server-input">
                                            {page.auth_servers.iter().cloned().map(|(id, n)| {
                                                let id = id.to_string();
                                                let selected = id == server;
                                                view! { <option value=id selected=selected>{n}</option> }
                                            }).collect_view()}
                                        </select>
                                    </label>
                                    {field_error(&form, "auth_server_id", lang)}
                                    <label>
                                        {Msg::PaymentModule.text(lang)}
                                        <input name="module" list="payment-modules" value=module required data-testid="module-input"/>
                                        <datalist id="payment-modules">
                                            {page.modules.iter().cloned().map(|m| view! { <option value=m></option> }).collect_view()}
                                        </datalist>
                                    </label>
                                    {field_error(&form, "module", lang)}
                                    <label class="check"><input type="checkbox" name="scan_customer_qr" checked=scan data-testid="scan-input" aria-describedby="scan-hint"/> {Msg::ScanCustomerQr.text(lang)}</label>
                                    <p class="muted" id="scan-hint" data-testid="scan-hint">
                                        {if page.scan_modules.is_empty() {
                                            Msg::ScanNoModule.text(lang).to_owned()
                                        } else {
                                            format!("{} {}", Msg::ScanOnlyModules.text(lang), page.scan_modules.join(", "))
                                        }}
                                    </p>
                                    {field_error(&form, "scan_customer_qr", lang)}
                                    <label class="check"><input type="checkbox" name="enabled" checked=enabled data-testid="enabled-input"/> {Msg::Enabled.text(lang)}</label>
                                    <p class="buttons">
                                        <button type="submit" data-testid="save">{Msg::Save.text(lang)}</button>
                                        {current.is_some().then(|| view! { <a href="/console/payment-types">{Msg::Cancel.text(lang)}</a> })}
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
