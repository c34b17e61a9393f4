//! «Кассы» → a till → «Кассовая ссылка»: the till's cash-register link (Raiffeisen
//! `QRVariable`), registered at the bank of the till's payment type or bound from a plate the
//! bank printed, and its A6 plate. Admins only; each change is audited.

use super::session::Actor;
use crate::error::ConsoleError;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CashLinkView {
    pub till_id: i64,
    pub till_name: String,
    pub store_name: String,
    /// `None`: the till has no link yet.
    pub link: Option<CashLinkItem>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CashLinkItem {
    pub qr_id: String,
    /// The link the plate's QR encodes.
    pub payload: String,
    pub module: String,
    /// `issued` (registered by qrpay) or `bound` (a plate the bank printed).
    pub source: String,
    /// When it was issued or bound, in the store's time zone.
    pub local_time: String,
    /// The plate's print page, SVG and PNG (public, like the printed link).
    pub page_url: String,
    pub svg_url: String,
    pub png_url: String,
    /// The QR as SVG markup (rendered on the server).
    pub qr_svg: String,
}

#[async_trait::async_trait]
pub trait CashLinkPort: Send + Sync + 'static {
    async fn get_cash_link(
        &self,
        actor: &Actor,
        till_id: i64,
    ) -> Result<CashLinkView, ConsoleError>;
    /// Registers a new link at the bank (`bind_qr_id: None`) or binds the printed plate with
    /// that QR id, replacing the till's link.
    async fn issue_cash_link(
        &self,
        actor: &Actor,
        till_id: i64,
        bind_qr_id: Option<String>,
    ) -> Result<(), ConsoleError>;
}
