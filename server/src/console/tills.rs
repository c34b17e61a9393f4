//! «Кассы»: the store's tills, a new till's key (kept in the session until the next page shows
//! it once), revoking keys, renaming, kinds, languages and QR outputs. Admins only.

use super::session::session;
use super::{ConsoleBackend, admin_only, internal, name_taken, who};
use crate::db;
use app::backend::Actor;
use app::backend::tills::{TillInput, TillItem, TillsPort};
use app::error::ConsoleError;
use axum::http::request::Parts;

/// The session key of a new till's key, kept until the next page shows it once.
const SESSION_NEW_KEY: &str = "new_till_key";

#[async_trait::async_trait]
impl TillsPort for ConsoleBackend {
    async fn list_tills(&self, actor: &Actor) -> Result<Vec<TillItem>, ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let tills = db::till::list_tills(&self.db).await.map_err(internal)?;
        let zone = super::store_tz(&store);
        Ok(tills
            .into_iter()
            .filter(|t| t.store_id == store.store_id)
            .map(|t| {
                let o = t.outputs();
                TillItem {
                    id: t.till_id,
                    name: t.name,
                    kind: t.kind,
                    key_prefix: t.key_prefix,
                    revoked: t.revoked_at.is_some(),
                    screen: o.screen,
                    display: o.display,
                    receipt: o.receipt,
                    paper_width: o.paper_width,
                    escpos_native: o.escpos_native,
                    payment_type_id: t.default_payment_type_id,
                    payment_type: t.default_payment_type,
                    language: t.language,
                    last_seen: t
                        .last_seen_at
                        .map(|at| at.with_timezone(&zone).format("%d.%m.%Y %H:%M").to_string()),
                }
            })
            .collect())
    }

    async fn create_till(&self, actor: &Actor, input: TillInput) -> Result<String, ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let key = crate::auth::till_key::generate();
        let created = db::till::create_till(
            &self.db,
            &who(actor),
            db::till::NewTill {
                store_id: store.store_id,
                name: &input.name,
                kind: &input.kind,
                key_hash: &crate::auth::till_key::hash(&key),
                key_prefix: &crate::auth::till_key::display_prefix(&key),
                outputs: crate::qr::outputs::TillOutputs {
                    screen: input.screen,
                    display: input.display,
                    receipt: input.receipt,
                    paper_width: input.paper_width,
                    escpos_native: input.escpos_native,
                },
            },
        )
        .await;
        match created {
            Ok(_) => Ok(key),
            Err(db::ConfigError::Duplicate(_)) => Err(name_taken(&[])),
            Err(e) => Err(internal(e)),
        }
    }

    async fn revoke_till(&self, actor: &Actor, id: i64) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        match db::till::revoke_till(&self.db, &who(actor), store.store_id, id).await {
            Ok(_) => Ok(()),
            Err(db::ConfigError::NotFound(_)) => Err(ConsoleError::NotFound),
            Err(e) => Err(internal(e)),
        }
    }

    async fn update_till(&self, actor: &Actor, id: i64, o: TillInput) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let edit = db::till::TillEdit {
            name: Some(&o.name),
            kind: Some(&o.kind),
            language: Some(&o.language),
            outputs: Some(crate::qr::outputs::TillOutputs {
                screen: o.screen,
                display: o.display,
                receipt: o.receipt,
                paper_width: o.paper_width,
                escpos_native: o.escpos_native,
            }),
        };
        match db::till::update_till(&self.db, &who(actor), store.store_id, id, &edit).await {
            Ok(()) => Ok(()),
            Err(db::ConfigError::NotFound(_)) => Err(ConsoleError::NotFound),
            Err(db::ConfigError::Duplicate(_)) => Err(name_taken(&[])),
            Err(e) => Err(internal(e)),
        }
    }

    async fn set_till_payment_type(
        &self,
        actor: &Actor,
        id: i64,
        payment_type_id: Option<i64>,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        match db::payment_type::set_till_payment_type(
            &self.db,
            &who(actor),
            store.store_id,
            id,
            payment_type_id,
        )
        .await
        {
            Ok(()) => Ok(()),
            Err(db::ConfigError::NotFound(_)) => Err(ConsoleError::NotFound),
            Err(e) => Err(internal(e)),
        }
    }

    async fn set_key_flash(&self, parts: &Parts, key: String) -> Result<(), ConsoleError> {
        session(parts)?
            .insert(SESSION_NEW_KEY, key)
            .await
            .map_err(internal)
    }

    async fn take_key_flash(&self, parts: &Parts) -> Result<Option<String>, ConsoleError> {
        session(parts)?
            .remove::<String>(SESSION_NEW_KEY)
            .await
            .map_err(internal)
    }
}
