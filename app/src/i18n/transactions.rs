//! «Транзакции»: the list and its filter, a payment's page, refunds, statuses and the timeline in words.
//! Their texts: `app/locales/{ru,en}/console.ftl`, under each key in kebab-case.

/// Adds this area's keys to the list of `Msg` and hands it on (see `messages!` in `mod.rs`).
macro_rules! transactions_keys {
    ($next:ident $(, $rest:ident)*; $($keys:ident,)*) => {
        $next!($($rest),*; $($keys,)*
            Transactions,
            TransactionsLead,
            NoTransactions,
            ColTime,
            ColAmount,
            ColStatus,
            ColReceipt,
            ColTill,
            Refunded,
            StatusCreating,
            StatusPending,
            StatusPaid,
            StatusDeclined,
            StatusExpired,
            StatusCancelled,
            StatusFailed,
            StatusUnknown,
            FilterStatus,
            FilterAny,
            FilterFrom,
            FilterTo,
            FilterTill,
            FilterMin,
            FilterMax,
            FilterText,
            FilterTestInTotals,
            FilterApply,
            FilterReset,
            ExportCsv,
            Next,
            TotalCount,
            TotalAmount,
            TotalRefunded,
            BadStatus,
            BadDate,
            DatesReversed,
            BadTill,
            BadMoney,
            BadCursor,
            TextTooLong,
            // Beside the search box: a text shorter than `MIN_PREFIX` is matched exactly only.
            TextExactOnly,
            // Before a capped count: «более 10000».
            TotalMoreThan,
            // Before a capped sum: «не менее 1 234,00 ₽».
            TotalAtLeast,
            // Under capped totals: they are partial; narrow the filter for exact ones.
            TotalsPartial,
            // Above a page of a very broad text that stopped early: «… не старше» + time + the rest.
            SearchedBackTo,
            SearchedBackToRest,
            // Instead of «no payments» on such a page that found none.
            NoMatchesYet,
            Payment,
            BackToList,
            Paid,
            Left,
            PaymentId,
            OrderRef,
            QrId,
            BankTransactionId,
            PaymentType,
            Created,
            PaidAt,
            QrPreview,
            Timeline,
            Refunds,
            NoRefunds,
            AutoRefresh,
            RefundTitle,
            RefundFull,
            RefundPart,
            RefundAmount,
            RefundReason,
            RefundSubmit,
            RefundAsk,
            RefundConfirm,
            RefundCancel,
            RefundNeedsConfirm,
            RefundBadAmount,
            RefundExceedsLeft,
            RefundNotPaid,
            RefundReasonTooLong,
            RefundDeclined,
            RefundDone,
            RefundStatusPending,
            RefundStatusCompleted,
            RefundStatusDeclined,
            RefundStatusUnknown,
            StatusRefundedFully,
            StatusRefundedPartly,
            StatusPaidLate,
            QrVoid,
            LateAfterExpiry,
            LateAfterCancel,
            LateRefunded,
            LateKept,
            LateRefundFailed,
            LateRefundReason,
            TlCreated,
            TlQrIssued,
            TlQrRefused,
            TlNoAnswer,
            TlPaid,
            TlPaidLate,
            TlDeclined,
            TlExpired,
            TlCancelled,
            TlCancelledInConsole,
            TlRefundRequested,
            TlRefundCompleted,
            TlRefundDeclined,
            TlRefundInProgress,
            TlRefundNoAnswer,
            TestBadge,
            TestPayment,
        );
    };
}

use super::Msg;

impl Msg {
    /// The label of a payment status as stored (`paid`, `pending`, ...).
    pub fn for_status(status: &str) -> Option<Msg> {
        Some(match status {
            "creating" => Msg::StatusCreating,
            "pending" => Msg::StatusPending,
            "paid" => Msg::StatusPaid,
            "declined" => Msg::StatusDeclined,
            "expired" => Msg::StatusExpired,
            "cancelled" => Msg::StatusCancelled,
            "failed" => Msg::StatusFailed,
            "unknown" => Msg::StatusUnknown,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_status_has_a_label() {
        for s in crate::backend::transactions::STATUSES {
            assert!(Msg::for_status(s).is_some(), "{s}");
        }
        assert_eq!(Msg::for_status("nope"), None);
    }
}
