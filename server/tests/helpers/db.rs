//! Raw SQL against the test database (on its writer, so a test reads what it just wrote): for
//! setting up states the API cannot reach and for counting rows.

use super::TestApp;
use chrono::{DateTime, Utc};
use qrpay::db::Db;

/// A value to bind to `$1`, `$2`, … of `execute_with`.
pub enum Arg<'a> {
    Text(&'a str),
    Int(i64),
    Time(DateTime<Utc>),
}

/// Runs a statement without parameters.
pub async fn execute(app: &TestApp, sql: &str) {
    execute_with(app, sql, &[]).await
}

/// Runs a statement with `args` bound in order.
pub async fn execute_with(app: &TestApp, sql: &str, args: &[Arg<'_>]) {
    macro_rules! run {
        ($pool:expr) => {{
            let mut q = sqlx::query(sql);
            for a in args {
                q = match a {
                    Arg::Text(v) => q.bind(*v),
                    Arg::Int(v) => q.bind(*v),
                    Arg::Time(v) => q.bind(*v),
                };
            }
            q.execute($pool).await.map(|_| ())
        }};
    }
    match &app.db {
        Db::Sqlite { write, .. } => run!(write),
        Db::Postgres(pool) => run!(pool),
    }
    .unwrap()
}

/// The one number a query returns (`select count(*) …`).
pub async fn scalar(app: &TestApp, sql: &str) -> i64 {
    match &app.db {
        Db::Sqlite { write, .. } => sqlx::query_scalar(sql).fetch_one(write).await,
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .unwrap()
}
