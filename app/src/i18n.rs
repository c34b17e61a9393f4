//! The console's languages: typed message keys (`Msg`) whose texts live in Fluent files
//! (`app/locales/{ru,en}/console.ftl`, read by the `fluent-templates` crate), Russian first; money
//! as Russian readers expect it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    Ru,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of the `qrpay_lang` cookie, else the first supported one of
    /// `Accept-Language` by weight, else Russian.
    pub fn resolve(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(l) = cookie.and_then(Lang::from_code) {
            return l;
        }
        let mut offers: Vec<(f32, Lang)> = accept_language
            .unwrap_or("")
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let tag = it.next()?.trim();
                let primary = tag.split('-').next()?;
                let lang = Lang::from_code(primary)?;
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, lang))
            })
            .collect();
        // Stable sort keeps the header's order among equal weights.
        offers.sort_by(|a, b| b.0.total_cmp(&a.0));
        offers.first().map(|o| o.1).unwrap_or_default()
    }
}

// The console's texts: `app/locales/{ru,en}/console.ftl` (Fluent), built into the binary.
fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "ru",
        // No Unicode isolation marks around placeables: the texts go into HTML as they are.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

// The loader reads the files while compiling but does not tell cargo; these make an edit of a text
// rebuild the crate.
const _: &str = include_str!("../locales/ru/console.ftl");
const _: &str = include_str!("../locales/en/console.ftl");

static RU: fluent_templates::LanguageIdentifier = fluent_templates::langid!("ru");
static EN: fluent_templates::LanguageIdentifier = fluent_templates::langid!("en");

impl Lang {
    fn langid(self) -> &'static fluent_templates::LanguageIdentifier {
        match self {
            Lang::Ru => &RU,
            Lang::En => &EN,
        }
    }
}

/// Every text of both languages, looked up in the Fluent bundles once, at first use. The set is
/// fixed (one per `Msg`), so keeping them for the life of the process costs a few kilobytes and
/// lets pages borrow `&'static str` without a lookup per use.
static TEXTS: std::sync::LazyLock<[Vec<&'static str>; 2]> = std::sync::LazyLock::new(|| {
    use fluent_templates::Loader;
    [Lang::Ru, Lang::En].map(|lang| {
        Msg::ALL
            .iter()
            .map(|m| {
                let text = LOCALES
                    .try_lookup(lang.langid(), m.id())
                    // A missing text shows its key (a unit test keeps this from happening).
                    .unwrap_or_else(|| m.id().to_owned());
                &*Box::leak(text.into_boxed_str())
            })
            .collect()
    })
});

macro_rules! messages {
    ($($(#[$doc:meta])* $key:ident,)*) => {
        /// A message of the console. Errors carry these keys, not text, so a crafted error URL can
        /// only ever show the console's own words, in the reader's language. The texts are in
        /// `app/locales/*/console.ftl` under the key in kebab-case (`LoginTitle` → `login-title`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum Msg { $($(#[$doc])* $key),* }

        impl Msg {
            /// Every message, in declaration order (`Msg::X as usize` is its index).
            pub const ALL: &'static [Msg] = &[$(Msg::$key),*];
            const IDS: &'static [&'static str] = &[$(stringify!($key)),*];
        }
    };
}

impl Msg {
    /// The Fluent id of the message: its name in kebab-case.
    pub fn id(self) -> &'static str {
        static KEBAB: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
            Msg::IDS
                .iter()
                .map(|name| {
                    let mut id = String::new();
                    for (i, ch) in name.chars().enumerate() {
                        if ch.is_ascii_uppercase() && i > 0 {
                            id.push('-');
                        }
                        id.push(ch.to_ascii_lowercase());
                    }
                    &*Box::leak(id.into_boxed_str())
                })
                .collect()
        });
        KEBAB[self as usize]
    }

    pub fn text(self, lang: Lang) -> &'static str {
        TEXTS[lang as usize][self as usize]
    }
}

messages! {
    Console,
    LoginTitle,
    Login,
    Password,
    PasswordAgain,
    SignIn,
    SignOut,
    SignOutEverywhere,
    LoginFailed,
    LoginThrottled,
    TooManyAttempts,
    Required,
    LoginRules,
    PasswordTooShort,
    PasswordsDiffer,
    LoginTaken,
    SetupTitle,
    SetupLead,
    SetupCreate,
    SetupClosed,
    SetupDone,
    SignedOut,
    Unauthenticated,
    Forbidden,
    NotFound,
    Internal,
    BadRequest,
    Transactions,
    TransactionsLead,
    NoTransactions,
    ColTime,
    ColAmount,
    ColStatus,
    ColReceipt,
    ColTill,
    Refunded,
    RoleAdmin,
    RoleSupport,
    RoleViewer,
    StatusCreating,
    StatusPending,
    StatusPaid,
    StatusDeclined,
    StatusExpired,
    StatusCancelled,
    StatusFailed,
    StatusUnknown,
    Language,
    Store,
    ChooseStore,
    FilterStatus,
    FilterAny,
    FilterFrom,
    FilterTo,
    FilterTill,
    FilterMin,
    FilterMax,
    FilterText,
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
    /// Beside the search box: a text shorter than `MIN_PREFIX` is matched exactly only.
    TextExactOnly,
    /// Before a capped count: «более 10000».
    TotalMoreThan,
    /// Before a capped sum: «не менее 1 234,00 ₽».
    TotalAtLeast,
    /// Under capped totals: they are partial; narrow the filter for exact ones.
    TotalsPartial,
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
    // ---- support actions, status and timeline in words, the audit log in words ----
    StatusRefundedFully,
    StatusRefundedPartly,
    StatusPaidLate,
    QrVoid,
    LateAfterExpiry,
    LateAfterCancel,
    LateRefunded,
    LateKept,
    LateRefundFailed,
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
    ActorTill,
    ActorAutomatic,
    AuditActCreate,
    AuditActUpdate,
    AuditActDelete,
    AuditActRevoke,
    AuditActReconcile,
    AuditActCancel,
    AuditActAskBank,
    AuditActRepublish,
    EntTill,
    EntAuthServer,
    EntPaymentType,
    EntStore,
    EntUser,
    EntRaiffeisen,
    EntReconciliation,
    FieldDisabled,
    FieldRevoked,
    FieldKeyPrefix,
    FieldStatus,
    FieldBankSaid,
    FieldEvents,
    ColChanges,
    FieldOutcome,
    SecretKeyChanged,
    AuditActBackup,
    EntDatabase,
    FieldBytes,
    FieldPayments,
    FieldDays,
    FieldLines,
    FieldMismatches,
    FieldRegistry,
    TimeZone,
    // ---- admin configuration: authorization servers, tills, audit log ----
    AuthServers,
    TabPayments,
    QrPayment,
    Name,
    ResponseTimeout,
    TimeoutRange,
    NameTooLong,
    NameTaken,
    UsedBy,
    AddQrPayment,
    Edit,
    Save,
    Cancel,
    Delete,
    Saved,
    Deleted,
    AuthServerInUse,
    NoAuthServers,
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
    Audit,
    AuditLead,
    NoAudit,
    ColWho,
    ColAction,
    ColObject,
    ColBefore,
    ColAfter,
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
    ProductName,
    DeleteAuthServerConfirm,
    SettingsMenu,
    MenuIntegration,
    MenuAdministration,
    EditTill,
    TillLanguage,
    TillLanguageHint,
    TillLanguageInvalid,
    LastSeen,
    NeverSeen,
    Enabled,
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
    Yes,
    No,
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
    AuditRefund,
    AuditTransaction,
    AuditReason,
    Users,
    UsersLead,
    AddUser,
    Role,
    RoleInvalid,
    UserState,
    UserActive,
    UserDisabled,
    UserCreated,
    LastSignIn,
    ItIsYou,
    ChangeRole,
    Disable,
    Enable,
    ResetPassword,
    ResetPasswordFor,
    NewPassword,
    UserAdded,
    RoleChanged,
    UserWasDisabled,
    UserWasEnabled,
    PasswordWasReset,
    NotYourself,
    LastAdmin,
    NoUsers,
    Dashboard,
    DashToday,
    DashPaidCount,
    DashPaidSum,
    DashRefunded,
    DashChart,
    DashChartLead,
    DashDay,
    DashPending,
    DashNoPending,
    DashLate,
    DashLateLead,
    DashNoLate,
    DashMore,
    DashLateMore,
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
    TestBadge,
    TestBannerLead,
    TestBannerHint,
    DashTestExcluded,
    DashTestIncluded,
    DashShowTest,
    DashHideTest,
    DefaultPaymentType,
    DefaultPaymentTypeLead,
    NoDefault,
    StoreDefault,
    TillPaymentTypeLead,
    TestPayment,
    Health,
    HealthLead,
    HealthAllOk,
    HealthSomeFailed,
    HealthDatabase,
    HealthPublicUrl,
    HealthBroker,
    HealthAdmin,
    HealthTestModules,
    HealthDisk,
    HealthClock,
    TestModuleInProduction,
}

impl Msg {
    /// The message of this variant name (`"BankSaysPaid"`), as serde writes a `Msg`.
    pub fn from_name(name: &str) -> Option<Msg> {
        Msg::IDS
            .iter()
            .position(|n| *n == name)
            .map(|i| Msg::ALL[i])
    }

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

/// Kopecks as `1 234,56 ₽` (Russian) or `₽1,234.56` (English). The Russian group separator is
/// a no-break space, so an amount never wraps.
pub fn format_money(kopecks: i64, lang: Lang) -> String {
    let sign = if kopecks < 0 { "-" } else { "" };
    let abs = kopecks.unsigned_abs();
    let (rub, kop) = (abs / 100, abs % 100);
    let digits = rub.to_string();
    let sep = match lang {
        Lang::Ru => '\u{a0}',
        Lang::En => ',',
    };
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(sep);
        }
        grouped.push(ch);
    }
    match lang {
        Lang::Ru => format!("{sign}{grouped},{kop:02}\u{a0}₽"),
        Lang::En => format!("{sign}₽{grouped}.{kop:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftl_ids(lang: &str) -> Vec<String> {
        let path = format!("{}/locales/{lang}/console.ftl", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once(" = ").map(|(id, _)| id.to_owned()))
            .filter(|id| !id.starts_with('#') && !id.starts_with(' '))
            .collect()
    }

    #[test]
    fn every_message_has_a_text_in_both_languages_and_no_text_is_left_over() {
        for lang in [Lang::Ru, Lang::En] {
            for m in Msg::ALL {
                // No fallback to the other language here: each file must have every text.
                let text = LOCALES.lookup_single_language::<&str>(lang.langid(), m.id(), None);
                assert!(
                    text.as_deref().is_ok_and(|t| !t.trim().is_empty()),
                    "{m:?} ({}) has no {} text",
                    m.id(),
                    lang.code()
                );
            }
            let ids = ftl_ids(lang.code());
            let known: Vec<&str> = Msg::ALL.iter().map(|m| m.id()).collect();
            for id in &ids {
                assert!(
                    known.contains(&id.as_str()),
                    "{id} in {}.ftl is no Msg",
                    lang.code()
                );
            }
            let mut unique = ids.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(
                unique.len(),
                ids.len(),
                "a key twice in {}.ftl",
                lang.code()
            );
        }
        assert_eq!(Msg::LoginTitle.id(), "login-title");
        assert_eq!(Msg::SignIn.text(Lang::Ru), "Войти");
        assert_eq!(Msg::SignIn.text(Lang::En), "Sign in");
    }

    #[test]
    fn money_is_grouped_with_a_comma_and_the_rouble_sign_in_russian() {
        assert_eq!(format_money(123_456, Lang::Ru), "1\u{a0}234,56\u{a0}₽");
        assert_eq!(format_money(5, Lang::Ru), "0,05\u{a0}₽");
        assert_eq!(
            format_money(100_000_000, Lang::Ru),
            "1\u{a0}000\u{a0}000,00\u{a0}₽"
        );
        assert_eq!(format_money(99_900, Lang::Ru), "999,00\u{a0}₽");
        assert_eq!(format_money(123_456, Lang::En), "₽1,234.56");
        assert_eq!(format_money(-150, Lang::Ru), "-1,50\u{a0}₽");
    }

    #[test]
    fn language_comes_from_the_cookie_then_accept_language_then_russian() {
        assert_eq!(Lang::resolve(Some("en"), Some("ru")), Lang::En);
        assert_eq!(Lang::resolve(Some("xx"), Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::resolve(None, Some("de, en;q=0.5, ru;q=0.8")),
            Lang::Ru
        );
        assert_eq!(Lang::resolve(None, Some("de, en;q=0.5")), Lang::En);
        assert_eq!(Lang::resolve(None, Some("en;q=0")), Lang::Ru);
        assert_eq!(Lang::resolve(None, None), Lang::Ru);
    }

    #[test]
    fn every_stored_status_has_a_label() {
        for s in [
            "creating",
            "pending",
            "paid",
            "declined",
            "expired",
            "cancelled",
            "failed",
            "unknown",
        ] {
            assert!(Msg::for_status(s).is_some(), "{s}");
        }
        assert_eq!(Msg::for_status("nope"), None);
    }
}
