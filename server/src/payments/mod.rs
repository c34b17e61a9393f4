//! Payments and refunds: the state machine, the service that drives it, long-poll waiters,
//! and the JSON views shared by the till API and the events.

pub mod service;
pub mod status;
pub mod view;
pub mod waiters;

pub use service::PaymentService;
