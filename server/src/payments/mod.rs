//! Payments and refunds: the service and its journeys (`create`, `refunds`, `cancel`,
//! `callbacks`, `sync`, the `sandbox` customer), each applying bank outcomes to the state machine
//! in `domain::status` through `transitions`; bounded bank calls (`bank`), idempotent till answers
//! (`idempotency`), work claims between instances (`claims`), long-poll waiters, and the JSON views shared by the till API and the events.
//! It speaks neither HTTP nor HTML: it answers with [`Error`], which `http/` and `console/`
//! translate for their audiences.

mod bank;
mod callbacks;
mod cancel;
pub mod cash_link;
mod claims;
mod create;
mod error;
pub mod idempotency;
mod refunds;
mod sandbox;
pub mod service;
mod settle;
pub mod static_qr;
mod sync;
mod transitions;
pub mod view;
pub mod waiters;

pub use bank::bank_call_counts;
pub use callbacks::CallbackFailure;
pub use cash_link::IssueCashLink;
pub use claims::{CLAIM_LEASE, CLAIM_RENEW_EVERY};
pub use create::CreatePayment;
pub use error::Error;
pub use idempotency::{Answer, Idempotent, TillAnswer};
pub use refunds::LATE_REFUND_REASON;
pub use service::PaymentService;
pub use settle::Settled;
pub use static_qr::IssueStaticQr;
pub use sync::{BankReply, JOBS_AT_ONCE, Job};
