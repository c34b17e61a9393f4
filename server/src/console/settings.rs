//! Store configuration: «Параметры магазина» (with the RabbitMQ check), authorization servers and
//! payment types. Admins only; each change writes its audit row in its transaction.

use super::{ConsoleBackend, admin_only, internal, name_taken, valid_http_url, who};
use crate::db;
use crate::domain::AmqpUrl;
use app::backend::Actor;
use app::backend::settings::{
    AuthServerInput, AuthServerItem, PaymentTypeInput, PaymentTypeItem, PaymentTypePage,
    SettingsPort, StoreSettings,
};
use app::error::{ConsoleError, FormErrors};
use app::i18n::Msg;

/// How long «Проверить подключение» waits for RabbitMQ.
const RABBITMQ_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

#[async_trait::async_trait]
impl SettingsPort for ConsoleBackend {
    async fn list_auth_servers(&self, actor: &Actor) -> Result<Vec<AuthServerItem>, ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let rows = db::payment_type::list_auth_servers(&self.db, store.store_id)
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|r| AuthServerItem {
                id: r.auth_server_id,
                name: r.name,
                response_timeout_secs: r.response_timeout_secs,
                used_by: r.used_by,
            })
            .collect())
    }

    async fn save_auth_server(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: AuthServerInput,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let timeout = input.response_timeout_secs.to_string();
        let values = [
            ("name", input.name.as_str()),
            ("response_timeout_secs", timeout.as_str()),
        ];
        let saved = match id {
            None => db::payment_type::create_auth_server(
                &self.db,
                &who(actor),
                store.store_id,
                &input.name,
                input.response_timeout_secs,
            )
            .await
            .map(|_| ()),
            Some(id) => {
                db::payment_type::update_auth_server(
                    &self.db,
                    &who(actor),
                    store.store_id,
                    id,
                    &input.name,
                    input.response_timeout_secs,
                )
                .await
            }
        };
        match saved {
            Ok(()) => Ok(()),
            Err(db::ConfigError::Duplicate(_)) => Err(name_taken(&values)),
            Err(db::ConfigError::NotFound(_)) => Err(ConsoleError::NotFound),
            Err(e) => Err(internal(e)),
        }
    }

    async fn delete_auth_server(&self, actor: &Actor, id: i64) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        match db::payment_type::delete_auth_server(&self.db, &who(actor), store.store_id, id).await
        {
            Ok(()) => Ok(()),
            Err(db::payment_type::DeleteError::InUse(_)) => {
                Err(ConsoleError::form(Msg::AuthServerInUse, &[]))
            }
            Err(db::payment_type::DeleteError::Config(db::ConfigError::NotFound(_))) => {
                Err(ConsoleError::NotFound)
            }
            Err(e) => Err(internal(e)),
        }
    }

    async fn list_payment_types(&self, actor: &Actor) -> Result<PaymentTypePage, ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let servers = db::payment_type::list_auth_servers(&self.db, store.store_id)
            .await
            .map_err(internal)?;
        let types = db::payment_type::list_payment_types(&self.db)
            .await
            .map_err(internal)?;
        let server_name = |id: i64| {
            servers
                .iter()
                .find(|a| a.auth_server_id == id)
                .map(|a| a.name.clone())
                .unwrap_or_default()
        };
        let default_id = db::payment_type::store_default_payment_type(&self.db, store.store_id)
            .await
            .map_err(internal)?
            .map(|d| d.0);
        Ok(PaymentTypePage {
            items: types
                .into_iter()
                .filter(|p| p.store_id == store.store_id)
                .map(|p| PaymentTypeItem {
                    id: p.payment_type_id,
                    name: p.name,
                    auth_server: server_name(p.auth_server_id),
                    auth_server_id: p.auth_server_id,
                    test: self.providers.is_test(&p.module),
                    module: p.module,
                    scan_customer_qr: p.scan_customer_qr,
                    enabled: p.enabled,
                })
                .collect(),
            default_id,
            auth_servers: servers
                .iter()
                .map(|a| (a.auth_server_id, a.name.clone()))
                .collect(),
            modules: self.providers.modules().map(str::to_owned).collect(),
            scan_modules: self
                .providers
                .modules()
                .filter(|m| {
                    self.providers
                        .get(m)
                        .is_some_and(|p| p.capabilities().customer_presented_qr)
                })
                .map(str::to_owned)
                .collect(),
        })
    }

    async fn save_payment_type(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: PaymentTypeInput,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let mut errors = FormErrors::default();
        match self.providers.get(&input.module) {
            None => errors.field("module", Msg::ModuleUnknown),
            Some(p) if input.scan_customer_qr && !p.capabilities().customer_presented_qr => {
                errors.field("scan_customer_qr", Msg::ScanNotSupported)
            }
            // Production mode: a test module would only refuse payments; say so at once.
            Some(p) if input.enabled && p.is_test() && self.production() => {
                errors.field("module", Msg::TestModuleInProduction)
            }
            Some(_) => {}
        }
        if db::payment_type::auth_server_by_id(&self.db, store.store_id, input.auth_server_id)
            .await
            .is_err()
        {
            errors.field("auth_server_id", Msg::AuthServerUnknown);
        }
        errors.into_result()?;
        let saved = db::payment_type::save_payment_type(
            &self.db,
            &who(actor),
            id,
            db::payment_type::PaymentTypeFields {
                store_id: store.store_id,
                auth_server_id: input.auth_server_id,
                name: &input.name,
                module: &input.module,
                scan_customer_qr: input.scan_customer_qr,
                enabled: input.enabled,
            },
        )
        .await;
        match saved {
            Ok(_) => Ok(()),
            Err(db::ConfigError::Duplicate(_)) => Err(name_taken(&[])),
            Err(db::ConfigError::NotFound(_)) => Err(ConsoleError::NotFound),
            Err(e) => Err(internal(e)),
        }
    }

    async fn set_default_payment_type(
        &self,
        actor: &Actor,
        id: Option<i64>,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        match db::payment_type::set_store_default_payment_type(
            &self.db,
            &who(actor),
            store.store_id,
            id,
        )
        .await
        {
            Ok(()) => Ok(()),
            Err(db::ConfigError::NotFound(_)) => Err(ConsoleError::NotFound),
            Err(e) => Err(internal(e)),
        }
    }

    /// Every role: the banner warns whoever looks.
    async fn enabled_test_types(&self, actor: &Actor) -> Result<Vec<String>, ConsoleError> {
        let test_modules: Vec<&str> = self
            .providers
            .modules()
            .filter(|m| self.providers.is_test(m))
            .collect();
        let types =
            db::payment_type::enabled_types_on(&self.db, Some(actor.store_id), &test_modules)
                .await
                .map_err(internal)?;
        Ok(types.into_iter().map(|t| t.name).collect())
    }

    async fn store_settings(&self, actor: &Actor) -> Result<StoreSettings, ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        Ok(StoreSettings {
            name: store.name,
            code: store.code,
            integrator_url: store.integrator_url.unwrap_or_default(),
            rabbitmq_url: store
                .rabbitmq_url
                .as_deref()
                .map(crate::domain::amqp_url::redact)
                .unwrap_or_default(),
            time_zone: store.time_zone,
            refund_late_payments: store.refund_late_payments,
        })
    }

    async fn save_store_settings(
        &self,
        actor: &Actor,
        input: StoreSettings,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let name = input.name.trim();
        let code = input.code.trim();
        let integrator = input.integrator_url.trim();
        let rabbit = input.rabbitmq_url.trim();
        let tz = input.time_zone.trim();
        // The values go back into the URL on an error: never the broker password.
        let mut errors = FormErrors::default();
        errors.keep("name", &input.name);
        errors.keep("code", &input.code);
        errors.keep("integrator_url", &input.integrator_url);
        errors.keep("rabbitmq_url", &crate::domain::amqp_url::redact(rabbit));
        errors.keep("time_zone", &input.time_zone);
        errors.keep(
            "refund_late_payments",
            if input.refund_late_payments { "on" } else { "" },
        );
        if let Err(m) = app::api::settings::check_name(name) {
            errors.field("name", m);
        }
        if !db::store::valid_store_code(code) {
            errors.field("code", Msg::StoreCodeRules);
        }
        if !integrator.is_empty() && !valid_http_url(integrator) {
            errors.field("integrator_url", Msg::UrlInvalid);
        }
        // The form shows the stored URL with its password as ***: sent back unchanged, it keeps it.
        let stored_shown = store.rabbitmq_url.as_ref().map(AmqpUrl::redacted);
        let rabbit_url = if rabbit.is_empty() {
            None
        } else if stored_shown.as_deref() == Some(rabbit) {
            store.rabbitmq_url.clone()
        } else if let Ok(url) = AmqpUrl::parse(rabbit) {
            Some(url)
        } else {
            errors.field("rabbitmq_url", Msg::RabbitMqUrlInvalid);
            None
        };
        if tz.parse::<chrono_tz::Tz>().is_err() {
            errors.field("time_zone", Msg::TimeZoneInvalid);
        }
        errors.clone().into_result()?;
        let fields = db::store::StoreFields {
            code: code.to_owned(),
            name: name.to_owned(),
            integrator_url: (!integrator.is_empty()).then(|| integrator.to_owned()),
            rabbitmq_url: rabbit_url,
            time_zone: tz.to_owned(),
            refund_late_payments: input.refund_late_payments,
        };
        match db::store::update_store(&self.db, &who(actor), store.store_id, &fields).await {
            Ok(()) => Ok(()),
            Err(db::ConfigError::Duplicate(_)) => {
                errors.field("code", Msg::CodeTaken);
                Err(ConsoleError::Invalid(errors))
            }
            Err(e) => Err(internal(e)),
        }
    }

    async fn check_rabbitmq(&self, actor: &Actor, url: &str) -> Result<bool, ConsoleError> {
        admin_only(actor)?;
        let url = url.trim();
        let store = self.store_of(actor).await?;
        let stored_shown = store.rabbitmq_url.as_ref().map(AmqpUrl::redacted);
        let url = if stored_shown.as_deref() == Some(url) {
            store.rabbitmq_url.as_deref().unwrap_or_default().to_owned()
        } else {
            url.to_owned()
        };
        if AmqpUrl::parse(&url).is_err() {
            let mut f = FormErrors::default();
            f.field("rabbitmq_url", Msg::RabbitMqUrlInvalid);
            return Err(ConsoleError::Invalid(f));
        }
        let props = lapin::ConnectionProperties::default()
            .with_connection_name("qrpay console check".into());
        let ok = match tokio::time::timeout(
            RABBITMQ_CHECK_TIMEOUT,
            lapin::Connection::connect(&url, props),
        )
        .await
        {
            Ok(Ok(conn)) => {
                let _ = conn.close(200, "checked".into()).await;
                true
            }
            Ok(Err(e)) => {
                tracing::info!(url = %crate::domain::amqp_url::redact(&url), error = %e, "RabbitMQ check failed");
                false
            }
            Err(_) => false,
        };
        Ok(ok)
    }
}
