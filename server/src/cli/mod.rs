//! The `qrpay` command line: `serve` (the default) and the operator commands.

mod admin;
mod auth_server;
mod backup;
pub mod bench_console;
mod bench_raiffeisen;
mod bench_wakeup;
mod cash_link;
mod doctor;
mod events;
mod qr;
mod raiffeisen;
mod reconcile;
pub mod seed;
mod static_qr;
pub mod till_sim;

use crate::config::Settings;
use crate::startup::Application;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;

#[derive(Parser, Debug)]
#[command(
    name = "qrpay",
    version,
    about = "QR payment integrator (СБП) for tills and kiosks"
)]
pub struct Cli {
    /// Database: sqlite://PATH (created if missing) or postgres://…
    #[arg(
        long,
        env = "QRPAY_DATABASE_URL",
        default_value = "sqlite://data/qrpay.db",
        global = true
    )]
    pub database_url: String,

    #[command(flatten)]
    pub serve: ServeArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server: till API, console, workers (the default command).
    Serve,
    /// Create or update the database schema, then exit.
    Migrate,
    /// Copy the database to a file while qrpay runs (SQLite; prints the pg_dump command on PostgreSQL).
    Backup(backup::BackupArgs),
    /// Preflight before opening: database, public URL, payment modules and the bank, broker,
    /// admin, test modules, disk, clock. One line per check; exit code 0 only when all pass.
    /// Give it the same settings as `serve` (e.g. the same environment file).
    Doctor,
    /// Console users.
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Stores: add one (with a ready payment type), list them.
    #[command(subcommand)]
    Store(admin::StoreCommand),
    /// Tills and kiosks, and their API keys.
    #[command(subcommand)]
    Till(admin::TillCommand),
    /// Authorization servers «QR оплата».
    #[command(subcommand, name = "auth-server")]
    AuthServer(auth_server::AuthServerCommand),
    /// Payment types.
    #[command(subcommand, name = "payment-type")]
    PaymentType(admin::PaymentTypeCommand),
    /// Payment events to RabbitMQ: the store's broker, the outbox, `tail`, `replay`, `bench`.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Raiffeisen SBP settings per store and the bank's callback registration.
    #[command(subcommand)]
    Raiffeisen(raiffeisen::RaiffeisenCommand),
    /// A stand-alone emulator of the Raiffeisen SBP API (tests, demos, benchmarks).
    BankEmulator(raiffeisen::BankEmulatorArgs),
    /// Benchmark of the Raiffeisen module against the in-process bank emulator.
    BenchRaiffeisen(bench_raiffeisen::BenchRaiffeisenArgs),
    /// Load generator: plays tills against a running qrpay and prints throughput and latency.
    TillSim(till_sim::TillSimArgs),
    /// Write a sample QR receipt (ESC/POS) to stdout, for a field check on a real printer.
    PrintTest(qr::PrintTestArgs),
    /// Fill the database with realistic payments (benchmarks, demos): stores, tills, N payments.
    Seed(seed::SeedArgs),
    /// Micro-benchmarks that print numbers (release build).
    #[command(subcommand)]
    Bench(qr::BenchCommand),
    /// Compare the bank's registry of SBP operations with qrpay; exit 0 only when all match.
    Reconcile(reconcile::ReconcileArgs),
    /// Static QRs for places with no till: issue, list, show (PNG/SVG), deactivate, pay (sandbox).
    #[command(subcommand, name = "static-qr")]
    StaticQr(static_qr::StaticQrCommand),
}

/// Server settings; accepted before or after `serve` (`qrpay --listen …` works too).
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(
        long,
        env = "QRPAY_LISTEN",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub listen: SocketAddr,
    /// Public base URL for links in answers (default: http://<listen>).
    #[arg(long, env = "QRPAY_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// RabbitMQ for stores without their own «RabbitMQ сервер» (amqp://user:password@host/vhost).
    #[arg(long, env = "QRPAY_AMQP_URL", global = true)]
    pub amqp_url: Option<String>,
    /// First interval, in ms, between polls of a pending payment whose bank may not call back
    /// (Raiffeisen); later polls back off up to 30 s.
    #[arg(long, env = "QRPAY_PENDING_POLL_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub pending_poll_ms: u64,
    /// The longest one bank call may take, in seconds (never more than the authorization
    /// server's timeout); past it the payment or refund is `unknown` until the bank is asked again.
    #[arg(long, env = "QRPAY_BANK_CALL_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub bank_call_timeout: u64,
    /// Days published events stay in the outbox before the hourly clean-up deletes them
    /// (0: keep them forever). Unpublished events are never deleted.
    #[arg(
        long,
        env = "QRPAY_OUTBOX_RETENTION_DAYS",
        default_value_t = 7,
        global = true
    )]
    pub outbox_retention_days: u64,
    /// Production mode: test modules off (their payment types refuse payments, the sandbox
    /// routes are gone, a new database gets no test payment type), and startup refuses a public
    /// URL or a bank address that is not https.
    #[arg(
        long,
        env = "QRPAY_PRODUCTION",
        global = true,
        value_parser = clap::builder::BoolishValueParser::new(),
        default_value_t = false,
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub production: bool,
    /// qrpay runs behind a reverse proxy that appends the client's address to X-Forwarded-For:
    /// sign-in limits count that address instead of the proxy's. Leave off when clients reach
    /// qrpay directly (they could then pick any address).
    #[arg(long, env = "QRPAY_TRUST_FORWARDED_FOR", global = true, value_parser = clap::builder::BoolishValueParser::new())]
    pub trust_forwarded_for: bool,
    /// Connections served at once; past it new ones wait until one closes. Long-polling tills
    /// hold one each.
    #[arg(long, env = "QRPAY_MAX_CONNECTIONS", default_value_t = 1024, global = true, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// Address of /readyz and /metrics (store codes, backlogs, broker states): keep it private.
    #[arg(
        long,
        env = "QRPAY_OPS_LISTEN",
        default_value = "127.0.0.1:3001",
        global = true
    )]
    pub ops_listen: SocketAddr,
    /// Sign-in attempts one client address may make a minute over all logins (a burst of as
    /// many, then one every 60/N s).
    #[arg(long, env = "QRPAY_SIGN_INS_PER_MINUTE", default_value_t = 10, global = true, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub sign_ins_per_minute: u32,
}

/// Parses the command line and runs the command; the process exit code follows the result.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None | Some(Command::Serve) => serve(&cli.database_url, cli.serve).await,
        Some(Command::Migrate) => {
            crate::startup::prepare_database_for(&cli.database_url, cli.serve.production).await?;
            eprintln!("database is up to date");
            Ok(())
        }
        Some(Command::Backup(args)) => backup::run(&cli.database_url, args).await,
        Some(Command::Doctor) => doctor::run(&cli.database_url, &cli.serve).await,
        Some(Command::User(cmd)) => admin::user(&cli.database_url, cmd).await,
        Some(Command::Store(cmd)) => admin::store(&cli.database_url, cmd).await,
        Some(Command::Till(cmd)) => admin::till(&cli.database_url, cmd).await,
        Some(Command::AuthServer(cmd)) => auth_server::run(&cli.database_url, cmd).await,
        Some(Command::PaymentType(cmd)) => admin::payment_type(&cli.database_url, cmd).await,
        Some(Command::Events(cmd)) => {
            let server = events::ServerDefaults {
                amqp_url: cli.serve.amqp_url.as_deref(),
                retention_days: cli.serve.outbox_retention_days,
            };
            events::run(&cli.database_url, server, cmd).await
        }
        Some(Command::Raiffeisen(cmd)) => raiffeisen::raiffeisen(&cli.database_url, cmd).await,
        Some(Command::BankEmulator(args)) => raiffeisen::bank_emulator(args).await,
        Some(Command::BenchRaiffeisen(args)) => bench_raiffeisen::run(args).await,
        Some(Command::TillSim(args)) => till_sim::run(args).await,
        Some(Command::PrintTest(args)) => qr::print_test(args),
        Some(Command::Seed(args)) => seed::run(&cli.database_url, args).await,
        Some(Command::Bench(cmd)) => qr::bench(&cli.database_url, cmd).await,
        Some(Command::Reconcile(args)) => reconcile::run(&cli.database_url, args).await,
        Some(Command::StaticQr(cmd)) => static_qr::run(&cli.database_url, cmd).await,
    }
}

async fn serve(database_url: &str, args: ServeArgs) -> anyhow::Result<()> {
    let mut settings = Settings::new(database_url, args.listen);
    settings.public_url = args.public_url;
    settings.amqp_url = args.amqp_url.filter(|u| !u.trim().is_empty());
    settings.pending_poll_interval = std::time::Duration::from_millis(args.pending_poll_ms);
    settings.bank_call_timeout = std::time::Duration::from_secs(args.bank_call_timeout);
    settings.outbox_retention = (args.outbox_retention_days > 0)
        .then(|| std::time::Duration::from_secs(args.outbox_retention_days * 24 * 3600));
    settings.production = args.production;
    settings.trust_forwarded_for = args.trust_forwarded_for;
    settings.max_connections = args.max_connections as usize;
    settings.ops_listen = args.ops_listen;
    settings.sign_ins_per_minute = args.sign_ins_per_minute;
    Application::build(settings)
        .await?
        .run_until_stopped()
        .await
}
