//! Integration tests: the real server over HTTP, against SQLite and PostgreSQL.
//! PostgreSQL cases need QRPAY_TEST_DATABASE_URL (they print a notice and pass when it is unset,
//! unless QRPAY_TEST_REQUIRE_SERVICES=1, as in CI).

mod helpers;

mod backup;
mod bad_input;
mod cli_audit;
mod console;
mod console_bounded_totals;
mod console_dashboard;
mod console_modules;
mod console_reconcile;
mod console_roles;
mod console_russian;
mod console_seed;
mod console_settings;
mod console_support;
mod console_tills;
mod console_transactions;
mod console_users;
mod crash;
mod customer_qr;
mod doctor;
mod events;
mod events_replay;
mod events_schema;
mod events_unrouted;
mod idempotency;
mod in_doubt;
mod instances;
mod lifecycle;
mod logs;
mod metrics;
mod payment_indexes;
mod production;
mod providers;
mod providers_cash_link;
mod qr_outputs;
mod reconcile;
mod refunds;
mod security;
mod shutdown;
mod static_qr;
mod test_payments;
mod till_api;
mod till_messages;
mod workers;
