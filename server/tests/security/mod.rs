//! The console's and the HTTP surface's defences (issue 12), one file per finding of the
//! penetration test; each test reproduces the attack and checks it now fails.

mod exposure;
mod forged_links;
mod headers;
mod log_forging;
mod login_input;
mod login_memory;
mod login_throttle;
mod raiffeisen_secret;
mod redirects;
mod sessions;
mod setup_link;
mod slowloris;

use crate::helpers::console::{Answer, Console, urlencode};
use crate::helpers::{Backend, TestApp, fresh_database, spawn_app_with};
use qrpay::config::Settings;
use reqwest::header::{ACCEPT, CONTENT_TYPE, REFERER};

/// A test app whose settings `configure` adjusted, on the backend (`None`: PostgreSQL is not
/// configured).
pub async fn spawn_configured(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    let (url, dir) = fresh_database(backend).await?;
    Some(spawn_app_with(&url, dir, configure).await)
}

/// Runs each case on both backends with qrpay told it is behind a proxy (`X-Forwarded-For`
/// trusted), so that a test can speak from several client addresses.
#[macro_export]
macro_rules! behind_proxy {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use $crate::helpers::Backend;
            async fn run(b: Backend) {
                if let Some(app) = $crate::security::spawn_configured(b, |s| s.trust_forwarded_for = true).await {
                    super::$name(app).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { run(Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { run(Backend::Postgres).await }
        }
    )*};
}

/// A sign-in form post from the client address `from` (through the trusted proxy).
pub async fn login_from(c: &Console<'_>, from: &str, login: &str, password: &str) -> Answer {
    let body = format!(
        "login={}&password={}",
        urlencode(login),
        urlencode(password)
    );
    Console::answer(
        c.http
            .post(format!("{}/console/fn/login", c.app.base))
            .header(ACCEPT, "text/html")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(REFERER, format!("{}/console/login", c.app.base))
            .header("x-forwarded-for", from)
            .body(body),
    )
    .await
}

/// A real `qrpay serve` on a fresh SQLite database, its log (stderr) kept in a file. The binary
/// is this build's, or `QRPAY_TEST_BIN` to compare with another build.
pub struct RealServer {
    pub base: String,
    pub db: String,
    child: std::process::Child,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl RealServer {
    pub fn command(db: &str) -> std::process::Command {
        let bin =
            std::env::var("QRPAY_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_qrpay").into());
        let mut cmd = std::process::Command::new(bin);
        cmd.env("QRPAY_DATABASE_URL", db)
            .env_remove("QRPAY_AMQP_URL")
            .env_remove("RUST_LOG")
            .env("QRPAY_OPS_LISTEN", "127.0.0.1:0")
            .env("NO_COLOR", "1");
        cmd
    }

    pub fn start(env: &[(&str, &str)]) -> Self {
        Self::start_with(env, &[])
    }

    pub fn start_with(env: &[(&str, &str)], args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}/qrpay.db", dir.path().display());
        assert!(
            Self::command(&db)
                .arg("migrate")
                .status()
                .unwrap()
                .success()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.path().join("qrpay.log");
        let mut cmd = Self::command(&db);
        cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        Self {
            base: format!("http://127.0.0.1:{port}"),
            db,
            child,
            log,
            _dir: dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub async fn wait_up(&self) {
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("qrpay did not start: {}", self.log());
    }

    pub fn add_user(&self, login: &str, password: &str) {
        use std::io::Write;
        let mut add = Self::command(&self.db)
            .args([
                "user",
                "add",
                "--login",
                login,
                "--role",
                "admin",
                "--password-stdin",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        add.stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        assert!(add.wait().unwrap().success());
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
