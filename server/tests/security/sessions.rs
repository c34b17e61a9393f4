//! Finding 8: sessions outlived a password reset and a disable→enable. Now a password reset, a
//! disable, a role change and «Выйти везде» end every session of that user at once.

use crate::helpers::TestApp;
use crate::helpers::console::{Console, PASSWORD};
use qrpay::db::audit::Who;

async fn alive(c: &Console<'_>, session: &str) -> bool {
    c.get("/console/transactions", Some(session)).await.status == 200
}

async fn user_id(app: &TestApp, login: &str) -> i64 {
    qrpay::db::user::user_by_login(&app.db, login)
        .await
        .unwrap()
        .unwrap()
        .app_user_id
}

async fn a_password_reset_a_disable_and_a_role_change_end_every_session(app: TestApp) {
    let c = Console::new(&app);
    let s = c.user("anna", "support").await;
    let id = user_id(&app, "anna").await;
    assert!(alive(&c, &s).await);

    let hash = qrpay::auth::password::hash(PASSWORD).unwrap();
    qrpay::db::user::reset_password(&app.db, &Who::SEED, id, &hash)
        .await
        .unwrap();
    assert!(!alive(&c, &s).await, "a session outlived a password reset");

    let s = c.session_of("anna").await;
    // Disabled and enabled again before the session's next request.
    qrpay::db::user::set_disabled(&app.db, &Who::SEED, id, true)
        .await
        .unwrap();
    qrpay::db::user::set_disabled(&app.db, &Who::SEED, id, false)
        .await
        .unwrap();
    assert!(
        !alive(&c, &s).await,
        "a session outlived a disable and enable"
    );

    let s = c.session_of("anna").await;
    qrpay::db::user::set_role(&app.db, &Who::SEED, id, "viewer")
        .await
        .unwrap();
    assert!(!alive(&c, &s).await, "a session outlived a role change");
    // A new sign-in works.
    let s = c.session_of("anna").await;
    assert!(alive(&c, &s).await);
}

async fn sign_out_everywhere_ends_the_other_sessions_too(app: TestApp) {
    let c = Console::new(&app);
    let here = c.user("anna", "viewer").await;
    let there = c.session_of("anna").await;
    let other = c.user("boris", "viewer").await;
    let a = c.post_fn("logout_everywhere", "/console", &[], &here).await;
    assert_eq!(
        a.location,
        "/console/login?done=signed_out",
        "{:?}",
        a.error()
    );
    assert!(!alive(&c, &here).await);
    assert!(
        !alive(&c, &there).await,
        "another session of the user lived on"
    );
    assert!(alive(&c, &other).await, "another user's session ended");
}

crate::both_backends!(
    a_password_reset_a_disable_and_a_role_change_end_every_session,
    sign_out_everywhere_ends_the_other_sessions_too,
);
