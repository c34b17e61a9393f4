//! «Транзакции»: the store's payments, newest first, filtered by a GET form (works without
//! JavaScript), one page at a time («Дальше» carries the last row's time and id), with the
//! totals of the filter (marked partial when the server capped them) and a CSV export of it.

use crate::api::transactions::search_transactions;
use crate::backend::transactions::STATUSES;
use crate::backend::transactions::{TransactionQuery, status_words, url_encode};
use crate::components::layout::{ConsoleLayout, use_lang};
use crate::components::page_error::PageError;
use crate::error::FormErrors;
use crate::i18n::{Msg, format_money};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn TransactionsPage() -> impl IntoView {
    let lang = use_lang();
    let params = use_query_map().get_untracked();
    let mut query = TransactionQuery::default();
    for f in TransactionQuery::FIELDS {
        if let Some(v) = params.get(f) {
            query.set(f, &v);
        }
    }
    view! {
        <Title text=Msg::Transactions.text(lang)/>
        <ConsoleLayout active=Msg::Transactions>
            <h1>{Msg::Transactions.text(lang)}</h1>
            <Suspense>
                {move || {
                    let query = query.clone();
                    Suspend::new(async move {
                        match search_transactions(query.clone()).await {
                            Err(e) => view! { <PageError error=e/> }.into_any(),
                            Ok(page) => {
                                let errors = FormErrors { fields: page.errors.clone(), ..Default::default() };
                                let err = |name: &'static str| errors.error(name).map(|m| view! {
                                    <p class="field-error" data-testid=format!("error-{name}")>{m.text(lang)}</p>
                                });
                                // Capped totals are lower bounds and read as such: «более 10000», «не менее …».
                                let capped = page.totals_capped;
                                let at_least = move |word: Msg, figure: String| {
                                    if capped { format!("{} {figure}", word.text(lang)) } else { figure }
                                };
                                let filter = query.filter_query();
                                let csv = if filter.is_empty() { "/console/transactions.csv".to_owned() } else { format!("/console/transactions.csv?{filter}") };
                                let next = page.next.clone().map(|n| {
                                    let sep = if filter.is_empty() { "" } else { "&" };
                                    format!("/console/transactions?{filter}{sep}after={}", url_encode(&n))
                                });
                                view! {
                                    <p class="lead">
                                        {page.store_name.clone()} " · " {Msg::TimeZone.text(lang)} " " {page.time_zone.clone()}
                                    </p>
                                    <form method="get" action="/console/transactions" class="card filters" data-testid="filters">
                                        <label>{Msg::FilterStatus.text(lang)}
                                            <select name="status" data-testid="filter-status">
                                                <option value="">{Msg::FilterAny.text(lang)}</option>
                                                {STATUSES.iter().map(|s| view! {
                                                    <option value=*s selected=query.status == *s>
                                                        {Msg::for_status(s).map(|m| m.text(lang)).unwrap_or(s)}
                                                    </option>
                                                }).collect_view()}
                                            </select>
                                        </label>
                                        {err("status")}
                                        <label>{Msg::FilterFrom.text(lang)}
                                            <input type="date" name="from" value=query.from.clone() data-testid="filter-from"/>
                                        </label>
                                        {err("from")}
                                        <label>{Msg::FilterTo.text(lang)}
                                            <input type="date" name="to" value=query.to.clone() data-testid="filter-to"/>
                                        </label>
                                        {err("to")}
                                        <label>{Msg::FilterTill.text(lang)}
                                            <select name="till" data-testid="filter-till">
                                                <option value="">{Msg::FilterAny.text(lang)}</option>
                                                {page.tills.iter().map(|(id, name)| view! {
                                                    <option value=id.clone() selected=query.till == *id>{name.clone()}</option>
                                                }).collect_view()}
                                            </select>
                                        </label>
                                        {err("till")}
                                        <label>{Msg::FilterMin.text(lang)}
                                            <input name="min" inputmode="decimal" value=query.min.clone() data-testid="filter-min"/>
                                        </label>
                                        {err("min")}
                                        <label>{Msg::FilterMax.text(lang)}
                                            <input name="max" inputmode="decimal" value=query.max.clone() data-testid="filter-max"/>
                                        </label>
                                        {err("max")}
                                        <label class="wide">{Msg::FilterText.text(lang)}
                                            <input type="search" name="q" value=query.q.clone() data-testid="filter-q"/>
                                        </label>
                                        {err("q")}
                                        <label class="check">
                                            <input type="checkbox" name="test" value="1" checked=query.include_test() data-testid="filter-test"/>
                                            {Msg::FilterTestInTotals.text(lang)}
                                        </label>
                                        {page.text_exact_only.then(|| view! {
                                            <p class="field-note" data-testid="note-q">{Msg::TextExactOnly.text(lang)}</p>
                                        })}
                                        {err("after")}
                                        <div class="actions">
                                            <button type="submit" data-testid="filter-apply">{Msg::FilterApply.text(lang)}</button>
                                            <a href="/console/transactions" data-testid="filter-reset">{Msg::FilterReset.text(lang)}</a>
                                            <a href=csv data-testid="export-csv">{Msg::ExportCsv.text(lang)}</a>
                                        </div>
                                    </form>
                                    <p class="totals" data-testid="totals" data-partial=page.totals_capped.to_string()>
                                        {Msg::TotalCount.text(lang)} ": " <b data-testid="total-count">{at_least(if page.total_count_at_least { Msg::TotalAtLeast } else { Msg::TotalMoreThan }, page.total_count.to_string())}</b> " · "
                                        {Msg::TotalAmount.text(lang)} ": " <b data-testid="total-amount">{at_least(Msg::TotalAtLeast, format_money(page.total_amount, lang))}</b> " · "
                                        {Msg::TotalRefunded.text(lang)} ": " <b data-testid="total-refunded">{at_least(Msg::TotalAtLeast, format_money(page.total_refunded, lang))}</b>
                                        " · "
                                        <span data-testid="totals-test">
                                            {if query.include_test() { Msg::DashTestIncluded.text(lang) } else { Msg::DashTestExcluded.text(lang) }}
                                        </span>
                                    </p>
                                    {page.totals_capped.then(|| view! {
                                        <p class="field-note" data-testid="totals-partial">{Msg::TotalsPartial.text(lang)}</p>
                                    })}
                                    {page.searched_back_to.clone().map(|at| view! {
                                        <p class="field-note" data-testid="searched-back-to">
                                            {Msg::SearchedBackTo.text(lang)} " " <b data-testid="searched-back-to-time">{at}</b> {Msg::SearchedBackToRest.text(lang)}
                                        </p>
                                    })}
                                    {if page.rows.is_empty() && page.searched_back_to.is_some() {
                                        view! { <p data-testid="no-matches-yet">{Msg::NoMatchesYet.text(lang)}</p> }.into_any()
                                    } else if page.rows.is_empty() {
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
                                                    {page.rows.into_iter().map(|r| {
                                                        let status = status_words(&r.status, r.late, r.amount, r.refunded_amount).map(|m| m.text(lang).to_owned()).unwrap_or(r.status.clone());
                                                        let href = format!("/console/transactions/{}", url_encode(&r.payment_id));
                                                        view! {
                                                            <tr data-testid="transaction-row" data-payment-id=r.payment_id.clone()>
                                                                <td class="time"><a href=href data-testid="open">{r.local_time}</a></td>
                                                                <td class="num" data-testid="amount">
                                                                    {format_money(r.amount, lang)}
                                                                    {(r.refunded_amount > 0).then(|| view! {
                                                                        <small class="refunded">" (" {Msg::Refunded.text(lang)} " " {format_money(r.refunded_amount, lang)} ")"</small>
                                                                    })}
                                                                </td>
                                                                <td><span class=format!("status status-{}", r.status) data-testid="status">{status}</span></td>
                                                                <td><span data-testid="receipt">{r.receipt}</span> {r.test.then(|| crate::pages::dashboard::test_badge(lang))}</td>
                                                                <td data-testid="till">{r.till}</td>
                                                            </tr>
                                                        }
                                                    }).collect_view()}
                                                </tbody>
                                            </table>
                                        }.into_any()
                                    }}
                                    {next.map(|href| view! { <p class="pager"><a href=href data-testid="next-page">{Msg::Next.text(lang)} " →"</a></p> })}
                                }.into_any()
                            }
                        }
                    })
                }}
            </Suspense>
        </ConsoleLayout>
    }
}
