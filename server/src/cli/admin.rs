//! Operator commands on the configuration: users, stores, tills, authorization servers, payment
//! types. Every change is written as [`Who::CLI`], so it shows in the console's journal.

use crate::auth::{password, till_key};
use crate::db::audit::Who;
use crate::db::payment_type::{self, PaymentTypeFields};
use crate::db::store::{self, find_store};
use crate::db::till::{self, NewTill};
use crate::db::{ConfigError, user};
use crate::providers::Providers;
use crate::qr::outputs::TillOutputs;
use crate::startup::prepare_database;
use anyhow::Context;
use clap::Subcommand;
use std::io::Read;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a console user; the password is read from standard input.
    Add {
        #[arg(long)]
        login: String,
        #[arg(long, value_parser = ["admin", "support", "viewer"])]
        role: String,
        /// Read the password from standard input (the only way: it never shows in `ps`).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum StoreCommand {
    /// Add a store with an authorization server «QR оплата» (120 s) and a payment type «СБП QR (тест)»
    /// on the sandbox bank, so that it can take payments at once; the console's store picker shows it.
    Add {
        /// Short code (Latin letters, digits, «-», «_»), used by `--store` options.
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
    },
    /// List the stores.
    List,
}

#[derive(Subcommand, Debug)]
pub enum TillCommand {
    /// Add a till or kiosk; prints its new key alone on stdout (shown once, stored hashed).
    Add {
        #[arg(long, value_parser = parse_till_name)]
        name: String,
        /// Store code (default: the first store).
        #[arg(long)]
        store: Option<String>,
        #[arg(long, default_value = "till", value_parser = ["till", "kiosk"])]
        kind: String,
        #[command(flatten)]
        outputs: OutputArgs,
    },
    /// Rename a till, change the language of its error messages, where it shows the QR, how it
    /// prints it, and the payment type it uses when it sends none (only the options given change).
    Set {
        name: String,
        #[arg(long)]
        store: Option<String>,
        /// The till's new name (1–100 characters, unique in the store).
        #[arg(long, value_name = "NAME", value_parser = parse_till_name)]
        rename: Option<String>,
        /// The language of the till's error messages when a request asks for none: ru or en.
        #[arg(long, value_parser = ["ru", "en"])]
        language: Option<String>,
        #[command(flatten)]
        outputs: OutputArgs,
        /// The payment type (name) this till uses when a request names none; "" goes back to
        /// the store's default.
        #[arg(long)]
        payment_type: Option<String>,
    },
    /// List tills and whether their keys are active.
    List,
    /// Revoke a till's key: its requests are refused from now on.
    Revoke {
        name: String,
        #[arg(long)]
        store: Option<String>,
    },
    /// The till's cash-register link («кассовая ссылка»): issue, bind a plate, show.
    #[command(subcommand, name = "cash-link")]
    CashLink(super::cash_link::CashLinkCommand),
}

/// A till's QR outputs on the command line.
#[derive(clap::Args, Debug, Default)]
pub struct OutputArgs {
    /// Where the till shows the QR: comma list of screen (kiosk screen, /pay page), display
    /// (customer display PNG), receipt (ESC/POS), or none. Default for a new till: all three.
    #[arg(long, value_parser = parse_outputs)]
    outputs: Option<(bool, bool, bool)>,
    /// Receipt printer's printable width in dots: 384 (58 mm) or 576 (80 mm). Default 576.
    #[arg(long, value_parser = parse_paper_width)]
    paper_width: Option<u32>,
    /// How the receipt printer gets the QR: native (GS ( k, printer draws it) or raster
    /// (GS v 0 bitmap, works everywhere). Default raster.
    #[arg(long, value_parser = ["native", "raster"])]
    escpos: Option<String>,
}

impl OutputArgs {
    /// Whether any output option was given.
    fn any(&self) -> bool {
        self.outputs.is_some() || self.paper_width.is_some() || self.escpos.is_some()
    }
}

/// A till's name as the console takes it: trimmed, 1–100 characters, no control characters.
fn parse_till_name(s: &str) -> Result<String, String> {
    app::api::settings::check_name(s).map_err(|m| m.text(app::i18n::Lang::En).to_owned())
}

fn parse_outputs(s: &str) -> Result<(bool, bool, bool), String> {
    TillOutputs::parse_list(s)
}

fn parse_paper_width(s: &str) -> Result<u32, String> {
    crate::qr::outputs::parse_paper_width(s)
}

impl OutputArgs {
    fn apply_to(&self, mut o: TillOutputs) -> TillOutputs {
        if let Some((screen, display, receipt)) = self.outputs {
            o.screen = screen;
            o.display = display;
            o.receipt = receipt;
        }
        if let Some(w) = self.paper_width {
            o.paper_width = w;
        }
        if let Some(mode) = &self.escpos {
            o.escpos_native = mode == "native";
        }
        o
    }
}

fn describe(o: &TillOutputs) -> String {
    let list = o.list();
    format!(
        "QR outputs {}, paper {} dots, ESC/POS {}",
        if list.is_empty() { "none" } else { &list },
        o.paper_width,
        o.default_mode().as_str()
    )
}

#[derive(Subcommand, Debug)]
pub enum PaymentTypeCommand {
    /// Add a payment type.
    Add {
        #[arg(long)]
        name: String,
        /// Payment module: sandbox, …
        #[arg(long)]
        module: String,
        /// Authorization server name (default: the store's first).
        #[arg(long)]
        auth_server: Option<String>,
        /// «Сканировать QR-код покупателя»: the till scans the customer's QR.
        #[arg(long)]
        scan_customer_qr: bool,
        #[arg(long)]
        store: Option<String>,
    },
    /// List payment types.
    List,
    /// Set the store's default payment type: the one tills use when they name none and have no
    /// default of their own ("" clears it: such requests are then refused).
    Default {
        name: String,
        #[arg(long)]
        store: Option<String>,
    },
}

/// The id of the store's payment type `name` ("" = none).
async fn payment_type_id_by_name(
    db: &crate::db::Db,
    store_id: i64,
    name: &str,
) -> anyhow::Result<Option<i64>> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(None);
    }
    payment_type::list_payment_types(db)
        .await?
        .into_iter()
        .find(|pt| pt.store_id == store_id && pt.name == name)
        .map(|pt| Some(pt.payment_type_id))
        .ok_or_else(|| anyhow::anyhow!("the store has no payment type {name:?}"))
}

pub(super) fn config_error(e: ConfigError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub async fn user(url: &str, cmd: UserCommand) -> anyhow::Result<()> {
    let db = prepare_database(url).await?;
    match cmd {
        UserCommand::Add { login, role, .. } => {
            let mut pw = String::new();
            std::io::stdin()
                .read_to_string(&mut pw)
                .context("cannot read the password from stdin")?;
            let pw = pw.trim_end_matches(['\r', '\n']);
            let hash = tokio::task::spawn_blocking({
                let pw = pw.to_owned();
                move || password::hash(&pw)
            })
            .await??;
            let login = login.trim();
            user::check_new_user(login, &role).map_err(anyhow::Error::msg)?;
            user::create_user(&db, &Who::CLI, login, &hash, &role)
                .await
                .map_err(|e| match e {
                    user::UserError::LoginTaken(_) => {
                        anyhow::anyhow!("user {login:?} already exists")
                    }
                    e => e.into(),
                })?;
            eprintln!("user {login} ({role}) added");
        }
    }
    Ok(())
}

pub async fn store(url: &str, cmd: StoreCommand) -> anyhow::Result<()> {
    let db = prepare_database(url).await?;
    match cmd {
        StoreCommand::Add { code, name } => {
            let production = crate::config::production_from_env();
            store::add_store_ready(&db, &Who::CLI, &code, &name, !production)
                .await
                .map_err(config_error)?;
            if production {
                eprintln!(
                    "store {code} added with «QR оплата» (production mode: no test payment type; add \
                     one on a bank module with `qrpay payment-type add --store {code} …`)"
                );
            } else {
                eprintln!(
                    "store {code} added with «QR оплата» and «{}» (sandbox, its default); add its \
                     tills with `qrpay till add --store {code} --name …`",
                    store::TEST_PAYMENT_TYPE
                );
            }
        }
        StoreCommand::List => {
            println!("{:<6} {:<16} name", "id", "code");
            for s in store::list_stores(&db).await? {
                println!("{:<6} {:<16} {}", s.store_id, s.code, s.name);
            }
        }
    }
    Ok(())
}

pub async fn till(url: &str, cmd: TillCommand) -> anyhow::Result<()> {
    let db = prepare_database(url).await?;
    match cmd {
        TillCommand::CashLink(cmd) => return super::cash_link::run(url, cmd).await,
        TillCommand::Add {
            name,
            store,
            kind,
            outputs,
        } => {
            let store = find_store(&db, store.as_deref())
                .await
                .map_err(config_error)?;
            let key = till_key::generate();
            let outputs = outputs.apply_to(TillOutputs::default());
            till::create_till(
                &db,
                &Who::CLI,
                NewTill {
                    store_id: store.store_id,
                    name: &name,
                    kind: &kind,
                    key_hash: &till_key::hash(&key),
                    key_prefix: &till_key::display_prefix(&key),
                    outputs,
                },
            )
            .await
            .map_err(config_error)?;
            eprintln!(
                "{kind} {name} added to store {} ({}); its key (shown once, keep it safe):",
                store.code,
                describe(&outputs)
            );
            println!("{key}");
        }
        TillCommand::Set {
            mut name,
            store,
            rename,
            language,
            outputs,
            payment_type,
        } => {
            let store = find_store(&db, store.as_deref())
                .await
                .map_err(config_error)?;
            let till = till::till_by_name(&db, store.store_id, &name)
                .await
                .map_err(config_error)?;
            if let Some(pt) = &payment_type {
                let id = payment_type_id_by_name(&db, store.store_id, pt).await?;
                payment_type::set_till_payment_type(
                    &db,
                    &Who::CLI,
                    store.store_id,
                    till.till_id,
                    id,
                )
                .await
                .map_err(config_error)?;
                match id {
                    Some(_) => eprintln!(
                        "till {name}: payment type {:?} when it names none",
                        pt.trim()
                    ),
                    None => eprintln!(
                        "till {name}: the store's default payment type when it names none"
                    ),
                }
            }
            let edits = rename.is_some() || language.is_some() || outputs.any();
            // With no option at all it says how the till is set up.
            if edits || payment_type.is_none() {
                let new = outputs.apply_to(till.outputs());
                let edit = till::TillEdit {
                    name: rename.as_deref(),
                    language: language.as_deref(),
                    outputs: Some(new),
                    kind: None,
                };
                till::update_till(&db, &Who::CLI, store.store_id, till.till_id, &edit)
                    .await
                    .map_err(config_error)?;
                if let Some(to) = rename {
                    eprintln!("till {name}: renamed to {to}");
                    name = to;
                }
                let lang = language.unwrap_or(till.language);
                eprintln!("till {name}: {}, messages in {lang}", describe(&new));
            }
        }
        TillCommand::List => {
            println!(
                "{:<10} {:<24} {:<6} {:<12} {:<24} {:<6} {:<7} status",
                "store", "name", "kind", "key", "qr_outputs", "paper", "escpos"
            );
            for t in till::list_tills(&db).await? {
                let status = match t.revoked_at {
                    Some(at) => format!("revoked {}", at.format("%Y-%m-%d %H:%M")),
                    None => "active".to_owned(),
                };
                let o = t.outputs();
                let list = o.list();
                println!(
                    "{:<10} {:<24} {:<6} {:<12} {:<24} {:<6} {:<7} {status}",
                    t.store_code,
                    t.name,
                    t.kind,
                    format!("{}…", t.key_prefix),
                    if list.is_empty() { "none" } else { &list },
                    o.paper_width,
                    o.default_mode().as_str()
                );
            }
        }
        TillCommand::Revoke { name, store } => {
            let store = find_store(&db, store.as_deref())
                .await
                .map_err(config_error)?;
            let till = till::till_by_name(&db, store.store_id, &name)
                .await
                .map_err(config_error)?;
            if till::revoke_till(&db, &Who::CLI, store.store_id, till.till_id)
                .await
                .map_err(config_error)?
            {
                eprintln!("till {name}: key revoked");
            } else {
                eprintln!("till {name}: key was already revoked");
            }
        }
    }
    Ok(())
}

pub async fn payment_type(url: &str, cmd: PaymentTypeCommand) -> anyhow::Result<()> {
    let db = prepare_database(url).await?;
    match cmd {
        PaymentTypeCommand::Add {
            name,
            module,
            auth_server,
            scan_customer_qr,
            store,
        } => {
            let store = find_store(&db, store.as_deref())
                .await
                .map_err(config_error)?;
            let providers = Providers::installed(&db);
            let provider = providers.get(&module).ok_or_else(|| {
                let known: Vec<_> = providers.modules().collect();
                anyhow::anyhow!(
                    "unknown payment module {module:?}; installed: {}",
                    known.join(", ")
                )
            })?;
            if scan_customer_qr && !provider.capabilities().customer_presented_qr {
                anyhow::bail!(
                    "module {module} cannot read customers' QR codes; drop --scan-customer-qr"
                );
            }
            if provider.is_test() && crate::config::production_from_env() {
                anyhow::bail!(
                    "production mode: {module} is a test module, off in production mode (its payment types refuse payments); choose a bank's module"
                );
            }
            let server = match auth_server {
                Some(n) => payment_type::auth_server_by_name(&db, store.store_id, &n).await,
                None => payment_type::first_auth_server(&db, store.store_id).await,
            }
            .map_err(config_error)?;
            payment_type::save_payment_type(
                &db,
                &Who::CLI,
                None,
                PaymentTypeFields {
                    store_id: store.store_id,
                    auth_server_id: server.auth_server_id,
                    name: &name,
                    module: &module,
                    scan_customer_qr,
                    enabled: true,
                },
            )
            .await
            .map_err(config_error)?;
            eprintln!(
                "payment type {name} ({module}, via {}) added to store {}",
                server.name, store.code
            );
        }
        PaymentTypeCommand::List => {
            println!(
                "{:<24} {:<12} {:<8} {:<8} {:<8} timeout",
                "name", "module", "scan_qr", "enabled", "default"
            );
            let mut defaults = std::collections::HashMap::new();
            for s in store::list_stores(&db).await? {
                let d = payment_type::store_default_payment_type(&db, s.store_id).await?;
                defaults.insert(s.store_id, d.map(|d| d.0));
            }
            for pt in payment_type::list_payment_types(&db).await? {
                let is_default = defaults.get(&pt.store_id) == Some(&Some(pt.payment_type_id));
                println!(
                    "{:<24} {:<12} {:<8} {:<8} {:<8} {} s",
                    pt.name,
                    pt.module,
                    pt.scan_customer_qr,
                    pt.enabled,
                    is_default,
                    pt.response_timeout_secs
                );
            }
        }
        PaymentTypeCommand::Default { name, store } => {
            let store = find_store(&db, store.as_deref())
                .await
                .map_err(config_error)?;
            let id = payment_type_id_by_name(&db, store.store_id, &name).await?;
            payment_type::set_store_default_payment_type(&db, &Who::CLI, store.store_id, id)
                .await
                .map_err(config_error)?;
            match id {
                Some(_) => eprintln!(
                    "store {}: default payment type {:?}",
                    store.code,
                    name.trim()
                ),
                None => eprintln!(
                    "store {}: no default payment type; tills without their own must name one",
                    store.code
                ),
            }
        }
    }
    Ok(())
}
