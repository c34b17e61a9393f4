//! `qrpay till-sim`: plays many tills against a running qrpay over HTTP and prints throughput and
//! latency percentiles for payment creation and, with `--pay`, for the whole flow (create →
//! long-poll → the sandbox customer pays → the till sees `paid`).

use anyhow::Context;
use hdrhistogram::Histogram;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug, Clone)]
pub struct TillSimArgs {
    /// qrpay's base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// A till key (`qrpay till add`).
    #[arg(long, env = "QRPAY_TILL_KEY")]
    pub key: String,
    /// How many payments to create.
    #[arg(long, default_value_t = 1000)]
    pub payments: usize,
    /// How many tills work at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Also pay each payment through the sandbox and wait for `paid` by long-poll.
    #[arg(long)]
    pub pay: bool,
    /// Amount of each payment, kopecks.
    #[arg(long, default_value_t = 12345)]
    pub amount: i64,
    /// Start payments at this steady rate (per second) instead of as fast as possible; with
    /// enough `--concurrency` to keep up, this is an open-loop load (e.g. for outbox lag).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Report the server's memory (VmRSS / VmHWM from /proc) for this process id.
    #[arg(long)]
    pub server_pid: Option<u32>,
}

struct Stats {
    create: Histogram<u64>,
    flow: Histogram<u64>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("BUG: valid histogram bounds")
}

pub async fn run(args: TillSimArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.concurrency > 0 && args.payments > 0,
        "--payments and --concurrency must be positive"
    );
    anyhow::ensure!(
        args.rate.is_none_or(|r| r.is_finite() && r > 0.0),
        "--rate must be a positive number of payments per second"
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency * 2)
        .timeout(Duration::from_secs(90))
        .build()?;
    let base = args.url.trim_end_matches('/').to_owned();
    let run_id = crate::domain::new_public_id();
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, base, args, next, errors, run_id) = (
            client.clone(),
            base.clone(),
            args.clone(),
            next.clone(),
            errors.clone(),
            run_id.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut stats = Stats {
                create: histogram(),
                flow: histogram(),
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= args.payments {
                    break;
                }
                if let Some(rate) = args.rate {
                    let due = started + Duration::from_secs_f64(i as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                }
                if let Err(e) = one_payment(&client, &base, &args, &run_id, i, &mut stats).await
                    && errors.fetch_add(1, Ordering::Relaxed) < 5
                {
                    eprintln!("payment {i}: {e:#}");
                }
            }
            stats
        }));
    }
    let mut total = Stats {
        create: histogram(),
        flow: histogram(),
    };
    for t in tasks {
        let s = t.await?;
        total.create.add(&s.create)?;
        total.flow.add(&s.flow)?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let ok = total.create.len();
    println!(
        "till-sim: {} payments, concurrency {}{}, {} errors, {:.2} s",
        args.payments,
        args.concurrency,
        args.rate
            .map(|r| format!(", rate {r}/s"))
            .unwrap_or_default(),
        errors.load(Ordering::Relaxed),
        elapsed
    );
    report(
        "create",
        &total.create,
        ok,
        if args.pay { None } else { Some(elapsed) },
    );
    if args.pay {
        report(
            "create+pay+long-poll",
            &total.flow,
            total.flow.len(),
            Some(elapsed),
        );
    }
    if let Some(pid) = args.server_pid {
        print_memory(pid);
    }
    anyhow::ensure!(errors.load(Ordering::Relaxed) == 0, "some requests failed");
    Ok(())
}

fn report(what: &str, h: &Histogram<u64>, count: u64, elapsed: Option<f64>) {
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let rate = elapsed
        .map(|e| format!("{:.0}/s", count as f64 / e))
        .unwrap_or_else(|| "-".into());
    println!(
        "{what:<22} n={count:<7} throughput={rate:<8} p50={:.2}ms p95={:.2}ms p99={:.2}ms max={:.2}ms",
        ms(0.50),
        ms(0.95),
        ms(0.99),
        h.max() as f64 / 1000.0
    );
}

fn print_memory(pid: u32) {
    match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Ok(status) => {
            let field = |name: &str| {
                status
                    .lines()
                    .find(|l| l.starts_with(name))
                    .map(|l| l[name.len()..].trim().to_owned())
                    .unwrap_or_else(|| "?".into())
            };
            println!(
                "server memory: VmRSS={} VmHWM(peak)={}",
                field("VmRSS:"),
                field("VmHWM:")
            );
        }
        Err(e) => println!("server memory: cannot read /proc/{pid}/status: {e}"),
    }
}

async fn one_payment(
    client: &reqwest::Client,
    base: &str,
    args: &TillSimArgs,
    run_id: &str,
    i: usize,
    stats: &mut Stats,
) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let resp = client
        .post(format!("{base}/api/v1/payments"))
        .bearer_auth(&args.key)
        .header("Idempotency-Key", format!("sim-{run_id}-{i}"))
        .json(&serde_json::json!({"amount": args.amount, "receipt": format!("sim-{i}")}))
        .send()
        .await
        .context("create")?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.context("create: body")?;
    anyhow::ensure!(status.as_u16() == 201, "create answered {status}: {body}");
    stats
        .create
        .record(t0.elapsed().as_micros().max(1) as u64)?;
    if !args.pay {
        return Ok(());
    }
    let id = body["id"].as_str().context("create: no id")?.to_owned();
    let poll = {
        let client = client.clone();
        let url = format!("{base}/api/v1/payments/{id}?wait=30");
        let key = args.key.clone();
        tokio::spawn(async move {
            let resp = client.get(url).bearer_auth(key).send().await?;
            resp.json::<serde_json::Value>().await
        })
    };
    let resp = client
        .post(format!("{base}/api/v1/sandbox/payments/{id}/pay"))
        .bearer_auth(&args.key)
        .send()
        .await
        .context("pay")?;
    anyhow::ensure!(resp.status().is_success(), "pay answered {}", resp.status());
    let mut seen = poll.await?.context("long-poll")?;
    // The long-poll may have answered before the pay landed (it re-reads); ask again if so.
    while seen["status"] != "paid" {
        anyhow::ensure!(
            t0.elapsed() < Duration::from_secs(60),
            "payment {id} never became paid: {seen}"
        );
        seen = client
            .get(format!("{base}/api/v1/payments/{id}?wait=10"))
            .bearer_auth(&args.key)
            .send()
            .await?
            .json()
            .await?;
    }
    stats.flow.record(t0.elapsed().as_micros().max(1) as u64)?;
    Ok(())
}
