//! «Сверка»: upload the bank's registry of SBP operations, see what differs from qrpay, and the
//! comparisons kept before. Support and admins. The form posts a file (multipart) to the server,
//! which redirects back here with the kept comparison's id.

use crate::api::reconcile::{AskBankAboutPayment, get_reconciliation, list_reconciliations};
use crate::backend::reconcile::{ReconcileDetail, ReconcileMismatch, settled_text};
use crate::backend::transactions::url_encode;
use crate::components::layout::{ConsoleLayout, use_lang};
use crate::components::page_error::PageError;
use crate::i18n::{Lang, Msg, format_money};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Where the upload form posts (handled outside Leptos: a registry may be megabytes).
pub const UPLOAD_PATH: &str = "/console/reconcile/upload";

/// What went wrong with an upload, by the code the server redirects with (never a text from the
/// URL).
fn failure(code: &str) -> Option<Msg> {
    Some(match code {
        "not_registry" => Msg::ReconcileNotRegistry,
        "merchant" => Msg::ReconcileNoMerchant,
        "no_file" => Msg::ReconcileNoFile,
        _ => return None,
    })
}

/// The words for a difference's code.
fn kind_text(kind: &str) -> Msg {
    match kind {
        "paid_at_bank_not_in_qrpay" => Msg::MismatchPaidAtBank,
        "paid_in_qrpay_missing_at_bank" => Msg::MismatchPaidInQrpay,
        "amount_differs" => Msg::MismatchAmount,
        "refund_at_bank_not_in_qrpay" => Msg::MismatchRefundAtBank,
        "refund_in_qrpay_missing_at_bank" => Msg::MismatchRefundInQrpay,
        "refund_amount_differs" => Msg::MismatchRefundAmount,
        _ => Msg::MismatchTotal,
    }
}

#[component]
pub fn ReconcilePage() -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map().get_untracked();
    let shown: Option<i64> = query.get("id").and_then(|s| s.parse().ok());
    let failed = query.get("failed").and_then(|c| failure(&c));
    // The confirmation step of «Спросить банк» (a link, so it works without JavaScript), and
    // the outcome the action redirects back with.
    let ask = query.get("ask").filter(|p| !p.is_empty());
    let settled = query.get("outcome").and_then(|c| settled_text(&c));
    let action = ServerAction::<AskBankAboutPayment>::new();
    let ask_failed = action.value().get_untracked().and_then(Result::err);
    view! {
        <Title text=Msg::Reconcile.text(lang)/>
        <ConsoleLayout active=Msg::Reconcile>
            <h1>{Msg::Reconcile.text(lang)}</h1>
            <p class="lead">{Msg::ReconcileLead.text(lang)}</p>
            <form class="card form" method="post" action=UPLOAD_PATH enctype="multipart/form-data" data-testid="reconcile-form">
                <label>
                    {Msg::ReconcileFile.text(lang)}
                    <input type="file" name="registry" accept=".csv,text/csv" required/>
                </label>
                {failed.map(|m| view! { <p class="form-error" role="alert" data-testid="reconcile-error">{m.text(lang)}</p> })}
                <button type="submit">{Msg::ReconcileRun.text(lang)}</button>
            </form>
            <Suspense>
                {move || {
                    let (ask, ask_failed) = (ask.clone(), ask_failed.clone());
                    Suspend::new(async move {
                    let detail = match shown {
                        Some(id) => get_reconciliation(id).await,
                        None => Ok(None),
                    };
                    let list = list_reconciliations().await;
                    match (detail, list) {
                        (Err(e), _) | (_, Err(e)) => view! { <PageError error=e/> }.into_any(),
                        (Ok(detail), Ok(list)) => view! {
                            {ask_failed.clone().map(|e| view! { <p class="form-error" role="alert" data-testid="ask-bank-error">{e.message().text(lang)}</p> })}
                            {settled.map(|m| view! { <p class="notice" role="status" data-testid="ask-bank-outcome">{m.text(lang)}</p> })}
                            {detail.as_ref().zip(ask.clone()).map(|(d, payment_id)| ask_view(d.summary.id, payment_id, action, lang))}
                            {detail.map(|d| detail_view(d, lang))}
                            <h2>{Msg::ReconcileKept.text(lang)}</h2>
                            {if list.is_empty() {
                                view! { <p data-testid="no-reconciliations">{Msg::ReconcileNone.text(lang)}</p> }.into_any()
                            } else {
                                view! {
                                    <table class="grid" data-testid="reconciliations">
                                        <thead><tr>
                                            <th>{Msg::ColTime.text(lang)}</th>
                                            <th>{Msg::ColWho.text(lang)}</th>
                                            <th>{Msg::ReconcileRegistry.text(lang)}</th>
                                            <th>{Msg::ReconcileDays.text(lang)}</th>
                                            <th>{Msg::ReconcileDifferences.text(lang)}</th>
                                        </tr></thead>
                                        <tbody>
                                            {list.into_iter().map(|r| view! {
                                                <tr data-testid="reconciliation-row">
                                                    <td class="time"><a href=format!("/console/reconcile?id={}", r.id)>{r.local_time}</a></td>
                                                    <td>{r.login}</td>
                                                    <td>{r.registry_name} " · " {r.merchant}</td>
                                                    <td>{r.days}</td>
                                                    <td class="num">{r.mismatches}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                        }.into_any(),
                    }
                })}}
            </Suspense>
        </ConsoleLayout>
    }
}

fn detail_view(d: ReconcileDetail, lang: Lang) -> impl IntoView {
    let clean = d.mismatches.is_empty();
    view! {
        <section class="card" data-testid="reconciliation">
            <h2>{Msg::ReconcileResult.text(lang)} " · " {d.summary.registry_name.clone()}</h2>
            <p>
                {d.summary.merchant.clone()} " · " {d.stores.join(", ")} " · " {d.summary.days.clone()}
                " · " {Msg::ReconcileLines.text(lang)} ": " {d.summary.lines}
            </p>
            <table class="grid totals" data-testid="reconcile-totals">
                <thead><tr>
                    <th></th>
                    <th>{Msg::ReconcilePayments.text(lang)}</th>
                    <th>{Msg::ReconcileRefunds.text(lang)}</th>
                    <th>{Msg::ReconcileFees.text(lang)}</th>
                </tr></thead>
                <tbody>
                    <tr><th>{Msg::ReconcileBank.text(lang)}</th>
                        <td class="num">{format_money(d.bank_payments, lang)}</td>
                        <td class="num">{format_money(d.bank_refunds, lang)}</td>
                        <td class="num">{format_money(d.bank_fees, lang)}</td></tr>
                    <tr><th>"qrpay"</th>
                        <td class="num">{format_money(d.qrpay_payments, lang)}</td>
                        <td class="num">{format_money(d.qrpay_refunds, lang)}</td>
                        <td></td></tr>
                </tbody>
            </table>
            {if clean {
                view! { <p class="notice" data-testid="reconcile-clean">{Msg::ReconcileClean.text(lang)}</p> }.into_any()
            } else {
                view! {
                    <table class="grid" data-testid="mismatches">
                        <thead><tr>
                            <th>{Msg::ReconcileDifference.text(lang)}</th>
                            <th>{Msg::ReconcileRef.text(lang)}</th>
                            <th>{Msg::ReconcileBank.text(lang)}</th>
                            <th>"qrpay"</th>
                        </tr></thead>
                        <tbody>{d.mismatches.into_iter().map(|m| mismatch_row(d.summary.id, m, lang)).collect_view()}</tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

/// The confirmation step of «Спросить банк» for `payment_id`.
fn ask_view(
    id: i64,
    payment_id: String,
    action: ServerAction<AskBankAboutPayment>,
    lang: Lang,
) -> impl IntoView {
    view! {
        <section class="card" id="ask-bank" data-testid="ask-bank">
            <h2>{Msg::ReconcileAskBank.text(lang)} " · " <code>{payment_id.clone()}</code></h2>
            <ActionForm action=action attr:class="form confirm" attr:data-testid="ask-bank-form">
                <input type="hidden" name="id" value=id.to_string()/>
                <input type="hidden" name="payment_id" value=payment_id/>
                <p class="confirm-question">{Msg::ReconcileAskLead.text(lang)}</p>
                <button type="submit" data-testid="ask-bank-confirm">{Msg::ReconcileAskBank.text(lang)}</button>
                " " <a href=format!("/console/reconcile?id={id}") data-testid="ask-bank-cancel">{Msg::ReconcileAskCancel.text(lang)}</a>
            </ActionForm>
        </section>
    }
}

fn mismatch_row(id: i64, m: ReconcileMismatch, lang: Lang) -> impl IntoView {
    let status = m
        .qrpay_status
        .as_deref()
        .and_then(Msg::for_status)
        .map(|s| s.text(lang).to_owned())
        .or(m.qrpay_status.clone())
        .unwrap_or_default();
    // The support action that resolves "paid at the bank, not in qrpay" for a payment qrpay
    // holds (one it has never heard of has nothing to settle).
    let ask = m
        .payment_id
        .clone()
        .filter(|_| m.kind == "paid_at_bank_not_in_qrpay")
        .map(|p| {
            let href = format!("/console/reconcile?id={id}&ask={}#ask-bank", url_encode(&p));
            view! { " " <a class="button" href=href data-testid="ask-bank-link">{Msg::ReconcileAskBank.text(lang)}</a> }
        });
    let payment = m.payment_id.map(|id| {
        let href = format!("/console/transactions/{}", url_encode(&id));
        view! { <a href=href><code>{id}</code></a> }
    });
    view! {
        <tr data-testid="mismatch" data-kind=m.kind.clone()>
            <td>{kind_text(&m.kind).text(lang)}</td>
            <td><code>{m.bank_ref}</code>{m.line.map(|l| format!(" ({} {l})", Msg::ReconcileLine.text(lang)))}</td>
            <td class="num">{m.bank_amount.map(|a| format_money(a, lang))}</td>
            <td>{m.qrpay_amount.map(|a| format_money(a, lang))} " " {status} " " {payment} {ask}</td>
        </tr>
    }
}
