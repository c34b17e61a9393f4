//! The transaction page's support actions (support and admin): the refund form, «Отменить
//! оплату», «Спросить банк», «Отправить события заново»; the one confirmation step they share
//! (its question and token come from the session, never from the URL); and what the last
//! confirmed action did. Plain forms: they work with JavaScript off.

use crate::api::support::{AskBank, CancelPayment, ConfirmAction, RefundPayment, RepublishEvents};
use crate::backend::support::{ActionResult, Confirmation, SupportAction, SupportState};
use crate::backend::transactions::{TransactionDetail, url_encode};
use crate::components::layout::field_error;
use crate::error::{ConsoleError, FormErrors};
use crate::i18n::{Lang, Msg, format_money};
use crate::pages::auth_servers::failure;
use leptos::prelude::*;

/// The page's server actions (each reads back its own no-JavaScript error).
#[derive(Clone, Copy)]
pub struct Actions {
    refund: ServerAction<RefundPayment>,
    cancel: ServerAction<CancelPayment>,
    ask: ServerAction<AskBank>,
    republish: ServerAction<RepublishEvents>,
    confirm: ServerAction<ConfirmAction>,
}

impl Actions {
    pub fn new() -> Self {
        Self {
            refund: ServerAction::new(),
            cancel: ServerAction::new(),
            ask: ServerAction::new(),
            republish: ServerAction::new(),
            confirm: ServerAction::new(),
        }
    }

    fn refund_error(&self) -> Option<ConsoleError> {
        self.refund.value().get_untracked().and_then(Result::err)
    }

    /// The error of any other action (they have no fields).
    fn other_error(&self) -> Option<Msg> {
        let errors = [
            self.cancel.value().get_untracked().and_then(Result::err),
            self.ask.value().get_untracked().and_then(Result::err),
            self.republish.value().get_untracked().and_then(Result::err),
            self.confirm.value().get_untracked().and_then(Result::err),
        ];
        errors.into_iter().flatten().next().map(|e| e.message())
    }
}

impl Default for Actions {
    fn default() -> Self {
        Self::new()
    }
}

/// The support card: what the last action did, the pending question, or the buttons.
pub fn actions_view(
    d: &TransactionDetail,
    lang: Lang,
    actions: Actions,
    state: SupportState,
) -> impl IntoView + use<> {
    let payment_id = d.payment_id.clone();
    let open = matches!(d.status.as_str(), "pending" | "unknown");
    let refundable = d.status == "paid" && d.left() > 0;
    let error = actions.other_error();
    let body = match state.confirmation {
        Some(c) => confirm_view(&payment_id, c, lang, actions).into_any(),
        None => {
            let (for_cancel, for_ask) = (payment_id.clone(), payment_id.clone());
            view! {
            <div class="support-buttons">
                {open.then(move || view! {
                    <ActionForm action=actions.cancel attr:class="inline" attr:data-testid="cancel-form">
                        <input type="hidden" name="payment_id" value=for_cancel/>
                        <button type="submit" data-testid="cancel-submit">{Msg::CancelPaymentButton.text(lang)}</button>
                    </ActionForm>
                    <ActionForm action=actions.ask attr:class="inline" attr:data-testid="ask-form">
                        <input type="hidden" name="payment_id" value=for_ask/>
                        <button type="submit" data-testid="ask-submit">{Msg::AskBankButton.text(lang)}</button>
                    </ActionForm>
                })}
                <ActionForm action=actions.republish attr:class="inline" attr:data-testid="republish-form">
                    <input type="hidden" name="payment_id" value=payment_id.clone()/>
                    <button type="submit" data-testid="republish-submit">{Msg::RepublishButton.text(lang)}</button>
                </ActionForm>
            </div>
            {refundable.then(|| refund_form(d, lang, actions))}
        }.into_any()
        }
    };
    view! {
        <section class="card support" data-testid="support">
            <h2>{Msg::SupportActions.text(lang)}</h2>
            {state.result.map(|r| result_view(r, lang))}
            {error.map(|m| view! { <p class="form-error" role="alert" data-testid="action-error">{m.text(lang)}</p> })}
            {body}
        </section>
    }
}

/// «Спросить банк» about one refund (beside it in the refunds table).
pub fn ask_refund_form(
    payment_id: &str,
    refund_id: &str,
    lang: Lang,
    actions: &Actions,
) -> impl IntoView + use<> {
    let (payment_id, refund_id) = (payment_id.to_owned(), refund_id.to_owned());
    view! {
        <ActionForm action=actions.ask attr:class="inline" attr:data-testid="ask-refund-form">
            <input type="hidden" name="payment_id" value=payment_id/>
            <input type="hidden" name="refund_id" value=refund_id/>
            <button type="submit" class="small" data-testid="ask-refund-submit">{Msg::AskBankButton.text(lang)}</button>
        </ActionForm>
    }
}

/// The question of the pending action, with its one-time token, and «Подтвердить» / «Отмена».
fn confirm_view(
    payment_id: &str,
    c: Confirmation,
    lang: Lang,
    actions: Actions,
) -> impl IntoView + use<> {
    let kind = c.action.kind();
    let reason = match &c.action {
        SupportAction::Refund { reason, .. } => reason.clone(),
        _ => None,
    };
    let question = match &c.action {
        SupportAction::Refund { amount, .. } => format!(
            "{} {}?",
            Msg::RefundAsk.text(lang),
            format_money(*amount, lang)
        ),
        SupportAction::Cancel { amount } => format!(
            "{} {}? {}",
            Msg::CancelAsk.text(lang),
            format_money(*amount, lang),
            Msg::CancelAskHint.text(lang)
        ),
        SupportAction::AskBank { refund_id: None } => Msg::AskBankAsk.text(lang).to_owned(),
        SupportAction::AskBank { refund_id: Some(_) } => {
            Msg::AskBankRefundAsk.text(lang).to_owned()
        }
        SupportAction::Republish { events } => {
            format!("{} {events}?", Msg::RepublishAsk.text(lang))
        }
    };
    let back = format!("/console/transactions/{}", url_encode(payment_id));
    let payment_id = payment_id.to_owned();
    view! {
        <ActionForm action=actions.confirm attr:class="form confirm" attr:data-testid="confirm-form" attr:data-action=kind>
            <input type="hidden" name="payment_id" value=payment_id/>
            <input type="hidden" name="token" value=c.token/>
            <p class="confirm-question" data-testid=format!("{kind}-question")>{question}</p>
            {reason.map(|r| view! { <p class="muted">{Msg::RefundReason.text(lang)} ": «" <span data-testid="confirm-reason">{r}</span> "»"</p> })}
            <button type="submit" data-testid=format!("{kind}-confirm")>{Msg::RefundConfirm.text(lang)}</button>
            " " <a href=back data-testid="confirm-cancel">{Msg::RefundCancel.text(lang)}</a>
        </ActionForm>
    }
}

/// What the last confirmed action did (for «Спросить банк», what the bank said).
fn result_view(r: ActionResult, lang: Lang) -> impl IntoView {
    let kind = r.action.kind();
    // A count finishes its sentence («…, штук: 4»); the bank's own words follow after a dot.
    let sep = if kind == "republish" { " " } else { " · " };
    let amount = match &r.action {
        SupportAction::Refund { amount, .. } => format!(" {}", format_money(*amount, lang)),
        _ => String::new(),
    };
    view! {
        <p class="notice" role="status" data-testid=format!("{kind}-done")>
            <span data-testid="outcome">{r.outcome.text(lang)} {amount}</span>
            {r.detail.map(|x| view! { {sep} <small data-testid="outcome-detail">{x}</small> })}
        </p>
    }
}

fn refund_form(d: &TransactionDetail, lang: Lang, actions: Actions) -> impl IntoView + use<> {
    let (form, form_error): (FormErrors, Option<Msg>) = failure(actions.refund_error());
    let part = form.value("mode").as_deref() == Some("part");
    let amount = form.value("amount").unwrap_or_default();
    let reason = form.value("reason").unwrap_or_default();
    let (payment_id, left) = (d.payment_id.clone(), d.left());
    view! {
        <div class="refund" data-testid="refund">
            <h3>{Msg::RefundTitle.text(lang)}</h3>
            {form_error.map(|m| view! { <p class="form-error" role="alert" data-testid="refund-error">{m.text(lang)}</p> })}
            <ActionForm action=actions.refund attr:class="form" attr:data-testid="refund-form">
                <input type="hidden" name="payment_id" value=payment_id/>
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
                    <input name="amount" inputmode="decimal" value=amount data-testid="refund-amount-input"/>
                </label>
                {field_error(&form, "amount", lang)}
                <label>
                    {Msg::RefundReason.text(lang)}
                    <input name="reason" maxlength="140" value=reason data-testid="refund-reason"/>
                </label>
                {field_error(&form, "reason", lang)}
                <button type="submit" data-testid="refund-submit">{Msg::RefundSubmit.text(lang)}</button>
            </ActionForm>
        </div>
    }
}
