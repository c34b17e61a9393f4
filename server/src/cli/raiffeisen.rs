//! `qrpay raiffeisen …` (per-store bank settings, callback registration) and
//! `qrpay bank-emulator`.

use crate::db::audit::Who;
use crate::db::raiffeisen_setting::save_setting;
use crate::db::store::find_store;
use crate::emulator::{EmulatorConfig, Faults};
use crate::providers::raiffeisen::{
    RaiffeisenBank, RaiffeisenDefaults, SecretKey, parse_base_url, parse_merchant_id,
};
use crate::startup::prepare_database;
use clap::Subcommand;
use std::io::Read;
use std::net::SocketAddr;

#[derive(Subcommand, Debug)]
pub enum RaiffeisenCommand {
    /// Set a store's Raiffeisen SBP settings; the secret key is read from standard input.
    Configure {
        /// Store code (default: the first store).
        #[arg(long)]
        store: Option<String>,
        /// `prod` (https://pay.raif.ru/api), `test` (https://pay-test.raif.ru/api) or a URL.
        #[arg(long, default_value = "test")]
        base_url: String,
        /// sbpMerchantId, e.g. MA0000000552.
        #[arg(long)]
        merchant_id: String,
        /// Read the secret key from standard input (the only way: it never shows in `ps`).
        #[arg(long, required = true)]
        secret_key_stdin: bool,
    },
    /// Tell the bank where to send payment notifications (`POST /settings/v1/callback`).
    RegisterCallback {
        #[arg(long)]
        store: Option<String>,
        /// qrpay's public callback URL, e.g. https://qrpay.example.ru/api/v1/callbacks/raiffeisen
        #[arg(long)]
        url: String,
    },
}

#[derive(clap::Args, Debug)]
pub struct BankEmulatorArgs {
    #[arg(long, env = "QRPAY_EMULATOR_LISTEN", default_value = "127.0.0.1:3100")]
    pub listen: SocketAddr,
    /// The sbpMerchantId the emulated bank knows.
    #[arg(long, env = "QRPAY_EMULATOR_MERCHANT_ID")]
    pub merchant_id: String,
    /// The merchant's secret key (bearer key and callback signing key).
    #[arg(long, env = "QRPAY_EMULATOR_SECRET_KEY", hide_env_values = true)]
    pub secret_key: String,
    /// Where to send payment notifications (can also be set through /settings/v1/callback).
    #[arg(long)]
    pub callback_url: Option<String>,
    /// Added to every bank call, ms.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// The next N bank calls answer 500.
    #[arg(long, default_value_t = 0)]
    pub fail_5xx: u32,
    /// The next N bank calls hang (never answer in time).
    #[arg(long, default_value_t = 0)]
    pub hang: u32,
    /// The next N bank calls are carried out but answer malformed JSON.
    #[arg(long, default_value_t = 0)]
    pub malformed: u32,
    /// The next N bank calls are carried out, then the connection drops mid-answer.
    #[arg(long, default_value_t = 0)]
    pub cut: u32,
    /// The next N notifications are dropped.
    #[arg(long, default_value_t = 0)]
    pub drop_callbacks: u32,
    /// The bank's clock runs this many seconds ahead (negative: behind), as its `Date` header
    /// says (for `qrpay doctor`'s clock check).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub clock_skew_s: i64,
    /// The next N refunds are declined.
    #[arg(long, default_value_t = 0)]
    pub decline_refunds: u32,
}

pub async fn raiffeisen(url: &str, cmd: RaiffeisenCommand) -> anyhow::Result<()> {
    let db = prepare_database(url).await?;
    match cmd {
        RaiffeisenCommand::Configure {
            store,
            base_url,
            merchant_id,
            secret_key_stdin: _,
        } => {
            let store = find_store(&db, store.as_deref()).await?;
            let base_url = parse_base_url(&base_url, crate::config::production_from_env())
                .map_err(anyhow::Error::msg)?;
            let merchant_id = parse_merchant_id(&merchant_id).map_err(anyhow::Error::msg)?;
            let mut raw = String::new();
            std::io::stdin().read_to_string(&mut raw)?;
            let key = SecretKey::parse(&raw).map_err(anyhow::Error::msg)?;
            save_setting(
                &db,
                &Who::CLI,
                store.store_id,
                &base_url,
                &merchant_id,
                Some(key.expose()),
            )
            .await?;
            eprintln!(
                "store {}: Raiffeisen SBP at {base_url}, sbpMerchantId {merchant_id}, secret key saved",
                store.code
            );
        }
        RaiffeisenCommand::RegisterCallback { store, url } => {
            let store = find_store(&db, store.as_deref()).await?;
            let bank = RaiffeisenBank::new(db.clone(), RaiffeisenDefaults::from_env());
            let registered = bank
                .register_callback(store.store_id, &url)
                .await
                .map_err(|e| anyhow::anyhow!("the bank did not register the callback URL: {e}"))?;
            crate::db::raiffeisen_setting::record_callback(&db, store.store_id, &registered)
                .await?;
            eprintln!(
                "store {}: the bank sends notifications to {registered}",
                store.code
            );
        }
    }
    Ok(())
}

pub async fn bank_emulator(args: BankEmulatorArgs) -> anyhow::Result<()> {
    parse_merchant_id(&args.merchant_id).map_err(anyhow::Error::msg)?;
    SecretKey::parse(&args.secret_key).map_err(anyhow::Error::msg)?;
    let config = EmulatorConfig {
        merchant_id: args.merchant_id,
        secret_key: args.secret_key,
        callback_url: args.callback_url,
        faults: Faults {
            latency_ms: args.latency_ms,
            fail_5xx: args.fail_5xx,
            hang: args.hang,
            hang_ms: 0,
            malformed: args.malformed,
            cut: args.cut,
            drop_callbacks: args.drop_callbacks,
            decline_refunds: args.decline_refunds,
            clock_skew_s: args.clock_skew_s,
        },
    };
    crate::emulator::run(config, args.listen).await
}
