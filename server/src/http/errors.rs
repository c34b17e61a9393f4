//! The till API's words for what the payments service refuses: each `payments::Error` as an
//! error code (and so an HTTP status), the field at fault, and the message (its `Display`).

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
        body: serde_json::to_string(&err.body()).expect("BUG: error bodies always serialize"),
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
        E::ModuleNotInstalled(_) => (ErrorCode::ProviderUnavailable, None),
        E::InvalidState(_) => (ErrorCode::InvalidState, None),
        E::NotSandboxPayment => (ErrorCode::NotSandboxPayment, None),
        E::QrNotAvailable => (ErrorCode::QrNotAvailable, None),
        E::NotPaid(_) => (ErrorCode::PaymentNotPaid, None),
        E::RefundExceeds { .. } => (ErrorCode::RefundExceedsPaid, Some("amount")),
        E::KeyReused => (ErrorCode::IdempotencyKeyReused, Some("Idempotency-Key")),
        E::RequestInProgress => (ErrorCode::IdempotencyRequestInProgress, None),
        E::BankRefused { refusal, .. } => (refusal_code(*refusal), None),
        E::Internal(_) => (ErrorCode::InternalError, None),
    };
    match field {
        Some(field) => ApiError::field(code, field, e.to_string()),
        None => ApiError::new(code, e.to_string()),
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
                "message": "the bank refused the refund: ERROR.REFUND_INSUFFICIENT_FUNDS: no"}})
        );
        assert_eq!(till_answer(&refused(Refusal::Refused)).status.as_u16(), 502);
    }

    #[test]
    fn internal_errors_stay_opaque() {
        let (status, body) = body(payments::Error::Internal(anyhow::anyhow!("secret")));
        assert_eq!(status, 500);
        assert!(!body.to_string().contains("secret"));
    }
}
