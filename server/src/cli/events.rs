//! `qrpay events …`: the store's RabbitMQ setting, the outbox backlog, a sample consumer (`tail`),
//! the replay of published events (`replay`) and the relay benchmark (`bench`).

use crate::db::audit::Who;
use crate::db::outbox::{self, ReplayRange};
use crate::db::payment_event::{NewOutbox, insert_outbox};
use crate::db::store::{self, find_store};
use crate::domain::AmqpUrl;
use crate::domain::amqp_url::{check_url, redact};
use crate::events::broker::Subscriber;
use crate::events::replay::{ReplayReport, replay};
use crate::events::{EventsMonitor, Relay, RelayConfig, Topology, UNROUTED};
use crate::startup::prepare_database;
use chrono::{DateTime, Utc};
use clap::Subcommand;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Subcommand, Debug)]
pub enum EventsCommand {
    /// Print events as they arrive: binds its own exclusive queue to the `qrpay.events` exchange.
    Tail {
        /// The broker, amqp://user:password@host:port/vhost
        #[arg(long, env = "QRPAY_AMQP_URL")]
        url: String,
        /// Routing-key pattern: `#` (everything), `payment.*`, `refund.completed`, …
        #[arg(long, default_value = "#")]
        key: String,
        /// Stop after this many events (default: run until Ctrl-C).
        #[arg(long)]
        count: Option<usize>,
    },
    /// Show or set a store's «RabbitMQ сервер»; takes effect without a restart.
    Url {
        /// The new URL (amqp:// or amqps://); without it, prints the current one.
        url: Option<String>,
        /// Remove the store's URL: its events wait in the outbox (or use QRPAY_AMQP_URL).
        #[arg(long, conflicts_with = "url")]
        clear: bool,
        /// Store code (default: the first store).
        #[arg(long)]
        store: Option<String>,
    },
    /// Events waiting in the outbox, per store.
    Status,
    /// Publish again the events written between --from and --to (same message ids), for a
    /// consumer that lost its queue. The outbox keeps published events
    /// QRPAY_OUTBOX_RETENTION_DAYS days; each store's events go to its broker (else --amqp-url).
    Replay {
        /// From this time on (RFC 3339: 2026-12-03T10:00:00+03:00 or 2026-12-03T07:00:00Z).
        #[arg(long, value_parser = parse_time)]
        from: DateTime<Utc>,
        /// Up to this time, not included (default: now).
        #[arg(long, value_parser = parse_time)]
        to: Option<DateTime<Utc>>,
        /// Only the events of this payment (its refunds' included).
        #[arg(long)]
        payment: Option<String>,
        /// Only the events of this store (its code).
        #[arg(long)]
        store: Option<String>,
    },
    /// Relay throughput: fills the outbox of a new store with COUNT events and publishes them
    /// to the broker with confirms. Use a scratch database.
    Bench {
        #[arg(long, env = "QRPAY_AMQP_URL")]
        url: String,
        #[arg(long, default_value_t = 50_000)]
        count: usize,
        /// Rows per batch (one round of confirms).
        #[arg(long, default_value_t = 500)]
        batch: i64,
    },
}

/// What `replay` needs of the server's settings.
pub struct ServerDefaults<'a> {
    /// `--amqp-url` / `QRPAY_AMQP_URL`: the broker of stores without their own.
    pub amqp_url: Option<&'a str>,
    /// `--outbox-retention-days` / `QRPAY_OUTBOX_RETENTION_DAYS`.
    pub retention_days: u64,
}

pub async fn run(
    database_url: &str,
    server: ServerDefaults<'_>,
    cmd: EventsCommand,
) -> anyhow::Result<()> {
    match cmd {
        EventsCommand::Tail { url, key, count } => tail(&url, &key, count).await,
        EventsCommand::Url { url, clear, store } => {
            let db = prepare_database(database_url).await?;
            let store = find_store(&db, store.as_deref())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if let Some(url) = url {
                let url = AmqpUrl::parse(&url).map_err(anyhow::Error::msg)?;
                store::set_rabbitmq_url(&db, &Who::CLI, store.store_id, Some(&url)).await?;
                eprintln!("store {}: RabbitMQ server set to {url}", store.code);
            } else if clear {
                store::set_rabbitmq_url(&db, &Who::CLI, store.store_id, None).await?;
                eprintln!(
                    "store {}: RabbitMQ server removed; events wait in the outbox",
                    store.code
                );
            } else {
                match store.rabbitmq_url {
                    Some(u) => println!("{u}"),
                    None => eprintln!("store {}: no RabbitMQ server set", store.code),
                }
            }
            Ok(())
        }
        EventsCommand::Status => {
            let db = prepare_database(database_url).await?;
            println!("{:<12} {:>10}  broker", "store", "waiting");
            for s in outbox::backlog(&db).await? {
                let broker = s
                    .rabbitmq_url
                    .as_ref()
                    .map(AmqpUrl::redacted)
                    .unwrap_or_else(|| "(not set: QRPAY_AMQP_URL of the server, if any)".into());
                println!("{:<12} {:>10}  {broker}", s.code, s.pending);
            }
            Ok(())
        }
        EventsCommand::Replay {
            from,
            to,
            payment,
            store,
        } => {
            let db = prepare_database(database_url).await?;
            let range = replay_range(&db, from, to, payment, store.as_deref()).await?;
            let default_url = server
                .amqp_url
                .map(AmqpUrl::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--amqp-url / QRPAY_AMQP_URL: {e}"))?;
            if server.retention_days > 0 {
                let kept_from = Utc::now() - chrono::Duration::days(server.retention_days as i64);
                if from < kept_from {
                    let oldest = outbox::oldest(&db).await?;
                    eprintln!(
                        "note: published events are kept {} days (QRPAY_OUTBOX_RETENTION_DAYS); the oldest event in the outbox is from {}",
                        server.retention_days,
                        oldest.map_or_else(|| "-".into(), |t| t.to_rfc3339())
                    );
                }
            }
            let report = replay(&db, &range, default_url.as_ref(), &Topology::default()).await?;
            print_replay(&range, &report);
            db.close().await;
            match report.error {
                Some(error) => anyhow::bail!(
                    "replay stopped: {error}; run it again (consumers drop the duplicates by message_id)"
                ),
                None => Ok(()),
            }
        }
        EventsCommand::Bench { url, count, batch } => bench(database_url, &url, count, batch).await,
    }
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("{e}: expected a time with its zone (RFC 3339), like 2026-12-03T10:00:00+03:00 or 2026-12-03T07:00:00Z")
        })
}

/// Checks the replay's options against the database and the clock.
async fn replay_range(
    db: &crate::db::Db,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
    payment: Option<String>,
    store: Option<&str>,
) -> anyhow::Result<ReplayRange> {
    let now = crate::db::now();
    anyhow::ensure!(from <= now, "--from {} is in the future", from.to_rfc3339());
    let to = to.unwrap_or(now);
    anyhow::ensure!(
        from < to,
        "--to {} is not after --from {}",
        to.to_rfc3339(),
        from.to_rfc3339()
    );
    let store = match store {
        Some(code) => Some(
            find_store(db, Some(code))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        None => None,
    };
    if let Some(id) = &payment {
        let Some(p) = crate::db::payment::get_payment(db, id).await? else {
            anyhow::bail!("no payment {id}");
        };
        if let Some(s) = &store {
            anyhow::ensure!(
                p.store_id == s.store_id,
                "payment {id} is not of store {}",
                s.code
            );
        }
    }
    Ok(ReplayRange {
        from,
        to,
        store_id: store.map(|s| s.store_id),
        payment_id: payment,
    })
}

fn print_replay(range: &ReplayRange, report: &ReplayReport) {
    for advice in &report.advice {
        eprintln!("warning: {advice}");
    }
    let what = match &range.payment_id {
        Some(id) => format!("events of payment {id}"),
        None => "events".to_owned(),
    };
    let time = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let span = format!("{} – {}", time(&range.from), time(&range.to));
    if report.stores.is_empty() {
        println!("no {what} written {span}");
        return;
    }
    for s in &report.stores {
        let mut line = format!(
            "store {}: re-published {} of {} {what} to {}",
            s.code, s.republished, s.matching, s.broker
        );
        if s.kept_unrouted > 0 {
            line += &format!(
                " ({} kept in the queue {UNROUTED}: no queue is bound for them)",
                s.kept_unrouted
            );
        }
        if s.waiting > 0 {
            line += &format!("; {} not published yet are left to the relay", s.waiting);
        }
        println!("{line}");
    }
    println!(
        "re-published {} {what} written {span}",
        report.republished()
    );
}

async fn tail(url: &str, key: &str, count: Option<usize>) -> anyhow::Result<()> {
    check_url(url).map_err(anyhow::Error::msg)?;
    let mut sub = Subscriber::bind(url, key)
        .await
        .map_err(anyhow::Error::msg)?;
    eprintln!(
        "listening on {} (exchange qrpay.events, key {key}); Ctrl-C to stop",
        redact(url)
    );
    let mut seen = 0;
    while count.is_none_or(|c| seen < c) {
        let next = tokio::select! {
            m = sub.next(Duration::from_secs(3600)) => m,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        match next {
            None => continue,
            Some(Err(e)) => anyhow::bail!(e),
            Some(Ok(m)) => {
                println!(
                    "{} {} store={} till={} {}",
                    m.routing_key,
                    m.message_id.as_deref().unwrap_or("-"),
                    m.store_id.map_or("-".into(), |v| v.to_string()),
                    m.till_id.map_or("-".into(), |v| v.to_string()),
                    m.body
                );
                seen += 1;
            }
        }
    }
    Ok(())
}

async fn bench(database_url: &str, url: &str, count: usize, batch: i64) -> anyhow::Result<()> {
    let amqp_url = AmqpUrl::parse(url).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        count > 0 && batch > 0,
        "--count and --batch must be positive"
    );
    let db = prepare_database(database_url).await?;
    let code = format!("bench-{}", crate::domain::new_public_id());
    let store_id = store::add_store(&db, &Who::SEED, &code, "Benchmark")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    store::set_rabbitmq_url(&db, &Who::SEED, store_id, Some(&amqp_url)).await?;
    // A consumer, so that the messages are routable (as in a store where someone listens).
    let mut sub = Subscriber::bind(url, "bench.#")
        .await
        .map_err(anyhow::Error::msg)?;
    let filled = Instant::now();
    let mut written = 0;
    while written < count {
        let mut tx = db.begin().await?;
        for _ in 0..(count - written).min(1000) {
            let event_id = crate::domain::new_public_id();
            let at = crate::db::now();
            let payload = serde_json::json!({
                "schema_version": 1, "event_id": event_id, "type": "bench.payment.paid",
                "occurred_at": at, "store_id": store_id, "till_id": 1,
                "payment": {"id": crate::domain::new_public_id(), "status": "paid", "amount": 12345,
                    "currency": "RUB", "receipt": format!("bench-{written}"), "payment_type": "СБП QR",
                    "description": null, "qr": {"payload": "https://qr.nspk.ru/AS1000670LSS7DN18SJQDNP4B05KLJL2?type=01&bank=100000000007&sum=12345&cur=RUB&crc=C08B",
                    "png_url": "http://127.0.0.1:3000/api/v1/payments/x/qr.png", "svg_url": "http://127.0.0.1:3000/api/v1/payments/x/qr.svg"},
                    "expires_at": at, "paid_at": at, "refunded_amount": 0, "late": false,
                    "failure": null, "created_at": at, "updated_at": at}
            })
            .to_string();
            insert_outbox(
                &mut tx,
                &NewOutbox {
                    event_id: &event_id,
                    store_id,
                    till_id: None,
                    routing_key: "bench.payment.paid",
                    payload: &payload,
                    at,
                },
            )
            .await?;
            written += 1;
        }
        tx.commit().await?;
    }
    println!(
        "filled the outbox with {count} events in {:.2} s",
        filled.elapsed().as_secs_f64()
    );
    let consumer = tokio::spawn(async move {
        let mut got = 0;
        while got < count {
            match sub.next(Duration::from_secs(30)).await {
                Some(Ok(_)) => got += 1,
                _ => break,
            }
        }
        got
    });
    let monitor = Arc::new(EventsMonitor::default());
    let config = RelayConfig {
        batch,
        ..RelayConfig::default()
    };
    let mut relay = Relay::new(db.clone(), config, monitor.clone());
    let started = Instant::now();
    let mut published = 0;
    while published < count {
        let report = relay.step().await?;
        anyhow::ensure!(report.failed_stores == 0, "publishing failed; see the log");
        published += report.published;
        if report.published == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    relay.release().await?;
    let consumed = consumer.await?;
    println!(
        "relay: {published} events published with confirms in {elapsed:.2} s = {:.0} events/s (batch {batch}); consumer received {consumed}",
        published as f64 / elapsed
    );
    db.close().await;
    Ok(())
}
