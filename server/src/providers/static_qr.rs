//! Static QRs (`QRStatic`): what a module is asked to issue, and the payments a bank reports for
//! one. A static QR is paid many times; each payment has the bank's own transaction id.

use chrono::{DateTime, Utc};

/// A static QR to register at the bank.
#[derive(Debug, Clone)]
pub struct StaticQrRequest<'a> {
    /// Whose settings (bank host, merchant, key) the module uses.
    pub store_id: i64,
    /// qrpay's order id for the QR (`[A-Za-z0-9_.-]{1,40}`).
    pub order_ref: &'a str,
    /// A fixed amount (kopecks) for every payment; `None`: the customer types the amount.
    pub amount: Option<i64>,
    /// The purpose of payment the customer's bank shows.
    pub purpose: Option<&'a str>,
}

/// A static QR as the bank knows it.
#[derive(Debug, Clone, Copy)]
pub struct StaticQrRef<'a> {
    pub store_id: i64,
    pub qr_id: &'a str,
    pub order_ref: &'a str,
}

/// One payment the bank reports for a static QR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticQrPayment {
    /// The bank's transaction id (refunds name the payment by it).
    pub transaction_id: String,
    /// Kopecks, as paid.
    pub amount: i64,
    /// The order the bank gave the payment.
    pub order: String,
    pub paid_at: Option<DateTime<Utc>>,
}
