//! Payment modules (providers): the one trait every bank integration implements, and the registry.
//!
//! A decline is an outcome, not an error. `ProviderError::NoAnswer` (timeout, 5xx, garbage) means
//! the truth is unknown and must be asked again later; `Rejected` means the bank clearly said no.

pub mod sandbox;

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
}

#[derive(Debug, Clone)]
pub struct CreateQr<'a> {
    /// qrpay's order id for the bank (`[A-Za-z0-9_.-]{1,40}`).
    pub order_ref: &'a str,
    pub amount: Amount,
    pub description: Option<&'a str>,
    /// The QR's deadline; the bank's own expiry is set to the same moment as a second guard.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedQr {
    pub qr_id: String,
    /// The QR content, verbatim as the bank gave it.
    pub payload: String,
}

#[derive(Debug, Clone, Copy)]
pub struct QrRef<'a> {
    pub qr_id: &'a str,
    pub order_ref: &'a str,
    pub amount: Amount,
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
    pub refund_ref: &'a str,
    pub order_ref: &'a str,
    pub qr_id: Option<&'a str>,
    pub transaction_id: Option<&'a str>,
    pub amount: Amount,
    pub reason: Option<&'a str>,
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

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The module name stored in `payment_type.module`.
    fn module(&self) -> &'static str;
    fn capabilities(&self) -> Capabilities;
    async fn create_qr(&self, req: &CreateQr<'_>) -> Result<IssuedQr, ProviderError>;
    async fn payment_status(&self, qr: &QrRef<'_>) -> Result<BankPaymentState, ProviderError>;
    /// Annuls the QR; answers with the bank's state afterwards (`Paid` if the customer won).
    async fn cancel_qr(&self, qr: &QrRef<'_>) -> Result<BankPaymentState, ProviderError>;
    async fn refund(&self, req: &RefundRequest<'_>) -> Result<BankRefundState, ProviderError>;
    async fn refund_status(&self, refund_ref: &str) -> Result<BankRefundState, ProviderError>;
}

/// The installed payment modules by name.
#[derive(Clone)]
pub struct Providers {
    by_module: BTreeMap<&'static str, Arc<dyn Provider>>,
    sandbox: Arc<sandbox::SandboxBank>,
}

impl Providers {
    pub fn new() -> Self {
        let sandbox = Arc::new(sandbox::SandboxBank::default());
        let mut by_module: BTreeMap<&'static str, Arc<dyn Provider>> = BTreeMap::new();
        by_module.insert(sandbox.module(), sandbox.clone());
        Self { by_module, sandbox }
    }

    pub fn get(&self, module: &str) -> Option<&Arc<dyn Provider>> {
        self.by_module.get(module)
    }

    pub fn modules(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_module.keys().copied()
    }

    pub fn sandbox(&self) -> &Arc<sandbox::SandboxBank> {
        &self.sandbox
    }
}

impl Default for Providers {
    fn default() -> Self {
        Self::new()
    }
}
