//! `qrpay bench wakeup`: how soon a long-poll on one qrpay instance hears of a change made on
//! another (issue 11 part 5). Against two running instances on one PostgreSQL (`--a`, `--b`):
//! creates a sandbox payment on A, long-polls it on A, has the sandbox customer pay it through B,
//! and times from the start of B's pay request until A's long-poll answers `paid`.

use hdrhistogram::Histogram;
use serde_json::Value;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct BenchWakeupArgs {
    /// Base URL of instance A (creates and long-polls).
    #[arg(long)]
    pub a: String,
    /// Base URL of instance B (the sandbox customer pays through it).
    #[arg(long)]
    pub b: String,
    /// A till key of the store (`qrpay till add`); both instances share the database.
    #[arg(long, env = "QRPAY_TILL_KEY")]
    pub key: String,
    /// How many payments to time (after 10 warm-up ones).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    pub payments: u32,
}

pub async fn run(args: BenchWakeupArgs) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?;
    let (a, b) = (
        args.a.trim_end_matches('/').to_owned(),
        args.b.trim_end_matches('/').to_owned(),
    );
    let mut wakeup = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut pay = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for i in 0..args.payments + 10 {
        let (woke, paid) = one(&http, &a, &b, &args.key, i).await?;
        if i >= 10 {
            wakeup.record(woke.as_micros().max(1) as u64)?;
            pay.record(paid.as_micros().max(1) as u64)?;
        }
    }
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    for (name, h) in [
        ("pay request on B", &pay),
        ("wake-up on A (from B's pay request)", &wakeup),
    ] {
        println!(
            "{name:<38} n={:<5} p50 {:>8.2} ms   p99 {:>8.2} ms   max {:>8.2} ms",
            h.len(),
            ms(h, 0.5),
            ms(h, 0.99),
            h.max() as f64 / 1000.0
        );
    }
    Ok(())
}

/// One payment: (A's long-poll answer after B's pay request started, B's pay request time).
async fn one(
    http: &reqwest::Client,
    a: &str,
    b: &str,
    key: &str,
    i: u32,
) -> anyhow::Result<(Duration, Duration)> {
    let created: Value = http
        .post(format!("{a}/api/v1/payments"))
        .bearer_auth(key)
        .header(
            "Idempotency-Key",
            format!("wakeup-{}-{i}", crate::domain::new_public_id()),
        )
        .json(&serde_json::json!({"amount": 100, "receipt": format!("W-{i}")}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = created["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no payment id in {created}"))?
        .to_owned();
    let poll = {
        let (http, url, key) = (
            http.clone(),
            format!("{a}/api/v1/payments/{id}?wait=30"),
            key.to_owned(),
        );
        tokio::spawn(async move {
            let r: Value = http
                .get(url)
                .bearer_auth(key)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            anyhow::Ok((Instant::now(), r))
        })
    };
    // Let the long-poll reach its wait: a change before it would be seen by its first read.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let started = Instant::now();
    http.post(format!("{b}/api/v1/sandbox/payments/{id}/pay"))
        .bearer_auth(key)
        .send()
        .await?
        .error_for_status()?;
    let paid = started.elapsed();
    let (answered, body) = poll.await??;
    anyhow::ensure!(body["status"] == "paid", "A answered {body}");
    Ok((answered.saturating_duration_since(started), paid))
}
