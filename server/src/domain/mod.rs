//! Domain values parsed at the edge: once built, they are valid (parse, don't validate); and the
//! payment and refund statuses with their pure state machine (`status`).

mod amount;
pub mod amqp_url;
mod ids;
pub mod status;
mod text;

pub use amount::Amount;
pub use amqp_url::AmqpUrl;
pub use ids::{IdempotencyKey, OrderRef, PaymentId, RefundId, new_public_id, public_id_at};
pub use status::{PaymentStatus, PaymentTrigger, RefundStatus, RefundTrigger, Transition};
pub use text::{Description, Receipt};

/// Why a value was refused; the message is shown to the till or person as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

impl InvalidValue {
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}
