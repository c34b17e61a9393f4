//! «Статические QR»: the list, issuing one (name, purpose, optional amount, payment type),
//! deactivating one after a confirmation step, and the printable plate of each (its own page,
//! with print CSS; PNG and SVG of the QR beside it). Admins only.

use crate::api::settings::list_payment_types;
use crate::api::static_qrs::{DeactivateStaticQr, IssueStaticQr, list_static_qrs};
use crate::backend::static_qrs::StaticQrItem;
use crate::components::layout::{ConsoleLayout, field_error, use_lang};
use crate::components::page_error::PageError;
use crate::i18n::{Lang, Msg, format_money};
use crate::pages::auth_servers::failure;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Where the QR images of static QR `id` are served (`png` or `svg`).
pub fn image_path(id: i64, ext: &str) -> String {
    format!("/console/static-qrs/{id}/qr.{ext}")
}

fn amount_text(amount: Option<i64>, lang: Lang) -> String {
    amount.map_or_else(
        || Msg::StaticQrAnyAmount.text(lang).to_owned(),
        |k| format_money(k, lang),
    )
}

#[component]
pub fn StaticQrsPage() -> impl IntoView {
    let lang = use_lang();
    let issue = ServerAction::<IssueStaticQr>::new();
    let deactivate = ServerAction::<DeactivateStaticQr>::new();
    let (form, issue_error) = failure(issue.value().get_untracked().and_then(Result::err));
    let (_, deactivate_error) = failure(deactivate.value().get_untracked().and_then(Result::err));
    let query = use_query_map().get_untracked();
    let notice = query.get("done").and_then(|d| match d.as_str() {
        "issued" => Some(Msg::StaticQrIssued),
        "deactivated" => Some(Msg::StaticQrDeactivated),
        _ => None,
    });
    let confirm: Option<i64> = query.get("deactivate").and_then(|s| s.parse().ok());
    view! {
        <Title text=format!("{} · qrpay", Msg::StaticQrs.text(lang))/>
        <ConsoleLayout active=Msg::StaticQrs>
            <h1>{Msg::StaticQrs.text(lang)}</h1>
            <p class="lead">{Msg::StaticQrsLead.text(lang)}</p>
            {notice.map(|m| view! { <p class="notice" data-testid="notice">{m.text(lang)}</p> })}
            {deactivate_error.map(|m| view! { <p class="form-error" role="alert" data-testid="deactivate-error">{m.text(lang)}</p> })}
            <Suspense>
                {move || {
                    let form = form.clone();
                    Suspend::new(async move {
                        match (list_static_qrs().await, list_payment_types().await) {
                            (Err(e), _) | (_, Err(e)) => view! { <PageError error=e/> }.into_any(),
                            (Ok(list), Ok(types)) => {
                                let confirming = confirm.and_then(|id| list.iter().find(|q| q.id == id && q.active).cloned());
                                let chosen = form.value("payment_type_id").unwrap_or_default();
                                view! {
                                    {confirming.map(|q| view! {
                                        <div class="card confirm" data-testid="deactivate-confirm">
                                            <p><strong>{q.name.clone()}</strong> " — " {Msg::StaticQrDeactivateConfirm.text(lang)}</p>
                                            <ActionForm action=deactivate attr:class="inline">
                                                <input type="hidden" name="id" value=q.id.to_string()/>
                                                <button type="submit" class="danger" data-testid="deactivate-yes">{Msg::StaticQrDeactivate.text(lang)}</button>
                                            </ActionForm>
                                            " " <a href="/console/static-qrs" data-testid="deactivate-cancel">{Msg::Cancel.text(lang)}</a>
                                        </div>
                                    })}
                                    {if list.is_empty() {
                                        view! { <p data-testid="no-static-qrs">{Msg::StaticQrNone.text(lang)}</p> }.into_any()
                                    } else {
                                        view! {
                                            <table class="grid" data-testid="static-qrs">
                                                <thead><tr>
                                                    <th>{Msg::StaticQrName.text(lang)}</th>
                                                    <th>{Msg::RefundAmount.text(lang)}</th>
                                                    <th>{Msg::PaymentType.text(lang)}</th>
                                                    <th>{Msg::StaticQrPayments.text(lang)}</th>
                                                    <th></th>
                                                </tr></thead>
                                                <tbody>{list.into_iter().map(|q| row(q, lang)).collect_view()}</tbody>
                                            </table>
                                        }.into_any()
                                    }}
                                    <ActionForm action=issue attr:class="card form" attr:data-testid="issue-form">
                                        <h2>{Msg::StaticQrIssue.text(lang)}</h2>
                                        {issue_error.map(|m| view! { <p class="form-error" role="alert" data-testid="issue-error">{m.text(lang)}</p> })}
                                        <label>
                                            {Msg::StaticQrName.text(lang)}
                                            <input name="name" maxlength="60" required value=form.value("name").unwrap_or_default() data-testid="name-input"/>
                                        </label>
                                        {field_error(&form, "name", lang)}
                                        <label>
                                            {Msg::StaticQrPurpose.text(lang)}
                                            <input name="purpose" maxlength="140" value=form.value("purpose").unwrap_or_default() data-testid="purpose-input"/>
                                        </label>
                                        {field_error(&form, "purpose", lang)}
                                        <label>
                                            {Msg::StaticQrAmount.text(lang)}
                                            <input name="amount" inputmode="decimal" value=form.value("amount").unwrap_or_default() data-testid="amount-input"/>
                                        </label>
                                        {field_error(&form, "amount", lang)}
                                        <label>
                                            {Msg::PaymentType.text(lang)}
                                            <select name="payment_type_id" data-testid="payment-type-input">
                                                <option value="" selected=chosen.is_empty()>{Msg::StoreDefault.text(lang)}</option>
                                                {types.items.iter().filter(|p| p.enabled).map(|p| {
                                                    let label = if p.test { format!("{} ({})", p.name, Msg::TestBadge.text(lang)) } else { p.name.clone() };
                                                    view! { <option value=p.id.to_string() selected=chosen == p.id.to_string()>{label}</option> }
                                                }).collect_view()}
                                            </select>
                                        </label>
                                        {field_error(&form, "payment_type_id", lang)}
                                        <p class="buttons"><button type="submit" data-testid="issue-submit">{Msg::StaticQrIssue.text(lang)}</button></p>
                                    </ActionForm>
                                }.into_any()
                            }
                        }
                    })
                }}
            </Suspense>
        </ConsoleLayout>
    }
}

fn row(q: StaticQrItem, lang: Lang) -> impl IntoView {
    let plate = format!("/console/static-qrs/{}/plate", q.id);
    view! {
        <tr data-testid="static-qr-row" data-id=q.id.to_string()>
            <td>
                <strong data-testid="static-qr-name">{q.name.clone()}</strong>
                {q.test.then(|| view! { " " {crate::pages::dashboard::test_badge(lang)} })}
                {(!q.active).then(|| view! { " " <span class="status status-cancelled" data-testid="inactive">{Msg::StaticQrInactive.text(lang)}</span> })}
                {q.purpose.clone().map(|p| view! { <br/><small>{p}</small> })}
            </td>
            <td class="num">{amount_text(q.amount, lang)}</td>
            <td>{q.payment_type.clone()} " (" {q.module.clone()} ")"</td>
            <td class="num" data-testid="static-qr-payments">{q.payments} " · " {format_money(q.paid_total, lang)}</td>
            <td>
                <a href=plate data-testid="plate-link">{Msg::StaticQrPlate.text(lang)}</a>
                " · " <a href=image_path(q.id, "png")>"PNG"</a>
                " · " <a href=image_path(q.id, "svg")>"SVG"</a>
                {q.active.then(|| view! {
                    " · " <a href=format!("/console/static-qrs?deactivate={}", q.id) data-testid="deactivate-link">{Msg::StaticQrDeactivate.text(lang)}</a>
                })}
            </td>
        </tr>
    }
}

/// The printable plate of one static QR: the store, «Оплата по СБП», the QR, its name,
/// purpose and amount. The print stylesheet prints the plate alone.
#[component]
pub fn StaticQrPlatePage() -> impl IntoView {
    let lang = use_lang();
    let id: Option<i64> = use_params_map()
        .get_untracked()
        .get("id")
        .and_then(|s| s.parse().ok());
    view! {
        <Title text=format!("{} · qrpay", Msg::StaticQrPlate.text(lang))/>
        <ConsoleLayout active=Msg::StaticQrs>
            <Suspense>
                {move || Suspend::new(async move {
                    match list_static_qrs().await {
                        Err(e) => view! { <PageError error=e/> }.into_any(),
                        Ok(list) => match list.into_iter().find(|q| Some(q.id) == id) {
                            None => view! { <PageError error=crate::error::ConsoleError::NotFound/> }.into_any(),
                            Some(q) => view! {
                                <p class="no-print">
                                    <a href="/console/static-qrs">{Msg::StaticQrs.text(lang)}</a>
                                    " · " <a href=image_path(q.id, "png") download>"PNG"</a>
                                    " · " <a href=image_path(q.id, "svg") download>"SVG"</a>
                                    " · " <button type="button" onclick="window.print()">{Msg::StaticQrPrint.text(lang)}</button>
                                </p>
                                <section class="plate" data-testid="plate">
                                    <p class="plate-store">{q.store_name.clone()}</p>
                                    <p class="plate-sbp">{Msg::PayBySbp.text(lang)}</p>
                                    <div class="plate-qr" inner_html=q.qr_svg.clone()></div>
                                    <p class="plate-name" data-testid="plate-name">{q.name.clone()}</p>
                                    {q.purpose.clone().map(|p| view! { <p class="plate-purpose">{p}</p> })}
                                    {q.amount.map(|k| view! { <p class="plate-amount">{format_money(k, lang)}</p> })}
                                </section>
                            }.into_any(),
                        },
                    }
                })}
            </Suspense>
        </ConsoleLayout>
    }
}
