//! `spawn_app` and one helper per till API endpoint; the console's client in `console`, raw SQL
//! in `db`.

pub mod console;
pub mod db;

use qrpay::config::Settings;
use qrpay::db::Db;
use qrpay::payments::PaymentService;
use qrpay::startup::Application;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    /// `/readyz` and `/metrics` (the operations address).
    pub ops: String,
    pub client: reqwest::Client,
    /// A till key of the default store.
    pub key: String,
    pub db: Db,
    pub payments: Arc<PaymentService>,
    /// The relay's broker states and counters, as `/readyz` and `/metrics` show them.
    pub events: Arc<qrpay::events::EventsMonitor>,
    pub database_url: String,
    /// The console's one-time first-run link, while no user exists.
    pub setup_link: Option<String>,
    server: tokio::task::JoinHandle<()>,
    pub dir: Option<Arc<tempfile::TempDir>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Runs each case against both backends.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await {
                    super::$name(app).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await {
                    super::$name(app).await
                }
            }
        }
    )*};
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh database URL for the backend, or `None` (with a notice) when Postgres is not configured.
pub async fn fresh_database(backend: Backend) -> Option<(String, Option<Arc<tempfile::TempDir>>)> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/qrpay.db", dir.path().display());
            Some((url, Some(Arc::new(dir))))
        }
        Backend::Postgres => {
            let Ok(base) = std::env::var("QRPAY_TEST_DATABASE_URL") else {
                if std::env::var("QRPAY_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
                    panic!("QRPAY_TEST_REQUIRE_SERVICES=1 but QRPAY_TEST_DATABASE_URL is not set");
                }
                eprintln!("notice: QRPAY_TEST_DATABASE_URL is not set; skipping a PostgreSQL test");
                return None;
            };
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .expect("connect to QRPAY_TEST_DATABASE_URL");
            let name = format!(
                "qrpay_t_{}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed),
                qrpay::domain::new_public_id()
            );
            sqlx::query(&format!("create database {name}"))
                .execute(&mut conn)
                .await
                .expect("create a test database");
            let (head, query) = match base.split_once('?') {
                Some((h, q)) => (h.to_owned(), format!("?{q}")),
                None => (base.clone(), String::new()),
            };
            let head = head
                .rsplit_once('/')
                .map(|(h, _)| h.to_owned())
                .unwrap_or(head);
            Some((format!("{head}/{name}{query}"), None))
        }
    }
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let (url, dir) = fresh_database(backend).await?;
    Some(spawn_app_on(&url, dir, true).await)
}

/// Starts qrpay on an existing database (a "restart" when the URL was used before).
pub async fn spawn_app_on(
    url: &str,
    dir: Option<Arc<tempfile::TempDir>>,
    workers: bool,
) -> TestApp {
    spawn_app_with(url, dir, |s| s.workers = workers).await
}

/// Starts qrpay on an existing database with settings adjusted by `configure`.
pub async fn spawn_app_with(
    url: &str,
    dir: Option<Arc<tempfile::TempDir>>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = Settings::new(url, "127.0.0.1:0".parse().unwrap());
    settings.expiry_interval = Duration::from_millis(100);
    settings.sync_interval = Duration::from_millis(500);
    configure(&mut settings);
    let app = Application::build(settings).await.expect("build the app");
    let base = format!("http://{}", app.local_addr());
    let ops = format!("http://{}", app.ops_addr());
    let payments = app.state().payments.clone();
    let events = app.state().events.clone();
    let setup_link = app.setup_link().map(str::to_owned);
    let db = payments.db().clone();
    let server = tokio::spawn(async move {
        let _ = app.run_until_stopped().await;
    });
    let key = add_till(
        &db,
        None,
        &format!("till-{}", COUNTER.fetch_add(1, Ordering::Relaxed)),
    )
    .await;
    TestApp {
        base,
        ops,
        client: reqwest::Client::new(),
        key,
        db,
        payments,
        events,
        database_url: url.to_owned(),
        setup_link,
        server,
        dir,
    }
}

/// Adds a till to the store (default: the first) and returns its key.
pub async fn add_till(db: &Db, store_id: Option<i64>, name: &str) -> String {
    let store_id = match store_id {
        Some(id) => id,
        None => {
            qrpay::db::store::find_store(db, None)
                .await
                .unwrap()
                .store_id
        }
    };
    let key = qrpay::auth::till_key::generate();
    qrpay::db::till::create_till(
        db,
        &qrpay::db::audit::Who::SEED,
        qrpay::db::till::NewTill {
            store_id,
            name,
            kind: "till",
            key_hash: &qrpay::auth::till_key::hash(&key),
            key_prefix: &qrpay::auth::till_key::display_prefix(&key),
            outputs: Default::default(),
        },
    )
    .await
    .unwrap();
    key
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    pub fn field(&self) -> &str {
        self.body["error"]["field"].as_str().unwrap_or("")
    }
}

async fn into_resp(r: reqwest::Response) -> Resp {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Resp { status, body }
}

static KEYS: AtomicU64 = AtomicU64::new(0);

pub fn new_key() -> String {
    format!(
        "k-{}-{}",
        std::process::id(),
        KEYS.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestApp {
    pub async fn post_raw(
        &self,
        path: &str,
        key: Option<&str>,
        idem: Option<&str>,
        body: &str,
    ) -> Resp {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(i) = idem {
            req = req.header("Idempotency-Key", i);
        }
        into_resp(req.send().await.unwrap()).await
    }

    /// A till request with `Accept-Language: lang` (the till API's messages default to Russian).
    pub async fn post_in(&self, lang: &str, path: &str, idem: Option<&str>, body: &str) -> Resp {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header("accept-language", lang)
            .bearer_auth(&self.key)
            .body(body.to_owned());
        if let Some(i) = idem {
            req = req.header("Idempotency-Key", i);
        }
        into_resp(req.send().await.unwrap()).await
    }

    pub async fn get_with(&self, path: &str, key: &str) -> Resp {
        into_resp(
            self.client
                .get(format!("{}{path}", self.base))
                .bearer_auth(key)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.get_with(path, &self.key).await
    }

    pub async fn create_payment_raw(&self, body: &str, idem: &str) -> Resp {
        self.post_raw("/api/v1/payments", Some(&self.key), Some(idem), body)
            .await
    }

    /// Creates a payment of `amount` kopecks and checks it is pending.
    pub async fn create_payment(&self, amount: i64) -> Value {
        let r = self
            .create_payment_raw(
                &json!({"amount": amount, "receipt": "R-1"}).to_string(),
                &new_key(),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["status"], "pending");
        r.body
    }

    pub async fn pay(&self, id: &str) -> Resp {
        self.post_raw(
            &format!("/api/v1/sandbox/payments/{id}/pay"),
            Some(&self.key),
            None,
            "",
        )
        .await
    }

    pub async fn decline(&self, id: &str) -> Resp {
        self.post_raw(
            &format!("/api/v1/sandbox/payments/{id}/decline"),
            Some(&self.key),
            None,
            "",
        )
        .await
    }

    pub async fn cancel(&self, id: &str) -> Resp {
        self.post_raw(
            &format!("/api/v1/payments/{id}/cancel"),
            Some(&self.key),
            None,
            "",
        )
        .await
    }

    pub async fn refund(&self, id: &str, body: Value) -> Resp {
        self.post_raw(
            &format!("/api/v1/payments/{id}/refunds"),
            Some(&self.key),
            Some(&new_key()),
            &body.to_string(),
        )
        .await
    }

    /// A paid payment of `amount` kopecks.
    pub async fn paid_payment(&self, amount: i64) -> String {
        let p = self.create_payment(amount).await;
        let id = p["id"].as_str().unwrap().to_owned();
        let r = self.pay(&id).await;
        assert_eq!(r.body["status"], "paid", "{}", r.body);
        id
    }

    /// Row counts of every table a till request can write to.
    pub async fn counts(&self) -> Vec<i64> {
        let mut out = Vec::new();
        for table in [
            "payment",
            "refund",
            "payment_event",
            "outbox",
            "idempotency",
        ] {
            let sql = format!("select count(*) from {table}");
            let n: i64 = match &self.db {
                Db::Sqlite { read, .. } => sqlx::query_scalar(&sql).fetch_one(read).await.unwrap(),
                Db::Postgres(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap(),
            };
            out.push(n);
        }
        out
    }

    /// Routing keys of the outbox (sent or not), in order.
    pub async fn outbox_keys(&self) -> Vec<String> {
        qrpay::db::outbox::routing_keys(&self.db).await.unwrap()
    }
}
