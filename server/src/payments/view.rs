//! The JSON shapes of a payment and a refund, as tills and event consumers see them.

use crate::db::payment::PaymentRow;
use crate::db::refund::RefundRow;
use crate::domain::{PaymentStatus, RefundStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PaymentView {
    /// qrpay's id of the payment (26 characters; also the customer page's link).
    pub id: String,
    pub status: PaymentStatus,
    /// Kopecks.
    pub amount: i64,
    pub currency: String,
    /// The till's reference to its receipt, as it sent it.
    pub receipt: String,
    pub payment_type: String,
    pub description: Option<String>,
    /// The QR code, once the bank has issued it.
    pub qr: Option<QrView>,
    /// When the QR stops being payable (the authorization server's response timeout).
    pub expires_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    /// Kopecks refunded or being refunded (declined refunds are not counted).
    pub refunded_amount: i64,
    /// Paid after qrpay had expired or cancelled it.
    pub late: bool,
    /// Made on a test module (`sandbox`): no money moved, whatever the status says. `false` for
    /// real payments.
    pub test: bool,
    /// Why the bank refused to issue the QR code (status `failed`).
    pub failure: Option<FailureView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Ready links for the QR outputs configured on the till that created the payment (null
    /// when the till does not use that output, or when there is no QR code; absent for a payment
    /// charged from the customer's QR code, which has nothing to show). Not in events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<OutputsView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutputsView {
    /// The customer page (`/pay/{id}`, public) for a kiosk screen or a second monitor.
    pub screen_url: Option<String>,
    /// A 1-bit PNG sized for a customer display.
    pub display_png: Option<String>,
    /// ESC/POS commands for the receipt tape, in the till's mode and paper width.
    pub receipt_escpos: Option<String>,
    /// A payment through the till's cash-register link: the printed plate the customer scans
    /// (its QR is the payment's `qr.payload`, the same for every sale of the till). Absent for
    /// other payments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate: Option<PlateView>,
}

/// Links to a till's cash-link plate (A6: the QR, the store, «Оплата по СБП», the till).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlateView {
    /// The plate as a page to print (A6, print CSS).
    pub page_url: String,
    pub png_url: String,
    pub svg_url: String,
}

impl PlateView {
    pub fn of(public_url: &str, qr_id: &str) -> Self {
        let base = format!("{public_url}/cash-links/{qr_id}/plate");
        Self {
            png_url: format!("{base}.png"),
            svg_url: format!("{base}.svg"),
            page_url: base,
        }
    }
}

/// Side of the PNG linked for customer displays (fits a 480-pixel-wide panel).
pub const DISPLAY_PNG_SIZE: u32 = 480;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QrView {
    /// The QR content (an NSPK link), verbatim from the bank.
    pub payload: String,
    pub png_url: String,
    pub svg_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FailureView {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RefundView {
    pub id: String,
    pub payment_id: String,
    /// Kopecks.
    pub amount: i64,
    pub status: RefundStatus,
    pub reason: Option<String>,
    pub failure: Option<FailureView>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// A refund of a test payment: no money moves.
    pub test: bool,
}

impl PaymentView {
    pub fn from_row(row: &PaymentRow, public_url: &str) -> Self {
        let qr = row.qr_payload.as_ref().map(|payload| QrView {
            payload: payload.clone(),
            png_url: format!("{public_url}/api/v1/payments/{}/qr.png", row.payment_id),
            svg_url: format!("{public_url}/api/v1/payments/{}/qr.svg", row.payment_id),
        });
        let till = row.till_outputs();
        let id = &row.payment_id;
        let has_qr = qr.is_some();
        // A customer-presented QR code is charged at once: nothing to show the customer.
        let outputs = row.customer_qr.is_none().then(|| OutputsView {
            screen_url: till.screen.then(|| format!("{public_url}/pay/{id}")),
            display_png: (till.display && has_qr).then(|| {
                format!("{public_url}/api/v1/payments/{id}/qr.png?size={DISPLAY_PNG_SIZE}&mono=1")
            }),
            receipt_escpos: (till.receipt && has_qr).then(|| {
                format!(
                    "{public_url}/api/v1/payments/{id}/qr.escpos?mode={}&width={}",
                    till.default_mode().as_str(),
                    till.paper_width
                )
            }),
            plate: row
                .cash_link_qr_id
                .as_deref()
                .map(|qr_id| PlateView::of(public_url, qr_id)),
        });
        Self {
            id: row.payment_id.clone(),
            status: row.status(),
            amount: row.amount,
            currency: row.currency.clone(),
            receipt: row.receipt.clone(),
            payment_type: row.payment_type_name.clone(),
            description: row.description.clone(),
            qr,
            expires_at: row.expires_at,
            paid_at: row.paid_at,
            refunded_amount: row.refunded_amount,
            late: row.late,
            test: row.test,
            failure: failure(&row.failure_code, &row.failure_message),
            created_at: row.created_at,
            updated_at: row.updated_at,
            outputs,
        }
    }
}

impl RefundView {
    pub fn from_row(row: &RefundRow) -> Self {
        Self {
            id: row.refund_id.clone(),
            payment_id: row.payment_id.clone(),
            amount: row.amount,
            status: row.status(),
            reason: row.reason.clone(),
            failure: failure(&row.failure_code, &row.failure_message),
            created_at: row.created_at,
            completed_at: row.completed_at,
            test: row.test,
        }
    }
}

fn failure(code: &Option<String>, message: &Option<String>) -> Option<FailureView> {
    code.as_ref().map(|code| FailureView {
        code: code.clone(),
        message: message.clone().unwrap_or_default(),
    })
}
