//! The payment's QR-id and bank-transaction-id indexes hold only the payments that have one
//! (migration 0023, issue 16: a new payment has neither, and indexing its NULLs cost two index
//! inserts per creation). The lookups that read them — the console's exact id and prefix
//! searches, the callback's match — must still be answered from those indexes, not by reading
//! the table: this checks each one's plan on both databases.

use crate::both_backends;
use crate::helpers::TestApp;
use qrpay::db::Db;

both_backends!(qr_and_bank_transaction_id_lookups_use_their_partial_indexes);

/// Each lookup, with the index it must read. The prefix ranges are written as the console's
/// search writes them (PostgreSQL: in byte order, `collate "C"`).
fn lookups(pg: bool) -> Vec<(String, &'static str)> {
    let c = if pg { " collate \"C\"" } else { "" };
    [
        ("qr_id", "payment_qr_id"),
        ("bank_transaction_id", "payment_bank_transaction_id"),
    ]
    .into_iter()
    .flat_map(|(col, index)| {
        [
            format!("select payment_id from payment p where p.{col} = 'AS1000'"),
            format!(
                "select payment_id from payment p \
                 where p.{col}{c} >= 'AS10' and p.{col}{c} < 'AS11'"
            ),
        ]
        .map(|query| (query, index))
    })
    .collect()
}

async fn qr_and_bank_transaction_id_lookups_use_their_partial_indexes(app: TestApp) {
    for name in ["payment_qr_id", "payment_bank_transaction_id"] {
        let definition = index_definition(&app.db, name).await;
        assert!(
            definition.to_lowercase().contains("is not null"),
            "{name} is not partial: {definition}"
        );
    }
    match &app.db {
        Db::Sqlite { write, .. } => {
            for (query, index) in lookups(false) {
                let plan = sqlite_plan(write, &query).await;
                assert!(
                    plan.iter().any(|d| d.contains(&format!("INDEX {index} "))),
                    "{query}\nplan: {plan:?}"
                );
            }
        }
        Db::Postgres(pool) => {
            for (query, index) in lookups(true) {
                // An empty table is cheaper to read whole: forbid that, as a million rows would.
                let mut tx = pool.begin().await.unwrap();
                sqlx::query("set local enable_seqscan = off")
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                let plan: Vec<String> = sqlx::query_scalar(&format!("explain {query}"))
                    .fetch_all(&mut *tx)
                    .await
                    .unwrap();
                tx.rollback().await.unwrap();
                assert!(
                    plan.iter().any(|line| line.contains(index)),
                    "{query}\nplan: {plan:#?}"
                );
            }
        }
    }
}

/// An index's definition as the database keeps it (SQLite: the `create index` text as written;
/// PostgreSQL: as it prints it back).
async fn index_definition(db: &Db, name: &str) -> String {
    match db {
        Db::Sqlite { write, .. } => {
            sqlx::query_scalar("select sql from sqlite_master where name = $1")
                .bind(name)
                .fetch_one(write)
                .await
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar("select indexdef from pg_indexes where indexname = $1")
                .bind(name)
                .fetch_one(pool)
                .await
        }
    }
    .unwrap()
}

/// SQLite's `explain query plan` rows (id, parent, notused, detail), read as rows.
async fn sqlite_plan(pool: &sqlx::SqlitePool, query: &str) -> Vec<String> {
    use sqlx::Row;
    sqlx::query(&format!("explain query plan {query}"))
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(3))
        .collect()
}
