//! The till API's words for what the payments service refuses: each `payments::Error` as an
//! error code (and so an HTTP status), the field at fault, and the message (its `Display`, and
//! in Russian, as a cashier's screen shows it).

use crate::error::{ApiError, ErrorCode};
use crate::payments::{self, Answer};
use crate::providers::Refusal;

impl From<payments::Error> for ApiError {
    fn from(e: payments::Error) -> Self {
        match e {
            payments::Error::Internal(cause) => ApiError::Internal(cause),
            refused => client_error(&refused),
        }
    }
}

/// A refusal as the till's stored answer (the service's `TillAnswer`): what a retry replays.
pub fn till_answer(e: &payments::Error) -> Answer {
    let err = match e {
        payments::Error::Internal(cause) => ApiError::Internal(anyhow::anyhow!("{cause:#}")),
        refused => client_error(refused),
    };
    Answer {
        status: err.code().status(),
        // With its Russian message: a replay answers in the language of the till that asks.
        body: err.wire_body().to_string(),
    }
}

/// The code a bank's refusal gets in the till API.
pub fn refusal_code(refusal: Refusal) -> ErrorCode {
    match refusal {
        Refusal::Refused => ErrorCode::ProviderRejected,
        Refusal::RefundExceedsPaid => ErrorCode::RefundExceedsPaid,
    }
}

/// The till API's error for a refusal: its code, the field at fault, and the message.
fn client_error(e: &payments::Error) -> ApiError {
    use payments::Error as E;
    let (code, field) = match e {
        E::NotFound(_) => (ErrorCode::NotFound, None),
        E::Forbidden(_) => (ErrorCode::Forbidden, None),
        E::UnknownPaymentType(_) => (ErrorCode::UnknownPaymentType, Some("payment_type")),
        E::PaymentTypeDisabled(_) | E::TestModuleOff { .. } => {
            (ErrorCode::PaymentTypeDisabled, Some("payment_type"))
        }
        E::CustomerQrNotSupported { .. } => {
            (ErrorCode::CustomerQrNotSupported, Some("customer_qr"))
        }
        E::InvalidCustomerQr(_) => (ErrorCode::InvalidField, Some("customer_qr")),
        E::CustomerQrMissing(_) => (ErrorCode::MissingField, Some("customer_qr")),
        E::ModuleNotInstalled(_) => (ErrorCode::ProviderUnavailable, None),
        E::InvalidState(_) => (ErrorCode::InvalidState, None),
        E::TillBusy { .. } => (ErrorCode::TillBusy, None),
        E::NotSandboxPayment => (ErrorCode::NotSandboxPayment, None),
        E::QrNotAvailable => (ErrorCode::QrNotAvailable, None),
        E::NotPaid(_) => (ErrorCode::PaymentNotPaid, None),
        E::RefundExceeds { .. } => (ErrorCode::RefundExceedsPaid, Some("amount")),
        E::KeyReused => (ErrorCode::IdempotencyKeyReused, Some("Idempotency-Key")),
        E::RequestInProgress => (ErrorCode::IdempotencyRequestInProgress, None),
        E::BankRefused { refusal, .. } => (refusal_code(*refusal), None),
        E::Internal(_) => (ErrorCode::InternalError, None),
    };
    let err = match field {
        Some(field) => ApiError::field(code, field, e.to_string()),
        None => ApiError::new(code, e.to_string()),
    };
    let err = match russian(e) {
        Some(ru) => err.ru(ru),
        None => err,
    };
    match e {
        E::TillBusy { payment_id } => err.about_payment(payment_id),
        _ => err,
    }
}

/// The refusal in Russian, where it says more than its code's general words.
fn russian(e: &payments::Error) -> Option<String> {
    use payments::Error as E;
    Some(match e {
        E::Forbidden(what) => match *what {
            "refund" => "Этот возврат относится к другому магазину".into(),
            _ => "Этот платёж относится к другому магазину".into(),
        },
        E::UnknownPaymentType(Some(name)) => format!("В магазине нет вида оплаты «{name}»"),
        E::UnknownPaymentType(None) => "Вид оплаты не указан, а у кассы и магазина нет вида \
            оплаты по умолчанию: передайте payment_type или задайте вид оплаты по умолчанию \
            (консоль: «Кассы» или «Виды оплаты»)"
            .into(),
        E::PaymentTypeDisabled(name) => format!("Вид оплаты «{name}» выключен"),
        E::TestModuleOff {
            payment_type,
            module,
        } => format!(
            "Вид оплаты «{payment_type}» работает через тестовый модуль {module}, а в рабочем \
             режиме он выключен: деньги не поступили бы; выберите вид оплаты с модулем банка"
        ),
        E::CustomerQrNotSupported {
            payment_type,
            module,
        } => {
            format!("Вид оплаты «{payment_type}» (модуль {module}) не принимает QR-код покупателя")
        }
        E::InvalidCustomerQr(_) => {
            "Модуль оплаты не принимает такой QR-код покупателя; отсканируйте код ещё раз".into()
        }
        E::CustomerQrMissing(name) => format!(
            "Вид оплаты «{name}» списывает деньги по QR-коду покупателя: отсканируйте код и \
             передайте его в customer_qr"
        ),
        E::ModuleNotInstalled(module) => format!("Модуль оплаты {module} не установлен"),
        E::NotSandboxPayment => {
            "Оплатить или отклонить так можно только платёж тестового модуля sandbox".into()
        }
        E::QrNotAvailable => "У платежа нет QR-кода для оплаты".into(),
        E::TillBusy { payment_id } => format!(
            "Кассовая ссылка кассы занята платежом {payment_id}: дождитесь его конца или отмените его"
        ),
        E::NotPaid(status) => format!(
            "Вернуть можно только оплаченный платёж, а этот {}",
            status_ru(*status)
        ),
        E::RefundExceeds { left: 0 } => "Платёж уже возвращён полностью".into(),
        E::RefundExceeds { left } => format!(
            "Можно вернуть не больше {}",
            app::i18n::format_money(*left, app::i18n::Lang::Ru)
        ),
        E::BankRefused {
            action,
            code,
            message,
            ..
        } => {
            let what = match *action {
                "to issue the QR code" => "выдать QR-код",
                "to annul the QR code" => "отменить QR-код",
                "the refund" => "сделать возврат",
                _ => "выполнить запрос",
            };
            format!("Банк отказался {what}: {code}: {message}")
        }
        E::NotFound(_)
        | E::InvalidState(_)
        | E::KeyReused
        | E::RequestInProgress
        | E::Internal(_) => return None,
    })
}

/// A payment's status as the sentence «…, а этот {}» ends.
fn status_ru(status: crate::domain::PaymentStatus) -> &'static str {
    use crate::domain::PaymentStatus as S;
    match status {
        S::Creating => "ещё создаётся",
        S::Pending => "ещё ждёт оплаты",
        S::Paid => "оплачен",
        S::Declined => "отклонён",
        S::Expired => "истёк",
        S::Cancelled => "отменён",
        S::Failed => "не создан",
        S::Unknown => "ждёт ответа банка",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PaymentStatus;
    use serde_json::{Value, json};

    fn body(e: payments::Error) -> (u16, Value) {
        let e = ApiError::from(e);
        let body = serde_json::to_value(e.body()).unwrap();
        (e.code().status().as_u16(), body)
    }

    #[test]
    fn refusals_keep_the_till_api_codes_statuses_and_bodies() {
        assert_eq!(
            body(payments::Error::RefundExceeds { left: 150 }),
            (
                409,
                json!({"error": {"code": "refund_exceeds_paid", "field": "amount",
                    "message": "amount: only 150 kopecks are left to refund"}})
            )
        );
        assert_eq!(
            body(payments::Error::NotPaid(PaymentStatus::Pending)),
            (
                409,
                json!({"error": {"code": "payment_not_paid",
                    "message": "only paid payments can be refunded; this one is pending"}})
            )
        );
        assert_eq!(
            body(payments::Error::UnknownPaymentType(None)),
            (
                422,
                json!({"error": {"code": "unknown_payment_type", "field": "payment_type",
                    "message": "payment_type: no payment_type was sent and neither this till nor the store has a default payment type; send payment_type, or set a default (console «Кассы» or «Виды оплаты», `qrpay till set --payment-type`)"}})
            )
        );
        assert_eq!(
            body(payments::Error::Forbidden("refund")),
            (
                403,
                json!({"error": {"code": "forbidden", "message": "the refund belongs to another store"}})
            )
        );
        assert_eq!(
            body(payments::Error::ModuleNotInstalled("raiffeisen".into())),
            (
                503,
                json!({"error": {"code": "provider_unavailable",
                    "message": "payment module \"raiffeisen\" is not installed in this qrpay"}})
            )
        );
    }

    #[test]
    fn a_bank_refusal_is_answered_with_the_code_its_provider_gives_it() {
        let refused = |refusal| payments::Error::BankRefused {
            action: "the refund",
            refusal,
            code: "ERROR.REFUND_INSUFFICIENT_FUNDS".into(),
            message: "no".into(),
        };
        let answer = till_answer(&refused(Refusal::RefundExceedsPaid));
        assert_eq!(answer.status.as_u16(), 409);
        assert_eq!(
            serde_json::from_str::<Value>(&answer.body).unwrap(),
            json!({"error": {"code": "refund_exceeds_paid",
                "message": "the bank refused the refund: ERROR.REFUND_INSUFFICIENT_FUNDS: no",
                "message_ru": "Банк отказался сделать возврат: ERROR.REFUND_INSUFFICIENT_FUNDS: no"}})
        );
        assert_eq!(till_answer(&refused(Refusal::Refused)).status.as_u16(), 502);
    }

    #[test]
    fn refusals_say_in_russian_what_a_cashier_needs_with_the_same_code_and_field() {
        let e = ApiError::from(payments::Error::RefundExceeds { left: 7845 });
        assert_eq!(e.message_ru(), "Можно вернуть не больше 78,45\u{a0}₽");
        let body = e.wire_body();
        assert_eq!(body["error"]["code"], "refund_exceeds_paid");
        assert_eq!(body["error"]["field"], "amount");
        assert_eq!(
            ApiError::from(payments::Error::NotPaid(PaymentStatus::Pending)).message_ru(),
            "Вернуть можно только оплаченный платёж, а этот ещё ждёт оплаты"
        );
        // Without words of its own, an error says its code's general words.
        assert_eq!(
            ApiError::from(payments::Error::KeyReused).message_ru(),
            "Этот Idempotency-Key уже использован для другого запроса"
        );
    }

    #[test]
    fn internal_errors_stay_opaque() {
        let (status, body) = body(payments::Error::Internal(anyhow::anyhow!("secret")));
        assert_eq!(status, 500);
        assert!(!body.to_string().contains("secret"));
    }
}
