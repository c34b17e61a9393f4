//! «Кассы» → a till → «Кассовая ссылка»: the till's link and its A6 plate (the store, «Оплата по
//! СБП», the QR, the till), with «Выпустить» (register a new link at the bank) and «Привязать
//! табличку» (bind a plate the bank printed, by its id). Works without JavaScript. Admins only.

use crate::api::cash_link::{BindCashLink, IssueCashLink, get_cash_link};
use crate::components::layout::{ConsoleLayout, field_error, use_lang};
use crate::components::page_error::PageError;
use crate::i18n::Msg;
use crate::pages::auth_servers::failure;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn CashLinkPage() -> impl IntoView {
    let lang = use_lang();
    let issue = ServerAction::<IssueCashLink>::new();
    let bind = ServerAction::<BindCashLink>::new();
    let (_, issue_error) = failure(issue.value().get_untracked().and_then(Result::err));
    let (bind_form, bind_error) = failure(bind.value().get_untracked().and_then(Result::err));
    let id = use_params_map()
        .get_untracked()
        .get("id")
        .unwrap_or_default();
    let notice = use_query_map()
        .get_untracked()
        .get("done")
        .and_then(|d| match d.as_str() {
            "issued" => Some(Msg::CashLinkIssued),
            "bound" => Some(Msg::CashLinkBound),
            _ => None,
        });
    view! {
        <Title text=format!("{} · qrpay", Msg::CashLink.text(lang))/>
        <ConsoleLayout active=Msg::Tills>
            <Suspense>
                {move || {
                    let id = id.clone();
                    let bind_form = bind_form.clone();
                    Suspend::new(async move {
                        match get_cash_link(id.clone()).await {
                            Err(e) => view! { <PageError error=e/> }.into_any(),
                            Ok(v) => {
                                let (till_id, bind_till_id) = (v.till_id.to_string(), v.till_id.to_string());
                                let plate_value = bind_form.value("qr_id").unwrap_or_default();
                                view! {
                                    <p class="no-print"><a href="/console/tills">{Msg::Tills.text(lang)}</a></p>
                                    <h1 class="no-print">{Msg::CashLink.text(lang)} " — " {v.till_name.clone()}</h1>
                                    {notice.map(|m| view! { <p class="notice no-print" data-testid="notice">{m.text(lang)}</p> })}
                                    {issue_error.map(|m| view! { <p class="form-error no-print" role="alert" data-testid="cash-link-error">{m.text(lang)}</p> })}
                                    <p class="muted no-print">{Msg::CashLinkLead.text(lang)}</p>
                                    {match v.link.clone() {
                                        None => view! { <p data-testid="no-cash-link" class="no-print">{Msg::CashLinkNone.text(lang)}</p> }.into_any(),
                                        Some(l) => view! {
                                            <p class="no-print" data-testid="cash-link-info">
                                                <code data-testid="cash-link-qr-id">{l.qr_id.clone()}</code>
                                                " · " {l.module.clone()} " · " {l.local_time.clone()}
                                                " · " <a href=l.page_url.clone() data-testid="cash-link-page">{Msg::StaticQrPlate.text(lang)}</a>
                                                " · " <a href=l.png_url.clone() download>"PNG"</a>
                                                " · " <a href=l.svg_url.clone() download>"SVG"</a>
                                                " · " <button type="button" onclick="window.print()">{Msg::StaticQrPrint.text(lang)}</button>
                                            </p>
                                            <section class="plate" data-testid="plate">
                                                <p class="plate-store">{v.store_name.clone()}</p>
                                                <p class="plate-sbp">{Msg::PayBySbp.text(lang)}</p>
                                                <div class="plate-qr" inner_html=l.qr_svg.clone()></div>
                                                <p class="plate-name" data-testid="plate-name">{v.till_name.clone()}</p>
                                            </section>
                                            <p class="muted no-print" data-testid="cash-link-payload"><code>{l.payload.clone()}</code></p>
                                            <p class="muted no-print">{Msg::CashLinkReplace.text(lang)}</p>
                                        }.into_any(),
                                    }}
                                    <div class="no-print">
                                        <ActionForm action=issue attr:class="card form" attr:data-testid="cash-link-issue-form">
                                            <input type="hidden" name="id" value=till_id/>
                                            <p class="buttons"><button type="submit" data-testid="cash-link-issue">{Msg::CashLinkIssue.text(lang)}</button></p>
                                        </ActionForm>
                                        <ActionForm action=bind attr:class="card form" attr:data-testid="cash-link-bind-form">
                                            <h2>{Msg::CashLinkBind.text(lang)}</h2>
                                            {bind_error.map(|m| view! { <p class="form-error" role="alert">{m.text(lang)}</p> })}
                                            <input type="hidden" name="id" value=bind_till_id/>
                                            <label>
                                                {Msg::CashLinkPlateId.text(lang)}
                                                <input name="qr_id" value=plate_value maxlength="32" data-testid="cash-link-plate-input"/>
                                            </label>
                                            {field_error(&bind_form, "qr_id", lang)}
                                            <p class="buttons"><button type="submit" data-testid="cash-link-bind">{Msg::CashLinkBind.text(lang)}</button></p>
                                        </ActionForm>
                                    </div>
                                }.into_any()
                            }
                        }
                    })
                }}
            </Suspense>
        </ConsoleLayout>
    }
}
