//! `qrpay bench console`: server time of the console's transactions page on the configured
//! database. Starts qrpay in-process on a loopback port (no workers, no relay), adds a viewer
//! and signs it in over HTTP, then times real `GET /console/transactions…` requests (rendered
//! HTML, session checked, every query of the page) for every kind of filter. Fill the database
//! with `qrpay seed` first; the page shows the console's default store (the first one). With
//! `--url` it times an already running qrpay on the same database instead (another build's).

use crate::config::Settings;
use crate::db::{self, Db};
use crate::startup::Application;
use chrono::TimeDelta;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct BenchConsoleArgs {
    /// Timed requests per case (after 5 warm-up ones).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub iterations: u32,
    /// Time this running qrpay (on the same database) instead of starting one in-process.
    #[arg(long)]
    pub url: Option<String>,
    /// Stop timing a case after this many seconds (a slow case then has fewer iterations).
    #[arg(long, default_value_t = 30)]
    pub case_seconds: u64,
}

pub async fn run(database_url: &str, args: BenchConsoleArgs) -> anyhow::Result<()> {
    let (base, db, server) = match &args.url {
        Some(url) => (
            url.trim_end_matches('/').to_owned(),
            Db::connect(database_url).await?,
            None,
        ),
        None => {
            let mut settings = Settings::new(database_url, "127.0.0.1:0".parse()?);
            settings.workers = false;
            settings.relay = false;
            let app = Application::build(settings).await?;
            let base = format!("http://{}", app.local_addr());
            let db = app.state().payments.db().clone();
            let server = tokio::spawn(async move {
                let _ = app.run_until_stopped().await;
            });
            (base, db, Some(server))
        }
    };

    // A viewer of our own, signed in through the login form.
    let login = format!("bench-{}", crate::domain::new_public_id());
    let password = crate::domain::new_public_id();
    let pw = password.clone();
    let hash = tokio::task::spawn_blocking(move || crate::auth::password::hash(&pw)).await??;
    db::user::create_user(&db, &db::audit::Who::SEED, &login, &hash, "viewer")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let signed_in = http
        .post(format!("{base}/console/fn/login"))
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("referer", format!("{base}/console/login"))
        .body(format!("login={login}&password={password}"))
        .send()
        .await?;
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("qrpay_console="))
        .and_then(|c| c.split(';').next())
        .ok_or_else(|| anyhow::anyhow!("sign-in gave no session cookie"))?
        .to_owned();

    // What the cases look at: the default store, its first till, an order ref of a month ago.
    let store = db::store::find_store(&db, None).await?;
    let tz: chrono_tz::Tz = store.time_zone.parse().unwrap_or(chrono_tz::Europe::Moscow);
    let count: i64 = db::read!(&db, |c| sqlx::query_scalar(
        "select count(*) from payment where store_id = $1"
    )
    .bind(store.store_id)
    .fetch_one(c)
    .await)?;
    let all: i64 = db::read!(&db, |c| sqlx::query_scalar("select count(*) from payment")
        .fetch_one(c)
        .await)?;
    let till = db::till::store_tills(&db, store.store_id)
        .await?
        .first()
        .map(|t| t.0)
        .ok_or_else(|| anyhow::anyhow!("the store has no till; run `qrpay seed` first"))?;
    // The order ref and receipt of the store's last payment before `t`.
    let last_before = |t: chrono::DateTime<chrono::Utc>| {
        let db = &db;
        async move {
            let row: Option<(String, String)> = db::read!(db, |c| {
                sqlx::query_as(
                "select order_ref, receipt from payment where store_id = $1 and created_at < $2 \
                 order by created_at desc, payment_id desc limit 1"
            )
            .bind(store.store_id)
            .bind(t)
            .fetch_optional(c)
            .await
            })?;
            Ok::<_, sqlx::Error>(row.unwrap_or_else(|| ("q0".into(), "01-000001".into())))
        }
    };
    let (order_ref, receipt) = last_before(db::now() - TimeDelta::days(30)).await?;
    let (newest_ref, _) = last_before(db::now() + TimeDelta::days(1)).await?;
    let prefix = start_of(&order_ref, order_ref.len().saturating_sub(4).max(1));
    let today = db::now().with_timezone(&tz).date_naive();
    let week_ago = today - TimeDelta::days(6);
    println!(
        "{} database, {all} payments in all; store {:?} (id {}) has {count}; {} iterations per case",
        db.backend_name(),
        store.name,
        store.store_id,
        args.iterations
    );

    let get = |path: String| {
        let (http, cookie, base) = (&http, &cookie, &base);
        async move {
            let t = Instant::now();
            let r = http
                .get(format!("{base}{path}"))
                .header("accept", "text/html")
                .header("cookie", cookie)
                .send()
                .await?;
            let status = r.status();
            let body = r.text().await?;
            let took = t.elapsed();
            anyhow::ensure!(status == 200, "GET {path}: {status}");
            Ok::<_, anyhow::Error>((took, body))
        }
    };
    // Page 2: the first page's "next" link.
    let (_, first) = get("/console/transactions".into()).await?;
    let next = first
        .split("data-testid=\"next-page\"")
        .next()
        .and_then(|head| head.rsplit("href=\"").next())
        .filter(|_| first.contains("data-testid=\"next-page\""))
        .map(|h| h[..h.find('"').unwrap_or(h.len())].replace("&amp;", "&"))
        .unwrap_or_else(|| "/console/transactions".into());
    // Order refs of the seed are `q` + a time-ordered id (5 bits a character): `q01` and the
    // first 4 characters of any ref match nearly all of them, the first 5 about 12 days of
    // payments, the first 6 about 9 hours.
    let day = |d: chrono::NaiveDate| d.to_string();
    let cases = [
        ("(a) first page", "/console/transactions".to_owned()),
        (
            "(b) paid, 7 days, one till",
            format!(
                "/console/transactions?status=paid&from={}&to={}&till={till}",
                day(week_ago),
                day(today)
            ),
        ),
        (
            "(c) amount 1000-1500 RUB",
            "/console/transactions?min=1000&max=1500".to_owned(),
        ),
        (
            "(c2) amount 100-500 RUB",
            "/console/transactions?min=100&max=500".to_owned(),
        ),
        (
            "(c3) amount >= 50000 RUB",
            "/console/transactions?min=50000".to_owned(),
        ),
        (
            "(c4) paid, 7 days, 100-500 RUB",
            format!(
                "/console/transactions?status=paid&from={}&to={}&min=100&max=500",
                day(week_ago),
                day(today)
            ),
        ),
        (
            "(d) order ref prefix",
            format!("/console/transactions?q={prefix}"),
        ),
        ("(d2) q=q01", "/console/transactions?q=q01".to_owned()),
        (
            "(d3) 4 chars (all refs)",
            format!("/console/transactions?q={}", start_of(&newest_ref, 4)),
        ),
        (
            "(d4) 6 chars of a month-old",
            format!("/console/transactions?q={}", start_of(&order_ref, 6)),
        ),
        (
            "(d5) 5 chars: 12 days, month-old",
            format!("/console/transactions?q={}", start_of(&order_ref, 5)),
        ),
        (
            "(d6) exact receipt",
            format!("/console/transactions?q={receipt}"),
        ),
        (
            "(d7) 4 chars + paid + amount",
            format!(
                "/console/transactions?q={}&status=paid&min=100&max=500",
                start_of(&newest_ref, 4)
            ),
        ),
        ("(e) page 2 (keyset cursor)", next),
    ];
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>5} {:>6} {:>8}  totals",
        "case", "p50 ms", "p95 ms", "max ms", "n", "rows", "KB"
    );
    for (name, path) in cases {
        let warm = Instant::now();
        for _ in 0..5 {
            get(path.clone()).await?;
            if warm.elapsed() > Duration::from_secs(args.case_seconds) {
                break;
            }
        }
        let mut times: Vec<Duration> = Vec::with_capacity(args.iterations as usize);
        let mut body = String::new();
        let budget = Instant::now();
        for _ in 0..args.iterations {
            let (took, b) = get(path.clone()).await?;
            times.push(took);
            body = b;
            if budget.elapsed() > Duration::from_secs(args.case_seconds) {
                break;
            }
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let pick =
            |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
        let partial = if body.contains("data-testid=\"totals-partial\"") {
            "partial"
        } else {
            "exact"
        };
        println!(
            "{:<30} {:>9.2} {:>9.2} {:>9.2} {:>5} {:>6} {:>8.1}  {partial}",
            name,
            ms(pick(0.50)),
            ms(pick(0.95)),
            ms(*times.last().expect("BUG: at least one")),
            times.len(),
            body.matches("data-payment-id=\"").count(),
            body.len() as f64 / 1024.0
        );
    }
    if let Some(server) = server {
        server.abort();
    }
    Ok(())
}

/// The first `n` characters of `s`.
fn start_of(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
