//! «Сводка»: the store's day, the last two weeks, what is pending and what was paid late.

use super::session::Actor;
use super::transactions::TransactionRow;
use crate::error::ConsoleError;
use serde::{Deserialize, Serialize};

/// How many days the dashboard's chart shows, today included.
pub const DASHBOARD_DAYS: usize = 14;

/// Paid payments created on one day of the store's calendar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DashboardDay {
    /// `YYYY-MM-DD` in the store's time zone.
    pub date: String,
    pub count: i64,
    pub amount: i64,
    pub refunded: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub store_name: String,
    pub time_zone: String,
    /// The last `DASHBOARD_DAYS` days, oldest first; the last one is today.
    pub days: Vec<DashboardDay>,
    /// Payments pending now, the soonest to expire first.
    pub pending: Vec<TransactionRow>,
    /// More are pending than listed.
    pub more_pending: bool,
    /// Late payments (paid after expiry or cancel) not yet refunded in full, newest first.
    pub late: Vec<TransactionRow>,
    pub more_late: bool,
    /// The figures and the chart include test payments (the filter `?test=1`); by default they
    /// count real money only.
    pub include_test: bool,
}

impl Dashboard {
    pub fn today(&self) -> Option<&DashboardDay> {
        self.days.last()
    }
}

#[async_trait::async_trait]
pub trait DashboardPort: Send + Sync + 'static {
    /// The actor's store today and over the last `DASHBOARD_DAYS` days, in its time zone; test
    /// payments count only when `include_test`.
    async fn dashboard(&self, actor: &Actor, include_test: bool)
    -> Result<Dashboard, ConsoleError>;
}
