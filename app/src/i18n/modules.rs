//! «Модули оплаты»: the bank modules' settings and the callback registration.
//! Their texts: `app/locales/{ru,en}/console.ftl`, under each key in kebab-case.

/// Adds this area's keys to the list of `Msg` and hands it on (see `messages!` in `mod.rs`).
macro_rules! modules_keys {
    ($next:ident $(, $rest:ident)*; $($keys:ident,)*) => {
        $next!($($rest),*; $($keys,)*
            PaymentModules,
            PaymentModulesLead,
            ModuleSandbox,
            ModuleNothingToSet,
            ModuleRaiffeisen,
            RaiffeisenBase,
            BaseProduction,
            BaseTest,
            BaseCustom,
            BaseInvalid,
            CustomUrl,
            SbpMerchantId,
            MerchantIdRules,
            SecretKey,
            SecretKeySet,
            SecretKeyNotSet,
            SecretKeyHint,
            SecretKeyRequired,
            SecretKeyRetype,
            SecretKeyInvalid,
            RegisterCallback,
            CallbackUrlWillBe,
            CallbackNoUrlYet,
            CallbackRegistered,
            CallbackNoIntegrator,
            CallbackNoSecret,
            CallbackRejected,
            CallbackNoAnswer,
        );
    };
}
