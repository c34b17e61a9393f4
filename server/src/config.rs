//! Settings of a running qrpay, from flags or the environment (see `cli`).

use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Settings {
    /// `sqlite://…` (default `sqlite://data/qrpay.db`) or `postgres://…`.
    pub database_url: String,
    pub listen: SocketAddr,
    /// The address tills and customers reach qrpay at, for links in answers; defaults to
    /// `http://<listen>`.
    pub public_url: Option<String>,
    /// Run the background workers (expiry, sync); tests may drive them by hand instead.
    pub workers: bool,
    /// How often the expiry worker looks for payments past their deadline.
    pub expiry_interval: Duration,
    /// How long a payment or refund stays in doubt before the sync worker asks the bank.
    pub sync_interval: Duration,
    /// The longest one bank call may take (`QRPAY_BANK_CALL_TIMEOUT`), never more than the
    /// payment's authorization server timeout; past it the answer is `unknown`.
    pub bank_call_timeout: Duration,
    /// Run the outbox relay (events to RabbitMQ); tests may drive it step by step instead.
    pub relay: bool,
    /// The broker for stores without their own «RabbitMQ сервер» (`QRPAY_AMQP_URL`).
    pub amqp_url: Option<String>,
    /// First interval between polls of a pending payment whose bank may not call back
    /// (Raiffeisen); later polls back off.
    pub pending_poll_interval: Duration,
    /// How long published events stay in the outbox before the hourly clean-up deletes them;
    /// `None` keeps them forever.
    pub outbox_retention: Option<Duration>,
    /// Production mode (`--production`, `QRPAY_PRODUCTION=1`): test modules are off, and startup
    /// refuses what would lose money or leak (a public URL or a bank address that is not https).
    pub production: bool,
}

impl Settings {
    pub fn new(database_url: impl Into<String>, listen: SocketAddr) -> Self {
        Self {
            database_url: database_url.into(),
            listen,
            public_url: None,
            workers: true,
            expiry_interval: Duration::from_millis(250),
            sync_interval: Duration::from_secs(2),
            bank_call_timeout: Duration::from_secs(10),
            relay: true,
            amqp_url: None,
            pending_poll_interval: Duration::from_secs(2),
            outbox_retention: Some(Duration::from_secs(7 * 24 * 3600)),
            production: false,
        }
    }
}

/// `QRPAY_PRODUCTION` as the commands other than `serve` read it (`1`, `true`, `yes`, `on`).
pub fn production_from_env() -> bool {
    std::env::var("QRPAY_PRODUCTION").is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on" | "y"
        )
    })
}
