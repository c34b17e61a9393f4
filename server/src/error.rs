//! The one error type of the till API and its JSON contract:
//! `{"error": {"code": "snake_case_code", "message": "human text", "field": "…"}}`.
//! The `code` values are a documented contract (see `ErrorCode`, listed in the OpenAPI document).
//! 4xx errors show their message; 5xx are opaque to the client and fully logged.
//!
//! Messages come in English and Russian: inside qrpay the Russian one travels beside the English
//! one in the body (under [`RU_KEY`]) until the language layer (`http::language`) keeps the one
//! the till reads. `code` and `field` are the same in both.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Every error code the till API can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body is not valid JSON.
    InvalidJson,
    /// 400: the `Idempotency-Key` header is missing.
    IdempotencyKeyMissing,
    /// 401: no till key, a wrong one, or a revoked one.
    Unauthorized,
    /// 403: the object belongs to another store.
    Forbidden,
    /// 404: no such object or route.
    NotFound,
    /// 405: the route does not take this method.
    MethodNotAllowed,
    /// 409: the same `Idempotency-Key` came with another request.
    IdempotencyKeyReused,
    /// 409: the first request with this `Idempotency-Key` is still being processed; retry.
    IdempotencyRequestInProgress,
    /// 409: the refund is larger than what is left to refund.
    RefundExceedsPaid,
    /// 409: only paid payments can be refunded.
    PaymentNotPaid,
    /// 409: the payment has no QR code (yet, or any more).
    QrNotAvailable,
    /// 409: the call is only for payments of the `sandbox` module.
    NotSandboxPayment,
    /// 409: the payment's state does not allow the call now.
    InvalidState,
    /// 409: the till's cash-register link is activated for another payment that is still open
    /// (`payment_id` names it): the till waits for it to end or cancels it, then asks again.
    TillBusy,
    /// 413: the body is larger than 64 KiB.
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 422: a required field is missing.
    MissingField,
    /// 422: the body has a field the API does not know.
    UnknownField,
    /// 422: a field (or query parameter, or header) has a wrong type or value.
    InvalidField,
    /// 422: no payment type of that name in the store (or the store has none).
    UnknownPaymentType,
    /// 422: the payment type is switched off, or (production mode) it runs on a test module;
    /// the message says which.
    PaymentTypeDisabled,
    /// 422: the payment type's module cannot read a customer's QR code.
    CustomerQrNotSupported,
    /// 429: too many requests.
    RateLimited,
    /// 500: something broke inside qrpay; it is logged.
    InternalError,
    /// 502: the bank refused; the message carries the bank's words.
    ProviderRejected,
    /// 503: the payment module of this payment type is not installed.
    ProviderUnavailable,
    /// 504: the bank did not answer in time.
    ProviderTimeout,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        use ErrorCode as E;
        match self {
            E::InvalidJson | E::IdempotencyKeyMissing => StatusCode::BAD_REQUEST,
            E::Unauthorized => StatusCode::UNAUTHORIZED,
            E::Forbidden => StatusCode::FORBIDDEN,
            E::NotFound => StatusCode::NOT_FOUND,
            E::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            E::IdempotencyKeyReused
            | E::IdempotencyRequestInProgress
            | E::RefundExceedsPaid
            | E::PaymentNotPaid
            | E::QrNotAvailable
            | E::NotSandboxPayment
            | E::InvalidState
            | E::TillBusy => StatusCode::CONFLICT,
            E::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            E::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            E::MissingField
            | E::UnknownField
            | E::InvalidField
            | E::UnknownPaymentType
            | E::PaymentTypeDisabled
            | E::CustomerQrNotSupported => StatusCode::UNPROCESSABLE_ENTITY,
            E::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            E::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            E::ProviderRejected => StatusCode::BAD_GATEWAY,
            E::ProviderUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            E::ProviderTimeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    pub const ALL: [ErrorCode; 27] = [
        Self::InvalidJson,
        Self::IdempotencyKeyMissing,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::IdempotencyKeyReused,
        Self::IdempotencyRequestInProgress,
        Self::RefundExceedsPaid,
        Self::PaymentNotPaid,
        Self::QrNotAvailable,
        Self::NotSandboxPayment,
        Self::InvalidState,
        Self::TillBusy,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::MissingField,
        Self::UnknownField,
        Self::InvalidField,
        Self::UnknownPaymentType,
        Self::PaymentTypeDisabled,
        Self::CustomerQrNotSupported,
        Self::RateLimited,
        Self::InternalError,
        Self::ProviderRejected,
        Self::ProviderUnavailable,
        Self::ProviderTimeout,
    ];
}

/// An error answer of the till API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Client {
        code: ErrorCode,
        message: String,
        field: Option<String>,
        /// The message in Russian; `None`: the code's general Russian words.
        message_ru: Option<String>,
        /// The payment the error is about, when it is another than the request's (`till_busy`).
        payment_id: Option<String>,
    },
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Client {
            code,
            message: message.into(),
            field: None,
            message_ru: None,
            payment_id: None,
        }
    }

    /// The same error naming the payment it is about (`till_busy`: the open one).
    pub fn about_payment(self, id: impl Into<String>) -> Self {
        match self {
            Self::Client {
                code,
                message,
                field,
                message_ru,
                ..
            } => Self::Client {
                code,
                message,
                field,
                message_ru,
                payment_id: Some(id.into()),
            },
            internal => internal,
        }
    }

    /// The same error with its message in Russian, for tills that read Russian.
    pub fn ru(self, text: impl Into<String>) -> Self {
        match self {
            Self::Client {
                code,
                message,
                field,
                payment_id,
                ..
            } => Self::Client {
                code,
                message,
                field,
                message_ru: Some(text.into()),
                payment_id,
            },
            internal => internal,
        }
    }

    pub fn field(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Client {
            code,
            message: message.into(),
            field: Some(field.into()),
            message_ru: None,
            payment_id: None,
        }
    }

    pub fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        Self::field(
            ErrorCode::InvalidField,
            field,
            format!("{field}: {message}"),
        )
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Client { code, .. } => *code,
            Self::Internal(_) => ErrorCode::InternalError,
        }
    }

    /// The JSON body of this error.
    pub fn body(&self) -> ErrorBody {
        match self {
            Self::Client {
                code,
                message,
                field,
                payment_id,
                ..
            } => ErrorBody {
                error: ErrorDetail {
                    code: *code,
                    message: message.clone(),
                    field: field.clone(),
                    payment_id: payment_id.clone(),
                },
            },
            Self::Internal(_) => ErrorBody {
                error: ErrorDetail {
                    code: ErrorCode::InternalError,
                    message: "internal error; it has been logged".into(),
                    field: None,
                    payment_id: None,
                },
            },
        }
    }
}

/// The key under which an error body carries its Russian message inside qrpay (never sent: the
/// language layer removes it).
pub const RU_KEY: &str = "message_ru";

impl ApiError {
    /// The message in Russian: its own, or the general words for its code.
    pub fn message_ru(&self) -> String {
        match self {
            Self::Client {
                message_ru: Some(ru),
                ..
            } => ru.clone(),
            Self::Client { code, field, .. } => code.words_ru(field.as_deref()),
            Self::Internal(_) => ErrorCode::InternalError.words_ru(None),
        }
    }

    /// The body as qrpay carries it until the language layer: [`Self::body`] plus the Russian
    /// message under [`RU_KEY`].
    pub fn wire_body(&self) -> serde_json::Value {
        let mut body = serde_json::to_value(self.body()).expect("BUG: error bodies serialize");
        body["error"][RU_KEY] = serde_json::Value::String(self.message_ru());
        body
    }
}

impl ErrorCode {
    /// The general Russian words for the code (`field`: the field at fault, named as sent).
    pub fn words_ru(self, field: Option<&str>) -> String {
        use ErrorCode as E;
        let field = field.unwrap_or("?");
        match self {
            E::InvalidJson => "Тело запроса не читается как JSON".into(),
            E::IdempotencyKeyMissing => "Нет заголовка Idempotency-Key".into(),
            E::Unauthorized => "Ключ кассы не передан, неверен или отозван".into(),
            E::Forbidden => "Это относится к другому магазину".into(),
            E::NotFound => "Не найдено".into(),
            E::MethodNotAllowed => "Этот адрес не принимает такой метод запроса".into(),
            E::IdempotencyKeyReused => {
                "Этот Idempotency-Key уже использован для другого запроса".into()
            }
            E::IdempotencyRequestInProgress => {
                "Первый запрос с этим Idempotency-Key ещё выполняется; повторите чуть позже".into()
            }
            E::RefundExceedsPaid => "Сумма возврата больше, чем осталось вернуть".into(),
            E::PaymentNotPaid => "Вернуть можно только оплаченный платёж".into(),
            E::QrNotAvailable => "У платежа нет QR-кода".into(),
            E::NotSandboxPayment => "Только для платежей тестового модуля sandbox".into(),
            E::InvalidState => "Сейчас с этим платежом этого сделать нельзя".into(),
            E::TillBusy => {
                "Кассовая ссылка занята другим платежом: дождитесь его конца или отмените его"
                    .into()
            }
            E::PayloadTooLarge => "Тело запроса больше 64 КиБ".into(),
            E::UnsupportedMediaType => "Тело запроса должно быть application/json".into(),
            E::MissingField => format!("Не заполнено поле {field}"),
            E::UnknownField => format!("Неизвестное поле {field}"),
            E::InvalidField => format!("Неверное значение поля {field}"),
            E::UnknownPaymentType => "В магазине нет такого вида оплаты".into(),
            E::PaymentTypeDisabled => "Этот вид оплаты выключен".into(),
            E::CustomerQrNotSupported => "Этот вид оплаты не принимает QR-код покупателя".into(),
            E::RateLimited => "Слишком много запросов; повторите позже".into(),
            E::InternalError => "Внутренняя ошибка qrpay; она записана в журнал".into(),
            E::ProviderRejected => "Банк отказал".into(),
            E::ProviderUnavailable => "Модуль оплаты этого вида оплаты не установлен".into(),
            E::ProviderTimeout => "Банк не ответил вовремя".into(),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(anyhow::Error::new(e).context("database error"))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// For people (a cashier's screen): in the language the request's `Accept-Language` names
    /// (`ru`, `en`), else the till's own (console «Кассы»), else Russian. Programs read `code`
    /// and `field`, which are the same in every language.
    pub message: String,
    /// The field, query parameter or header at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// `till_busy`: the open payment that holds the till's cash-register link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(e) = &self {
            tracing::error!(error = ?e, "request failed");
        }
        (self.code().status(), axum::Json(self.wire_body())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_and_maps_to_an_error_status() {
        let mut names: Vec<String> = ErrorCode::ALL
            .iter()
            .map(|c| serde_json::to_string(c).unwrap())
            .collect();
        for c in ErrorCode::ALL {
            assert!(c.status().is_client_error() || c.status().is_server_error());
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let e = ApiError::Internal(anyhow::anyhow!("password=hunter2 in connection string"));
        let body = serde_json::to_string(&e.body()).unwrap();
        assert!(!body.contains("hunter2"));
        assert!(body.contains("internal_error"));
    }
}
