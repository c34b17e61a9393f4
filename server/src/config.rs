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
    /// qrpay runs behind a reverse proxy that appends the client's address to
    /// `X-Forwarded-For` (`QRPAY_TRUST_FORWARDED_FOR`); sign-in limits then count that address.
    pub trust_forwarded_for: bool,
    /// How long a client may take to send a request's headers; an idle keep-alive connection
    /// is closed after as long.
    pub header_read_timeout: Duration,
    /// Connections served at once (`QRPAY_MAX_CONNECTIONS`); past it new ones wait in the
    /// listen queue until one closes.
    pub max_connections: usize,
    /// Where `/readyz` and `/metrics` are served (`QRPAY_OPS_LISTEN`); never on `listen`.
    pub ops_listen: SocketAddr,
    /// Sign-in attempts one client address may make a minute over all logins
    /// (`QRPAY_SIGN_INS_PER_MINUTE`, a burst of as many).
    pub sign_ins_per_minute: u32,
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
            trust_forwarded_for: false,
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            ops_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            sign_ins_per_minute: 10,
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
