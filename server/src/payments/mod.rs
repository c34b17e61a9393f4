//! Payments and refunds: the service that drives the state machine (`domain::status`),
//! long-poll waiters, and the JSON views shared by the till API and the events.

pub mod service;
pub mod view;
pub mod waiters;

pub use service::PaymentService;
