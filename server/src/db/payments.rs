//! shim: issue10 merge — the old path of the payment tables (now `payment`, `payment_event`,
//! `refund`, `idempotency`) for the console until it moves to `console/`; the lead removes it.

pub use super::payment::get_payment; // shim: issue10 merge
pub use super::payment_event::events_of; // shim: issue10 merge
pub use super::refund::refunds_of; // shim: issue10 merge
