//! `qrpay seed`: fills the database with realistic payments for benchmarks and demos.
//!
//! New stores (each with the defaults a new store gets: «QR оплата» and «СБП QR» on the
//! sandbox bank), tills per store, then N payments over the last `days` days, as the
//! sandbox bank would have left them: mostly paid, some expired, cancelled, declined, failed,
//! refunded in full or in part (with refund rows), a few paid late and refunded automatically;
//! each with the status history the detail page shows. Rows are written in bulk (multi-row
//! `values` on SQLite, `unnest` arrays on PostgreSQL), many per transaction, in time order.
//! No outbox rows: the relay must not publish history.

use crate::db::seed::Batch;
use crate::db::{self, Db};
use crate::domain::public_id_at;
use crate::providers::sandbox::{nspk_payload, qr_id_for};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use std::time::Instant;

#[derive(clap::Args, Debug, Clone)]
pub struct SeedArgs {
    /// How many payments.
    #[arg(long)]
    pub payments: u64,
    /// How many new stores (the first gets half of the payments, the others share the rest).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub stores: u32,
    /// Tills per store (the last one is a kiosk).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=200))]
    pub tills: u32,
    /// Spread the payments over this many days up to now.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    /// Seed of the generator: the same seed gives the same amounts, statuses and times.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Payments per transaction.
    #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: u64,
    /// No progress lines.
    #[arg(long)]
    pub quiet: bool,
}

/// What `seed` wrote.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub store_ids: Vec<i64>,
    pub payments: u64,
    pub events: u64,
    pub refunds: u64,
}

pub async fn run(database_url: &str, args: SeedArgs) -> anyhow::Result<()> {
    let db = crate::startup::prepare_database(database_url).await?;
    let started = Instant::now();
    let s = seed(&db, &args).await?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "seeded {} payments ({} events, {} refunds) in stores {:?} in {secs:.1} s ({:.0} payments/s)",
        s.payments,
        s.events,
        s.refunds,
        s.store_ids,
        s.payments as f64 / secs
    );
    Ok(())
}

/// Local hours' share of the day's payments (shop hours, peaks at lunch and after work).
const HOUR_WEIGHTS: [f64; 24] = [
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 1.0, 2.0, 4.0, 6.0, 7.0, 9.0, 10.0, 8.0, 7.0, 7.0, 9.0,
    11.0, 10.0, 7.0, 4.0, 2.0, 0.8,
];

struct Store {
    store_id: i64,
    payment_type_id: i64,
    tills: Vec<i64>,
    /// Next receipt number per till.
    receipts: Vec<u64>,
}

/// Microsecond precision, as `db::now()` stores it.
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).expect("BUG: in range")
}

fn id_at(rng: &mut StdRng, t: DateTime<Utc>) -> String {
    let mut random = [0u8; 10];
    rng.fill_bytes(&mut random);
    public_id_at(t.timestamp_millis(), random)
}

/// A standard normal deviate (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Rubles, log-normal around 650 ₽ (most between 150 and 3,000), with kopecks.
fn amount(rng: &mut StdRng) -> i64 {
    let rubles = (650f64.ln() + 0.95 * normal(rng))
        .exp()
        .clamp(1.0, 500_000.0);
    let kopecks = (rubles * 100.0).round() as i64;
    // A third of the tickets are whole rubles.
    if rng.random_bool(0.33) {
        (kopecks / 100).max(1) * 100
    } else {
        kopecks.max(100)
    }
}

/// Fills the database; see the module docs.
pub async fn seed(db: &Db, args: &SeedArgs) -> anyhow::Result<Seeded> {
    // Two streams: what happens to each payment does not depend on the time of the run.
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut clock = StdRng::seed_from_u64(args.seed ^ 0x5eed_c10c);
    let now = db::now();
    let tz = chrono_tz::Europe::Moscow;

    // Stores with their defaults, and tills.
    let existing: i64 = db::read!(db, |c| sqlx::query_scalar("select count(*) from store")
        .fetch_one(c)
        .await)?;
    // The console opens the first store: when it has no payments yet (a fresh database), it
    // becomes the first seeded store.
    let first = db::store::find_store(db, None).await.ok();
    let mut reuse = None;
    if let Some(f) = first {
        let busy: bool = db::read!(db, |c| sqlx::query_scalar(
            "select exists (select 1 from payment where store_id = $1)"
        )
        .bind(f.store_id)
        .fetch_one(c)
        .await)?;
        let pt = db::payment_type::store_default_payment_type(db, f.store_id).await?;
        if let (false, Some((payment_type_id, _))) = (busy, pt) {
            reuse = Some((f.store_id, payment_type_id));
        }
    }
    let mut stores = Vec::new();
    for i in 0..args.stores {
        let n = existing + 1 + i64::from(i);
        let d = match reuse.take() {
            Some((store_id, payment_type_id)) => db::store::DefaultStore {
                store_id,
                auth_server_id: 0,
                payment_type_id,
            },
            None => {
                db::store::add_store_with_defaults(
                    db,
                    &db::audit::Who::SEED,
                    &format!("seed{n}"),
                    &format!("Магазин {n} (seed)"),
                )
                .await?
            }
        };
        let mut tills = Vec::new();
        for t in 0..args.tills {
            let kiosk = args.tills > 1 && t == args.tills - 1;
            let name = if kiosk {
                "Киоск 1".to_owned()
            } else {
                format!("Касса {}", t + 1)
            };
            let key = crate::auth::till_key::generate();
            let id = db::till::create_till(
                db,
                &db::audit::Who::SEED,
                db::till::NewTill {
                    store_id: d.store_id,
                    name: &name,
                    kind: if kiosk { "kiosk" } else { "till" },
                    key_hash: &crate::auth::till_key::hash(&key),
                    key_prefix: &crate::auth::till_key::display_prefix(&key),
                    outputs: Default::default(),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            tills.push(id);
        }
        stores.push(Store {
            store_id: d.store_id,
            payment_type_id: d.payment_type_id,
            receipts: vec![1; tills.len()],
            tills,
        });
    }
    // The first store takes half (all of them when alone), the others share the rest.
    let store_weights: Vec<f64> = (0..stores.len())
        .map(|i| {
            if stores.len() == 1 {
                1.0
            } else if i == 0 {
                0.5
            } else {
                0.5 / (stores.len() - 1) as f64
            }
        })
        .collect();

    // Payments per local day: shop hours inside the window, a little more on Fridays and Saturdays.
    let start = now - TimeDelta::days(i64::from(args.days));
    let first_day = start.with_timezone(&tz).date_naive();
    let last_day = now.with_timezone(&tz).date_naive();
    let hour_start = |d: NaiveDate, h: u32| -> DateTime<Utc> {
        tz.from_local_datetime(&d.and_hms_opt(h, 0, 0).expect("BUG: valid hour"))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(start)
    };
    let mut days: Vec<(NaiveDate, f64)> = Vec::new();
    let mut d = first_day;
    while d <= last_day {
        let weekday = match d.weekday() {
            chrono::Weekday::Fri | chrono::Weekday::Sat => 1.2,
            chrono::Weekday::Sun => 1.05,
            _ => 1.0,
        };
        let mass: f64 = (0..24)
            .map(|h| {
                let (a, b) = (hour_start(d, h), hour_start(d, h) + TimeDelta::hours(1));
                let inside = (b.min(now) - a.max(start)).num_seconds().clamp(0, 3600) as f64;
                HOUR_WEIGHTS[h as usize] * inside / 3600.0
            })
            .sum();
        days.push((d, mass * weekday));
        d = d.succ_opt().expect("BUG: dates end in 262143");
    }
    let total_mass: f64 = days.iter().map(|d| d.1).sum();
    let mut counts: Vec<u64> = days
        .iter()
        .map(|(_, m)| (args.payments as f64 * m / total_mass).floor() as u64)
        .collect();
    let assigned: u64 = counts.iter().sum();
    // What rounding left out goes to the busiest days.
    let mut order: Vec<usize> = (0..days.len()).collect();
    order.sort_by(|a, b| days[*b].1.total_cmp(&days[*a].1));
    for i in 0..(args.payments - assigned) as usize {
        counts[order[i % order.len()]] += 1;
    }

    let started = Instant::now();
    let mut out = Seeded {
        store_ids: stores.iter().map(|s| s.store_id).collect(),
        payments: 0,
        events: 0,
        refunds: 0,
    };
    let mut batch = Batch::default();
    for ((day, _), count) in days.iter().zip(counts) {
        // The day's instants, in order.
        let mut times: Vec<DateTime<Utc>> = Vec::with_capacity(count as usize);
        let day_mass: Vec<f64> = (0..24)
            .map(|h| {
                let (a, b) = (
                    hour_start(*day, h),
                    hour_start(*day, h) + TimeDelta::hours(1),
                );
                let inside = (b.min(now) - a.max(start)).num_seconds().clamp(0, 3600) as f64;
                HOUR_WEIGHTS[h as usize] * inside / 3600.0
            })
            .collect();
        let day_total: f64 = day_mass.iter().sum();
        while (times.len() as u64) < count {
            let mut x = clock.random::<f64>() * day_total;
            let mut h = 0;
            while h < 23 && x >= day_mass[h] {
                x -= day_mass[h];
                h += 1;
            }
            let t = hour_start(*day, h as u32)
                + TimeDelta::microseconds(clock.random_range(0..3_600_000_000));
            if t >= start && t < now {
                times.push(micros(t));
            }
        }
        times.sort();
        for created in times {
            let si = weighted(&mut rng, &store_weights);
            payment(&mut rng, &mut batch, &mut stores[si], created, now);
            if batch.len() as u64 >= args.batch {
                out.flush(db, &mut batch).await?;
                if !args.quiet {
                    let secs = started.elapsed().as_secs_f64();
                    eprintln!(
                        "  {} / {} payments, {:.0}/s",
                        out.payments,
                        args.payments,
                        out.payments as f64 / secs
                    );
                }
            }
        }
    }
    out.flush(db, &mut batch).await?;

    // The per-day totals of the new stores, so the console's first look is fast.
    for s in &stores {
        db::payment_day::refresh_days(db, s.store_id, tz, db::now()).await?;
    }
    db::seed::analyze(db).await?;
    Ok(out)
}

fn weighted(rng: &mut StdRng, weights: &[f64]) -> usize {
    let mut x: f64 = rng.random();
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// One payment and its history, as the sandbox bank and qrpay would have left it.
fn payment(
    rng: &mut StdRng,
    b: &mut Batch,
    store: &mut Store,
    created: DateTime<Utc>,
    now: DateTime<Utc>,
) {
    let ti = rng.random_range(0..store.tills.len());
    let till_id = store.tills[ti];
    let receipt = format!("{:02}-{:06}", ti + 1, store.receipts[ti]);
    store.receipts[ti] += 1;
    let id = id_at(rng, created);
    let order_ref = format!("q{}", id_at(rng, created));
    let amount = amount(rng);
    let expires_at = created + TimeDelta::seconds(120);
    let issued = created + TimeDelta::milliseconds(rng.random_range(80..900));
    let secs = |rng: &mut StdRng, a: i64, b: i64| {
        TimeDelta::milliseconds(rng.random_range(a * 1000..b * 1000))
    };
    let clamp = |t: DateTime<Utc>| micros(t.min(now));

    // What happened to it.
    let roll: f64 = rng.random();
    let (status, outcome_at): (&'static str, DateTime<Utc>) = match roll {
        x if x < 0.845 => ("paid", clamp(issued + secs(rng, 8, 100))),
        x if x < 0.915 => ("expired", clamp(expires_at)),
        x if x < 0.955 => ("cancelled", clamp(issued + secs(rng, 5, 110))),
        x if x < 0.985 => ("declined", clamp(issued + secs(rng, 15, 90))),
        x if x < 0.994 => ("failed", clamp(issued)),
        _ => ("late", clamp(expires_at)),
    };
    let issued = micros(issued.min(now));
    let qr_id = (status != "failed").then(|| qr_id_for(&order_ref));
    let qr_payload = qr_id.as_deref().map(|q| nspk_payload(q, amount));
    let mut paid_at = None;
    let mut bank_tx = None;
    let mut late = false;
    let mut refunded = 0;
    let mut updated = outcome_at;
    let (mut failure_code, mut failure_message) = (None, None);

    b.event(&id, None, None, "creating", "till_created", None, created);
    if status == "failed" {
        failure_code = Some("ERROR.QR_REGISTRATION");
        failure_message = Some("the bank refused to issue the QR code");
        b.event(
            &id,
            None,
            Some("creating"),
            "failed",
            "bank_rejected",
            None,
            issued,
        );
    } else {
        b.event(
            &id,
            None,
            Some("creating"),
            "pending",
            "bank_accepted",
            None,
            issued,
        );
    }
    let final_status = match status {
        "paid" => {
            b.event(
                &id,
                None,
                Some("pending"),
                "paid",
                "customer_paid",
                None,
                outcome_at,
            );
            paid_at = Some(outcome_at);
            "paid"
        }
        "expired" => {
            b.event(
                &id,
                None,
                Some("pending"),
                "expired",
                "deadline_passed",
                None,
                outcome_at,
            );
            "expired"
        }
        "cancelled" => {
            b.event(
                &id,
                None,
                Some("pending"),
                "cancelled",
                "till_cancelled",
                None,
                outcome_at,
            );
            "cancelled"
        }
        "declined" => {
            failure_code = Some("declined");
            failure_message = Some("Отклонено банком покупателя");
            b.event(
                &id,
                None,
                Some("pending"),
                "declined",
                "bank_declined",
                failure_message,
                outcome_at,
            );
            "declined"
        }
        "failed" => "failed",
        _ => {
            // Paid after qrpay had expired it: paid late, refunded in full automatically.
            b.event(
                &id,
                None,
                Some("pending"),
                "expired",
                "deadline_passed",
                None,
                outcome_at,
            );
            let at = clamp(outcome_at + secs(rng, 20, 600));
            b.event(
                &id,
                None,
                Some("expired"),
                "paid",
                "customer_paid",
                None,
                at,
            );
            paid_at = Some(at);
            late = true;
            updated = at;
            "paid"
        }
    };
    if final_status == "paid" {
        bank_tx = Some(format!(
            "{:012}",
            rng.random_range(100_000_000_000u64..1_000_000_000_000)
        ));
        let paid = paid_at.expect("BUG: paid has a time");
        // Refunds: every late payment in full; 2 % of the others in full, 1.5 % in part.
        let r: f64 = rng.random();
        let refund = if late {
            Some((
                amount,
                Some("late payment: automatic refund"),
                TimeDelta::seconds(1),
            ))
        } else if r < 0.02 {
            Some((amount, Some("Возврат товара"), secs(rng, 300, 3 * 86_400)))
        } else if r < 0.035 && amount >= 200 {
            let part = rng.random_range(100..amount);
            Some((part, Some("Частичный возврат"), secs(rng, 300, 3 * 86_400)))
        } else {
            None
        };
        if let Some((sum, reason, after)) = refund
            && paid + after + TimeDelta::seconds(5) < now
        {
            let at = micros(paid + after);
            let done = micros(at + secs(rng, 1, 5));
            let refund_id = id_at(rng, at);
            b.event(
                &id,
                Some(&refund_id),
                None,
                "refund_pending",
                "refund_requested",
                None,
                at,
            );
            b.event(
                &id,
                Some(&refund_id),
                Some("refund_pending"),
                "refund_completed",
                "bank_completed",
                None,
                done,
            );
            b.r_ref.push(format!("r{}", id_at(rng, at)));
            b.r_id.push(refund_id);
            b.r_payment.push(id.clone());
            b.r_store.push(store.store_id);
            b.r_till.push(if late { None } else { Some(till_id) });
            b.r_amount.push(sum);
            b.r_reason.push(reason);
            b.r_created_at.push(at);
            b.r_completed_at.push(done);
            refunded = sum;
            updated = done;
        }
    }

    b.p_id.push(id);
    b.p_store.push(store.store_id);
    b.p_till.push(till_id);
    b.p_type.push(store.payment_type_id);
    b.p_status.push(final_status);
    b.p_amount.push(amount);
    b.p_receipt.push(receipt);
    b.p_order_ref.push(order_ref);
    b.p_qr_id.push(qr_id);
    b.p_qr_payload.push(qr_payload);
    b.p_bank_tx.push(bank_tx);
    b.p_failure_code.push(failure_code);
    b.p_failure_message.push(failure_message);
    b.p_expires_at.push(micros(expires_at));
    b.p_paid_at.push(paid_at);
    b.p_refunded.push(refunded);
    b.p_late.push(late);
    b.p_created_at.push(created);
    b.p_updated_at.push(updated);
}

impl Seeded {
    /// Writes the batch in one transaction and empties it.
    async fn flush(&mut self, db: &Db, b: &mut Batch) -> anyhow::Result<()> {
        if b.is_empty() {
            return Ok(());
        }
        db::seed::write_batch(db, b).await?;
        self.payments += b.len() as u64;
        self.events += b.e_payment.len() as u64;
        self.refunds += b.r_id.len() as u64;
        *b = Batch::default();
        Ok(())
    }
}
