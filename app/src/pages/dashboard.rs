//! «Сводка», the console's first page: today's paid payments, a bar chart of the last 14 days
//! (server-drawn SVG with its numbers also in a table for screen readers), the payments pending
//! now and the late payments still to refund. Every role.

use crate::api::dashboard::get_dashboard;
use crate::backend::dashboard::DashboardDay;
use crate::backend::transactions::{TransactionRow, url_encode};
use crate::components::layout::{ConsoleLayout, use_lang};
use crate::components::page_error::PageError;
use crate::i18n::{Lang, Msg, format_money};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let lang = use_lang();
    // `?test=1`: the figures count test payments too (by default real money only).
    let include_test = use_query_map().get_untracked().get("test").as_deref() == Some("1");
    view! {
        <Title text=Msg::Dashboard.text(lang)/>
        <ConsoleLayout active=Msg::Dashboard>
            <h1>{Msg::Dashboard.text(lang)}</h1>
            <Suspense>
                {move || Suspend::new(async move {
                    match get_dashboard(include_test).await {
                        Err(e) => view! { <PageError error=e/> }.into_any(),
                        Ok(d) => {
                            let today = d.today().cloned().unwrap_or(DashboardDay { date: String::new(), count: 0, amount: 0, refunded: 0 });
                            let chart = bar_chart(&d.days, lang);
                            view! {
                                <p class="lead" data-testid="store">{d.store_name.clone()} " · " {Msg::TimeZone.text(lang)} ": " {d.time_zone.clone()}</p>
                                <p class="muted" data-testid="test-filter">
                                    {if d.include_test {
                                        view! { {Msg::DashTestIncluded.text(lang)} " " <a href="/console" data-testid="hide-test">{Msg::DashHideTest.text(lang)}</a> }.into_any()
                                    } else {
                                        view! { {Msg::DashTestExcluded.text(lang)} " " <a href="/console?test=1" data-testid="show-test">{Msg::DashShowTest.text(lang)}</a> }.into_any()
                                    }}
                                </p>
                                <section class="tiles" aria-label=Msg::DashToday.text(lang) data-testid="today">
                                    <h2>{Msg::DashToday.text(lang)} " " <span class="muted">{today.date.clone()}</span></h2>
                                    <div class="tile"><span>{Msg::DashPaidCount.text(lang)}</span><b data-testid="today-count">{today.count}</b></div>
                                    <div class="tile"><span>{Msg::DashPaidSum.text(lang)}</span><b data-testid="today-amount">{format_money(today.amount, lang)}</b></div>
                                    <div class="tile"><span>{Msg::DashRefunded.text(lang)}</span><b data-testid="today-refunded">{format_money(today.refunded, lang)}</b></div>
                                </section>
                                <section class="card chart" data-testid="chart">
                                    <h2>{Msg::DashChart.text(lang)}</h2>
                                    <p class="muted">{Msg::DashChartLead.text(lang)}</p>
                                    <div inner_html=chart></div>
                                    <table class="visually-hidden" data-testid="chart-table">
                                        <caption>{Msg::DashChart.text(lang)}</caption>
                                        <thead><tr>
                                            <th scope="col">{Msg::DashDay.text(lang)}</th>
                                            <th scope="col">{Msg::DashPaidCount.text(lang)}</th>
                                            <th scope="col">{Msg::DashPaidSum.text(lang)}</th>
                                        </tr></thead>
                                        <tbody>
                                            {d.days.iter().map(|day| view! {
                                                <tr data-testid="chart-day" data-date=day.date.clone()>
                                                    <th scope="row">{day.date.clone()}</th>
                                                    <td data-testid="day-count">{day.count}</td>
                                                    <td data-testid="day-amount">{format_money(day.amount, lang)}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </section>
                                <section class="card" data-testid="pending">
                                    <h2>{Msg::DashPending.text(lang)}</h2>
                                    {payment_table(d.pending, "pending-row", Msg::DashNoPending, lang)}
                                    {d.more_pending.then(|| view! {
                                        <p><a href="/console/transactions?status=pending" data-testid="more-pending">{Msg::DashMore.text(lang)}</a></p>
                                    })}
                                </section>
                                <section class="card" data-testid="late">
                                    <h2>{Msg::DashLate.text(lang)}</h2>
                                    <p class="muted">{Msg::DashLateLead.text(lang)}</p>
                                    {payment_table(d.late, "late-row", Msg::DashNoLate, lang)}
                                    {d.more_late.then(|| view! { <p data-testid="more-late">{Msg::DashLateMore.text(lang)}</p> })}
                                </section>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </ConsoleLayout>
    }
}

/// The «Тест» badge of a payment made on a test module.
pub fn test_badge(lang: Lang) -> impl IntoView {
    view! { <span class="badge test" data-testid="test-badge" title=Msg::TestPayment.text(lang)>{Msg::TestBadge.text(lang)}</span> }
}

/// Payments with links to their detail pages, or a line saying there are none.
fn payment_table(
    rows: Vec<TransactionRow>,
    row_id: &'static str,
    empty: Msg,
    lang: Lang,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p data-testid=format!("no-{row_id}")>{empty.text(lang)}</p> }.into_any();
    }
    view! {
        <table class="grid">
            <thead><tr>
                <th>{Msg::ColTime.text(lang)}</th>
                <th class="num">{Msg::ColAmount.text(lang)}</th>
                <th>{Msg::ColReceipt.text(lang)}</th>
                <th>{Msg::ColTill.text(lang)}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let href = format!("/console/transactions/{}", url_encode(&r.payment_id));
                    view! {
                        <tr data-testid=row_id data-payment-id=r.payment_id.clone()>
                            <td class="time"><a href=href data-testid="open">{r.local_time}</a></td>
                            <td class="num" data-testid="amount">
                                {format_money(r.amount, lang)}
                                {(r.refunded_amount > 0).then(|| view! {
                                    <small class="refunded">" (" {Msg::Refunded.text(lang)} " " {format_money(r.refunded_amount, lang)} ")"</small>
                                })}
                            </td>
                            <td><span data-testid="receipt">{r.receipt}</span> {r.test.then(|| test_badge(lang))}</td>
                            <td data-testid="till">{r.till}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Escapes text for SVG/XML content and attributes.
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The days as an SVG bar chart: the paid amount as bars, the number of payments above each,
/// the day below. It has a title and a description with every number, and each bar its own
/// title; the same numbers are in a visually hidden table beside it. No script needed.
pub fn bar_chart(days: &[DashboardDay], lang: Lang) -> String {
    const SLOT: usize = 52;
    const BAR: usize = 34;
    const TOP: usize = 24;
    const HEIGHT: usize = 150;
    let width = SLOT * days.len().max(1);
    let max = days.iter().map(|d| d.amount).max().unwrap_or(0).max(1);
    let title = Msg::DashChart.text(lang);
    let desc = days
        .iter()
        .map(|d| format!("{}: {}, {}", d.date, d.count, format_money(d.amount, lang)))
        .collect::<Vec<_>>()
        .join("; ");
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="bars" role="img" viewBox="0 0 {width} {h}" aria-labelledby="chart-title chart-desc" data-testid="chart-svg"><title id="chart-title">{t}</title><desc id="chart-desc">{desc}</desc>"#,
        h = TOP + HEIGHT + 24,
        t = xml(title),
        desc = xml(&desc),
    );
    svg.push_str(&format!(
        r#"<line x1="0" x2="{width}" y1="{y}" y2="{y}" class="axis"/>"#,
        y = TOP + HEIGHT
    ));
    for (i, d) in days.iter().enumerate() {
        // Amounts up to 10^16 kopecks fit an f64 exactly enough for a pixel height.
        let h = (d.amount.max(0) as f64 / max as f64 * HEIGHT as f64).round() as usize;
        let x = i * SLOT + (SLOT - BAR) / 2;
        let y = TOP + HEIGHT - h;
        let day_label = d.date.get(8..10).unwrap_or(&d.date);
        let month = d.date.get(5..7).unwrap_or("");
        svg.push_str(&format!(
            r#"<g class="day" data-date="{date}"><title>{date}: {count}, {money}</title><rect x="{x}" y="{y}" width="{BAR}" height="{h}" class="bar"/><text x="{cx}" y="{ty}" class="count" text-anchor="middle">{count}</text><text x="{cx}" y="{dy}" class="date" text-anchor="middle">{day_label}.{month}</text></g>"#,
            date = xml(&d.date),
            count = d.count,
            money = xml(&format_money(d.amount, lang)),
            cx = x + BAR / 2,
            ty = y.saturating_sub(6).max(12),
            dy = TOP + HEIGHT + 18,
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, count: i64, amount: i64) -> DashboardDay {
        DashboardDay {
            date: date.into(),
            count,
            amount,
            refunded: 0,
        }
    }

    #[test]
    fn the_chart_has_a_bar_per_day_a_title_and_every_number_in_its_description() {
        let days = [
            day("2026-03-01", 0, 0),
            day("2026-03-02", 2, 150_000),
            day("2026-03-03", 1, 75_000),
        ];
        let svg = bar_chart(&days, Lang::Ru);
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains(r#"<title id="chart-title">Оплаты за 14 дней</title>"#));
        assert!(svg.contains("2026-03-02: 2, 1\u{a0}500,00\u{a0}₽"));
        // The largest day fills the height; a day without payments has no height at all.
        assert!(svg.contains(r#"height="150" class="bar""#), "{svg}");
        assert!(svg.contains(r#"height="75" class="bar""#), "{svg}");
        assert!(svg.contains(r#"height="0" class="bar""#), "{svg}");
        assert!(svg.contains(">01.03</text>"));
    }

    #[test]
    fn a_chart_of_days_without_payments_draws_zero_bars() {
        let days: Vec<_> = (1..=14)
            .map(|d| day(&format!("2026-03-{d:02}"), 0, 0))
            .collect();
        let svg = bar_chart(&days, Lang::En);
        assert_eq!(svg.matches(r#"height="0" class="bar""#).count(), 14);
        assert!(!svg.contains("NaN"));
    }
}
