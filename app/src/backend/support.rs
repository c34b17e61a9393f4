//! Support actions on one payment (refund, cancel, «Спросить банк», «Отправить события заново»)
//! and their one confirmation mechanism: the first post asks for the action, and the server keeps
//! it in the session as a pending confirmation under a one-time token; the page shows the
//! question from there; the confirm post names only the payment and the token, and the server
//! does exactly what it keeps, once. Support and admins only.

use super::session::Actor;
use crate::error::ConsoleError;
use crate::i18n::Msg;
use http::request::Parts;
use serde::{Deserialize, Serialize};

/// An action on a payment, as kept between its two steps (kopecks for money).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SupportAction {
    /// Refund `amount` kopecks.
    Refund { amount: i64, reason: Option<String> },
    /// Cancel a pending payment: its QR is annulled at the bank.
    Cancel { amount: i64 },
    /// Ask the bank about the payment, or about one of its refunds.
    AskBank { refund_id: Option<String> },
    /// Publish the payment's published events again (`events` of them).
    Republish { events: i64 },
}

impl SupportAction {
    /// The word of the action in URLs and `data-` attributes.
    pub fn kind(&self) -> &'static str {
        match self {
            SupportAction::Refund { .. } => "refund",
            SupportAction::Cancel { .. } => "cancel",
            SupportAction::AskBank { .. } => "ask",
            SupportAction::Republish { .. } => "republish",
        }
    }
}

/// The action waiting for its confirmation on this payment, as the session keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub token: String,
    pub action: SupportAction,
}

/// What a confirmed action did, kept in the session for the page it returns to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionResult {
    pub action: SupportAction,
    /// The outcome in the console's words (for «Спросить банк»: what the bank said).
    pub outcome: Msg,
    /// The bank's own words or the technical detail, when there are any.
    pub detail: Option<String>,
}

/// The session's support state of one payment: a pending confirmation and the last result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportState {
    pub confirmation: Option<Confirmation>,
    pub result: Option<ActionResult>,
}

#[async_trait::async_trait]
pub trait SupportPort: Send + Sync + 'static {
    /// Checks that `action` can be done on the payment now and keeps it in the session as the
    /// pending confirmation (a new token; any earlier pending one is dropped). Errors name the
    /// form (or, for a refund, the `amount` field).
    async fn ask_confirmation(
        &self,
        parts: &Parts,
        actor: &Actor,
        payment_id: &str,
        action: SupportAction,
    ) -> Result<(), ConsoleError>;
    /// Takes the pending confirmation out of the session and, when it is of this payment and
    /// `token` is its token, does its action and keeps the result for the page. Anything else
    /// does nothing and says so (`ConfirmationGone`).
    async fn confirm_action(
        &self,
        parts: &Parts,
        actor: &Actor,
        payment_id: &str,
        token: &str,
    ) -> Result<SupportAction, ConsoleError>;
    /// The pending confirmation and the last result of this payment, if the session holds any.
    async fn support_state(
        &self,
        parts: &Parts,
        actor: &Actor,
        payment_id: &str,
    ) -> Result<SupportState, ConsoleError>;
}
