//! «Пользователи»: console users. Admins only; each change writes its audit row in its
//! transaction. Changes that take an enabled admin away from the actor themselves or from the
//! last one are refused with a form message.

use super::session::{Actor, Role};
use crate::error::ConsoleError;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserItem {
    pub id: i64,
    pub login: String,
    pub role: Role,
    pub disabled: bool,
    /// In the store's time zone.
    pub created: String,
    /// When the user last signed in, in the store's time zone; `None` when never (or before
    /// qrpay kept it).
    pub last_login: Option<String>,
}

#[async_trait::async_trait]
pub trait UsersPort: Send + Sync + 'static {
    async fn list_users(&self, actor: &Actor) -> Result<Vec<UserItem>, ConsoleError>;
    /// Adds a user (login and password checked by the server fn); a taken login is a field error.
    async fn create_user(
        &self,
        actor: &Actor,
        login: &str,
        role: Role,
        password: &str,
    ) -> Result<(), ConsoleError>;
    async fn set_user_role(&self, actor: &Actor, id: i64, role: Role) -> Result<(), ConsoleError>;
    async fn set_user_disabled(
        &self,
        actor: &Actor,
        id: i64,
        disabled: bool,
    ) -> Result<(), ConsoleError>;
    async fn reset_user_password(
        &self,
        actor: &Actor,
        id: i64,
        password: &str,
    ) -> Result<(), ConsoleError>;
}
