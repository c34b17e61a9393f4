//! The console's and the HTTP surface's defences (issue 12), one file per finding of the
//! penetration test; each test reproduces the attack and checks it now fails.

mod login_input;
mod login_memory;
mod login_throttle;
mod sessions;
mod setup_link;

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
