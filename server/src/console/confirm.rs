//! The console's one confirmation mechanism: an action asked for is kept in the session (the
//! server's state, never the page's) as the pending confirmation, under a one-time random
//! token, with the payment it is for and who asked; the page shows its question from there, and
//! the confirm post, which carries only the payment id and the token, takes it out of the
//! session. A used, replaced, expired or foreign token finds nothing and does nothing. The
//! last result is kept beside it for the page the confirmation returns to.

use super::internal;
use super::session::session;
use app::backend::Actor;
use app::backend::support::{ActionResult, Confirmation, SupportAction};
use app::error::{ConsoleError, FormErrors};
use app::i18n::Msg;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};

/// The session key of the pending confirmation.
const SESSION_PENDING: &str = "pending_confirmation";
/// The session key of the last confirmed action's result.
const SESSION_RESULT: &str = "action_result";
/// How long a question waits for its confirmation.
const PENDING_SECS: i64 = 600;

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Pending {
    token: String,
    payment_id: String,
    user_id: i64,
    action: SupportAction,
    /// Unix seconds of the question.
    asked_at: i64,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct KeptResult {
    payment_id: String,
    result: ActionResult,
}

/// «Nothing was done»: the confirmation was used, replaced, expired or never there.
pub(super) fn gone() -> ConsoleError {
    ConsoleError::Invalid(FormErrors {
        form: Some(Msg::ConfirmationGone),
        ..Default::default()
    })
}

/// Keeps `action` as the session's pending confirmation (replacing any other) under a new token.
pub(super) async fn keep(
    parts: &Parts,
    actor: &Actor,
    payment_id: &str,
    action: SupportAction,
) -> Result<(), ConsoleError> {
    let pending = Pending {
        token: hex::encode(rand::random::<[u8; 16]>()),
        payment_id: payment_id.to_owned(),
        user_id: actor.user_id,
        action,
        asked_at: chrono::Utc::now().timestamp(),
    };
    session(parts)?
        .insert(SESSION_PENDING, pending)
        .await
        .map_err(internal)
}

/// The pending confirmation of this payment, if the session holds a live one.
pub(super) async fn peek(
    parts: &Parts,
    actor: &Actor,
    payment_id: &str,
) -> Result<Option<Confirmation>, ConsoleError> {
    let pending = session(parts)?
        .get::<Pending>(SESSION_PENDING)
        .await
        .map_err(internal)?;
    Ok(pending
        .filter(|p| live(p, actor, payment_id))
        .map(|p| Confirmation {
            token: p.token,
            action: p.action,
        }))
}

/// Takes the pending confirmation out of the session: its action when it is this payment's,
/// alive, and `token` is its token; `gone()` otherwise (and nothing is left to confirm).
pub(super) async fn take(
    parts: &Parts,
    actor: &Actor,
    payment_id: &str,
    token: &str,
) -> Result<SupportAction, ConsoleError> {
    let pending = session(parts)?
        .remove::<Pending>(SESSION_PENDING)
        .await
        .map_err(internal)?;
    match pending {
        Some(p) if live(&p, actor, payment_id) && same(p.token.as_bytes(), token.as_bytes()) => {
            Ok(p.action)
        }
        _ => Err(gone()),
    }
}

/// Keeps what a confirmed action did, for the page it returns to.
pub(super) async fn keep_result(
    parts: &Parts,
    payment_id: &str,
    result: ActionResult,
) -> Result<(), ConsoleError> {
    let kept = KeptResult {
        payment_id: payment_id.to_owned(),
        result,
    };
    session(parts)?
        .insert(SESSION_RESULT, kept)
        .await
        .map_err(internal)
}

/// The last confirmed action's result on this payment, if any.
pub(super) async fn last_result(
    parts: &Parts,
    payment_id: &str,
) -> Result<Option<ActionResult>, ConsoleError> {
    let kept = session(parts)?
        .get::<KeptResult>(SESSION_RESULT)
        .await
        .map_err(internal)?;
    Ok(kept
        .filter(|k| k.payment_id == payment_id)
        .map(|k| k.result))
}

fn live(p: &Pending, actor: &Actor, payment_id: &str) -> bool {
    p.payment_id == payment_id
        && p.user_id == actor.user_id
        && chrono::Utc::now().timestamp() - p.asked_at <= PENDING_SECS
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
