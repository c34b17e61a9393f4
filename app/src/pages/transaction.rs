//! One payment: amounts, ids, QR (greyed once the payment has ended), status in words, the
//! timeline in words, refunds, and (support and admin) the support actions with their
//! confirmation step (`transaction_actions`). A pending payment's page refreshes itself every 5
//! seconds.

use crate::api::current_actor;
use crate::api::support::get_support_state;
use crate::api::transactions::get_transaction;
use crate::backend::Role;
use crate::backend::support::SupportState;
use crate::backend::transactions::{TimelineLine, TransactionDetail, status_words};
use crate::components::layout::{ConsoleLayout, use_lang};
use crate::components::page_error::PageError;
use crate::i18n::{Lang, Msg, format_money};
use crate::pages::transaction_actions::{Actions, actions_view, ask_refund_form};
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
    let query = use_query_map().get_untracked();
    let confirming = query.get("confirm");
    let done = query.get("done");
    let actions = Actions::new();
    let may_act = current_actor().is_some_and(|a| a.role >= Role::Support);
    view! {
        <Title text=Msg::Payment.text(lang)/>
        <ConsoleLayout active=Msg::Transactions>
            <p><a href="/console/transactions" data-testid="back">{Msg::BackToList.text(lang)}</a></p>
            <Suspense>
                {move || {
                    let id = id.clone();
                    let (confirming, done) = (confirming.clone(), done.clone());
                    Suspend::new(async move {
                        let state = if may_act {
                            get_support_state(id.clone()).await.unwrap_or_default()
                        } else {
                            SupportState::default()
                        };
                        match get_transaction(id).await {
                            Err(e) => view! { <PageError error=e testid="detail-error"/> }.into_any(),
                            Ok(d) => {
                                // The session's question and result show only on the page the
                                // action sent the browser to.
                                let state = SupportState {
                                    confirmation: state.confirmation.filter(|c| confirming.as_deref() == Some(c.action.kind())),
                                    result: state.result.filter(|r| done.as_deref() == Some(r.action.kind())),
                                };
                                detail_view(d, lang, may_act, actions, state).into_any()
                            }
                        }
                    })
                }}
            </Suspense>
        </ConsoleLayout>
    }
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

/// Whether the payment has not ended yet (its QR may still be paid).
pub fn is_open(status: &str) -> bool {
    matches!(status, "creating" | "pending" | "unknown")
}

fn detail_view(
    d: TransactionDetail,
    lang: Lang,
    may_act: bool,
    actions: Actions,
    state: SupportState,
) -> impl IntoView {
    let pending = matches!(d.status.as_str(), "pending" | "creating");
    let id_row = |label: Msg, value: Option<String>, testid: &'static str| {
        view! {
            <tr><th>{label.text(lang)}</th><td><code data-testid=testid>{value.unwrap_or_else(|| "—".to_owned())}</code></td></tr>
        }
    };
    let words = status_words(&d.status, d.late.is_some(), d.amount, d.refunded_amount)
        .map(|m| m.text(lang).to_owned())
        .unwrap_or_else(|| d.status.clone());
    let support = may_act.then(|| actions_view(&d, lang, actions, state));
    let refund_rows: Vec<_> = d
        .refunds
        .iter()
        .map(|r| {
            let ask = (may_act && matches!(r.status.as_str(), "pending" | "unknown"))
                .then(|| ask_refund_form(&d.payment_id, &r.refund_id, lang, &actions));
            view! {
                <tr data-testid="refund-row">
                    <td class="time">{r.local_time.clone()}</td>
                    <td class="num" data-testid="refund-amount">{format_money(r.amount, lang)}</td>
                    <td data-testid="refund-status">{refund_status_text(&r.status, lang)}</td>
                    <td data-testid="refund-reason">
                        {if r.automatic { Msg::LateRefundReason.text(lang).to_owned() } else { r.reason.clone().unwrap_or_default() }}
                    </td>
                    <td>{ask}</td>
                </tr>
            }
        })
        .collect();
    view! {
        {pending.then(|| view! { <Meta http_equiv="refresh" content="5"/> })}
        <h1>
            {Msg::Payment.text(lang)} " " {format_money(d.amount, lang)} " "
            <span class=format!("status status-{}", d.status) data-testid="detail-status">{words}</span>
            " " {d.test.then(|| crate::pages::dashboard::test_badge(lang))}
        </h1>
        {d.test.then(|| view! { <p class="test-banner" role="alert" data-testid="test-payment">{Msg::TestPayment.text(lang)}</p> })}
        {pending.then(|| view! { <p class="notice" data-testid="auto-refresh">{Msg::AutoRefresh.text(lang)}</p> })}
        {d.late.clone().map(|l| late_story(l, lang))}
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
            {qr_view(&d, lang)}
        </div>
        {support}
        <section class="card">
            <h2>{Msg::Refunds.text(lang)}</h2>
            {if refund_rows.is_empty() {
                view! { <p data-testid="no-refunds">{Msg::NoRefunds.text(lang)}</p> }.into_any()
            } else {
                view! {
                    <table class="grid" data-testid="refunds"><tbody>{refund_rows}</tbody></table>
                }.into_any()
            }}
        </section>
        <section class="card">
            <h2>{Msg::Timeline.text(lang)}</h2>
            <ol class="timeline" data-testid="timeline">
                {d.timeline.iter().map(|e| view! {
                    <li data-testid="timeline-entry" data-trigger=e.trigger.clone()>
                        <span class="time">{e.local_time.clone()}</span> " "
                        <b data-testid="timeline-text">{timeline_text(e, &d.till, lang)}</b>
                        {e.detail.clone().filter(|x| !x.starts_with("console:")).map(|x| view! { " · " <small>{x}</small> })}
                    </li>
                }).collect_view()}
            </ol>
        </section>
    }
}

/// The QR while the payment may still be paid; afterwards a greyed stand-in that cannot be
/// scanned (no payload in it) marked «не действует».
fn qr_view(d: &TransactionDetail, lang: Lang) -> Option<AnyView> {
    if let Some(svg) = d.qr_svg.clone().filter(|_| is_open(&d.status)) {
        return Some(
            view! {
                <section class="card qr" data-testid="qr-preview">
                    <h2>{Msg::QrPreview.text(lang)}</h2>
                    <div inner_html=svg></div>
                </section>
            }
            .into_any(),
        );
    }
    d.qr_id.as_ref()?;
    Some(view! {
        <section class="card qr qr-void" data-testid="qr-void">
            <h2>{Msg::QrPreview.text(lang)}</h2>
            <div class="qr-void-box">
                <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29" role="img" aria-hidden="true">
                    <rect x="0" y="0" width="29" height="29" fill="#f1f1f1"/>
                    {[(2, 2), (20, 2), (2, 20)].into_iter().map(|(x, y)| view! {
                        <rect x=x y=y width="7" height="7" fill="#bbb"/>
                        <rect x=x + 1 y=y + 1 width="5" height="5" fill="#f1f1f1"/>
                        <rect x=x + 2 y=y + 2 width="3" height="3" fill="#bbb"/>
                    }).collect_view()}
                </svg>
                <span class="qr-void-label" data-testid="qr-void-label">{Msg::QrVoid.text(lang)}</span>
            </div>
        </section>
    }.into_any())
}

/// «Оплачена поздно»: why, and what qrpay did about it.
fn late_story(l: crate::backend::transactions::LatePayment, lang: Lang) -> impl IntoView {
    let why = if l.ended_as == "cancelled" {
        Msg::LateAfterCancel
    } else {
        Msg::LateAfterExpiry
    };
    let what = match (&l.auto_refund, l.store_refunds) {
        (Some((amount, status)), _) => format!(
            "{} {} ({})",
            Msg::LateRefunded.text(lang),
            format_money(*amount, lang),
            refund_status_text(status, lang)
        ),
        (None, false) => Msg::LateKept.text(lang).to_owned(),
        (None, true) => Msg::LateRefundFailed.text(lang).to_owned(),
    };
    view! {
        <p class="late" role="alert" data-testid="late-story">
            <b>{Msg::StatusPaidLate.text(lang)}</b> ": " {why.text(lang)} " " {what}
        </p>
    }
}

/// One line of the timeline in words: «Создана кассой till-1», «Банк выдал QR», «Запрошен
/// возврат 23,45 ₽», …; an unknown trigger shows as it is stored.
pub fn timeline_text(e: &TimelineLine, till: &str, lang: Lang) -> String {
    let money = e
        .refund_amount
        .map(|k| format!(" {}", format_money(k, lang)))
        .unwrap_or_default();
    let refund = e.refund_amount.is_some();
    let msg = match (e.trigger.as_str(), refund) {
        ("till_created", _) => return format!("{} {till}", Msg::TlCreated.text(lang)),
        ("refund_requested", _) => Msg::TlRefundRequested,
        ("bank_completed", true) => Msg::TlRefundCompleted,
        ("bank_declined", true) => Msg::TlRefundDeclined,
        ("bank_in_progress", true) => Msg::TlRefundInProgress,
        ("bank_no_answer", true) => Msg::TlRefundNoAnswer,
        ("bank_accepted", false) => Msg::TlQrIssued,
        ("bank_rejected", false) => Msg::TlQrRefused,
        ("bank_no_answer", false) => Msg::TlNoAnswer,
        ("customer_paid", false)
            if matches!(e.from_status.as_deref(), Some("expired" | "cancelled")) =>
        {
            Msg::TlPaidLate
        }
        ("customer_paid", false) => Msg::TlPaid,
        ("bank_declined", false) => Msg::TlDeclined,
        ("deadline_passed", false) => Msg::TlExpired,
        ("till_cancelled", false) => {
            return match e.detail.as_deref().and_then(|d| d.strip_prefix("console:")) {
                Some(login) => format!("{} ({login})", Msg::TlCancelledInConsole.text(lang)),
                None => Msg::TlCancelled.text(lang).to_owned(),
            };
        }
        (other, _) => return other.to_owned(),
    };
    format!("{}{money}", msg.text(lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(
        trigger: &str,
        from: Option<&str>,
        detail: Option<&str>,
        refund: Option<i64>,
    ) -> TimelineLine {
        TimelineLine {
            local_time: String::new(),
            from_status: from.map(str::to_owned),
            to_status: String::new(),
            trigger: trigger.to_owned(),
            detail: detail.map(str::to_owned),
            refund_amount: refund,
        }
    }

    #[test]
    fn the_timeline_is_told_in_words_with_the_till_the_amount_and_who_cancelled() {
        let t = |l: TimelineLine| timeline_text(&l, "till-1", Lang::Ru);
        assert_eq!(
            t(line("till_created", None, None, None)),
            "Создана кассой till-1"
        );
        assert_eq!(
            t(line("bank_accepted", Some("creating"), None, None)),
            "Банк выдал QR"
        );
        assert_eq!(
            t(line("customer_paid", Some("pending"), None, None)),
            "Покупатель оплатил"
        );
        assert_eq!(
            t(line("customer_paid", Some("expired"), None, None)),
            "Покупатель оплатил поздно"
        );
        assert_eq!(
            t(line("refund_requested", None, None, Some(2_345))),
            "Запрошен возврат 23,45\u{a0}₽"
        );
        assert_eq!(
            t(line(
                "till_cancelled",
                Some("pending"),
                Some("console:sofia"),
                None
            )),
            "Отменена в консоли, QR аннулирован (sofia)"
        );
        assert_eq!(t(line("something_new", None, None, None)), "something_new");
    }
}
