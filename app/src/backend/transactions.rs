//! «Транзакции»: the filtered list, one payment's detail, refunds from the console.

use super::session::Actor;
use crate::error::ConsoleError;
use crate::i18n::Msg;
use serde::{Deserialize, Serialize};

/// The payment statuses the list can be filtered by (the server checks the filter against it).
pub const STATUSES: [&str; 8] = [
    "creating",
    "pending",
    "paid",
    "declined",
    "expired",
    "cancelled",
    "failed",
    "unknown",
];

/// The shortest search text matched as the start of an order ref, QR id or bank transaction
/// id; a shorter one is matched exactly (receipt, payment id) and the page says so beside the
/// box (`Msg::TextExactOnly` names this number). Shorter starts match nearly every order ref.
pub const MIN_PREFIX: usize = 4;

/// One line of the transactions list, times already in the store's time zone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransactionRow {
    pub payment_id: String,
    /// `2026-11-29 21:59:16`, in the store's time zone.
    pub local_time: String,
    pub amount: i64,
    pub refunded_amount: i64,
    pub status: String,
    pub receipt: String,
    pub till: String,
    /// Made on a test module: no money moved (shown with a «Тест» badge).
    pub test: bool,
    /// Paid after qrpay had ended it («оплачена поздно»).
    pub late: bool,
}

/// The transactions filter as typed in the GET form (checked by the backend, which says what was
/// wrong beside each field and ignores that field).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TransactionQuery {
    pub status: String,
    /// `YYYY-MM-DD`, a day in the store's time zone (inclusive).
    pub from: String,
    pub to: String,
    /// A till id.
    pub till: String,
    /// Rubles, `12,50` or `12.50`.
    pub min: String,
    pub max: String,
    /// Receipt, order ref, QR id, bank transaction id or payment id (exact).
    pub q: String,
    /// `1`: the totals count test payments too (by default they leave them out, as the
    /// dashboard does; the list shows them either way, with their badge). An unticked checkbox
    /// is not sent at all: absent is "".
    #[serde(default)]
    pub test: String,
    /// Keyset cursor: `<created_at RFC 3339>~<payment_id>` of the last row shown.
    pub after: String,
}

impl TransactionQuery {
    pub const FIELDS: [&'static str; 9] = [
        "status", "from", "to", "till", "min", "max", "q", "test", "after",
    ];

    pub fn get(&self, name: &str) -> &str {
        match name {
            "status" => &self.status,
            "from" => &self.from,
            "to" => &self.to,
            "till" => &self.till,
            "min" => &self.min,
            "max" => &self.max,
            "q" => &self.q,
            "test" => &self.test,
            "after" => &self.after,
            _ => "",
        }
    }

    pub fn set(&mut self, name: &str, value: &str) {
        let v = value.trim().to_owned();
        match name {
            "status" => self.status = v,
            "from" => self.from = v,
            "to" => self.to = v,
            "till" => self.till = v,
            "min" => self.min = v,
            "max" => self.max = v,
            "q" => self.q = v,
            "test" => self.test = v,
            "after" => self.after = v,
            _ => {}
        }
    }

    /// Whether the totals count test payments.
    pub fn include_test(&self) -> bool {
        self.test == "1"
    }

    /// The query string of the filter (without `after`), percent-encoded, non-empty values only.
    pub fn filter_query(&self) -> String {
        Self::FIELDS[..8]
            .iter()
            .filter(|f| !self.get(f).is_empty())
            .map(|f| format!("{f}={}", url_encode(self.get(f))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes everything but unreserved characters.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One page of the filtered list with the totals of the whole filter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransactionPage {
    pub store_name: String,
    pub time_zone: String,
    pub rows: Vec<TransactionRow>,
    /// Messages beside the filter fields that were ignored.
    pub errors: Vec<(String, Msg)>,
    /// The store's tills: (id, name).
    pub tills: Vec<(String, String)>,
    pub total_count: i64,
    pub total_amount: i64,
    pub total_refunded: i64,
    /// The totals added up only part of the matching payments (an amount range or a text
    /// matching more than the server adds up): the count is that many, and more match; the
    /// sums are lower bounds. The page says so.
    pub totals_capped: bool,
    /// Of capped totals, the count is of fewer payments than the cap (the others looked at
    /// were test payments): it reads «не менее N», not «более N».
    #[serde(default)]
    pub total_count_at_least: bool,
    /// The search text is shorter than [`MIN_PREFIX`]: matched exactly only.
    pub text_exact_only: bool,
    /// A text matching very many payments is checked on a bounded number of them per page;
    /// this page stopped before the oldest: it searched the payments from this local time on,
    /// and `next` goes on with the older ones.
    #[serde(default)]
    pub searched_back_to: Option<String>,
    /// The `after` cursor of the next page, when there is one.
    pub next: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineLine {
    pub local_time: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub trigger: String,
    pub detail: Option<String>,
    /// For a refund's line: its amount (kopecks).
    pub refund_amount: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefundLine {
    pub refund_id: String,
    pub local_time: String,
    pub amount: i64,
    pub status: String,
    pub reason: Option<String>,
    /// qrpay's own refund of a late payment: its reason is told in the reader's words.
    pub automatic: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransactionDetail {
    pub payment_id: String,
    pub status: String,
    pub amount: i64,
    pub refunded_amount: i64,
    pub receipt: String,
    pub order_ref: String,
    pub qr_id: Option<String>,
    pub bank_transaction_id: Option<String>,
    pub till: String,
    pub payment_type: String,
    pub module: String,
    /// Made on a test module: no money moved.
    pub test: bool,
    pub local_time: String,
    pub paid_local_time: Option<String>,
    pub time_zone: String,
    /// The payment's QR as an SVG document (server-made, no user text in it).
    pub qr_svg: Option<String>,
    pub timeline: Vec<TimelineLine>,
    pub refunds: Vec<RefundLine>,
    /// Paid after qrpay had ended it: why and what was done about it.
    pub late: Option<LatePayment>,
}

/// A payment the customer paid after qrpay had expired or cancelled it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatePayment {
    /// The status it had when the money came: `expired` or `cancelled`.
    pub ended_as: String,
    /// The store refunds late payments at once (`refund_late_payments`).
    pub store_refunds: bool,
    /// qrpay's automatic refund of it: amount and refund status, if it started one.
    pub auto_refund: Option<(i64, String)>,
}

/// A payment's status as people think of it: a paid payment's refunds and lateness count.
pub fn status_words(status: &str, late: bool, amount: i64, refunded: i64) -> Option<Msg> {
    match status {
        "paid" if amount > 0 && refunded >= amount => Some(Msg::StatusRefundedFully),
        "paid" if refunded > 0 => Some(Msg::StatusRefundedPartly),
        "paid" if late => Some(Msg::StatusPaidLate),
        other => Msg::for_status(other),
    }
}

impl TransactionDetail {
    pub fn left(&self) -> i64 {
        self.amount - self.refunded_amount
    }
}

/// Every role may read transactions (support actions, refunds among them, are `support`'s).
#[async_trait::async_trait]
pub trait TransactionsPort: Send + Sync + 'static {
    /// One page (newest first) of the payments that match `query`, with the filter's totals.
    async fn search_transactions(
        &self,
        actor: &Actor,
        query: &TransactionQuery,
    ) -> Result<TransactionPage, ConsoleError>;
    async fn transaction_detail(
        &self,
        actor: &Actor,
        payment_id: &str,
    ) -> Result<TransactionDetail, ConsoleError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words_say_late_and_partly_or_fully_refunded_as_people_do() {
        let w = |status, late, refunded| status_words(status, late, 1_000, refunded);
        assert_eq!(w("paid", false, 0), Some(Msg::StatusPaid));
        assert_eq!(w("paid", true, 0), Some(Msg::StatusPaidLate));
        assert_eq!(w("paid", false, 1), Some(Msg::StatusRefundedPartly));
        assert_eq!(w("paid", true, 1_000), Some(Msg::StatusRefundedFully));
        assert_eq!(w("unknown", false, 0), Some(Msg::StatusUnknown));
        assert_eq!(w("cancelled", false, 0), Some(Msg::StatusCancelled));
        assert_eq!(w("nope", false, 0), None);
    }

    #[test]
    fn the_short_text_note_names_the_length_the_server_uses() {
        for lang in [crate::i18n::Lang::Ru, crate::i18n::Lang::En] {
            let note = Msg::TextExactOnly.text(lang);
            assert!(note.contains(&MIN_PREFIX.to_string()), "{note}");
        }
    }
}
