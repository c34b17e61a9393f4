//! «Параметры магазина»: name, code, integrator address, RabbitMQ server with a connection check,
//! time zone, refunding late payments. Admins only.

use crate::api::settings::{CheckRabbitmq, SaveStoreSettings, get_store_settings};
use crate::components::layout::{ConsoleLayout, field_error, use_lang};
use crate::components::page_error::PageError;
use crate::i18n::Msg;
use crate::pages::auth_servers::failure;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn StorePage() -> impl IntoView {
    let lang = use_lang();
    let save = ServerAction::<SaveStoreSettings>::new();
    let check = ServerAction::<CheckRabbitmq>::new();
    let (form, save_error) = failure(save.value().get_untracked().and_then(Result::err));
    let (check_form, check_error) = failure(check.value().get_untracked().and_then(Result::err));
    let failed = save_error.is_some() || !form.fields.is_empty();
    let query = use_query_map().get_untracked();
    let notice = (query.get("done").as_deref() == Some("saved")).then_some(Msg::Saved);
    let checked = match query.get("check").as_deref() {
        Some("ok") => Some((true, Msg::ConnectionOk)),
        Some("failed") => Some((false, Msg::ConnectionFailed)),
        _ => None,
    };
    view! {
        <Title text=Msg::StoreSettings.text(lang)/>
        <ConsoleLayout active=Msg::StoreSettings>
            <h1>{Msg::StoreSettings.text(lang)}</h1>
            {notice.map(|m| view! { <p class="notice" data-testid="notice">{m.text(lang)}</p> })}
            {checked.map(|(ok, m)| if ok {
                view! { <p class="notice" data-testid="check-result">{m.text(lang)}</p> }.into_any()
            } else {
                view! { <p class="form-error" role="alert" data-testid="check-result">{m.text(lang)}</p> }.into_any()
            })}
            {check_error.map(|m| view! { <p class="form-error" role="alert" data-testid="check-error">{m.text(lang)}</p> })}
            {field_error(&check_form, "rabbitmq_url", lang)}
            <Suspense>
                {move || {
                    let form = form.clone();
                    Suspend::new(async move {
                    match get_store_settings().await {
                        Err(e) => view! { <PageError error=e/> }.into_any(),
                        Ok(saved) => {
                            let v = |k: &str, s: &str| if failed { form.value(k).unwrap_or_default() } else { s.to_owned() };
                            let name = v("name", &saved.name);
                            let code = v("code", &saved.code);
                            let integrator = v("integrator_url", &saved.integrator_url);
                            let rabbit = v("rabbitmq_url", &saved.rabbitmq_url);
                            let rabbit_check = rabbit.clone();
                            let tz = v("time_zone", &saved.time_zone);
                            let late = if failed { form.value("refund_late_payments").as_deref() == Some("on") } else { saved.refund_late_payments };
                            view! {
                                <ActionForm action=save attr:class="card form" attr:data-testid="store-form">
                                    {save_error.map(|m| view! { <p class="form-error" role="alert" data-testid="form-error">{m.text(lang)}</p> })}
                                    <label>{Msg::Name.text(lang)}<input name="name" value=name maxlength="100" data-testid="name-input"/></label>
                                    {field_error(&form, "name", lang)}
                                    <label>{Msg::StoreCode.text(lang)}<input name="code" value=code maxlength="32" data-testid="code-input"/></label>
                                    {field_error(&form, "code", lang)}
                                    <label>{Msg::IntegratorUrl.text(lang)}<input name="integrator_url" value=integrator placeholder="https://" data-testid="integrator-input"/></label>
                                    {field_error(&form, "integrator_url", lang)}
                                    <label>{Msg::RabbitMqServer.text(lang)}<input name="rabbitmq_url" value=rabbit.clone() placeholder="amqp://user:password@host:5672/%2f" data-testid="rabbitmq-input"/></label>
                                    {field_error(&form, "rabbitmq_url", lang)}
                                    <label>{Msg::TimeZone.text(lang)}<input name="time_zone" value=tz placeholder="Europe/Moscow" data-testid="tz-input"/></label>
                                    {field_error(&form, "time_zone", lang)}
                                    <label class="check"><input type="checkbox" name="refund_late_payments" checked=late data-testid="late-input"/> {Msg::RefundLatePayments.text(lang)}</label>
                                    <p class="buttons"><button type="submit" data-testid="save">{Msg::Save.text(lang)}</button></p>
                                </ActionForm>
                                <ActionForm action=check attr:class="card form" attr:data-testid="check-form">
                                    <input type="hidden" name="rabbitmq_url" value=rabbit_check/>
                                    <button type="submit" data-testid="check">{Msg::CheckConnection.text(lang)}</button>
                                </ActionForm>
                            }.into_any()
                        }
                    }
                })}}
            </Suspense>
        </ConsoleLayout>
    }
}
