//! «Статические QR»: a store's static QRs for places with no till (a donation box, a parking
//! sticker), issued at a payment type's bank, each with a printable plate; every payment the
//! bank reports for one shows in «Транзакции». Admins only; each change is audited.

use super::session::Actor;
use crate::error::ConsoleError;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaticQrItem {
    pub id: i64,
    pub name: String,
    pub purpose: Option<String>,
    /// Kopecks; `None`: the customer types the amount.
    pub amount: Option<i64>,
    pub payment_type: String,
    pub module: String,
    pub qr_id: String,
    /// The link the QR encodes.
    pub payload: String,
    pub active: bool,
    /// Issued by a test module: its payments are test payments.
    pub test: bool,
    pub payments: i64,
    pub paid_total: i64,
    /// When it was issued, in the store's time zone.
    pub local_time: String,
    /// The store's name, for the plate.
    pub store_name: String,
    /// The QR as SVG markup (rendered on the server).
    pub qr_svg: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaticQrInput {
    pub name: String,
    pub purpose: Option<String>,
    pub amount: Option<i64>,
    /// `None`: the store's default payment type.
    pub payment_type_id: Option<i64>,
}

#[async_trait::async_trait]
pub trait StaticQrsPort: Send + Sync + 'static {
    async fn list_static_qrs(&self, actor: &Actor) -> Result<Vec<StaticQrItem>, ConsoleError>;
    /// Registers a static QR at the payment type's bank; its id.
    async fn issue_static_qr(
        &self,
        actor: &Actor,
        input: StaticQrInput,
    ) -> Result<i64, ConsoleError>;
    /// Annuls it at the bank: it takes no more payments.
    async fn deactivate_static_qr(&self, actor: &Actor, id: i64) -> Result<(), ConsoleError>;
}
