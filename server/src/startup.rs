//! Building and running the application: database, defaults, workers, HTTP server.

use crate::config::Settings;
use crate::db::{self, Db};
use crate::events::{EventsMonitor, Relay, RelayConfig};
use crate::http::{self, AppState};
use crate::payments::PaymentService;
use crate::providers::Providers;
use crate::{console, workers};
use anyhow::Context;
use axum::http::{HeaderValue, header};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tower_http::set_header::SetResponseHeaderLayer;

pub struct Application {
    listener: TcpListener,
    /// `/readyz` and `/metrics`, apart from the public listener.
    ops_listener: TcpListener,
    router: axum::Router,
    state: AppState,
    workers: Vec<JoinHandle<()>>,
    /// The outbox relay and how to stop it cleanly (it hands its leases back).
    relay: Option<(Arc<Notify>, JoinHandle<()>)>,
    /// While no console user exists: the one-time link where the first admin is created.
    setup_link: Option<String>,
    header_read_timeout: std::time::Duration,
    max_connections: usize,
}

/// Connects, migrates and, on an empty database, creates the default configuration (with the
/// test payment type unless `QRPAY_PRODUCTION` is set).
pub async fn prepare_database(url: &str) -> anyhow::Result<Db> {
    prepare_database_for(url, crate::config::production_from_env()).await
}

/// [`prepare_database`]; in production mode the first start creates no test payment type.
pub async fn prepare_database_for(url: &str, production: bool) -> anyhow::Result<Db> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    if db::store::ensure_defaults(&db, !production).await? {
        if production {
            tracing::info!(
                "new database: created store «Магазин» (code main) and authorization server «QR оплата» (120 s); production mode: no test payment type, add one on a bank module"
            );
        } else {
            tracing::info!(
                "new database: created store «Магазин» (code main), authorization server «QR оплата» (120 s) and the test payment type «{}» on the sandbox bank",
                db::store::TEST_PAYMENT_TYPE
            );
        }
    }
    Ok(db)
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let default_amqp_url = settings
            .amqp_url
            .as_deref()
            .map(crate::domain::AmqpUrl::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("QRPAY_AMQP_URL: {e}"))?;
        if settings.production
            && let Some(refusal) =
                crate::preflight::public_url_refusal(settings.public_url.as_deref())
        {
            anyhow::bail!(refusal);
        }
        let db = prepare_database_for(&settings.database_url, settings.production).await?;
        let providers = Providers::installed(&db);
        if settings.production {
            let refusals = crate::preflight::bank_address_refusals(&db, &providers).await?;
            if !refusals.is_empty() {
                anyhow::bail!(refusals.join("; "));
            }
            for warning in
                crate::preflight::production_warnings(&db, &providers, settings.amqp_url.is_some())
                    .await?
            {
                tracing::warn!("{warning}");
            }
            tracing::info!("production mode: test modules are off");
        }
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let addr = listener.local_addr()?;
        let ops_listener = TcpListener::bind(settings.ops_listen)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {} (QRPAY_OPS_LISTEN)",
                    settings.ops_listen
                )
            })?;
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let payments = Arc::new(
            PaymentService::new(
                db.clone(),
                providers,
                public_url.clone(),
                http::errors::till_answer,
            )
            .with_production(settings.production)
            .with_pending_poll_interval(settings.pending_poll_interval)
            .with_bank_call_timeout(settings.bank_call_timeout),
        );
        let events = Arc::new(EventsMonitor::default());
        events.set_default_url(settings.amqp_url.is_some());
        let state = AppState {
            payments: payments.clone(),
            qr_cache: Arc::new(crate::qr::cache::QrCache::default()),
            events: events.clone(),
        };
        let console_backend = Arc::new(
            console::ConsoleBackend::new(db.clone())
                .with_payments(payments.clone())
                .with_health(console::health::HealthSettings {
                    amqp_url: settings.amqp_url.clone(),
                    data_dir: crate::preflight::checks::data_dir(&settings.database_url),
                })
                .with_production(settings.production)
                .with_sign_ins_per_minute(settings.sign_ins_per_minute),
        );
        let router = http::api_router(state.clone())
            .merge(console::router(
                console_backend.clone(),
                console::ConsoleSettings {
                    trust_forwarded_for: settings.trust_forwarded_for,
                    ..console::ConsoleSettings::from_public_url(&public_url)
                },
                crate::auth::session::DbSessionStore::new(db.clone()),
            ))
            // No response of qrpay's is to be read as another type than it says.
            .layer(SetResponseHeaderLayer::overriding(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ));
        // Computed now so that the first unknown login does not take twice as long as others.
        tokio::task::spawn_blocking(crate::auth::password::dummy_hash);
        let setup_link = console_backend.open_setup().await?.map(|token| {
            format!(
                "{}/console/setup?token={token}",
                public_url.trim_end_matches('/')
            )
        });
        let mut workers = if settings.workers {
            workers::spawn(
                payments.clone(),
                settings.expiry_interval,
                settings.sync_interval,
            )
        } else {
            Vec::new()
        };
        workers.extend(workers::spawn_wakeups(payments));
        workers.push(tokio::spawn(clean_idempotency(db.clone())));
        workers.push(tokio::spawn(clean_up_sign_in_state(
            console_backend.clone(),
        )));
        if let Some(keep) = settings.outbox_retention {
            workers.push(tokio::spawn(clean_outbox(db.clone(), keep)));
        }
        let relay = settings.relay.then(|| {
            let config = RelayConfig {
                default_url: default_amqp_url,
                ..RelayConfig::default()
            };
            let stop = Arc::new(Notify::new());
            let task = tokio::spawn(Relay::new(db.clone(), config, events).run(stop.clone()));
            (stop, task)
        });
        log_next_steps(&db, setup_link.as_deref()).await;
        Ok(Self {
            listener,
            ops_listener,
            router,
            state,
            workers,
            relay,
            setup_link,
            header_read_timeout: settings.header_read_timeout,
            max_connections: settings.max_connections,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("BUG: a bound listener has an address")
    }

    /// The address of `/readyz` and `/metrics`.
    pub fn ops_addr(&self) -> SocketAddr {
        self.ops_listener
            .local_addr()
            .expect("BUG: a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The one-time first-run link of the console (logged at start), while no user exists.
    pub fn setup_link(&self) -> Option<&str> {
        self.setup_link.as_deref()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(
            "qrpay listening on http://{} (readiness and metrics on http://{})",
            self.local_addr(),
            self.ops_addr()
        );
        let ops = tokio::spawn(
            axum::serve(self.ops_listener, http::ops_router(self.state.clone())).into_future(),
        );
        // On SIGTERM/SIGINT: stop accepting, answer long-polls with the payment as it is, and let
        // the requests under way (a creation or refund waiting on its bank call) finish, for at
        // most DRAIN; then the relay publishes what they wrote.
        let stopping = Arc::new(Notify::new());
        let signal = {
            let (stopping, payments) = (stopping.clone(), self.state.payments.clone());
            async move {
                shutdown_signal().await;
                payments.stop_waiting();
                stopping.notify_one();
            }
        };
        let limits = crate::serve::Limits {
            header_read_timeout: self.header_read_timeout,
            max_connections: self.max_connections,
        };
        let serve = crate::serve::serve(self.listener, self.router, limits, signal);
        let result = tokio::select! {
            () = serve => Ok::<(), anyhow::Error>(()),
            _ = async { stopping.notified().await; tokio::time::sleep(DRAIN).await } => {
                tracing::warn!("requests still under way after {} s; stopping anyway", DRAIN.as_secs());
                Ok(())
            }
        };
        ops.abort();
        for w in &self.workers {
            w.abort();
        }
        // The jobs cut short give their work claims back, so another instance takes over now.
        self.state.payments.release_all_claims().await;
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

/// How long the requests under way may take to finish once qrpay is told to stop.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

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

/// Every 5 minutes: removes expired console sessions and sign-in counters past their window.
async fn clean_up_sign_in_state(console: Arc<console::ConsoleBackend>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        tick.tick().await;
        console.clean_up_sign_in_state().await;
    }
}

/// Rows deleted per statement by the clean-ups: small enough that the SQLite writer is
/// never held for long, so payments keep flowing while a backlog of old rows goes.
const OUTBOX_CLEAN_BATCH: i64 = 2000;

/// Every hour (and at start): deletes events published longer than `keep` ago, in batches.
async fn clean_outbox(db: Db, keep: std::time::Duration) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match clean_outbox_once(&db, keep).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "old published events deleted from the outbox"),
            Err(e) => tracing::warn!(error = %e, "cannot clean the outbox"),
        }
    }
}

/// One clean-up pass; returns how many rows it deleted.
pub async fn clean_outbox_once(db: &Db, keep: std::time::Duration) -> Result<u64, sqlx::Error> {
    let before = chrono::Utc::now() - chrono::Duration::from_std(keep).unwrap_or_default();
    in_batches(|| db::outbox::delete_sent_before(db, before, OUTBOX_CLEAN_BATCH)).await
}

/// How long a till's `Idempotency-Key` and its answer are kept: a till retries within minutes;
/// a key older than this is forgotten (the same key then makes a new payment).
pub const IDEMPOTENCY_KEPT: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// Every hour (and at start): forgets answered idempotency keys older than [`IDEMPOTENCY_KEPT`].
async fn clean_idempotency(db: Db) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match clean_idempotency_once(&db, IDEMPOTENCY_KEPT).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "old idempotency keys forgotten"),
            Err(e) => tracing::warn!(error = %e, "cannot clean the idempotency keys"),
        }
    }
}

/// One clean-up pass of answered idempotency keys older than `keep`; returns how many it deleted.
pub async fn clean_idempotency_once(
    db: &Db,
    keep: std::time::Duration,
) -> Result<u64, sqlx::Error> {
    let before = chrono::Utc::now() - chrono::Duration::from_std(keep).unwrap_or_default();
    in_batches(|| db::idempotency::delete_answered_before(db, before, OUTBOX_CLEAN_BATCH)).await
}

/// Runs a batched delete until a batch comes back short; the total deleted.
async fn in_batches<F, Fut>(delete: F) -> Result<u64, sqlx::Error>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<u64, sqlx::Error>>,
{
    let mut total = 0;
    loop {
        let n = delete().await?;
        total += n;
        if n < OUTBOX_CLEAN_BATCH as u64 {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

async fn log_next_steps(db: &Db, setup_link: Option<&str>) {
    if let Some(link) = setup_link {
        tracing::info!(
            "no console user yet: open {link} once to create the first admin (or `qrpay user add --login admin --role admin --password-stdin`)"
        );
    }
    match db::till::list_tills(db).await {
        Ok(tills) if tills.iter().all(|t| t.revoked_at.is_some()) => {
            tracing::info!(
                "no till yet: create one and its key with `qrpay till add --name till-1`"
            );
        }
        _ => {}
    }
}
