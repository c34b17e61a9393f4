//! Cash-register links («кассовая ссылка», Raiffeisen `QRVariable`): one QR per till, printed
//! once, activated per sale by an order for the amount. What a module is asked to issue or bind,
//! and the link a payment activates.

/// The till's link a payment activates: the bank knows the payment as an order on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CashLinkRef<'a> {
    pub qr_id: &'a str,
    /// The link as the bank gave it (the payment's QR payload is this, the same every sale).
    pub payload: &'a str,
}

/// A cash link to register (`bind_qr_id`: a plate the bank printed, by its id).
#[derive(Debug, Clone, Copy)]
pub struct CashLinkRequest<'a> {
    /// Whose settings (bank host, merchant, key) the module uses.
    pub store_id: i64,
    /// `None`: register a new link; `Some`: bind the bank-issued plate with this QR id.
    pub bind_qr_id: Option<&'a str>,
}
