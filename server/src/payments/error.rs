//! Why a payment or refund request was refused, in qrpay's words: `http/errors.rs` turns it into
//! the till API's error contract, and the console into its own messages.

use crate::domain::PaymentStatus;
use crate::providers::Refusal;

/// A refused or failed payments request. The message (`Display`) is what the till is shown.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    /// The payment or refund belongs to another store than the till's.
    #[error("the {0} belongs to another store")]
    Forbidden(&'static str),
    /// No payment type of that name in the store (`None`: the store has no enabled one).
    #[error("{}", unknown_payment_type(.0.as_deref()))]
    UnknownPaymentType(Option<String>),
    #[error("payment_type: {0:?} is switched off")]
    PaymentTypeDisabled(String),
    /// Production mode: the payment type runs on a test module, which would take no money.
    #[error(
        "payment_type: {payment_type:?} runs on the test module {module}, which is off in production mode: no money would be received; use a payment type of a bank module"
    )]
    TestModuleOff {
        payment_type: String,
        module: String,
    },
    #[error(
        "customer_qr: payment type {payment_type:?} (module {module}) does not read customers' QR codes"
    )]
    CustomerQrNotSupported {
        payment_type: String,
        module: String,
    },
    /// The module says the code is not a customer's QR code it can read.
    #[error("customer_qr: {0}")]
    InvalidCustomerQr(String),
    /// The payment type reads the customer's QR code and none was sent.
    #[error(
        "customer_qr: payment type {0:?} charges the customer's QR code: scan it and send it as customer_qr"
    )]
    CustomerQrMissing(String),
    /// The payment type's module is not part of this qrpay.
    #[error("payment module {0:?} is not installed in this qrpay")]
    ModuleNotInstalled(String),
    /// The payment's state does not allow the call now.
    #[error("{0}")]
    InvalidState(String),
    /// The till's cash link is activated for another payment, still open.
    #[error(
        "the till's cash-register link is busy with payment {payment_id}: wait for it to end or cancel it first"
    )]
    TillBusy { payment_id: String },
    #[error("only payments of the sandbox module can be paid or declined this way")]
    NotSandboxPayment,
    #[error("the payment has no QR code to pay")]
    QrNotAvailable,
    #[error("only paid payments can be refunded; this one is {}", .0.as_str())]
    NotPaid(PaymentStatus),
    /// The refund is larger than what is left to refund (`left` kopecks).
    #[error("amount: only {left} kopecks are left to refund")]
    RefundExceeds { left: i64 },
    /// The `Idempotency-Key` came with another request.
    #[error("this Idempotency-Key was already used for another request")]
    KeyReused,
    #[error("the first request with this Idempotency-Key is still being processed; retry shortly")]
    RequestInProgress,
    /// The bank refused `action` (e.g. "to annul the QR code") with its `code` and `message`.
    #[error("the bank refused {action}: {code}: {message}")]
    BankRefused {
        action: &'static str,
        refusal: Refusal,
        code: String,
        message: String,
    },
    /// Something broke inside qrpay (storage, a broken invariant): logged, never shown.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

fn unknown_payment_type(name: Option<&str>) -> String {
    match name {
        Some(name) => format!("payment_type: the store has no payment type {name:?}"),
        None => "payment_type: no payment_type was sent and neither this till nor the store has a default payment type; send payment_type, or set a default (console «Кассы» or «Виды оплаты», `qrpay till set --payment-type`)".into(),
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(anyhow::Error::new(e).context("database error"))
    }
}
