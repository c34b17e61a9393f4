//! «Статические QR»: QRs for places without a till, and their plates.
//! Their texts: `app/locales/{ru,en}/console.ftl`, under each key in kebab-case.

/// Adds this area's keys to the list of `Msg` and hands it on (see `messages!` in `mod.rs`).
macro_rules! static_qrs_keys {
    ($next:ident $(, $rest:ident)*; $($keys:ident,)*) => {
        $next!($($rest),*; $($keys,)*
            StaticQrs,
            StaticQrsLead,
            StaticQrName,
            StaticQrPurpose,
            StaticQrAmount,
            StaticQrIssue,
            StaticQrBadName,
            StaticQrBadPurpose,
            StaticQrIssued,
            StaticQrDeactivated,
            StaticQrDeactivate,
            StaticQrDeactivateConfirm,
            StaticQrNone,
            StaticQrPlate,
            StaticQrPayments,
            StaticQrAnyAmount,
            StaticQrInactive,
            PayBySbp,
            StaticQrPrint,
            StaticQrNoModule,
            StaticQrBankRefused,
        );
    };
}
