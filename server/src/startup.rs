//! Building and running the application: database, defaults, workers, HTTP server.

use crate::config::Settings;
use crate::db::{self, Db};
use crate::events::{EventsMonitor, Relay, RelayConfig};
use crate::http::{self, AppState};
use crate::payments::PaymentService;
use crate::providers::Providers;
use crate::{console, workers};
use anyhow::Context;
use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
    workers: Vec<JoinHandle<()>>,
    /// The outbox relay and how to stop it cleanly (it hands its leases back).
    relay: Option<(Arc<Notify>, JoinHandle<()>)>,
}

/// Connects, migrates and, on an empty database, creates the default configuration.
pub async fn prepare_database(url: &str) -> anyhow::Result<Db> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    if db::config::ensure_defaults(&db).await? {
        tracing::info!(
            "new database: created store «Магазин» (code main), authorization server «QR оплата» (120 s) and payment type «СБП QR» on the sandbox bank"
        );
    }
    Ok(db)
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        if let Some(url) = &settings.amqp_url {
            crate::events::outbox::check_url(url)
                .map_err(|e| anyhow::anyhow!("QRPAY_AMQP_URL: {e}"))?;
        }
        let db = prepare_database(&settings.database_url).await?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let addr = listener.local_addr()?;
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let payments = Arc::new(
            PaymentService::new(db.clone(), Providers::installed(&db), public_url)
                .with_pending_poll_interval(settings.pending_poll_interval),
        );
        let events = Arc::new(EventsMonitor::default());
        events.set_default_url(settings.amqp_url.is_some());
        let state = AppState {
            payments: payments.clone(),
            qr_cache: Arc::new(crate::qr::cache::QrCache::default()),
            events: events.clone(),
        };
        let router = http::api_router(state.clone()).merge(console::router());
        let workers = if settings.workers {
            workers::spawn(payments, settings.expiry_interval, settings.sync_interval)
        } else {
            Vec::new()
        };
        let relay = settings.relay.then(|| {
            let config = RelayConfig {
                default_url: settings.amqp_url.clone(),
                ..RelayConfig::default()
            };
            let stop = Arc::new(Notify::new());
            let task = tokio::spawn(Relay::new(db.clone(), config, events).run(stop.clone()));
            (stop, task)
        });
        log_next_steps(&db).await;
        Ok(Self {
            listener,
            router,
            state,
            workers,
            relay,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("BUG: a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!("qrpay listening on http://{}", self.local_addr());
        // Small JSON answers must not wait for Nagle's algorithm and delayed ACKs (~40 ms).
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::warn!(error = %e, "cannot set TCP_NODELAY");
            }
        });
        let result = axum::serve(listener, self.router)
            .with_graceful_shutdown(shutdown_signal())
            .await;
        for w in &self.workers {
            w.abort();
        }
        if let Some((stop, task)) = self.relay {
            stop.notify_one();
            if tokio::time::timeout(std::time::Duration::from_secs(5), task)
                .await
                .is_err()
            {
                tracing::warn!("the outbox relay did not stop within 5 s");
            }
        }
        self.state.payments.db().close().await;
        result.context("the HTTP server stopped")
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("stopping");
}

async fn log_next_steps(db: &Db) {
    if db::config::count_users(db).await.unwrap_or(1) == 0 {
        tracing::info!(
            "no console user yet: create the first admin with `qrpay user add --login admin --role admin --password-stdin`"
        );
    }
    match db::config::list_tills(db).await {
        Ok(tills) if tills.iter().all(|t| t.revoked_at.is_some()) => {
            tracing::info!(
                "no till yet: create one and its key with `qrpay till add --name till-1`"
            );
        }
        _ => {}
    }
}
