//! «Параметры магазина и настройка операций»: the store, authorization servers, payment types and defaults.
//! Their texts: `app/locales/{ru,en}/console.ftl`, under each key in kebab-case.

/// Adds this area's keys to the list of `Msg` and hands it on (see `messages!` in `mod.rs`).
macro_rules! settings_keys {
    ($next:ident $(, $rest:ident)*; $($keys:ident,)*) => {
        $next!($($rest),*; $($keys,)*
            AuthServers,
            TabPayments,
            QrPayment,
            ResponseTimeout,
            TimeoutRange,
            UsedBy,
            AddQrPayment,
            AuthServerInUse,
            NoAuthServers,
            DeleteAuthServerConfirm,
            PaymentTypes,
            NoPaymentTypes,
            AddPaymentType,
            AuthServer,
            AuthServerUnknown,
            PaymentModule,
            ModuleUnknown,
            ScanCustomerQr,
            ScanNotSupported,
            ScanOnlyModules,
            ScanNoModule,
            StoreSettings,
            StoreCode,
            StoreCodeRules,
            CodeTaken,
            IntegratorUrl,
            UrlInvalid,
            RabbitMqServer,
            RabbitMqUrlInvalid,
            CheckConnection,
            ConnectionOk,
            ConnectionFailed,
            TimeZoneInvalid,
            RefundLatePayments,
            DefaultPaymentType,
            DefaultPaymentTypeLead,
            NoDefault,
            StoreDefault,
            TestModuleInProduction,
        );
    };
}
