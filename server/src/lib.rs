//! qrpay: QR payment integrator (СБП) for tills and kiosks — the server library behind the binary.

pub mod auth;
pub mod cli;
pub mod config;
pub mod console;
pub mod db;
pub mod domain;
pub mod emulator;
pub mod error;
pub mod events;
pub mod http;
pub mod payments;
pub mod preflight;
pub mod providers;
pub mod qr;
pub mod reconcile;
pub mod serve;
pub mod startup;
pub mod telemetry;
pub mod workers;
