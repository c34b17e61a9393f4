//! `qrpay bench-raiffeisen`: starts the bank emulator and qrpay in this process (loopback HTTP,
//! a fresh database) and measures, one payment at a time, (1) qrpay's added latency when creating
//! a payment over registering the QR with the emulator directly, and (2) the time from the
//! customer paying (the emulator then sends its signed callback) to the long-polling till seeing
//! `paid`.

use crate::config::Settings;
use crate::db::audit::Who;
use crate::db::payment_type::{PaymentTypeFields, create_auth_server, save_payment_type};
use crate::db::raiffeisen_setting::save_setting;
use crate::db::store::find_store;
use crate::db::till::{NewTill, create_till};
use crate::domain::{Amount, new_public_id};
use crate::emulator::{EmulatorConfig, Faults};
use crate::providers::CreateQr;
use crate::providers::raiffeisen::register_request;
use crate::startup::Application;
use anyhow::Context;
use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug, Clone)]
pub struct BenchRaiffeisenArgs {
    /// Payments to measure (after 50 warm-up ones).
    #[arg(long, default_value_t = 1000)]
    pub payments: usize,
    /// Database for the in-process qrpay (default: a fresh SQLite file in the temp folder).
    #[arg(long)]
    pub bench_database_url: Option<String>,
}

const MERCHANT: &str = "MA0000000552";
const KEY: &str = "bench-secret-key";

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("BUG: valid histogram bounds")
}

fn line(name: &str, h: &Histogram<u64>) {
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{name:<40} p50 {:>7.3} ms  p95 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms  (n={})",
        ms(0.5),
        ms(0.95),
        ms(0.99),
        h.max() as f64 / 1000.0,
        h.len()
    );
}

pub async fn run(args: BenchRaiffeisenArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("qrpay-bench-raiffeisen-{}", new_public_id()));
    let url = args
        .bench_database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/qrpay.db", dir.display()));
    let emulator = crate::emulator::spawn(
        EmulatorConfig {
            merchant_id: MERCHANT.into(),
            secret_key: KEY.into(),
            callback_url: None,
            faults: Faults::default(),
        },
        "127.0.0.1:0".parse().expect("BUG: literal address"),
    )
    .await?;
    let mut settings = Settings::new(&url, "127.0.0.1:0".parse().expect("BUG: literal address"));
    settings.public_url = None;
    let app = Application::build(settings).await?;
    let base = format!("http://{}", app.local_addr());
    let db = app.state().payments.db().clone();
    tokio::spawn(async move {
        let _ = app.run_until_stopped().await;
    });
    emulator
        .bank
        .set_callback_url(Some(format!("{base}/api/v1/callbacks/raiffeisen")));
    let store = find_store(&db, None).await?;
    let seed = &Who::SEED;
    save_setting(
        &db,
        seed,
        store.store_id,
        &emulator.base_url(),
        MERCHANT,
        Some(KEY),
    )
    .await?;
    let server = create_auth_server(&db, seed, store.store_id, "bench", 120).await?;
    save_payment_type(
        &db,
        seed,
        None,
        PaymentTypeFields {
            store_id: store.store_id,
            auth_server_id: server,
            name: "bench-raiffeisen",
            module: "raiffeisen",
            scan_customer_qr: false,
            enabled: true,
        },
    )
    .await?;
    let key = crate::auth::till_key::generate();
    create_till(
        &db,
        seed,
        NewTill {
            store_id: store.store_id,
            name: "bench",
            kind: "till",
            key_hash: &crate::auth::till_key::hash(&key),
            key_prefix: &crate::auth::till_key::display_prefix(&key),
            outputs: Default::default(),
        },
    )
    .await?;

    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?;
    let (mut direct, mut via, mut flow) = (histogram(), histogram(), histogram());
    let amount = 12345;
    for i in 0..(args.payments + 50) {
        let measured = i >= 50;
        // (1a) the emulator alone
        // `order` is at most 40 characters.
        let order = format!("bd{i}-{}", &new_public_id()[..12]);
        let body = register_request(
            MERCHANT,
            &CreateQr {
                store_id: store.store_id,
                order_ref: &order,
                amount: Amount::parse(amount).expect("BUG: positive"),
                description: Some("bench"),
                expires_at: chrono::Utc::now() + chrono::Duration::seconds(120),
                cash_link: None,
            },
        );
        let t = Instant::now();
        let r = client
            .post(format!("{}/sbp/v2/qrs", emulator.base_url()))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_success(),
            "direct register: {}: {}",
            r.status(),
            r.text().await.unwrap_or_default()
        );
        r.bytes().await?;
        let t_direct = t.elapsed();
        // (1b) the same through qrpay
        let t = Instant::now();
        let r = client
            .post(format!("{base}/api/v1/payments"))
            .bearer_auth(&key)
            .header("Idempotency-Key", format!("bench-{i}-{order}"))
            .json(&serde_json::json!({"amount": amount, "receipt": format!("B-{i}"), "payment_type": "bench-raiffeisen"}))
            .send()
            .await?;
        let status = r.status();
        let created: serde_json::Value = r.json().await?;
        let t_via = t.elapsed();
        anyhow::ensure!(
            status.as_u16() == 201 && created["status"] == "pending",
            "create: {created}"
        );
        let id = created["id"].as_str().context("payment id")?.to_owned();
        let qr_id = crate::db::payment::get_payment(&db, &id)
            .await?
            .and_then(|p| p.qr_id)
            .context("the payment has a QR id")?;
        // (2) the till long-polls; the customer pays; the emulator calls qrpay back.
        let poll = {
            let (client, base, key, id) = (client.clone(), base.clone(), key.clone(), id.clone());
            tokio::spawn(async move {
                let r = client
                    .get(format!("{base}/api/v1/payments/{id}?wait=20"))
                    .bearer_auth(key)
                    .send()
                    .await?;
                let seen: serde_json::Value = r.json().await?;
                anyhow::Ok((Instant::now(), seen))
            })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        let paid_at = Instant::now();
        let r = client
            .post(format!(
                "http://{}/api/nspc-mock/v01/rfuture/payment/init",
                emulator.addr
            ))
            .json(&serde_json::json!({"qrId": qr_id, "amount": 123.45}))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "mock pay: {}", r.status());
        let (seen_at, seen) = poll.await??;
        anyhow::ensure!(seen["status"] == "paid", "the till saw {seen}");
        if measured {
            direct.record(t_direct.as_micros() as u64)?;
            via.record(t_via.as_micros() as u64)?;
            flow.record((seen_at - paid_at).as_micros() as u64)?;
        }
    }
    println!("database: {}", db.backend_name());
    line("register QR at the emulator directly", &direct);
    line("create payment through qrpay", &via);
    let added =
        |q: f64| (via.value_at_quantile(q) as f64 - direct.value_at_quantile(q) as f64) / 1000.0;
    println!(
        "{:<40} p50 {:>7.3} ms  p99 {:>7.3} ms",
        "qrpay's added latency (difference)",
        added(0.5),
        added(0.99)
    );
    line("customer pays → till sees paid", &flow);
    if args.bench_database_url.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
