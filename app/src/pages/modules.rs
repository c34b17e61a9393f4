//! «Модули оплаты»: the store's payment module settings. Raiffeisen: the bank's API address,
//! sbpMerchantId and the write-only secret key (shown only as set or not), and registering the
//! bank's callback URL; the sandbox has nothing to set. Admins only.

use crate::api::modules::{
    RegisterRaiffeisenCallback, SaveRaiffeisenSettings, get_payment_modules,
};
use crate::components::layout::{ConsoleLayout, field_error, use_lang};
use crate::components::page_error::PageError;
use crate::i18n::Msg;
use crate::pages::auth_servers::failure;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ModulesPage() -> impl IntoView {
    let lang = use_lang();
    let save = ServerAction::<SaveRaiffeisenSettings>::new();
    let register = ServerAction::<RegisterRaiffeisenCallback>::new();
    let (form, save_error) = failure(save.value().get_untracked().and_then(Result::err));
    let (register_form, register_error) =
        failure(register.value().get_untracked().and_then(Result::err));
    // The bank's own words, when it refused or gave no clear answer.
    let bank_said = register_form.value("bank_said");
    let failed = save_error.is_some() || !form.fields.is_empty();
    let query = use_query_map().get_untracked();
    let notice = (query.get("done").as_deref() == Some("saved")).then_some(Msg::Saved);
    let registered = query.get("callback").as_deref() == Some("registered");
    view! {
        <Title text=Msg::PaymentModules.text(lang)/>
        <ConsoleLayout active=Msg::PaymentModules>
            <h1>{Msg::PaymentModules.text(lang)}</h1>
            <p class="lead">{Msg::PaymentModulesLead.text(lang)}</p>
            {notice.map(|m| view! { <p class="notice" data-testid="notice">{m.text(lang)}</p> })}
            <Suspense>
                {move || {
                    let form = form.clone();
                    let bank_said = bank_said.clone();
                    Suspend::new(async move {
                    match get_payment_modules().await {
                        Err(e) => view! { <PageError error=e/> }.into_any(),
                        Ok(page) => {
                            let r = page.raiffeisen;
                            let v = |k: &str, saved: &str| if failed { form.value(k).unwrap_or_default() } else { saved.to_owned() };
                            let base = v("base", &r.base);
                            let custom_url = v("custom_url", &r.custom_url);
                            let merchant = v("sbp_merchant_id", &r.sbp_merchant_id);
                            let has_sandbox = page.modules.iter().any(|m| m == "sandbox");
                            let has_raiffeisen = page.modules.iter().any(|m| m == "raiffeisen");
                            let callback_url = r.callback_url.clone();
                            let secret_state = if r.secret_set { Msg::SecretKeySet } else { Msg::SecretKeyNotSet };
                            view! {
                                {has_raiffeisen.then(|| view! {
                                    <section class="card" data-testid="module-raiffeisen">
                                        <h2>{Msg::ModuleRaiffeisen.text(lang)}</h2>
                                        <ActionForm action=save attr:class="form" attr:data-testid="raiffeisen-form">
                                            {save_error.map(|m| view! { <p class="form-error" role="alert" data-testid="form-error">{m.text(lang)}</p> })}
                                            <fieldset>
                                                <legend>{Msg::RaiffeisenBase.text(lang)}</legend>
                                                <label class="check"><input type="radio" name="base" value="production" checked=base == "production" data-testid="base-production"/>
                                                    " " {Msg::BaseProduction.text(lang)} " " <code>{r.production_url.clone()}</code></label>
                                                <label class="check"><input type="radio" name="base" value="test" checked=base == "test" data-testid="base-test"/>
                                                    " " {Msg::BaseTest.text(lang)} " " <code>{r.test_url.clone()}</code></label>
                                                <label class="check"><input type="radio" name="base" value="custom" checked=base == "custom" data-testid="base-custom"/>
                                                    " " {Msg::BaseCustom.text(lang)}</label>
                                            </fieldset>
                                            {field_error(&form, "base", lang)}
                                            <label>{Msg::CustomUrl.text(lang)}<input name="custom_url" value=custom_url placeholder="https://" data-testid="custom-url-input"/></label>
                                            {field_error(&form, "custom_url", lang)}
                                            <label title="sbpMerchantId">{Msg::SbpMerchantId.text(lang)}<input name="sbp_merchant_id" value=merchant maxlength="12" placeholder="MA0000000552" data-testid="merchant-input"/></label>
                                            {field_error(&form, "sbp_merchant_id", lang)}
                                            <label>
                                                {Msg::SecretKey.text(lang)} ": "
                                                <strong data-testid="secret-state" data-set=r.secret_set.to_string()>{secret_state.text(lang)}</strong>
                                                // Write-only: the page never carries the key, not even after an error.
                                                <input type="password" name="secret_key" value="" autocomplete="new-password" data-testid="secret-input"/>
                                            </label>
                                            <p class="hint">{Msg::SecretKeyHint.text(lang)}</p>
                                            {field_error(&form, "secret_key", lang)}
                                            <p class="buttons"><button type="submit" data-testid="save">{Msg::Save.text(lang)}</button></p>
                                        </ActionForm>
                                        <ActionForm action=register attr:class="form" attr:data-testid="register-form">
                                            {match callback_url.clone() {
                                                Some(url) => view! { <p>{Msg::CallbackUrlWillBe.text(lang)} " " <code data-testid="callback-url">{url}</code></p> }.into_any(),
                                                None => view! { <p class="hint" data-testid="callback-url-missing">{Msg::CallbackNoUrlYet.text(lang)} " " <a href="/console/store">{Msg::StoreSettings.text(lang)}</a></p> }.into_any(),
                                            }}
                                            {registered.then(|| view! { <p class="notice" data-testid="register-result">{Msg::CallbackRegistered.text(lang)}</p> })}
                                            {register_error.map(|m| view! {
                                                <p class="form-error" role="alert" data-testid="register-error">
                                                    {m.text(lang)}
                                                    {bank_said.clone().map(|t| view! { " " <span data-testid="bank-said">{t}</span> })}
                                                </p>
                                            })}
                                            <p class="buttons"><button type="submit" data-testid="register-callback" title="callback URL">{Msg::RegisterCallback.text(lang)}</button></p>
                                        </ActionForm>
                                    </section>
                                })}
                                {has_sandbox.then(|| view! {
                                    <section class="card" data-testid="module-sandbox">
                                        <h2>{Msg::ModuleSandbox.text(lang)}</h2>
                                        <p data-testid="nothing-to-set">{Msg::ModuleNothingToSet.text(lang)}</p>
                                    </section>
                                })}
                            }.into_any()
                        }
                    }
                })}}
            </Suspense>
        </ConsoleLayout>
    }
}
