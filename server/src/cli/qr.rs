//! `qrpay print-test` (a sample QR receipt for a real printer) and `qrpay bench qr` (how long the
//! QR outputs take to render, and the customer page's server time).

use crate::db::{self, Db};
use crate::domain::{Amount, IdempotencyKey, Receipt};
use crate::http::{self, AppState};
use crate::payments::PaymentService;
use crate::payments::{CreatePayment, Idempotent};
use crate::providers::Providers;
use crate::qr::cache::{QrCache, Variant};
use crate::qr::escpos::{self, Mode, ReceiptText};
use anyhow::Context;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A realistic NSPK link (~110 characters, like the ones banks issue).
const SAMPLE_PAYLOAD: &str = "https://qr.nspk.ru/AD10006M8KH6V0DF8LG8KQ6K5I3NPH6P?type=02&bank=100000000111&sum=12345&cur=RUB&crc=C08B";

#[derive(clap::Args, Debug)]
pub struct PrintTestArgs {
    /// native (GS ( k: the printer draws the QR) or raster (GS v 0 bitmap).
    #[arg(long, default_value = "raster", value_parser = ["native", "raster"])]
    mode: String,
    /// Printable width in dots: 384 (58 mm) or 576 (80 mm).
    #[arg(long, default_value_t = 576, value_parser = parse_width)]
    width: u32,
    /// Amount printed under the QR, kopecks.
    #[arg(long, default_value_t = 12345)]
    amount: i64,
    /// QR content (default: a sample NSPK link).
    #[arg(long, default_value = SAMPLE_PAYLOAD)]
    payload: String,
}

fn parse_width(s: &str) -> Result<u32, String> {
    crate::qr::outputs::parse_paper_width(s)
}

/// Writes the test receipt to stdout (redirect it to a file or the printer's device).
pub fn print_test(args: PrintTestArgs) -> anyhow::Result<()> {
    let mode = Mode::parse(&args.mode).expect("BUG: clap checked the mode");
    Amount::parse(args.amount).map_err(|e| anyhow::anyhow!("--amount: {e}"))?;
    let mut stdout = std::io::stdout().lock();
    if stdout.is_terminal() {
        anyhow::bail!(
            "print-test writes printer bytes: redirect it, e.g. `qrpay print-test > out.bin` or `> /dev/usb/lp0`"
        );
    }
    let text = ReceiptText {
        amount_kopecks: args.amount,
        expires_at: chrono::Utc::now() + chrono::Duration::minutes(2),
        time_zone: "Europe/Moscow".into(),
    };
    let bytes = escpos::print_test(&args.payload, mode, args.width, &text)?;
    stdout.write_all(&bytes)?;
    stdout.flush()?;
    eprintln!(
        "{} bytes of ESC/POS ({}, {} dots) written",
        bytes.len(),
        mode.as_str(),
        args.width
    );
    Ok(())
}

#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// QR outputs: PNG 512 px (rendered and cached), ESC/POS raster, and `/pay/{id}` server time.
    Qr {
        /// Iterations per measurement.
        #[arg(long, default_value_t = 2000)]
        iterations: u32,
    },
    /// The console's transactions page, server time of the real HTTP GET (signed in, HTML),
    /// against the configured database (fill it with `qrpay seed` first).
    Console(super::bench_console::BenchConsoleArgs),
    /// Cross-instance wake-up: a long-poll on instance A, the payment paid through instance B
    /// (two `qrpay serve` on one PostgreSQL); prints p50/p99.
    Wakeup(super::bench_wakeup::BenchWakeupArgs),
}

pub async fn bench(database_url: &str, cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Qr { iterations } => bench_qr(iterations.max(10)).await,
        BenchCommand::Console(args) => super::bench_console::run(database_url, args).await,
        BenchCommand::Wakeup(args) => super::bench_wakeup::run(args).await,
    }
}

/// Runs `f` `n` times and prints the median, p99 and mean per call.
fn measure(name: &str, n: u32, mut f: impl FnMut()) {
    let mut times = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let t = Instant::now();
        f();
        times.push(t.elapsed());
    }
    report(name, times);
}

fn report(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let n = times.len();
    let mean = times.iter().sum::<Duration>() / n as u32;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<38} n={n:<6} median {:>8.4} ms   p99 {:>8.4} ms   mean {:>8.4} ms",
        ms(times[n / 2]),
        ms(times[(n * 99 / 100).min(n - 1)]),
        ms(mean)
    );
}

async fn bench_qr(n: u32) -> anyhow::Result<()> {
    println!("payload: {} characters", SAMPLE_PAYLOAD.len());
    measure("PNG 512 px, rendered", n, || {
        std::hint::black_box(crate::qr::png(SAMPLE_PAYLOAD, 512).expect("render"));
    });
    measure("PNG 512 px mono, rendered", n, || {
        std::hint::black_box(crate::qr::png_mono(SAMPLE_PAYLOAD, 512).expect("render"));
    });
    let cache = QrCache::default();
    let variant = Variant::Png {
        size: 512,
        mono: false,
    };
    cache.get_or_render("bench", variant.clone(), || {
        crate::qr::png(SAMPLE_PAYLOAD, 512)
    })?;
    measure("PNG 512 px, cached", n, || {
        std::hint::black_box(
            cache
                .get_or_render("bench", variant.clone(), || {
                    crate::qr::png(SAMPLE_PAYLOAD, 512)
                })
                .expect("cached"),
        );
    });
    let text = ReceiptText {
        amount_kopecks: 12345,
        expires_at: chrono::Utc::now(),
        time_zone: "Europe/Moscow".into(),
    };
    for width in escpos::WIDTHS {
        measure(&format!("ESC/POS raster {width} dots + text"), n, || {
            std::hint::black_box(
                escpos::receipt(SAMPLE_PAYLOAD, Mode::Raster, width, Some(&text)).expect("render"),
            );
        });
    }
    measure("ESC/POS native + text", n, || {
        std::hint::black_box(
            escpos::receipt(SAMPLE_PAYLOAD, Mode::Native, 576, Some(&text)).expect("render"),
        );
    });
    measure("SVG 1024 (the page's QR), rendered", n, || {
        std::hint::black_box(crate::qr::svg(SAMPLE_PAYLOAD, 1024).expect("render"));
    });
    bench_page(n).await
}

/// `/pay/{id}` through the router in-process (no socket): the server's own time, SQLite reads
/// included, on a fresh temporary database with one pending sandbox payment.
async fn bench_page(n: u32) -> anyhow::Result<()> {
    use tower::ServiceExt;
    let dir = std::env::temp_dir().join(format!("qrpay-bench-{}", crate::domain::new_public_id()));
    let url = format!("sqlite://{}/qrpay.db", dir.display());
    let result = async {
        let db = crate::startup::prepare_database(&url).await?;
        let till = bench_till(&db).await?;
        let payments = Arc::new(PaymentService::new(
            db.clone(),
            Providers::new(),
            "http://127.0.0.1:3000".into(),
            http::errors::till_answer,
        ));
        let key = IdempotencyKey::parse("bench-1").map_err(|e| anyhow::anyhow!("{e}"))?;
        let answer = payments
            .create_payment(
                &till,
                Idempotent {
                    key: &key,
                    request_hash: "bench",
                },
                CreatePayment {
                    amount: Amount::parse(123456).map_err(|e| anyhow::anyhow!("{e}"))?,
                    receipt: Receipt::parse("bench").map_err(|e| anyhow::anyhow!("{e}"))?,
                    payment_type: None,
                    description: None,
                    customer_qr: None,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("create a payment: {e}"))?;
        let view: serde_json::Value = serde_json::from_str(&answer.body)?;
        let id = view["id"].as_str().context("payment id")?.to_owned();
        let router = http::api_router(AppState {
            payments,
            qr_cache: Arc::new(QrCache::default()),
            events: Arc::new(crate::events::EventsMonitor::default()),
        });
        let get = |path: String| {
            let router = router.clone();
            async move {
                let req = axum::http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .expect("BUG: a valid request");
                let res = router.oneshot(req).await.expect("infallible");
                let status = res.status();
                let body = axum::body::to_bytes(res.into_body(), 1 << 22)
                    .await
                    .expect("body");
                (status, body.len())
            }
        };
        let (status, len) = get(format!("/pay/{id}")).await;
        anyhow::ensure!(status == 200, "/pay/{{id}} answered {status}");
        println!(
            "/pay/{{id}} page: {len} bytes ({} database)",
            db.backend_name()
        );
        for (name, path) in [
            ("/pay/{id} (server time)", format!("/pay/{id}")),
            (
                "/pay/{id}/status (server time)",
                format!("/pay/{id}/status"),
            ),
        ] {
            let mut times = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let t = Instant::now();
                let (status, _) = get(path.clone()).await;
                times.push(t.elapsed());
                anyhow::ensure!(status == 200, "{path} answered {status}");
            }
            report(name, times);
        }
        db.close().await;
        Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn bench_till(db: &Db) -> anyhow::Result<db::till::TillIdentity> {
    let store = db::store::find_store(db, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let key = crate::auth::till_key::generate();
    let hash = crate::auth::till_key::hash(&key);
    db::till::create_till(
        db,
        &db::audit::Who::SEED,
        db::till::NewTill {
            store_id: store.store_id,
            name: "bench",
            kind: "till",
            key_hash: &hash,
            key_prefix: &crate::auth::till_key::display_prefix(&key),
            outputs: Default::default(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    db::till::till_by_key_hash(db, &hash)
        .await?
        .context("the bench till")
}
