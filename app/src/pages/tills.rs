//! «Кассы»: the list (with «последний запрос»), adding a till (its key is shown once, from the
//! session, never the URL), editing one (name, kind, language, QR outputs; the paper fields only
//! when it prints the QR, by CSS, so it works without JavaScript), and revoking a key after a
//! confirmation step. Admins only.

use crate::api::settings::list_payment_types;
use crate::api::tills::{
    CreateTill, RevokeTill, SaveTill, SaveTillPaymentType, list_tills, take_new_till_key,
};
use crate::components::layout::{ConsoleLayout, field_error, use_lang};
use crate::components::page_error::PageError;
use crate::i18n::Msg;
use crate::pages::auth_servers::failure;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use std::sync::{Arc, Mutex};

#[component]
pub fn TillsPage() -> impl IntoView {
    let lang = use_lang();
    let create = ServerAction::<CreateTill>::new();
    let revoke = ServerAction::<RevokeTill>::new();
    let save_outputs = ServerAction::<SaveTill>::new();
    let save_payment_type = ServerAction::<SaveTillPaymentType>::new();
    let (outputs_form, outputs_error) =
        failure(save_outputs.value().get_untracked().and_then(Result::err));
    let (form, create_error) = failure(create.value().get_untracked().and_then(Result::err));
    let (_, revoke_error) = failure(revoke.value().get_untracked().and_then(Result::err));
    let query = use_query_map().get_untracked();
    let notice = query.get("done").and_then(|d| match d.as_str() {
        "revoked" => Some(Msg::TillRevoked),
        "saved" => Some(Msg::Saved),
        _ => None,
    });
    let confirm: Option<i64> = query.get("revoke").and_then(|s| s.parse().ok());
    let editing: Option<i64> = query.get("edit").and_then(|s| s.parse().ok());
    let failed = create_error.is_some() || !form.fields.is_empty();
    // The Suspense may run its children more than once; the key is taken from the session once
    // and kept here for every run of this render.
    let taken: Arc<Mutex<Option<Option<String>>>> = Arc::default();
    view! {
        <Title text=Msg::Tills.text(lang)/>
        <ConsoleLayout active=Msg::Tills>
            <h1>{Msg::Tills.text(lang)}</h1>
            {notice.map(|m| view! { <p class="notice" data-testid="notice">{m.text(lang)}</p> })}
            {revoke_error.map(|m| view! { <p class="form-error" role="alert" data-testid="revoke-error">{m.text(lang)}</p> })}
            <Suspense>
                {move || {
                    let form = form.clone();
                    let outputs_form = outputs_form.clone();
                    let taken = taken.clone();
                    Suspend::new(async move {
                    let cached = taken.lock().expect("BUG: poisoned").clone();
                    let key = match cached {
                        Some(k) => Ok(k),
                        None => take_new_till_key().await.inspect(|k| {
                            *taken.lock().expect("BUG: poisoned") = Some(k.clone());
                        }),
                    };
                    match (list_tills().await, key, list_payment_types().await) {
                        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => view! { <PageError error=e/> }.into_any(),
                        (Ok(list), Ok(key), Ok(types)) => {
                            let edited = editing.and_then(|id| list.iter().find(|t| t.id == id).cloned());
                            let confirming = confirm.and_then(|id| list.iter().find(|t| t.id == id && !t.revoked).cloned());
                            let value = |k: &str, default: &str| if failed { form.value(k).unwrap_or_default() } else { default.to_owned() };
                            let name = value("name", "");
                            let kind = value("kind", "till");
                            let width = value("paper_width", "576");
                            let on = |k: &str, default: bool| if failed { form.value(k).as_deref() == Some("on") } else { default };
                            let (screen, display, receipt, escpos) = (on("screen", true), on("display", true), on("receipt", true), on("escpos_native", false));
                            view! {
                                {key.map(|k| view! {
                                    <div class="notice key" data-testid="new-key">
                                        <p>{Msg::NewTillKey.text(lang)}</p>
                                        <code data-testid="new-key-value">{k}</code>
                                    </div>
                                })}
                                {edited.map(|t| {
                                    let failed = outputs_error.is_some() || !outputs_form.fields.is_empty();
                                    let on = |k: &str, saved: bool| if failed { outputs_form.value(k).as_deref() == Some("on") } else { saved };
                                    let (screen, display, receipt, escpos) = (on("screen", t.screen), on("display", t.display), on("receipt", t.receipt), on("escpos_native", t.escpos_native));
                                    let width = if failed { outputs_form.value("paper_width").unwrap_or_default() } else { t.paper_width.to_string() };
                                    let text = |k: &str, saved: &str| if failed { outputs_form.value(k).unwrap_or_default() } else { saved.to_owned() };
                                    let (edit_name, edit_kind, edit_language) = (text("name", &t.name), text("kind", &t.kind), text("language", &t.language));
                                    let types = types.items.clone();
                                    let chosen = t.payment_type_id;
                                    let (till_name, till_id) = (t.name.clone(), t.id.to_string());
                                    view! {
                                        <ActionForm action=save_payment_type attr:class="card form" attr:data-testid="till-payment-type-form">
                                            <h2>{till_name} ": " {Msg::PaymentType.text(lang)}</h2>
                                            <p class="muted">{Msg::TillPaymentTypeLead.text(lang)}</p>
                                            <input type="hidden" name="id" value=till_id/>
                                            <label>
                                                {Msg::PaymentType.text(lang)}
                                                <select name="payment_type_id" data-testid="till-payment-type-input">
                                                    <option value="" selected=chosen.is_none()>{Msg::StoreDefault.text(lang)}</option>
                                                    {types.iter().map(|p| {
                                                        let label = if p.test { format!("{} ({})", p.name, Msg::TestBadge.text(lang)) } else { p.name.clone() };
                                                        view! { <option value=p.id.to_string() selected=chosen == Some(p.id)>{label}</option> }
                                                    }).collect_view()}
                                                </select>
                                            </label>
                                            <p class="buttons"><button type="submit" data-testid="save-till-payment-type">{Msg::Save.text(lang)}</button></p>
                                        </ActionForm>
                                        <ActionForm action=save_outputs attr:class="card form till-form" attr:data-testid="outputs-form">
                                            <h2>{Msg::EditTill.text(lang)} " «" {t.name.clone()} "»"</h2>
                                            {outputs_error.map(|m| view! { <p class="form-error" role="alert">{m.text(lang)}</p> })}
                                            <input type="hidden" name="id" value=t.id.to_string()/>
                                            {till_fields(lang, &outputs_form, "edit-", TillFields { name: edit_name, kind: edit_kind, screen, display, receipt, width, escpos })}
                                            <label>
                                                {Msg::TillLanguage.text(lang)}
                                                <select name="language" data-testid="edit-language-input">
                                                    <option value="ru" selected=edit_language == "ru">"Русский"</option>
                                                    <option value="en" selected=edit_language == "en">"English"</option>
                                                </select>
                                            </label>
                                            <p class="muted">{Msg::TillLanguageHint.text(lang)}</p>
                                            {field_error(&outputs_form, "language", lang)}
                                            <p class="buttons">
                                                <button type="submit" data-testid="save-outputs">{Msg::Save.text(lang)}</button>
                                                " " <a href="/console/tills">{Msg::Cancel.text(lang)}</a>
                                            </p>
                                        </ActionForm>
                                    }
                                })}
                                {confirming.map(|t| view! {
                                    <div class="card confirm" data-testid="revoke-confirm">
                                        <p><strong>{t.name.clone()}</strong> " — " {Msg::RevokeConfirm.text(lang)}</p>
                                        <ActionForm action=revoke attr:class="inline">
                                            <input type="hidden" name="id" value=t.id.to_string()/>
                                            <button type="submit" class="danger" data-testid="revoke-yes">{Msg::RevokeYes.text(lang)}</button>
                                        </ActionForm>
                                        " " <a href="/console/tills" data-testid="revoke-cancel">{Msg::Cancel.text(lang)}</a>
                                    </div>
                                })}
                                {if list.is_empty() {
                                    view! { <p data-testid="no-tills">{Msg::NoTills.text(lang)}</p> }.into_any()
                                } else {
                                    view! {
                                        <table class="grid" data-testid="tills">
                                            <thead><tr>
                                                <th>{Msg::Name.text(lang)}</th>
                                                <th>{Msg::TillKind.text(lang)}</th>
                                                <th>{Msg::KeyPrefix.text(lang)}</th>
                                                <th>{Msg::TillState.text(lang)}</th>
                                                <th>{Msg::QrOutputs.text(lang)}</th>
                                                <th>{Msg::PaymentType.text(lang)}</th>
                                                <th>{Msg::LastSeen.text(lang)}</th>
                                                <th></th>
                                            </tr></thead>
                                            <tbody>
                                                {list.into_iter().map(|t| {
                                                    let kind = if t.kind == "kiosk" { Msg::KindKiosk } else { Msg::KindTill };
                                                    let outputs = [(t.screen, Msg::OutScreen), (t.display, Msg::OutDisplay), (t.receipt, Msg::OutReceipt)]
                                                        .into_iter().filter(|(on, _)| *on).map(|(_, m)| m.text(lang)).collect::<Vec<_>>().join(", ");
                                                    // A till that does not print the QR has no paper to speak of.
                                                    let paper = t.receipt.then(|| format!(" · {} мм{}", if t.paper_width == 384 { 58 } else { 80 },
                                                        if t.escpos_native { ", ESC/POS" } else { "" }));
                                                    view! {
                                                        <tr data-testid="till-row" data-id=t.id.to_string()>
                                                            <td data-testid="name">{t.name.clone()}</td>
                                                            <td data-testid="kind">{kind.text(lang)}</td>
                                                            <td><code data-testid="key-prefix">{t.key_prefix.clone()}</code></td>
                                                            <td data-testid="state">{if t.revoked { Msg::Revoked.text(lang) } else { Msg::Active.text(lang) }}</td>
                                                            <td data-testid="outputs">{outputs} {paper}</td>
                                                            <td data-testid="payment-type">{t.payment_type.clone().unwrap_or_else(|| Msg::StoreDefault.text(lang).to_owned())}</td>
                                                            <td data-testid="last-seen">{t.last_seen.clone().unwrap_or_else(|| Msg::NeverSeen.text(lang).to_owned())}</td>
                                                            <td class="actions">
                                                                <a href=format!("/console/tills?edit={}", t.id) data-testid="edit">{Msg::Edit.text(lang)}</a>
                                                                <a href=format!("/console/tills/{}/cash-link", t.id) data-testid="cash-link">{Msg::CashLink.text(lang)}</a>
                                                                {(!t.revoked).then(|| view! {
                                                                    <a href=format!("/console/tills?revoke={}", t.id) data-testid="revoke">{Msg::Revoke.text(lang)}</a>
                                                                })}
                                                            </td>
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    }.into_any()
                                }}
                                <ActionForm action=create attr:class="card form till-form" attr:data-testid="till-form">
                                    <h2>{Msg::AddTill.text(lang)}</h2>
                                    {create_error.map(|m| view! { <p class="form-error" role="alert" data-testid="form-error">{m.text(lang)}</p> })}
                                    {till_fields(lang, &form, "", TillFields { name, kind, screen, display, receipt, width, escpos })}
                                    <p class="buttons"><button type="submit" data-testid="add-till">{Msg::AddTill.text(lang)}</button></p>
                                </ActionForm>
                            }.into_any()
                        }
                    }
                })}}
            </Suspense>
        </ConsoleLayout>
    }
}

/// What a till form shows in its common fields.
struct TillFields {
    name: String,
    kind: String,
    screen: bool,
    display: bool,
    receipt: bool,
    width: String,
    escpos: bool,
}

/// The fields the add and edit forms share: name, kind, QR outputs, and the paper fields, which
/// show only while the receipt output is on (`.receipt-only`, CSS). `ids` prefixes the test ids.
fn till_fields(
    lang: crate::i18n::Lang,
    form: &crate::error::FormErrors,
    ids: &'static str,
    f: TillFields,
) -> impl IntoView + use<> {
    let id = move |name: &str| format!("{ids}{name}");
    view! {
        <label>
            {Msg::Name.text(lang)}
            <input name="name" value=f.name maxlength="100" data-testid=id("name-input")/>
        </label>
        {field_error(form, "name", lang)}
        <label>
            {Msg::TillKind.text(lang)}
            <select name="kind" data-testid=id("kind-input")>
                <option value="till" selected=f.kind == "till">{Msg::KindTill.text(lang)}</option>
                <option value="kiosk" selected=f.kind == "kiosk">{Msg::KindKiosk.text(lang)}</option>
            </select>
        </label>
        {field_error(form, "kind", lang)}
        <fieldset>
            <legend>{Msg::QrOutputs.text(lang)}</legend>
            <label class="check"><input type="checkbox" name="screen" checked=f.screen data-testid=id("screen-input")/> {Msg::OutScreen.text(lang)}</label>
            <label class="check"><input type="checkbox" name="display" checked=f.display data-testid=id("display-input")/> {Msg::OutDisplay.text(lang)}</label>
            <label class="check"><input type="checkbox" name="receipt" checked=f.receipt data-testid=id("receipt-input")/> {Msg::OutReceipt.text(lang)}</label>
        </fieldset>
        <div class="receipt-only" data-testid=id("receipt-only")>
            <label>
                {Msg::PaperWidth.text(lang)}
                <select name="paper_width" data-testid=id("paper-width-input")>
                    <option value="576" selected=f.width == "576">"80 мм (576)"</option>
                    <option value="384" selected=f.width == "384">"58 мм (384)"</option>
                </select>
            </label>
            {field_error(form, "paper_width", lang)}
            <label class="check"><input type="checkbox" name="escpos_native" checked=f.escpos data-testid=id("escpos-input")/> {Msg::EscposNative.text(lang)}</label>
        </div>
    }
}
