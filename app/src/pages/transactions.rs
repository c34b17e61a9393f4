//! «Транзакции»: the store's latest payments, read through the backend like every page.

use crate::api::transactions::list_transactions;
use crate::components::layout::{ConsoleLayout, use_lang};
use crate::i18n::{Msg, format_money};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn TransactionsPage() -> impl IntoView {
    let lang = use_lang();
    view! {
        <Title text=format!("{} · qrpay", Msg::Transactions.text(lang))/>
        <ConsoleLayout active=Msg::Transactions>
            <h1>{Msg::Transactions.text(lang)}</h1>
            <Suspense>
                {move || Suspend::new(async move {
                    match list_transactions().await {
                        Err(e) => view! { <p class="form-error" role="alert">{e.message().text(lang)}</p> }.into_any(),
                        Ok(list) => view! {
                            <p class="lead">
                                {Msg::TransactionsLead.text(lang)} ": " {list.store_name.clone()} " · "
                                {Msg::TimeZone.text(lang)} " " {list.time_zone.clone()}
                            </p>
                            {if list.rows.is_empty() {
                                view! { <p data-testid="no-transactions">{Msg::NoTransactions.text(lang)}</p> }.into_any()
                            } else {
                                view! {
                                    <table class="grid" data-testid="transactions">
                                        <thead><tr>
                                            <th>{Msg::ColTime.text(lang)}</th>
                                            <th class="num">{Msg::ColAmount.text(lang)}</th>
                                            <th>{Msg::ColStatus.text(lang)}</th>
                                            <th>{Msg::ColReceipt.text(lang)}</th>
                                            <th>{Msg::ColTill.text(lang)}</th>
                                        </tr></thead>
                                        <tbody>
                                            {list.rows.into_iter().map(|r| {
                                                let status = Msg::for_status(&r.status).map(|m| m.text(lang).to_owned()).unwrap_or(r.status.clone());
                                                view! {
                                                    <tr data-testid="transaction-row" data-payment-id=r.payment_id.clone()>
                                                        <td class="time">{r.local_time}</td>
                                                        <td class="num" data-testid="amount">
                                                            {format_money(r.amount, lang)}
                                                            {(r.refunded_amount > 0).then(|| view! {
                                                                <small class="refunded">" (" {Msg::Refunded.text(lang)} " " {format_money(r.refunded_amount, lang)} ")"</small>
                                                            })}
                                                        </td>
                                                        <td><span class=format!("status status-{}", r.status) data-testid="status">{status}</span></td>
                                                        <td data-testid="receipt">{r.receipt}</td>
                                                        <td data-testid="till">{r.till}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                        }.into_any(),
                    }
                })}
            </Suspense>
        </ConsoleLayout>
    }
}
