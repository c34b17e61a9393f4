//! «Сверка»: the bank's registry compared with qrpay (support and admins). The upload itself is a
//! plain multipart post handled by the server (a registry is larger than a form field).

use super::session::Actor;
use crate::error::ConsoleError;
use serde::{Deserialize, Serialize};

/// A kept comparison, as the list shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReconcileSummary {
    pub id: i64,
    /// In the store's time zone.
    pub local_time: String,
    pub login: String,
    pub registry_name: String,
    pub merchant: String,
    /// `2026-12-02` or `2026-12-01 – 2026-12-02` (Moscow days).
    pub days: String,
    pub lines: i64,
    pub mismatches: i64,
}

/// One difference (kopecks; `kind` is the report's code, e.g. `paid_at_bank_not_in_qrpay`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReconcileMismatch {
    pub kind: String,
    pub bank_ref: String,
    pub payment_id: Option<String>,
    pub bank_amount: Option<i64>,
    pub qrpay_amount: Option<i64>,
    pub qrpay_status: Option<String>,
    pub line: Option<i64>,
}

/// A kept comparison in full.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReconcileDetail {
    pub summary: ReconcileSummary,
    pub stores: Vec<String>,
    pub bank_payments: i64,
    pub bank_refunds: i64,
    pub bank_fees: i64,
    pub qrpay_payments: i64,
    pub qrpay_refunds: i64,
    pub matched_payments: i64,
    pub matched_refunds: i64,
    pub mismatches: Vec<ReconcileMismatch>,
}

#[async_trait::async_trait]
pub trait ReconcilePort: Send + Sync + 'static {
    /// The newest comparisons of the actor's store's merchants.
    async fn list_reconciliations(
        &self,
        actor: &Actor,
    ) -> Result<Vec<ReconcileSummary>, ConsoleError>;
    async fn get_reconciliation(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<Option<ReconcileDetail>, ConsoleError>;
    /// The support action on a difference "paid at the bank, not in qrpay" of kept comparison
    /// `id`: asks the bank about the payment's order and applies what it holds. Answers the
    /// outcome's code (`paid`, `paid_late`, `paid_late_refunded`, `not_paid`, `no_answer`,
    /// `already_paid`).
    async fn ask_bank_about_payment(
        &self,
        actor: &Actor,
        id: i64,
        payment_id: &str,
    ) -> Result<String, ConsoleError>;
}

/// The words for an outcome code of [`ReconcilePort::ask_bank_about_payment`].
pub fn settled_text(code: &str) -> Option<crate::i18n::Msg> {
    use crate::i18n::Msg;
    Some(match code {
        "paid" => Msg::SettledPaid,
        "paid_late" => Msg::SettledPaidLate,
        "paid_late_refunded" => Msg::SettledPaidLateRefunded,
        "not_paid" => Msg::SettledNotPaid,
        "no_answer" => Msg::SettledNoAnswer,
        "already_paid" => Msg::SettledAlreadyPaid,
        _ => return None,
    })
}
