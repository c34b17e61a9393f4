//! Support actions on a payment's page: cancel, ask the bank, send the events again, and what the bank said.
//! Their texts: `app/locales/{ru,en}/console.ftl`, under each key in kebab-case.

/// Adds this area's keys to the list of `Msg` and hands it on (see `messages!` in `mod.rs`).
macro_rules! support_keys {
    ($next:ident $(, $rest:ident)*; $($keys:ident,)*) => {
        $next!($($rest),*; $($keys,)*
            SupportActions,
            CancelPaymentButton,
            AskBankButton,
            RepublishButton,
            CancelAsk,
            CancelAskHint,
            AskBankAsk,
            AskBankRefundAsk,
            RepublishAsk,
            ConfirmationGone,
            CancelNotOpen,
            AskBankNothing,
            RepublishNothing,
            RepublishNoBroker,
            CancelDone,
            CancelPaidMeanwhile,
            CancelInDoubt,
            CancelRefused,
            RepublishDone,
            RepublishFailed,
            BankSaysWaiting,
            BankSaysPaid,
            BankSaysDeclined,
            BankSaysExpired,
            BankSaysCancelled,
            BankSaysNotFound,
            BankSaysIssued,
            BankSaysNoAnswer,
            BankSaysRefused,
            BankSaysRefundCompleted,
            BankSaysRefundInProgress,
            BankSaysRefundDeclined,
            RefundSent,
        );
    };
}
