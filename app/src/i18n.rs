//! The console's languages: a typed message table (every key has both texts, checked at compile
//! time), Russian first; money and plural forms as Russian readers expect them.

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

macro_rules! messages {
    ($($key:ident => $ru:literal, $en:literal;)*) => {
        /// A message of the console. Errors carry these keys, not text, so a crafted error URL can
        /// only ever show the console's own words, in the reader's language.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum Msg { $($key),* }

        impl Msg {
            pub fn text(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Msg::$key, Lang::Ru) => $ru, (Msg::$key, Lang::En) => $en,)*
                }
            }
        }
    };
}

messages! {
    Console => "Консоль qrpay", "qrpay console";
    LoginTitle => "Вход", "Sign in";
    Login => "Логин", "Login";
    Password => "Пароль", "Password";
    PasswordAgain => "Пароль ещё раз", "Password again";
    SignIn => "Войти", "Sign in";
    SignOut => "Выйти", "Sign out";
    LoginFailed => "Неверный логин или пароль.", "Wrong login or password.";
    LoginThrottled => "Слишком много неудачных попыток входа. Подождите 15 минут и попробуйте снова.",
        "Too many failed sign-in attempts. Wait 15 minutes and try again.";
    Required => "Обязательное поле.", "Required.";
    LoginRules => "Логин: от 1 до 64 символов.", "Login: 1 to 64 characters.";
    PasswordTooShort => "Пароль: не короче 8 символов.", "Password: at least 8 characters.";
    PasswordsDiffer => "Пароли не совпадают.", "The passwords differ.";
    LoginTaken => "Такой логин уже есть.", "This login is taken.";
    SetupTitle => "Первый администратор", "First administrator";
    SetupLead => "Пользователей ещё нет. Выберите логин и пароль администратора.",
        "There are no users yet. Choose the administrator's login and password.";
    SetupCreate => "Создать администратора", "Create the administrator";
    SetupClosed => "Ссылка для первой настройки недействительна или уже использована. Войдите или попросите администратора.",
        "The setup link is invalid or already used. Sign in or ask an administrator.";
    SetupDone => "Администратор создан. Войдите.", "The administrator is created. Sign in.";
    SignedOut => "Вы вышли.", "You are signed out.";
    Unauthenticated => "Войдите, чтобы продолжить.", "Sign in to continue.";
    Forbidden => "Недостаточно прав для этого действия.", "Your role may not do this.";
    NotFound => "Не найдено.", "Not found.";
    Internal => "Внутренняя ошибка. Подробности в журнале сервера.", "Internal error. Details are in the server log.";
    BadRequest => "Неверный запрос.", "Bad request.";
    Transactions => "Транзакции", "Transactions";
    TransactionsLead => "Последние 50 оплат магазина", "The store's latest 50 payments";
    NoTransactions => "Оплат пока нет.", "No payments yet.";
    ColTime => "Время", "Time";
    ColAmount => "Сумма", "Amount";
    ColStatus => "Статус", "Status";
    ColReceipt => "Чек", "Receipt";
    ColTill => "Касса", "Till";
    Refunded => "возвращено", "refunded";
    RoleAdmin => "администратор", "administrator";
    RoleSupport => "поддержка", "support";
    RoleViewer => "наблюдатель", "viewer";
    StatusCreating => "создаётся", "creating";
    StatusPending => "ожидает оплаты", "pending";
    StatusPaid => "оплачена", "paid";
    StatusDeclined => "отклонена", "declined";
    StatusExpired => "истекла", "expired";
    StatusCancelled => "отменена", "cancelled";
    StatusFailed => "ошибка", "failed";
    StatusUnknown => "неизвестно", "unknown";
    Language => "Язык", "Language";
    FilterStatus => "Статус", "Status";
    FilterAny => "любой", "any";
    FilterFrom => "С даты", "From";
    FilterTo => "По дату", "To";
    FilterTill => "Касса", "Till";
    FilterMin => "Сумма от, ₽", "Amount from, ₽";
    FilterMax => "Сумма до, ₽", "Amount to, ₽";
    FilterText => "Поиск: чек, заказ, QR, транзакция банка", "Search: receipt, order, QR, bank transaction";
    FilterApply => "Найти", "Search";
    FilterReset => "Сбросить", "Reset";
    ExportCsv => "Выгрузить CSV", "Export CSV";
    Next => "Дальше", "Next";
    TotalCount => "Оплат", "Payments";
    TotalAmount => "Сумма", "Amount";
    TotalRefunded => "Возвращено", "Refunded";
    BadStatus => "Нет такого статуса; фильтр не применён.", "No such status; not filtered by it.";
    BadDate => "Дата в виде ГГГГ-ММ-ДД; фильтр не применён.", "A date as YYYY-MM-DD; not filtered by it.";
    DatesReversed => "Конец периода раньше начала; фильтр не применён.", "The period ends before it starts; not filtered by it.";
    BadTill => "Нет такой кассы; фильтр не применён.", "No such till; not filtered by it.";
    BadMoney => "Сумма в рублях, например 12,50; фильтр не применён.", "An amount in rubles, e.g. 12.50; not filtered by it.";
    BadCursor => "Неверная ссылка «Дальше»; показана первая страница.", "A bad «Next» link; showing the first page.";
    TextTooLong => "Не длиннее 128 символов; фильтр не применён.", "At most 128 characters; not filtered by it.";
    Payment => "Оплата", "Payment";
    BackToList => "← Транзакции", "← Transactions";
    Paid => "Оплачено", "Paid";
    Left => "Осталось", "Left";
    PaymentId => "Идентификатор qrpay", "qrpay id";
    OrderRef => "Заказ (order)", "Order ref";
    QrId => "QR id", "QR id";
    BankTransactionId => "Транзакция банка", "Bank transaction";
    PaymentType => "Вид оплаты", "Payment type";
    Created => "Создана", "Created";
    PaidAt => "Оплачена", "Paid at";
    QrPreview => "QR-код", "QR code";
    Timeline => "История статусов", "Status timeline";
    Refunds => "Возвраты", "Refunds";
    NoRefunds => "Возвратов нет.", "No refunds.";
    AutoRefresh => "Оплата ожидается: страница обновляется каждые 5 секунд.", "Waiting for payment: the page refreshes every 5 seconds.";
    RefundTitle => "Возврат", "Refund";
    RefundFull => "Всё, что осталось", "All that is left";
    RefundPart => "Часть, ₽", "Part, ₽";
    RefundAmount => "Сумма возврата, ₽", "Refund amount, ₽";
    RefundReason => "Причина", "Reason";
    RefundSubmit => "Вернуть…", "Refund…";
    RefundAsk => "Вернуть", "Refund";
    RefundConfirm => "Подтвердить", "Confirm";
    RefundCancel => "Отмена", "Cancel";
    RefundNeedsConfirm => "Подтвердите возврат.", "Confirm the refund.";
    RefundBadAmount => "Сумма в рублях больше нуля, например 12,50.", "An amount in rubles above zero, e.g. 12.50.";
    RefundExceedsLeft => "Больше, чем осталось вернуть.", "More than is left to refund.";
    RefundNotPaid => "Вернуть можно только оплаченную оплату.", "Only a paid payment can be refunded.";
    RefundReasonTooLong => "Причина: не длиннее 140 символов.", "Reason: at most 140 characters.";
    RefundDeclined => "Банк отказал в возврате.", "The bank declined the refund.";
    RefundDone => "Возврат отправлен.", "The refund is sent.";
    RefundStatusPending => "в обработке", "pending";
    RefundStatusCompleted => "выполнен", "completed";
    RefundStatusDeclined => "отклонён", "declined";
    RefundStatusUnknown => "неизвестно", "unknown";
    TimeZone => "Часовой пояс", "Time zone";
    // ---- admin configuration: authorization servers, tills, audit log ----
    AuthServers => "Серверы авторизации", "Authorization servers";
    TabPayments => "Оплаты", "Payments";
    QrPayment => "QR оплата", "QR payment";
    Name => "Название", "Name";
    ResponseTimeout => "Таймаут ожидания ответа, сек", "Response timeout, s";
    TimeoutRange => "Целое число от 1 до 3600.", "A whole number from 1 to 3600.";
    NameTooLong => "Не длиннее 100 символов.", "At most 100 characters.";
    NameTaken => "Такое название уже есть.", "This name is taken.";
    UsedBy => "Видов оплаты", "Payment types";
    AddQrPayment => "Добавить «QR оплата»", "Add «QR payment»";
    Edit => "Изменить", "Edit";
    Save => "Сохранить", "Save";
    Cancel => "Отмена", "Cancel";
    Delete => "Удалить", "Delete";
    Saved => "Сохранено.", "Saved.";
    Deleted => "Удалено.", "Deleted.";
    AuthServerInUse => "Нельзя удалить: сервер авторизации используется видами оплаты. Сначала переназначьте или удалите их.",
        "Cannot delete: payment types use this authorization server. Reassign or delete them first.";
    NoAuthServers => "Серверов авторизации нет.", "No authorization servers.";
    Tills => "Кассы", "Tills";
    NoTills => "Касс нет.", "No tills.";
    AddTill => "Добавить кассу", "Add a till";
    TillKind => "Тип", "Kind";
    KindTill => "касса", "till";
    KindKiosk => "киоск", "kiosk";
    KindInvalid => "Выберите кассу или киоск.", "Choose till or kiosk.";
    KeyPrefix => "Начало ключа", "Key prefix";
    TillState => "Состояние", "State";
    Active => "активна", "active";
    Revoked => "отозвана", "revoked";
    QrOutputs => "Вывод QR", "QR outputs";
    OutScreen => "экран киоска", "kiosk screen";
    OutDisplay => "дисплей покупателя", "customer display";
    OutReceipt => "чек", "receipt";
    PaperWidth => "Ширина бумаги", "Paper width";
    PaperWidthInvalid => "Выберите 58 или 80 мм.", "Choose 58 or 80 mm.";
    EscposNative => "QR печатает сам принтер (ESC/POS)", "The printer draws the QR (native ESC/POS)";
    Revoke => "Отозвать", "Revoke";
    RevokeConfirm => "Отозвать ключ кассы? Её запросы будут отклоняться, вернуть ключ нельзя.",
        "Revoke the till's key? Its requests will be refused; this cannot be undone.";
    RevokeYes => "Да, отозвать", "Yes, revoke";
    TillRevoked => "Ключ кассы отозван.", "The till's key is revoked.";
    NewTillKey => "Ключ новой кассы — скопируйте его сейчас, он показывается один раз:",
        "The new till's key — copy it now, it is shown only once:";
    Audit => "Журнал", "Audit log";
    AuditLead => "Последние 100 изменений настроек", "The latest 100 configuration changes";
    NoAudit => "Изменений пока нет.", "No changes yet.";
    ColWho => "Кто", "Who";
    ColAction => "Действие", "Action";
    ColObject => "Объект", "Object";
    ColBefore => "Было", "Before";
    ColAfter => "Стало", "After";
    PaymentTypes => "Виды оплаты", "Payment types";
    NoPaymentTypes => "Видов оплаты нет.", "No payment types.";
    AddPaymentType => "Добавить вид оплаты", "Add a payment type";
    AuthServer => "Сервер авторизации", "Authorization server";
    AuthServerUnknown => "Выберите сервер авторизации из списка.", "Choose an authorization server from the list.";
    PaymentModule => "Модуль оплаты", "Payment module";
    ModuleUnknown => "Такого модуля оплаты нет. Выберите один из установленных.", "No such payment module. Choose an installed one.";
    ScanCustomerQr => "Сканировать QR-код покупателя", "Scan the customer's QR code";
    ScanNotSupported => "Этот модуль оплаты не умеет принимать QR-код покупателя.", "This payment module cannot accept the customer's QR code.";
    Enabled => "Включён", "Enabled";
    StoreSettings => "Параметры магазина", "Store parameters";
    StoreCode => "Код", "Code";
    StoreCodeRules => "Код: латинские буквы, цифры, «-» и «_», до 32 символов.", "Code: Latin letters, digits, «-» and «_», up to 32 characters.";
    CodeTaken => "Такой код уже есть.", "This code is taken.";
    IntegratorUrl => "Адрес интегратора", "Integrator address";
    UrlInvalid => "Адрес начинается с http:// или https://.", "The address starts with http:// or https://.";
    RabbitMqServer => "RabbitMQ сервер", "RabbitMQ server";
    RabbitMqUrlInvalid => "Адрес RabbitMQ начинается с amqp:// или amqps:// и содержит имя сервера.", "A RabbitMQ address starts with amqp:// or amqps:// and names a host.";
    CheckConnection => "Проверить подключение", "Check the connection";
    ConnectionOk => "Подключение к RabbitMQ установлено.", "Connected to RabbitMQ.";
    ConnectionFailed => "Не удалось подключиться к RabbitMQ за 3 секунды (адрес, пароль, доступность сервера).", "Could not connect to RabbitMQ within 3 seconds (address, password, server reachable?).";
    TimeZoneInvalid => "Укажите часовой пояс IANA, например Europe/Moscow.", "Give an IANA time zone, e.g. Europe/Moscow.";
    RefundLatePayments => "Возвращать поздние оплаты", "Refund late payments";
    Yes => "да", "yes";
    No => "нет", "no";
    // ---- users and dashboard (issue 4) ----
    Users => "Пользователи", "Users";
    UsersLead => "Кто может входить в консоль и что ему можно.", "Who may sign in to the console and what they may do.";
    AddUser => "Добавить пользователя", "Add a user";
    Role => "Роль", "Role";
    RoleInvalid => "Выберите роль: администратор, поддержка или наблюдатель.", "Choose a role: administrator, support or viewer.";
    UserState => "Состояние", "State";
    UserActive => "активен", "active";
    UserDisabled => "отключён", "disabled";
    UserCreated => "Создан", "Created";
    LastSignIn => "Последний вход", "Last sign-in";
    ItIsYou => "это вы", "you";
    ChangeRole => "Сменить роль", "Change role";
    Disable => "Отключить", "Disable";
    Enable => "Включить", "Enable";
    ResetPassword => "Сменить пароль", "Reset password";
    ResetPasswordFor => "Новый пароль для", "New password for";
    NewPassword => "Новый пароль", "New password";
    UserAdded => "Пользователь добавлен.", "The user is added.";
    RoleChanged => "Роль изменена.", "The role is changed.";
    UserWasDisabled => "Пользователь отключён: его вход в консоль закрыт сразу.", "The user is disabled: their console session ends at once.";
    UserWasEnabled => "Пользователь включён.", "The user is enabled.";
    PasswordWasReset => "Пароль изменён. Сообщите его пользователю.", "The password is changed. Tell the user.";
    NotYourself => "Нельзя отключить себя или понизить свою роль — попросите другого администратора.",
        "You cannot disable or demote yourself — ask another administrator.";
    LastAdmin => "Нельзя отключить или понизить последнего активного администратора: сначала назначьте другого.",
        "The last enabled administrator cannot be disabled or demoted: make another one first.";
    NoUsers => "Пользователей нет.", "No users.";
    Dashboard => "Сводка", "Dashboard";
    DashToday => "Сегодня", "Today";
    DashPaidCount => "Оплат", "Paid payments";
    DashPaidSum => "Оплачено", "Paid";
    DashRefunded => "Возвращено из них", "Refunded of them";
    DashChart => "Оплаты за 14 дней", "Paid over 14 days";
    DashChartLead => "Сумма оплат по дням (подписи — число оплат), по часовому поясу магазина", "Paid amount per day (labels: number of payments), in the store's time zone";
    DashDay => "День", "Day";
    DashPending => "Ожидают оплаты сейчас", "Pending now";
    DashNoPending => "Сейчас оплат не ожидается.", "No payment is pending now.";
    DashLate => "Поздние оплаты без возврата", "Late payments not refunded";
    DashLateLead => "Оплачены после истечения срока или отмены и ещё не возвращены полностью — проверьте их.",
        "Paid after they expired or were cancelled, and not yet refunded in full — look into them.";
    DashNoLate => "Поздних оплат без возврата нет.", "No late payment waits for a refund.";
    DashMore => "Показаны не все — весь список", "Not all are shown — the full list";
    DashLateMore => "Показаны 50 последних.", "The latest 50 are shown.";
}

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
