//! Payment modules (providers): the one trait every bank integration implements, and the registry.
//!
//! A decline is an outcome, not an error. `ProviderError::NoAnswer` (timeout, 5xx, garbage) means
//! the truth is unknown and must be asked again later; `Rejected` means the bank clearly said no.

pub mod cash_link;
pub mod raiffeisen;
pub mod sandbox;
pub mod static_qr;

pub use cash_link::{CashLinkRef, CashLinkRequest};
pub use static_qr::{StaticQrPayment, StaticQrRef, StaticQrRequest};

use crate::domain::Amount;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a module can do; the console and the till API refuse what it cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Capabilities {
    pub dynamic_qr: bool,
    pub cash_link: bool,
    pub customer_presented_qr: bool,
    pub partial_refund: bool,
    pub callbacks: bool,
    /// A test module: no money moves. Its payments are marked `test` everywhere, and production
    /// mode turns it off.
    pub test: bool,
}

#[derive(Debug, Clone)]
pub struct CreateQr<'a> {
    /// Whose settings (bank host, merchant, key) the module uses.
    pub store_id: i64,
    /// qrpay's order id for the bank (`[A-Za-z0-9_.-]{1,40}`).
    pub order_ref: &'a str,
    pub amount: Amount,
    pub description: Option<&'a str>,
    /// The QR's deadline; the bank's own expiry is set to the same moment as a second guard.
    pub expires_at: DateTime<Utc>,
    /// The till's cash link to activate for this payment instead of issuing a QR of its own.
    pub cash_link: Option<CashLinkRef<'a>>,
}

/// A charge of the code a customer shows on their phone (customer-presented QR, «Сканировать
/// QR-код покупателя»): the till scanned it, the bank takes the money at once or declines.
#[derive(Debug, Clone)]
pub struct ChargeCustomerQr<'a> {
    pub store_id: i64,
    /// qrpay's order id for the bank: charging is idempotent by order, so asking again (a
    /// payment in doubt) answers with the first charge's outcome.
    pub order_ref: &'a str,
    pub amount: Amount,
    pub description: Option<&'a str>,
    /// The code as the till's scanner read it.
    pub customer_qr: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedQr {
    pub qr_id: String,
    /// The QR content, verbatim as the bank gave it.
    pub payload: String,
}

/// What the bank holds for an order whose registration's answer qrpay never got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderAtBank {
    /// A live QR for the order: the one registered before, or one issued now.
    Issued(IssuedQr),
    /// The order was paid (through a QR qrpay never saw).
    Paid,
}

#[derive(Debug, Clone, Copy)]
pub struct QrRef<'a> {
    pub store_id: i64,
    pub qr_id: &'a str,
    pub order_ref: &'a str,
    pub amount: Amount,
    /// The QR is a till's cash link: the bank knows the payment by its order (`order_ref`),
    /// never by the QR, which serves every sale of the till.
    pub cash_link: bool,
}

/// The bank's view of a QR payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankPaymentState {
    /// Issued, not paid yet.
    Waiting,
    Paid {
        transaction_id: Option<String>,
        paid_at: Option<DateTime<Utc>>,
    },
    Declined {
        reason: String,
    },
    Expired,
    Cancelled,
    /// The bank does not know this QR.
    NotFound,
}

#[derive(Debug, Clone)]
pub struct RefundRequest<'a> {
    pub store_id: i64,
    pub refund_ref: &'a str,
    pub order_ref: &'a str,
    pub qr_id: Option<&'a str>,
    pub transaction_id: Option<&'a str>,
    pub amount: Amount,
    pub reason: Option<&'a str>,
    /// The payment was an order on a cash link: refunded by order.
    pub cash_link: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankRefundState {
    InProgress,
    Completed,
    Declined { code: String, message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Timeout, connection error, 5xx or an answer that does not parse: ask again later.
    #[error("the bank did not answer clearly: {0}")]
    NoAnswer(String),
    /// The bank answered and refused the request.
    #[error("the bank refused: {code}: {message}")]
    Rejected { code: String, message: String },
}

/// Why the bank refused a request, in qrpay's words (the till API and the console each say it
/// their own way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The bank said no.
    Refused,
    /// The refund is larger than what the bank holds of the payment.
    RefundExceedsPaid,
}

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The module name stored in `payment_type.module`.
    fn module(&self) -> &'static str;
    fn capabilities(&self) -> Capabilities;

    /// True for a test module (no money moves): see [`Capabilities::test`].
    fn is_test(&self) -> bool {
        self.capabilities().test
    }
    async fn create_qr(&self, req: &CreateQr<'_>) -> Result<IssuedQr, ProviderError>;
    /// Asks the bank about an order whose registration's answer was lost (malformed, cut off,
    /// timed out): registering is idempotent by `order` at the bank, so the same request again
    /// answers with the order's QR, or says that the order was paid. The default registers
    /// again; a module whose bank reports "already paid" as a refusal maps it to `Paid`.
    async fn register_again(&self, req: &CreateQr<'_>) -> Result<OrderAtBank, ProviderError> {
        self.create_qr(req).await.map(OrderAtBank::Issued)
    }
    async fn payment_status(&self, qr: &QrRef<'_>) -> Result<BankPaymentState, ProviderError>;

    /// Checks, before anything is recorded, that `code` can be a customer's QR code for this
    /// module (`Err` says why not: the till is told the field is invalid). Only called when
    /// [`Capabilities::customer_presented_qr`] is true.
    fn check_customer_qr(&self, _code: &str) -> Result<(), String> {
        Err("this payment module does not read customers' QR codes".into())
    }

    /// Charges a customer-presented QR code: `Paid` or `Declined` (final), `Waiting` when the
    /// bank has not decided yet (the payment is then in doubt and asked about again by calling
    /// this again: idempotent by `order_ref`). Only called when
    /// [`Capabilities::customer_presented_qr`] is true; a module that cannot does not pretend.
    async fn charge_customer_qr(
        &self,
        _req: &ChargeCustomerQr<'_>,
    ) -> Result<BankPaymentState, ProviderError> {
        Err(ProviderError::Rejected {
            code: "CUSTOMER_QR_NOT_SUPPORTED".into(),
            message: format!(
                "the {} module does not read customers' QR codes",
                self.module()
            ),
        })
    }

    /// Annuls the QR; answers with the bank's state afterwards (`Paid` if the customer won).
    async fn cancel_qr(&self, qr: &QrRef<'_>) -> Result<BankPaymentState, ProviderError>;
    async fn refund(&self, req: &RefundRequest<'_>) -> Result<BankRefundState, ProviderError>;
    /// The state of the refund `req` (the same request that sent it: the bank is asked by
    /// refund id, or by order and refund id for a cash-link payment).
    async fn refund_status(
        &self,
        req: &RefundRequest<'_>,
    ) -> Result<BankRefundState, ProviderError>;

    /// True when pending payments must be polled because callbacks may never come; the sync
    /// worker then asks about them regularly, backing off.
    fn polls_pending(&self) -> bool {
        false
    }

    /// What a refusal code of this bank (`ProviderError::Rejected.code`) means, when the refusal
    /// is an error for whoever asked rather than a declined outcome.
    fn refusal_of(&self, _bank_code: &str) -> Option<Refusal> {
        None
    }

    /// Registers a till's cash link (`QRVariable`) at the bank, or binds a bank-issued plate
    /// by its id. Only called when [`Capabilities::cash_link`] is true.
    async fn issue_cash_link(&self, _req: &CashLinkRequest<'_>) -> Result<IssuedQr, ProviderError> {
        Err(ProviderError::Rejected {
            code: "NOT_SUPPORTED".into(),
            message: format!("the module {} issues no cash-register links", self.module()),
        })
    }

    /// True when the module issues static QRs (`QRStatic`) and reports their payments.
    fn issues_static_qrs(&self) -> bool {
        false
    }

    /// Registers a static QR at the bank.
    async fn issue_static_qr(&self, _req: &StaticQrRequest<'_>) -> Result<IssuedQr, ProviderError> {
        Err(ProviderError::Rejected {
            code: "NOT_SUPPORTED".into(),
            message: format!("the module {} issues no static QRs", self.module()),
        })
    }

    /// The paid payments the bank reports for a static QR now (polling; callbacks are the
    /// primary signal). Each may have been reported before: the caller takes each once.
    async fn static_qr_payments(
        &self,
        _qr: &StaticQrRef<'_>,
    ) -> Result<Vec<StaticQrPayment>, ProviderError> {
        Ok(Vec::new())
    }

    /// Annuls a static QR at the bank, so it can no longer be paid.
    async fn deactivate_static_qr(&self, _qr: &StaticQrRef<'_>) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Verifies a bank notification (signature over the raw body) and says which payment it is
    /// about. Nothing else in it is trusted: the caller asks the bank for the payment's state.
    async fn verify_callback(
        &self,
        _headers: &http::HeaderMap,
        _body: &[u8],
    ) -> Result<CallbackNotice, CallbackError> {
        Err(CallbackError::NotSupported)
    }
}

/// A verified notification: the bank says something happened to the payment with this `order`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackNotice {
    pub order_ref: String,
    /// The QR the notification names (not covered by the signature: the bank is asked about
    /// it, with the order, before anything is taken from it).
    pub qr_id: Option<String>,
    /// The status the notification claims (logged; the bank is asked before anything changes).
    pub claimed_status: String,
    /// A paid notification of a static QR: the payment, as the signed notification gives it
    /// (the amount, order, status and date are signed; a static QR's payments cannot be asked
    /// of the bank one by one).
    pub static_payment: Option<StaticQrPayment>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("this payment module takes no callbacks")]
    NotSupported,
    #[error("malformed notification: {0}")]
    Malformed(String),
    #[error("the notification is not signed")]
    Unsigned,
    #[error("the notification's signature does not match")]
    BadSignature,
    #[error("no payment of this module has order {0:?}")]
    UnknownOrder(String),
    #[error("the store of order {0:?} has no settings for this module")]
    NotConfigured(String),
}

/// The installed payment modules by name.
#[derive(Clone)]
pub struct Providers {
    by_module: BTreeMap<&'static str, Arc<dyn Provider>>,
    sandbox: Arc<sandbox::SandboxBank>,
    /// The Raiffeisen module itself, for what only it can do (registering the callback URL).
    raiffeisen: Option<Arc<raiffeisen::RaiffeisenBank>>,
}

impl Providers {
    /// The sandbox alone (no database needed).
    pub fn new() -> Self {
        let sandbox = Arc::new(sandbox::SandboxBank::default());
        let mut by_module: BTreeMap<&'static str, Arc<dyn Provider>> = BTreeMap::new();
        by_module.insert(sandbox.module(), sandbox.clone());
        Self {
            by_module,
            sandbox,
            raiffeisen: None,
        }
    }

    /// Every module this qrpay ships: the sandbox and Raiffeisen (settings per store in `db`).
    pub fn installed(db: &crate::db::Db) -> Self {
        let mut providers = Self::new();
        let raiffeisen = Arc::new(raiffeisen::RaiffeisenBank::new(
            db.clone(),
            raiffeisen::RaiffeisenDefaults::from_env(),
        ));
        providers
            .by_module
            .insert(raiffeisen.module(), raiffeisen.clone());
        providers.raiffeisen = Some(raiffeisen);
        providers
    }

    pub fn get(&self, module: &str) -> Option<&Arc<dyn Provider>> {
        self.by_module.get(module)
    }

    pub fn modules(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_module.keys().copied()
    }

    /// True when `module` is an installed test module (an unknown module is not one: it takes
    /// no payments at all).
    pub fn is_test(&self, module: &str) -> bool {
        self.get(module).is_some_and(|p| p.is_test())
    }

    pub fn sandbox(&self) -> &Arc<sandbox::SandboxBank> {
        &self.sandbox
    }

    pub fn raiffeisen(&self) -> Option<&Arc<raiffeisen::RaiffeisenBank>> {
        self.raiffeisen.as_ref()
    }
}

impl Default for Providers {
    fn default() -> Self {
        Self::new()
    }
}
