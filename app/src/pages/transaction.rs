//! One payment: amounts, ids, QR, status timeline, refunds, and (support and admin) the refund
//! form with its confirmation step. A pending payment's page refreshes itself every 5 seconds.

use crate::api::current_actor;
use crate::api::transactions::{RefundPayment, get_transaction};
use crate::backend::Role;
use crate::backend::transactions::{TransactionDetail, url_encode};
use crate::components::layout::{ConsoleLayout, field_error, use_lang};
use crate::components::page_error::PageError;
use crate::error::{ConsoleError, FormErrors};
use crate::i18n::{Lang, Msg, format_money};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn TransactionPage() -> impl IntoView {
    let lang = use_lang();
    let id = use_params_map()
        .get_untracked()
        .get("id")
        .unwrap_or_default();
    let done = use_query_map().get_untracked().get("done").as_deref() == Some("refund");
    let action = ServerAction::<RefundPayment>::new();
    let failed = action.value().get_untracked().and_then(Result::err);
    view! {
        <Title text=Msg::Payment.text(lang)/>
        <ConsoleLayout active=Msg::Transactions>
            <p><a href="/console/transactions" data-testid="back">{Msg::BackToList.text(lang)}</a></p>
            <Suspense>
                {move || {
                    let id = id.clone();
                    let failed = failed.clone();
                    Suspend::new(async move {
                        match get_transaction(id).await {
                            Err(e) => view! { <PageError error=e testid="detail-error"/> }.into_any(),
                            Ok(d) => detail_view(d, lang, done, action, failed).into_any(),
                        }
                    })
                }}
            </Suspense>
        </ConsoleLayout>
    }
}

fn status_text(status: &str, lang: Lang) -> String {
    Msg::for_status(status)
        .map(|m| m.text(lang).to_owned())
        .unwrap_or_else(|| status.to_owned())
}

fn refund_status_text(status: &str, lang: Lang) -> String {
    match status {
        "pending" => Msg::RefundStatusPending.text(lang).to_owned(),
        "completed" => Msg::RefundStatusCompleted.text(lang).to_owned(),
        "declined" => Msg::RefundStatusDeclined.text(lang).to_owned(),
        "unknown" => Msg::RefundStatusUnknown.text(lang).to_owned(),
        other => other.to_owned(),
    }
}

fn detail_view(
    d: TransactionDetail,
    lang: Lang,
    done: bool,
    action: ServerAction<RefundPayment>,
    failed: Option<ConsoleError>,
) -> impl IntoView {
    let pending = matches!(d.status.as_str(), "pending" | "creating");
    let id_row = |label: Msg, value: Option<String>, testid: &'static str| {
        view! {
            <tr><th>{label.text(lang)}</th><td><code data-testid=testid>{value.unwrap_or_else(|| "—".to_owned())}</code></td></tr>
        }
    };
    let may_refund = current_actor().is_some_and(|a| a.role >= Role::Support);
    let refund_form = (may_refund && d.status == "paid" && d.left() > 0)
        .then(|| refund_form(&d, lang, action, failed));
    view! {
        {pending.then(|| view! { <Meta http_equiv="refresh" content="5"/> })}
        <h1>
            {Msg::Payment.text(lang)} " " {format_money(d.amount, lang)} " "
            <span class=format!("status status-{}", d.status) data-testid="detail-status">{status_text(&d.status, lang)}</span>
            " " {d.test.then(|| crate::pages::dashboard::test_badge(lang))}
        </h1>
        {d.test.then(|| view! { <p class="test-banner" role="alert" data-testid="test-payment">{Msg::TestPayment.text(lang)}</p> })}
        {pending.then(|| view! { <p class="notice" data-testid="auto-refresh">{Msg::AutoRefresh.text(lang)}</p> })}
        {done.then(|| view! { <p class="notice" data-testid="refund-done">{Msg::RefundDone.text(lang)}</p> })}
        <div class="detail">
            <section class="card">
                <table class="props" data-testid="amounts">
                    <tr><th>{Msg::Paid.text(lang)}</th><td class="num" data-testid="paid">{format_money(if d.status == "paid" { d.amount } else { 0 }, lang)}</td></tr>
                    <tr><th>{Msg::TotalRefunded.text(lang)}</th><td class="num" data-testid="refunded">{format_money(d.refunded_amount, lang)}</td></tr>
                    <tr><th>{Msg::Left.text(lang)}</th><td class="num" data-testid="left">{format_money(if d.status == "paid" { d.left() } else { 0 }, lang)}</td></tr>
                </table>
                <table class="props" data-testid="ids">
                    {id_row(Msg::PaymentId, Some(d.payment_id.clone()), "payment-id")}
                    {id_row(Msg::ColReceipt, Some(d.receipt.clone()), "receipt")}
                    {id_row(Msg::OrderRef, Some(d.order_ref.clone()), "order-ref")}
                    {id_row(Msg::QrId, d.qr_id.clone(), "qr-id")}
                    {id_row(Msg::BankTransactionId, d.bank_transaction_id.clone(), "bank-transaction-id")}
                    <tr><th>{Msg::ColTill.text(lang)}</th><td data-testid="till">{d.till.clone()}</td></tr>
                    <tr><th>{Msg::PaymentType.text(lang)}</th><td data-testid="payment-type">{d.payment_type.clone()} " (" {d.module.clone()} ")"</td></tr>
                    <tr><th>{Msg::Created.text(lang)}</th><td>{d.local_time.clone()} " " <small>{d.time_zone.clone()}</small></td></tr>
                    {d.paid_local_time.clone().map(|t| view! { <tr><th>{Msg::PaidAt.text(lang)}</th><td>{t}</td></tr> })}
                </table>
            </section>
            {d.qr_svg.clone().map(|svg| view! {
                <section class="card qr" data-testid="qr-preview">
                    <h2>{Msg::QrPreview.text(lang)}</h2>
                    <div inner_html=svg></div>
                </section>
            })}
        </div>
        {refund_form}
        <section class="card">
            <h2>{Msg::Refunds.text(lang)}</h2>
            {if d.refunds.is_empty() {
                view! { <p data-testid="no-refunds">{Msg::NoRefunds.text(lang)}</p> }.into_any()
            } else {
                view! {
                    <table class="grid" data-testid="refunds">
                        <tbody>
                            {d.refunds.iter().map(|r| view! {
                                <tr data-testid="refund-row">
                                    <td class="time">{r.local_time.clone()}</td>
                                    <td class="num" data-testid="refund-amount">{format_money(r.amount, lang)}</td>
                                    <td data-testid="refund-status">{refund_status_text(&r.status, lang)}</td>
                                    <td>{r.reason.clone().unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section class="card">
            <h2>{Msg::Timeline.text(lang)}</h2>
            <ol class="timeline" data-testid="timeline">
                {d.timeline.iter().map(|e| view! {
                    <li data-testid="timeline-entry">
                        <span class="time">{e.local_time.clone()}</span> " "
                        {e.from_status.clone().map(|f| format!("{f} → "))}
                        <b>{e.to_status.clone()}</b> " · " <small>{e.trigger.clone()}</small>
                        {e.detail.clone().map(|x| view! { " · " <small>{x}</small> })}
                    </li>
                }).collect_view()}
            </ol>
        </section>
    }
}

fn refund_form(
    d: &TransactionDetail,
    lang: Lang,
    action: ServerAction<RefundPayment>,
    failed: Option<ConsoleError>,
) -> impl IntoView + use<> {
    let form = match &failed {
        Some(ConsoleError::Invalid(f)) => f.clone(),
        _ => FormErrors::default(),
    };
    let other_error = match &failed {
        Some(ConsoleError::Invalid(_)) | None => None,
        Some(e) => Some(e.message()),
    };
    let confirm_amount = (form.form == Some(Msg::RefundNeedsConfirm))
        .then(|| {
            form.value("confirm_amount")
                .and_then(|k| k.parse::<i64>().ok())
        })
        .flatten();
    let form_error = form.form.filter(|m| *m != Msg::RefundNeedsConfirm);
    let part = form.value("mode").as_deref() == Some("part");
    let amount = form.value("amount").unwrap_or_default();
    let reason = form.value("reason").unwrap_or_default();
    // A confirmation keeps its nonce: both steps are one refund.
    let nonce = form
        .value("nonce")
        .filter(|_| confirm_amount.is_some())
        .unwrap_or_else(|| d.refund_nonce.clone());
    let payment_id = d.payment_id.clone();
    let left = d.left();
    view! {
        <section class="card refund" data-testid="refund">
            <h2>{Msg::RefundTitle.text(lang)}</h2>
            {other_error.or(form_error).map(|m| view! { <p class="form-error" role="alert" data-testid="refund-error">{m.text(lang)}</p> })}
            {match confirm_amount {
                Some(k) => view! {
                    <ActionForm action=action attr:class="form confirm" attr:data-testid="refund-confirm-form">
                        <input type="hidden" name="payment_id" value=payment_id.clone()/>
                        <input type="hidden" name="mode" value=if part { "part" } else { "full" }/>
                        <input type="hidden" name="amount" value=amount.clone()/>
                        <input type="hidden" name="reason" value=reason.clone()/>
                        <input type="hidden" name="nonce" value=nonce.clone()/>
                        <input type="hidden" name="confirmed" value="true"/>
                        <p class="confirm-question" data-testid="refund-question">
                            {Msg::RefundAsk.text(lang)} " " {format_money(k, lang)} "?"
                        </p>
                        <button type="submit" data-testid="refund-confirm">{Msg::RefundConfirm.text(lang)}</button>
                        " " <a href=format!("/console/transactions/{}", url_encode(&payment_id)) data-testid="refund-cancel">{Msg::RefundCancel.text(lang)}</a>
                    </ActionForm>
                }.into_any(),
                None => view! {
                    <ActionForm action=action attr:class="form" attr:data-testid="refund-form">
                        <input type="hidden" name="payment_id" value=payment_id.clone()/>
                        <input type="hidden" name="nonce" value=nonce.clone()/>
                        <label class="choice">
                            <input type="radio" name="mode" value="full" checked=!part data-testid="refund-full"/>
                            {Msg::RefundFull.text(lang)} " (" {format_money(left, lang)} ")"
                        </label>
                        <label class="choice">
                            <input type="radio" name="mode" value="part" checked=part data-testid="refund-part"/>
                            {Msg::RefundPart.text(lang)}
                        </label>
                        <label>
                            {Msg::RefundAmount.text(lang)}
                            <input name="amount" inputmode="decimal" value=amount.clone() data-testid="refund-amount-input"/>
                        </label>
                        {field_error(&form, "amount", lang)}
                        <label>
                            {Msg::RefundReason.text(lang)}
                            <input name="reason" maxlength="140" value=reason.clone() data-testid="refund-reason"/>
                        </label>
                        {field_error(&form, "reason", lang)}
                        <button type="submit" data-testid="refund-submit">{Msg::RefundSubmit.text(lang)}</button>
                    </ActionForm>
                }.into_any(),
            }}
        </section>
    }
}
