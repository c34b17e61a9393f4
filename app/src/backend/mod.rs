//! What the console needs from the rest of qrpay: one small port trait per area, each beside its
//! DTOs. The server crate implements them over the database (this crate never sees sqlx); server
//! functions find them, joined as `ConsolePorts`, in the Leptos context.

pub mod audit;
pub mod cash_link;
pub mod dashboard;
pub mod health;
pub mod modules;
pub mod reconcile;
pub mod session;
pub mod settings;
pub mod static_qrs;
pub mod support;
pub mod tills;
pub mod transactions;
pub mod users;

pub use session::{Actor, Role};

use std::sync::Arc;

/// Every area's port: what the server hands the console's server functions.
pub trait ConsolePorts:
    session::SessionPort
    + transactions::TransactionsPort
    + settings::SettingsPort
    + support::SupportPort
    + tills::TillsPort
    + audit::AuditPort
    + modules::ModulesPort
    + users::UsersPort
    + dashboard::DashboardPort
    + reconcile::ReconcilePort
    + health::HealthPort
    + static_qrs::StaticQrsPort
    + cash_link::CashLinkPort
{
}

impl<T> ConsolePorts for T where
    T: session::SessionPort
        + transactions::TransactionsPort
        + settings::SettingsPort
        + support::SupportPort
        + tills::TillsPort
        + audit::AuditPort
        + modules::ModulesPort
        + users::UsersPort
        + dashboard::DashboardPort
        + reconcile::ReconcilePort
        + health::HealthPort
        + static_qrs::StaticQrsPort
        + cash_link::CashLinkPort
{
}

/// The ports as a Leptos context value (one exact type to look up).
#[derive(Clone)]
pub struct Backend(pub Arc<dyn ConsolePorts>);
