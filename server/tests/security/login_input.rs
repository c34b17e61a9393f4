//! Finding 3: a 60,000-character login was stored and logged whole, and failure rows lived until
//! the same login failed again.

use crate::helpers::console::{Console, PASSWORD, add_user};
use crate::helpers::db::{Arg, execute_with, scalar};
use crate::helpers::{TestApp, spawn_app_on};
use app::i18n::Msg;

async fn a_huge_login_is_refused_before_it_is_stored_or_sent_back(app: TestApp) {
    let c = Console::new(&app);
    let huge = "a".repeat(60_000);
    let a = c.login(&huge, "whatever password").await;
    assert_eq!(a.form_message(), Some(Msg::LoginFailed));
    assert!(
        a.location.len() < 2_000,
        "the answer's URL carries {} bytes",
        a.location.len()
    );
    assert_eq!(
        scalar(
            &app,
            "select count(*) from login_throttle where length(login) > 64"
        )
        .await,
        0
    );
}

async fn an_oversized_password_is_refused_unhashed_and_uncounted(app: TestApp) {
    add_user(&app, "anna", "admin").await;
    let c = Console::new(&app);
    let huge = "p".repeat(1025);
    for _ in 0..6 {
        let a = c.login("anna", &huge).await;
        assert_eq!(a.form_message(), Some(Msg::LoginFailed));
    }
    // Not one of them counted against the login.
    let a = c.login("anna", PASSWORD).await;
    assert_eq!(a.location, "/console", "{:?}", a.error());
}

async fn sign_in_counters_expire_by_time(app: TestApp) {
    let old = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    execute_with(
        &app,
        "insert into login_throttle (login, address, failures, window_start) \
         values ($1, '', 3, $2)",
        &[Arg::Text("someone-long-gone"), Arg::Time(old)],
    )
    .await;
    // The clean-up runs at start and then every few minutes: a restart runs it.
    let again = spawn_app_on(&app.database_url, app.dir.clone(), false).await;
    let mut left = 1;
    for _ in 0..50 {
        left = scalar(
            &again,
            "select count(*) from login_throttle where login = 'someone-long-gone'",
        )
        .await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "an expired sign-in counter was kept");
}

crate::both_backends!(
    a_huge_login_is_refused_before_it_is_stored_or_sent_back,
    an_oversized_password_is_refused_unhashed_and_uncounted,
    sign_in_counters_expire_by_time,
);
