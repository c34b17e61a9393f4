//! `qrpay auth-server add|list|set|delete`: the store's authorization servers «QR оплата»
//! (every change audited as `cli`).

use super::admin::config_error;
use crate::db::audit::Who;
use crate::db::payment_type;
use crate::db::store::find_store;
use crate::startup::prepare_database;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum AuthServerCommand {
    /// Add an authorization server «QR оплата».
    Add {
        #[arg(long)]
        name: String,
        /// «Таймаут ожидания ответа, сек»: the QR's lifetime and the bound of each bank call (1-3600).
        #[arg(long)]
        timeout: i64,
        #[arg(long)]
        store: Option<String>,
    },
    /// List the store's authorization servers: name, timeout, how many payment types use each.
    List {
        #[arg(long)]
        store: Option<String>,
    },
    /// Change an authorization server (its timeout, its name with --rename), or add it when the
    /// store has none of that name (then --timeout is needed).
    Set {
        name: String,
        /// «Таймаут ожидания ответа, сек» (1-3600).
        #[arg(long)]
        timeout: Option<i64>,
        /// A new name.
        #[arg(long)]
        rename: Option<String>,
        #[arg(long)]
        store: Option<String>,
    },
    /// Delete an authorization server no payment type uses.
    Delete {
        name: String,
        #[arg(long)]
        store: Option<String>,
    },
}

pub async fn run(url: &str, cmd: AuthServerCommand) -> anyhow::Result<()> {
    let db = prepare_database(url).await?;
    match cmd {
        AuthServerCommand::Add {
            name,
            timeout,
            store,
        } => {
            let store = find_store(&db, store.as_deref())
                .await
                .map_err(config_error)?;
            payment_type::create_auth_server(&db, &Who::CLI, store.store_id, &name, timeout)
                .await
                .map_err(config_error)?;
            eprintln!(
                "authorization server {name} ({timeout} s) added to store {}",
                store.code
            );
        }
        AuthServerCommand::List { store } => {
            let store = find_store(&db, store.as_deref())
                .await
                .map_err(config_error)?;
            println!("{:<32} {:>8} used_by", "name", "timeout");
            for a in payment_type::list_auth_servers(&db, store.store_id).await? {
                println!(
                    "{:<32} {:>6} s {}",
                    a.name, a.response_timeout_secs, a.used_by
                );
            }
        }
        AuthServerCommand::Set {
            name,
            timeout,
            rename,
            store,
        } => {
            let store = find_store(&db, store.as_deref())
                .await
                .map_err(config_error)?;
            match payment_type::auth_server_by_name(&db, store.store_id, &name).await {
                Ok(found) => {
                    let to_name = rename.as_deref().unwrap_or(&name);
                    let to_timeout = timeout.unwrap_or(found.response_timeout_secs);
                    payment_type::update_auth_server(
                        &db,
                        &Who::CLI,
                        store.store_id,
                        found.auth_server_id,
                        to_name,
                        to_timeout,
                    )
                    .await
                    .map_err(config_error)?;
                    eprintln!(
                        "authorization server {to_name} ({to_timeout} s) saved in store {}",
                        store.code
                    );
                }
                Err(crate::db::ConfigError::NotFound(_)) => {
                    let timeout = timeout.ok_or_else(|| {
                        anyhow::anyhow!(
                            "store {} has no authorization server {name:?}; to add it, give --timeout",
                            store.code
                        )
                    })?;
                    let name = rename.unwrap_or(name);
                    payment_type::create_auth_server(
                        &db,
                        &Who::CLI,
                        store.store_id,
                        &name,
                        timeout,
                    )
                    .await
                    .map_err(config_error)?;
                    eprintln!(
                        "authorization server {name} ({timeout} s) added to store {}",
                        store.code
                    );
                }
                Err(e) => return Err(config_error(e)),
            }
        }
        AuthServerCommand::Delete { name, store } => {
            let store = find_store(&db, store.as_deref())
                .await
                .map_err(config_error)?;
            let found = payment_type::auth_server_by_name(&db, store.store_id, &name)
                .await
                .map_err(config_error)?;
            match payment_type::delete_auth_server(
                &db,
                &Who::CLI,
                store.store_id,
                found.auth_server_id,
            )
            .await
            {
                Ok(()) => eprintln!(
                    "authorization server {name} deleted from store {}",
                    store.code
                ),
                Err(payment_type::DeleteError::InUse(n)) => anyhow::bail!(
                    "authorization server {name:?} is used by {n} payment type(s); move them to another server first"
                ),
                Err(payment_type::DeleteError::Config(e)) => return Err(config_error(e)),
            }
        }
    }
    Ok(())
}
