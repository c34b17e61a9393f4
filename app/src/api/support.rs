//! Support actions on one payment: each first post asks for the action (the server keeps it as
//! the pending confirmation and the page shows the question from there), and `confirm_action`
//! does it. Support and admins only.

use super::{parts, require};
use crate::api::transactions::parse_rubles;
use crate::backend::Role;
use crate::backend::support::{SupportAction, SupportState};
use crate::backend::transactions::url_encode;
use crate::error::{ConsoleError, FormErrors};
use crate::i18n::Msg;
use leptos::prelude::*;

/// The transaction page with `query`.
fn back_to(payment_id: &str, query: &str) {
    leptos_axum::redirect(&format!(
        "/console/transactions/{}?{query}",
        url_encode(payment_id)
    ));
}

/// Keeps `action` as the pending confirmation and shows its question.
async fn ask(payment_id: &str, action: SupportAction) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Support)?;
    let kind = action.kind();
    backend
        .ask_confirmation(&parts()?, &actor, payment_id, action)
        .await?;
    back_to(payment_id, &format!("confirm={kind}"));
    Ok(())
}

/// The refund form: checks the amount (all that is left with `mode=full`) and asks for
/// confirmation; the typed values come back beside an error.
#[server(prefix = "/console/fn", endpoint = "refund_payment")]
pub async fn refund_payment(
    payment_id: String,
    mode: Option<String>,
    amount: Option<String>,
    reason: Option<String>,
) -> Result<(), ConsoleError> {
    require(Role::Support)?;
    let mode = mode.unwrap_or_default();
    let amount = amount.unwrap_or_default();
    let reason = reason.unwrap_or_default();
    let part = mode == "part";
    let mut errors = FormErrors::default();
    errors.keep("mode", if part { "part" } else { "full" });
    errors.keep("amount", &amount);
    errors.keep("reason", &reason);
    let kopecks = if part {
        match parse_rubles(&amount) {
            Some(k) if k > 0 => Some(k),
            _ => {
                errors.field("amount", Msg::RefundBadAmount);
                None
            }
        }
    } else {
        None
    };
    if reason.chars().count() > 140 {
        errors.field("reason", Msg::RefundReasonTooLong);
    }
    if !errors.fields.is_empty() {
        return Err(ConsoleError::Invalid(errors));
    }
    let reason = Some(reason.trim().to_owned()).filter(|r| !r.is_empty());
    // `amount: 0` stands for "all that is left"; the server puts in the amount it will refund.
    let action = SupportAction::Refund {
        amount: kopecks.unwrap_or(0),
        reason,
    };
    ask(&payment_id, action).await.map_err(|e| match e {
        ConsoleError::Invalid(mut f) => {
            f.values = errors.values;
            ConsoleError::Invalid(f)
        }
        e => e,
    })
}

/// «Отменить оплату»: a pending payment (its QR is annulled at the bank once confirmed).
#[server(prefix = "/console/fn", endpoint = "cancel_payment")]
pub async fn cancel_payment(payment_id: String) -> Result<(), ConsoleError> {
    ask(&payment_id, SupportAction::Cancel { amount: 0 }).await
}

/// «Спросить банк» about a payment, or about one of its refunds (`refund_id`).
#[server(prefix = "/console/fn", endpoint = "ask_bank")]
pub async fn ask_bank(payment_id: String, refund_id: Option<String>) -> Result<(), ConsoleError> {
    let refund_id = refund_id.filter(|r| !r.trim().is_empty());
    ask(&payment_id, SupportAction::AskBank { refund_id }).await
}

/// «Отправить события заново»: the payment's published events.
#[server(prefix = "/console/fn", endpoint = "republish_events")]
pub async fn republish_events(payment_id: String) -> Result<(), ConsoleError> {
    ask(&payment_id, SupportAction::Republish { events: 0 }).await
}

/// The confirmation step of every support action: only the payment and the one-time token;
/// the action itself is the one the session keeps.
#[server(prefix = "/console/fn", endpoint = "confirm_action")]
pub async fn confirm_action(payment_id: String, token: String) -> Result<(), ConsoleError> {
    let (backend, actor) = require(Role::Support)?;
    let done = backend
        .confirm_action(&parts()?, &actor, &payment_id, &token)
        .await?;
    back_to(&payment_id, &format!("done={}", done.kind()));
    Ok(())
}

/// The pending confirmation and last result of a payment's support actions, from the session.
#[server(prefix = "/console/fn", endpoint = "get_support_state")]
pub async fn get_support_state(payment_id: String) -> Result<SupportState, ConsoleError> {
    let (backend, actor) = require(Role::Support)?;
    backend.support_state(&parts()?, &actor, &payment_id).await
}
