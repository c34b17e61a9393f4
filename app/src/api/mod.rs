//! Server functions, one module per area. Every one starts with `require` (or, for the few open
//! to anonymous visitors, says why not); the server also gates `/console/fn/*` as a second line.

pub mod auth;
pub mod modules;
pub mod settings;
pub mod stores;
pub mod transactions;
// ---- users and dashboard ----
pub mod dashboard;
pub mod users;

use crate::backend::{Actor, AdminBackend, Backend, Role};
use crate::error::ConsoleError;
use http::request::Parts;
use leptos::prelude::*;
use std::sync::Arc;

/// The server functions anonymous visitors may call; everything else needs a session.
pub const ANONYMOUS_FNS: &[&str] = &["/console/fn/login", "/console/fn/create_first_admin"];

pub(crate) fn backend() -> Result<Arc<dyn AdminBackend>, ConsoleError> {
    use_context::<Backend>()
        .map(|b| b.0)
        .ok_or(ConsoleError::Internal)
}

pub(crate) fn parts() -> Result<Parts, ConsoleError> {
    use_context::<Parts>().ok_or(ConsoleError::Internal)
}

/// The signed-in user of the current request, if any.
pub fn current_actor() -> Option<Actor> {
    use_context::<Parts>().and_then(|p| p.extensions.get::<Actor>().cloned())
}

/// The backend and the signed-in user, when that user's role is at least `min`.
pub fn require(min: Role) -> Result<(Arc<dyn AdminBackend>, Actor), ConsoleError> {
    let backend = backend()?;
    let actor = current_actor().ok_or(ConsoleError::Unauthenticated)?;
    if actor.role < min {
        return Err(ConsoleError::Forbidden);
    }
    Ok((backend, actor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{AuditItem, AuthServerInput, AuthServerItem, TillInput, TillItem};
    use crate::backend::{PaymentTypeInput, PaymentTypePage, StoreSettings};
    use crate::backend::{TransactionList, TransactionRow};

    struct Fake;

    #[async_trait::async_trait]
    impl AdminBackend for Fake {
        async fn search_transactions(
            &self,
            _: &Actor,
            _: &crate::backend::TransactionQuery,
        ) -> Result<crate::backend::TransactionPage, ConsoleError> {
            Err(ConsoleError::Internal)
        }
        async fn transaction_detail(
            &self,
            _: &Actor,
            _: &str,
        ) -> Result<crate::backend::TransactionDetail, ConsoleError> {
            Err(ConsoleError::NotFound)
        }
        async fn refund_payment(
            &self,
            _: &Actor,
            _: &str,
            _: Option<i64>,
            _: Option<&str>,
            _: &str,
            _: bool,
        ) -> Result<i64, ConsoleError> {
            Err(ConsoleError::Internal)
        }
        async fn login(&self, _: &Parts, _: &str, _: &str) -> Result<Actor, ConsoleError> {
            Err(ConsoleError::Internal)
        }
        async fn logout(&self, _: &Parts) -> Result<(), ConsoleError> {
            Ok(())
        }
        async fn list_stores(
            &self,
            _: &Actor,
        ) -> Result<Vec<crate::backend::StoreItem>, ConsoleError> {
            Ok(Vec::new())
        }
        async fn choose_store(&self, _: &Parts, _: &Actor, _: i64) -> Result<(), ConsoleError> {
            Ok(())
        }
        async fn setup_open(&self, _: &str) -> bool {
            false
        }
        async fn create_first_admin(&self, _: &str, _: &str, _: &str) -> Result<(), ConsoleError> {
            Err(ConsoleError::Internal)
        }
        async fn list_transactions(&self, _: &Actor) -> Result<TransactionList, ConsoleError> {
            Ok(TransactionList {
                store_name: "s".into(),
                time_zone: "Europe/Moscow".into(),
                rows: vec![TransactionRow {
                    payment_id: "p".into(),
                    local_time: "t".into(),
                    amount: 1,
                    refunded_amount: 0,
                    status: "paid".into(),
                    receipt: "r".into(),
                    till: "k".into(),
                }],
            })
        }

        // ---- admin configuration ----
        async fn list_auth_servers(&self, _: &Actor) -> Result<Vec<AuthServerItem>, ConsoleError> {
            Ok(Vec::new())
        }
        async fn save_auth_server(
            &self,
            _: &Actor,
            _: Option<i64>,
            _: AuthServerInput,
        ) -> Result<(), ConsoleError> {
            Ok(())
        }
        async fn delete_auth_server(&self, _: &Actor, _: i64) -> Result<(), ConsoleError> {
            Ok(())
        }
        async fn list_tills(&self, _: &Actor) -> Result<Vec<TillItem>, ConsoleError> {
            Ok(Vec::new())
        }
        async fn create_till(&self, _: &Actor, _: TillInput) -> Result<String, ConsoleError> {
            Ok("qrp_key".into())
        }
        async fn revoke_till(&self, _: &Actor, _: i64) -> Result<(), ConsoleError> {
            Ok(())
        }
        async fn set_till_outputs(
            &self,
            _: &Actor,
            _: i64,
            _: TillInput,
        ) -> Result<(), ConsoleError> {
            Ok(())
        }
        async fn set_key_flash(&self, _: &Parts, _: String) -> Result<(), ConsoleError> {
            Ok(())
        }
        async fn take_key_flash(&self, _: &Parts) -> Result<Option<String>, ConsoleError> {
            Ok(None)
        }
        async fn list_audit(&self, _: &Actor) -> Result<Vec<AuditItem>, ConsoleError> {
            Ok(Vec::new())
        }
        async fn list_payment_types(&self, _: &Actor) -> Result<PaymentTypePage, ConsoleError> {
            Err(ConsoleError::Internal)
        }
        async fn save_payment_type(
            &self,
            _: &Actor,
            _: Option<i64>,
            _: PaymentTypeInput,
        ) -> Result<(), ConsoleError> {
            Ok(())
        }
        async fn store_settings(&self, _: &Actor) -> Result<StoreSettings, ConsoleError> {
            Ok(StoreSettings::default())
        }
        async fn save_store_settings(
            &self,
            _: &Actor,
            _: StoreSettings,
        ) -> Result<(), ConsoleError> {
            Ok(())
        }
        async fn check_rabbitmq(&self, _: &Actor, _: &str) -> Result<bool, ConsoleError> {
            Ok(false)
        }
        async fn payment_modules(
            &self,
            _: &Actor,
        ) -> Result<crate::backend::PaymentModulesPage, ConsoleError> {
            Err(ConsoleError::Internal)
        }
        async fn save_raiffeisen_settings(
            &self,
            _: &Actor,
            _: crate::backend::RaiffeisenInput,
        ) -> Result<(), ConsoleError> {
            Ok(())
        }
        async fn register_raiffeisen_callback(&self, _: &Actor) -> Result<String, ConsoleError> {
            Err(ConsoleError::Internal)
        }

        // ---- users and dashboard ----
        async fn list_users(
            &self,
            _: &Actor,
        ) -> Result<Vec<crate::backend::UserItem>, ConsoleError> {
            Ok(Vec::new())
        }
        async fn create_user(
            &self,
            _: &Actor,
            _: &str,
            _: Role,
            _: &str,
        ) -> Result<(), ConsoleError> {
            Ok(())
        }
        async fn set_user_role(&self, _: &Actor, _: i64, _: Role) -> Result<(), ConsoleError> {
            Ok(())
        }
        async fn set_user_disabled(&self, _: &Actor, _: i64, _: bool) -> Result<(), ConsoleError> {
            Ok(())
        }
        async fn reset_user_password(
            &self,
            _: &Actor,
            _: i64,
            _: &str,
        ) -> Result<(), ConsoleError> {
            Ok(())
        }
        async fn dashboard(&self, _: &Actor) -> Result<crate::backend::Dashboard, ConsoleError> {
            Err(ConsoleError::Internal)
        }
    }

    fn with_actor<T>(role: Option<Role>, f: impl FnOnce() -> T) -> T {
        let mut req = http::Request::builder().body(()).unwrap();
        if let Some(role) = role {
            req.extensions_mut().insert(Actor {
                user_id: 1,
                login: "u".into(),
                role,
                store_id: 1,
            });
        }
        let (parts, _) = req.into_parts();
        let owner = Owner::new();
        owner.with(|| {
            provide_context(parts);
            provide_context(Backend(Arc::new(Fake)));
            f()
        })
    }

    #[test]
    fn require_refuses_no_session_and_lower_roles_and_admits_equal_or_higher() {
        use Role::*;
        for (who, min, ok) in [
            (None, Viewer, Err(ConsoleError::Unauthenticated)),
            (Some(Viewer), Viewer, Ok(())),
            (Some(Viewer), Support, Err(ConsoleError::Forbidden)),
            (Some(Support), Admin, Err(ConsoleError::Forbidden)),
            (Some(Support), Support, Ok(())),
            (Some(Admin), Support, Ok(())),
            (Some(Admin), Admin, Ok(())),
        ] {
            let got = with_actor(who, || require(min).map(|_| ()));
            assert_eq!(got, ok, "{who:?} for {min:?}");
        }
    }
}
