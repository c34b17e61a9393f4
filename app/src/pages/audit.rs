//! «Журнал»: the latest configuration changes and refunds, who made them and what changed.
//! Admin and support.

use crate::api::audit::list_audit;
use crate::backend::audit::AuditRefund;
use crate::backend::transactions::url_encode;
use crate::components::layout::{ConsoleLayout, use_lang};
use crate::components::page_error::PageError;
use crate::i18n::{Lang, Msg, format_money};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AuditPage() -> impl IntoView {
    let lang = use_lang();
    view! {
        <Title text=Msg::Audit.text(lang)/>
        <ConsoleLayout active=Msg::Audit>
            <h1>{Msg::Audit.text(lang)}</h1>
            <p class="lead">{Msg::AuditLead.text(lang)}</p>
            <Suspense>
                {move || Suspend::new(async move {
                    match list_audit().await {
                        Err(e) => view! { <PageError error=e/> }.into_any(),
                        Ok(rows) if rows.is_empty() => view! { <p data-testid="no-audit">{Msg::NoAudit.text(lang)}</p> }.into_any(),
                        Ok(rows) => view! {
                            <table class="grid" data-testid="audit">
                                <thead><tr>
                                    <th>{Msg::ColTime.text(lang)}</th>
                                    <th>{Msg::ColWho.text(lang)}</th>
                                    <th>{Msg::ColAction.text(lang)}</th>
                                    <th>{Msg::ColObject.text(lang)}</th>
                                    <th>{Msg::ColBefore.text(lang)}</th>
                                    <th>{Msg::ColAfter.text(lang)}</th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|r| match r.refund {
                                        Some(refund) => refund_row(r.local_time, r.login, refund, lang).into_any(),
                                        None => view! {
                                            <tr data-testid="audit-row">
                                                <td class="time">{r.local_time}</td>
                                                <td data-testid="who">{r.login}</td>
                                                <td data-testid="action">{r.action}</td>
                                                <td data-testid="entity">{r.entity} " #" {r.entity_id}</td>
                                                <td data-testid="before">{json_cell(r.before)}</td>
                                                <td data-testid="after">{json_cell(r.after)}</td>
                                            </tr>
                                        }.into_any(),
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </ConsoleLayout>
    }
}

/// The JSON of a before/after column, or a dash when there was none (created, deleted).
fn json_cell(json: String) -> impl IntoView {
    if json.is_empty() {
        view! { "—" }.into_any()
    } else {
        view! { <code class="json">{json}</code> }.into_any()
    }
}

/// A refund as a sentence: the amount, the reason and the refund's id, linked to its transaction.
fn refund_row(local_time: String, login: String, r: AuditRefund, lang: Lang) -> impl IntoView {
    let href = format!("/console/transactions/{}", url_encode(&r.payment_id));
    view! {
        <tr data-testid="audit-row" data-kind="refund">
            <td class="time">{local_time}</td>
            <td data-testid="who">{login}</td>
            <td data-testid="action">{Msg::AuditRefund.text(lang)}</td>
            <td data-testid="entity">
                {Msg::AuditTransaction.text(lang)} " "
                <a href=href data-testid="refund-payment"><code>{r.payment_id}</code></a>
            </td>
            <td data-testid="before">"—"</td>
            <td data-testid="after">
                <strong data-testid="refund-amount">{format_money(r.amount, lang)}</strong>
                {r.reason.map(|reason| view! {
                    " · " {Msg::AuditReason.text(lang)} " «" <span data-testid="refund-reason">{reason}</span> "»"
                })}
                " · " {Msg::AuditRefund.text(lang)} " " <code data-testid="refund-id">{r.refund_id}</code>
            </td>
        </tr>
    }
}
