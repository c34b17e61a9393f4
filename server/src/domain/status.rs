//! The payment and refund state machines, as pure functions (DESIGN.md "Payment lifecycle").

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// qrpay has recorded the payment and is asking the bank for a QR code.
    Creating,
    /// The QR code is issued; waiting for the customer.
    Pending,
    Paid,
    Declined,
    Expired,
    Cancelled,
    /// The bank refused to issue a QR code.
    Failed,
    /// A bank call did not get a clear answer; qrpay asks again. Not a failure: poll again.
    Unknown,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 8] = [
        Self::Creating,
        Self::Pending,
        Self::Paid,
        Self::Declined,
        Self::Expired,
        Self::Cancelled,
        Self::Failed,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Declined => "declined",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A till waiting for the outcome keeps waiting while the payment is in one of these.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Creating | Self::Pending | Self::Unknown)
    }

    /// The event published when a payment enters this status (`None`: internal states).
    pub fn event_name(self) -> Option<&'static str> {
        match self {
            Self::Creating | Self::Unknown => None,
            Self::Pending => Some("payment.created"),
            Self::Paid => Some("payment.paid"),
            Self::Declined => Some("payment.declined"),
            Self::Expired => Some("payment.expired"),
            Self::Cancelled => Some("payment.cancelled"),
            Self::Failed => Some("payment.failed"),
        }
    }

    /// The state machine. `None` means the trigger changes nothing in this status (a duplicate
    /// notification, a cancel of a finished payment, ...); the caller then reports the payment as is.
    pub fn next(self, trigger: PaymentTrigger) -> Option<Transition> {
        use PaymentStatus as S;
        use PaymentTrigger as T;
        let to = |status| {
            Some(Transition {
                status,
                late: false,
            })
        };
        match (self, trigger) {
            (S::Creating, T::BankAccepted) => to(S::Pending),
            (S::Creating, T::BankRejected) => to(S::Failed),
            (S::Creating, T::BankNoAnswer) => to(S::Unknown),
            // A customer-presented QR code is charged at once: the bank's answer is final.
            (S::Creating, T::CustomerPaid) => to(S::Paid),
            (S::Creating, T::BankDeclined) => to(S::Declined),
            (S::Creating, T::DeadlinePassed | T::TillCancelled) => None,

            (S::Pending, T::CustomerPaid) => to(S::Paid),
            (S::Pending, T::BankDeclined) => to(S::Declined),
            (S::Pending, T::DeadlinePassed) => to(S::Expired),
            (S::Pending, T::TillCancelled) => to(S::Cancelled),
            (S::Pending, T::BankNoAnswer) => to(S::Unknown),
            (S::Pending, T::BankAccepted | T::BankRejected) => None,

            (S::Unknown, T::BankAccepted) => to(S::Pending),
            (S::Unknown, T::BankRejected) => to(S::Failed),
            (S::Unknown, T::CustomerPaid) => to(S::Paid),
            (S::Unknown, T::BankDeclined) => to(S::Declined),
            (S::Unknown, T::DeadlinePassed) => to(S::Expired),
            (S::Unknown, T::TillCancelled) => to(S::Cancelled),
            (S::Unknown, T::BankNoAnswer) => None,

            // Late success: the bank's word wins over qrpay's own deadline or the till's cancel.
            (S::Expired | S::Cancelled, T::CustomerPaid) => Some(Transition {
                status: S::Paid,
                late: true,
            }),
            (
                S::Expired | S::Cancelled,
                T::BankAccepted
                | T::BankRejected
                | T::BankNoAnswer
                | T::BankDeclined
                | T::DeadlinePassed
                | T::TillCancelled,
            ) => None,

            (
                S::Paid | S::Declined | S::Failed,
                T::BankAccepted
                | T::BankRejected
                | T::BankNoAnswer
                | T::CustomerPaid
                | T::BankDeclined
                | T::DeadlinePassed
                | T::TillCancelled,
            ) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentTrigger {
    /// The bank issued the QR code (or, on sync, says it is still waiting).
    BankAccepted,
    /// The bank refused to issue the QR code (or, on sync, has never heard of it).
    BankRejected,
    /// A bank call timed out or got a 5xx or garbage.
    BankNoAnswer,
    CustomerPaid,
    BankDeclined,
    /// The response timeout passed and the QR was annulled at the bank.
    DeadlinePassed,
    /// The till cancelled and the QR was annulled at the bank.
    TillCancelled,
}

impl PaymentTrigger {
    pub const ALL: [PaymentTrigger; 7] = [
        Self::BankAccepted,
        Self::BankRejected,
        Self::BankNoAnswer,
        Self::CustomerPaid,
        Self::BankDeclined,
        Self::DeadlinePassed,
        Self::TillCancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BankAccepted => "bank_accepted",
            Self::BankRejected => "bank_rejected",
            Self::BankNoAnswer => "bank_no_answer",
            Self::CustomerPaid => "customer_paid",
            Self::BankDeclined => "bank_declined",
            Self::DeadlinePassed => "deadline_passed",
            Self::TillCancelled => "till_cancelled",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub status: PaymentStatus,
    /// Paid after qrpay had already expired or cancelled the payment.
    pub late: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    Completed,
    Declined,
    /// The bank did not answer clearly; qrpay asks again.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefundTrigger {
    BankCompleted,
    BankDeclined,
    BankInProgress,
    BankNoAnswer,
}

impl RefundStatus {
    pub const ALL: [RefundStatus; 4] = [
        Self::Pending,
        Self::Completed,
        Self::Declined,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Completed => "completed",
            Self::Declined => "declined",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn event_name(self) -> Option<&'static str> {
        match self {
            Self::Pending => Some("refund.created"),
            Self::Completed => Some("refund.completed"),
            Self::Declined => Some("refund.declined"),
            Self::Unknown => None,
        }
    }

    pub fn next(self, trigger: RefundTrigger) -> Option<RefundStatus> {
        use RefundStatus as S;
        use RefundTrigger as T;
        match (self, trigger) {
            (S::Pending | S::Unknown, T::BankCompleted) => Some(S::Completed),
            (S::Pending | S::Unknown, T::BankDeclined) => Some(S::Declined),
            (S::Pending, T::BankNoAnswer) => Some(S::Unknown),
            (S::Unknown, T::BankInProgress) => Some(S::Pending),
            (S::Pending, T::BankInProgress) | (S::Unknown, T::BankNoAnswer) => None,
            (
                S::Completed | S::Declined,
                T::BankCompleted | T::BankDeclined | T::BankInProgress | T::BankNoAnswer,
            ) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PaymentStatus as S;
    use PaymentTrigger as T;

    type Row = (S, T, Option<(S, bool)>);

    /// The whole table, every status × every trigger: `Some((to, late))` or `None` (no change).
    fn expected(from: S, trigger: T) -> Option<(S, bool)> {
        let table: &[Row] = &[
            (S::Creating, T::BankAccepted, Some((S::Pending, false))),
            (S::Creating, T::BankRejected, Some((S::Failed, false))),
            (S::Creating, T::BankNoAnswer, Some((S::Unknown, false))),
            (S::Creating, T::CustomerPaid, Some((S::Paid, false))),
            (S::Creating, T::BankDeclined, Some((S::Declined, false))),
            (S::Creating, T::DeadlinePassed, None),
            (S::Creating, T::TillCancelled, None),
            (S::Pending, T::BankAccepted, None),
            (S::Pending, T::BankRejected, None),
            (S::Pending, T::BankNoAnswer, Some((S::Unknown, false))),
            (S::Pending, T::CustomerPaid, Some((S::Paid, false))),
            (S::Pending, T::BankDeclined, Some((S::Declined, false))),
            (S::Pending, T::DeadlinePassed, Some((S::Expired, false))),
            (S::Pending, T::TillCancelled, Some((S::Cancelled, false))),
            (S::Paid, T::BankAccepted, None),
            (S::Paid, T::BankRejected, None),
            (S::Paid, T::BankNoAnswer, None),
            (S::Paid, T::CustomerPaid, None),
            (S::Paid, T::BankDeclined, None),
            (S::Paid, T::DeadlinePassed, None),
            (S::Paid, T::TillCancelled, None),
            (S::Declined, T::BankAccepted, None),
            (S::Declined, T::BankRejected, None),
            (S::Declined, T::BankNoAnswer, None),
            (S::Declined, T::CustomerPaid, None),
            (S::Declined, T::BankDeclined, None),
            (S::Declined, T::DeadlinePassed, None),
            (S::Declined, T::TillCancelled, None),
            (S::Expired, T::BankAccepted, None),
            (S::Expired, T::BankRejected, None),
            (S::Expired, T::BankNoAnswer, None),
            (S::Expired, T::CustomerPaid, Some((S::Paid, true))),
            (S::Expired, T::BankDeclined, None),
            (S::Expired, T::DeadlinePassed, None),
            (S::Expired, T::TillCancelled, None),
            (S::Cancelled, T::BankAccepted, None),
            (S::Cancelled, T::BankRejected, None),
            (S::Cancelled, T::BankNoAnswer, None),
            (S::Cancelled, T::CustomerPaid, Some((S::Paid, true))),
            (S::Cancelled, T::BankDeclined, None),
            (S::Cancelled, T::DeadlinePassed, None),
            (S::Cancelled, T::TillCancelled, None),
            (S::Failed, T::BankAccepted, None),
            (S::Failed, T::BankRejected, None),
            (S::Failed, T::BankNoAnswer, None),
            (S::Failed, T::CustomerPaid, None),
            (S::Failed, T::BankDeclined, None),
            (S::Failed, T::DeadlinePassed, None),
            (S::Failed, T::TillCancelled, None),
            (S::Unknown, T::BankAccepted, Some((S::Pending, false))),
            (S::Unknown, T::BankRejected, Some((S::Failed, false))),
            (S::Unknown, T::BankNoAnswer, None),
            (S::Unknown, T::CustomerPaid, Some((S::Paid, false))),
            (S::Unknown, T::BankDeclined, Some((S::Declined, false))),
            (S::Unknown, T::DeadlinePassed, Some((S::Expired, false))),
            (S::Unknown, T::TillCancelled, Some((S::Cancelled, false))),
        ];
        let rows: Vec<_> = table
            .iter()
            .filter(|(f, t, _)| *f == from && *t == trigger)
            .collect();
        assert_eq!(
            rows.len(),
            1,
            "table must have exactly one row for {from:?} × {trigger:?}"
        );
        rows[0].2
    }

    #[test]
    fn every_status_and_trigger_follows_the_table() {
        for from in S::ALL {
            for trigger in T::ALL {
                let got = from.next(trigger).map(|t| (t.status, t.late));
                assert_eq!(got, expected(from, trigger), "{from:?} × {trigger:?}");
            }
        }
    }

    #[test]
    fn finished_payments_are_never_reopened() {
        for from in [S::Paid, S::Declined, S::Failed] {
            for trigger in T::ALL {
                assert_eq!(from.next(trigger), None);
            }
        }
    }

    #[test]
    fn statuses_round_trip_through_text() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        for s in RefundStatus::ALL {
            assert_eq!(RefundStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(S::parse("bogus"), None);
    }

    #[test]
    fn every_refund_status_and_trigger_follows_the_table() {
        use RefundStatus as R;
        use RefundTrigger as RT;
        let table = [
            (R::Pending, RT::BankCompleted, Some(R::Completed)),
            (R::Pending, RT::BankDeclined, Some(R::Declined)),
            (R::Pending, RT::BankInProgress, None),
            (R::Pending, RT::BankNoAnswer, Some(R::Unknown)),
            (R::Unknown, RT::BankCompleted, Some(R::Completed)),
            (R::Unknown, RT::BankDeclined, Some(R::Declined)),
            (R::Unknown, RT::BankInProgress, Some(R::Pending)),
            (R::Unknown, RT::BankNoAnswer, None),
            (R::Completed, RT::BankCompleted, None),
            (R::Completed, RT::BankDeclined, None),
            (R::Completed, RT::BankInProgress, None),
            (R::Completed, RT::BankNoAnswer, None),
            (R::Declined, RT::BankCompleted, None),
            (R::Declined, RT::BankDeclined, None),
            (R::Declined, RT::BankInProgress, None),
            (R::Declined, RT::BankNoAnswer, None),
        ];
        assert_eq!(table.len(), R::ALL.len() * 4);
        for (from, trigger, to) in table {
            assert_eq!(from.next(trigger), to, "{from:?} × {trigger:?}");
        }
    }
}
