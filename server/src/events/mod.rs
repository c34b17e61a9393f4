//! Payment events to RabbitMQ: the transactional outbox (rows written by `payments/` in the same
//! transaction as each state change) and the relay that publishes them with publisher
//! confirms to each store's broker, plus what `/readyz` and `/metrics` report about it.

pub mod broker;
pub mod monitor;
pub mod outbox;
pub mod relay;

pub use monitor::{BrokerState, EventsMonitor};
pub use relay::{Relay, RelayConfig, StepReport};

/// The durable topic exchange every event goes to; the routing key is the event type.
pub const EXCHANGE: &str = "qrpay.events";
