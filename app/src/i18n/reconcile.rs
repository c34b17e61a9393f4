//! «Сверка»: the bank's registry against qrpay, the differences, asking the bank.
//! Their texts: `app/locales/{ru,en}/console.ftl`, under each key in kebab-case.

/// Adds this area's keys to the list of `Msg` and hands it on (see `messages!` in `mod.rs`).
macro_rules! reconcile_keys {
    ($next:ident $(, $rest:ident)*; $($keys:ident,)*) => {
        $next!($($rest),*; $($keys,)*
            Reconcile,
            ReconcileLead,
            ReconcileFile,
            ReconcileRun,
            ReconcileNotRegistry,
            ReconcileNoMerchant,
            ReconcileNoFile,
            ReconcileKept,
            ReconcileNone,
            ReconcileRegistry,
            ReconcileDays,
            ReconcileDifferences,
            ReconcileResult,
            ReconcileLines,
            ReconcileLine,
            ReconcilePayments,
            ReconcileRefunds,
            ReconcileFees,
            ReconcileBank,
            ReconcileClean,
            ReconcileDifference,
            ReconcileRef,
            MismatchPaidAtBank,
            MismatchPaidInQrpay,
            MismatchAmount,
            MismatchRefundAtBank,
            MismatchRefundInQrpay,
            MismatchRefundAmount,
            MismatchTotal,
            ReconcileAskBank,
            ReconcileAskLead,
            ReconcileAskCancel,
            SettledPaid,
            SettledPaidLate,
            SettledPaidLateRefunded,
            SettledNotPaid,
            SettledNoAnswer,
            SettledAlreadyPaid,
        );
    };
}
