//! The sandbox customer: pays or is declined by their bank on a till's word, so tills can be
//! tested end to end without a bank.

use super::{Error, PaymentService};
use crate::db::payment::PaymentRow;
use crate::db::till::TillIdentity;

impl PaymentService {
    /// The sandbox customer pays (`pay = true`) or is declined by their bank.
    pub async fn sandbox_customer(
        &self,
        till: &TillIdentity,
        payment_id: &str,
        pay: bool,
    ) -> Result<PaymentRow, Error> {
        let row = self.payment_for(till, payment_id).await?;
        if row.module != self.providers.sandbox().module_name() {
            return Err(Error::NotSandboxPayment);
        }
        let Some(qr_id) = row.qr_id.as_deref() else {
            return Err(Error::QrNotAvailable);
        };
        if !pay && !row.status().is_open() {
            return Err(Error::InvalidState(format!(
                "a {} payment cannot be declined",
                row.status().as_str()
            )));
        }
        let sandbox = self.providers.sandbox();
        let key = crate::providers::sandbox::state_key(
            qr_id,
            &row.order_ref,
            row.cash_link_qr_id.is_some(),
        );
        let state = if pay {
            sandbox.pay(&key, row.amount)
        } else {
            sandbox.decline(&key, row.amount)
        };
        self.apply_bank_state(payment_id, &state).await
    }
}
