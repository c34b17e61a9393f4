//! Who is signed in: roles, the request's actor, sign-in and out, the first admin's setup, and
//! the store picker (the picked store is kept in the session).

use crate::error::ConsoleError;
use crate::i18n::Msg;
use http::request::Parts;
use serde::{Deserialize, Serialize};

/// Console roles, ordered by what they may do: an admin may do all a support user may, who may do
/// all a viewer may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    Viewer,
    Support,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "support" => Some(Role::Support),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    /// The role as stored and as forms send it.
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Support => "support",
            Role::Viewer => "viewer",
        }
    }

    pub fn label(self) -> Msg {
        match self {
            Role::Admin => Msg::RoleAdmin,
            Role::Support => Msg::RoleSupport,
            Role::Viewer => Msg::RoleViewer,
        }
    }
}

/// The signed-in user of a request, put into the request's extensions by the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: i64,
    pub login: String,
    pub role: Role,
    /// The store this user works on: the one picked in the console (kept in the session), else
    /// the first store.
    pub store_id: i64,
}

/// A store of the store picker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoreItem {
    pub store_id: i64,
    pub code: String,
    pub name: String,
}

#[async_trait::async_trait]
pub trait SessionPort: Send + Sync + 'static {
    /// Checks the password (throttled per login), starts a fresh session for the user.
    async fn login(
        &self,
        parts: &Parts,
        login: &str,
        password: &str,
    ) -> Result<Actor, ConsoleError>;
    /// Ends the request's session.
    async fn logout(&self, parts: &Parts) -> Result<(), ConsoleError>;
    /// Ends every session of the actor, this one included («Выйти везде»).
    async fn logout_everywhere(&self, parts: &Parts, actor: &Actor) -> Result<(), ConsoleError>;
    /// Every store; any signed-in user may pick the store the console works on.
    async fn list_stores(&self, actor: &Actor) -> Result<Vec<StoreItem>, ConsoleError>;
    /// Remembers the picked store in the session; an unknown store is `NotFound`.
    async fn choose_store(
        &self,
        parts: &Parts,
        actor: &Actor,
        store_id: i64,
    ) -> Result<(), ConsoleError>;
    /// True while no user exists and `token` is the one-time setup token.
    async fn setup_open(&self, token: &str) -> bool;
    /// Creates the first admin with the one-time setup token.
    async fn create_first_admin(
        &self,
        token: &str,
        login: &str,
        password: &str,
    ) -> Result<(), ConsoleError>;
}
