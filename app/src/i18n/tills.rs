//! «Кассы»: tills and kiosks, their keys, QR outputs and languages.
//! Their texts: `app/locales/{ru,en}/console.ftl`, under each key in kebab-case.

/// Adds this area's keys to the list of `Msg` and hands it on (see `messages!` in `mod.rs`).
macro_rules! tills_keys {
    ($next:ident $(, $rest:ident)*; $($keys:ident,)*) => {
        $next!($($rest),*; $($keys,)*
            Tills,
            NoTills,
            AddTill,
            TillKind,
            KindTill,
            KindKiosk,
            KindInvalid,
            KeyPrefix,
            TillState,
            Active,
            Revoked,
            QrOutputs,
            OutScreen,
            OutDisplay,
            OutReceipt,
            PaperWidth,
            PaperWidthInvalid,
            EscposNative,
            Revoke,
            RevokeConfirm,
            RevokeYes,
            TillRevoked,
            NewTillKey,
            EditTill,
            TillLanguage,
            TillLanguageHint,
            TillLanguageInvalid,
            LastSeen,
            NeverSeen,
            TillPaymentTypeLead,
            CashLink,
            CashLinkLead,
            CashLinkNone,
            CashLinkIssue,
            CashLinkBind,
            CashLinkPlateId,
            CashLinkIssued,
            CashLinkBound,
            CashLinkReplace,
            CashLinkBadPlate,
            CashLinkBusy,
            CashLinkNoModule,
        );
    };
}
