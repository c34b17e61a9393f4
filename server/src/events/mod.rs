//! Payment events to RabbitMQ: the transactional outbox (rows written by `payments/` in the same
//! transaction as each state change) and the relay that publishes them with publisher
//! confirms to each store's broker, plus what `/readyz` and `/metrics` report about it, and the
//! replay of published events for a consumer that lost its queue.

pub mod broker;
pub mod monitor;
pub mod outbox;
pub mod relay;
pub mod replay;

pub use monitor::{BrokerState, EventsMonitor};
pub use relay::{Relay, RelayConfig, StepReport};

/// The durable topic exchange every event goes to; the routing key is the event type.
pub const EXCHANGE: &str = "qrpay.events";

/// The alternate exchange of [`EXCHANGE`] (fanout) and the durable queue bound to it, which
/// keeps every event no binding of [`EXCHANGE`] takes.
pub const UNROUTED: &str = "qrpay.events.unrouted";

/// The names qrpay publishes under. Always [`EXCHANGE`] and [`UNROUTED`] in production; tests
/// use names of their own so that they can shape the broker (an exchange declared by an older
/// qrpay) without disturbing each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// The topic exchange.
    pub exchange: String,
    /// Its alternate exchange and the queue bound to it (one name for both).
    pub unrouted: String,
}

impl Default for Topology {
    fn default() -> Self {
        Self {
            exchange: EXCHANGE.to_owned(),
            unrouted: UNROUTED.to_owned(),
        }
    }
}

impl Topology {
    /// A topic exchange `name` with its alternate exchange and queue `name.unrouted`.
    pub fn named(name: &str) -> Self {
        Self {
            exchange: name.to_owned(),
            unrouted: format!("{name}.unrouted"),
        }
    }
}
