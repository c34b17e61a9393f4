pub mod home;
pub mod login;
pub mod not_found;
pub mod setup;
pub mod transaction;
pub mod transactions;
// ---- admin configuration ----
pub mod audit;
pub mod auth_servers;
pub mod payment_types;
pub mod store;
pub mod tills;
// ---- payment module settings (issue 4) ----
pub mod modules;
// ---- users and dashboard ----
pub mod dashboard;
pub mod users;
