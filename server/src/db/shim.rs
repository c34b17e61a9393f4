//! shim: issue10 merge — the module paths before storage was split by table, re-exported so that
//! admin.rs, payments/ and providers/ build unchanged until the lead switches them over.

/// shim: issue10 merge
pub mod config {
    pub use crate::db::ConfigError;
    pub use crate::db::payment_type::{PaymentType, list_payment_types, payment_type_for_payment};
    pub use crate::db::store::{Store, find_store, list_stores, store_by_id, valid_store_code};
    pub use crate::db::till::{TillIdentity, list_tills};
    pub use crate::db::user::count_users;

    /// shim: issue10 merge — the setup link's first admin (unaudited, as before): use
    /// `user::check_new_user` and `user::create_user(db, &Who::SEED, …)`.
    pub async fn add_user(
        db: &crate::db::Db,
        login: &str,
        password_hash: &str,
        role: &str,
    ) -> Result<i64, ConfigError> {
        use crate::db::user::{self, UserError};
        let login = login.trim();
        user::check_new_user(login, role).map_err(ConfigError::Invalid)?;
        user::create_user(db, &crate::db::audit::Who::SEED, login, password_hash, role)
            .await
            .map_err(|e| match e {
                UserError::LoginTaken(_) => ConfigError::Duplicate(format!("user {login:?}")),
                UserError::Db(e) => ConfigError::Db(e),
                other => ConfigError::Invalid(other.to_string()),
            })
    }
}

/// shim: issue10 merge
pub mod settings {
    pub use crate::db::payment_type::{
        DeleteError, PaymentTypeFields, auth_server_by_id, create_auth_server, delete_auth_server,
        list_auth_servers, save_payment_type, update_auth_server,
    };
    pub use crate::db::store::{StoreFields, update_store};
    pub use crate::db::till::{NewTill, create_till, revoke_till, set_till_outputs};
}

/// shim: issue10 merge
pub mod console {
    pub use crate::db::payment_search::{
        PaymentFilter, TransactionRow, latest_payments, payment_totals, search_payments,
    };
    pub use crate::db::session::{
        clear_login_failures, count_login_failures_since, record_login_failure,
    };
    pub use crate::db::till::store_tills;
    pub use crate::db::user::{user_by_id, user_by_login};
}

/// shim: issue10 merge
pub mod users {
    pub use crate::db::user::{
        UserError, create_user, list_users, record_sign_in, reset_password, set_disabled, set_role,
    };
}

/// shim: issue10 merge
pub mod dashboard {
    pub use crate::db::payment_search::{late_unrefunded, paid_per_day, pending};
}

/// shim: issue10 merge
pub mod raiffeisen {
    pub use crate::db::raiffeisen_setting::{
        save_setting as save_setting_audited, setting_of_store,
    };
}
