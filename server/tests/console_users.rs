//! «Пользователи» over HTTP, as a browser without JavaScript uses it: adding users, roles,
//! disabling (the session ends at once), password resets, the guard rails that keep an enabled
//! admin, the audit rows, and the refusals for every other role.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::helpers::console::{Answer, Console, PASSWORD, add_user};
use crate::helpers::db::scalar;
use app::error::ConsoleError;
use app::i18n::Msg;

const USERS: &str = "/console/users";

async fn user_id(app: &TestApp, login: &str) -> String {
    qrpay::db::user::user_by_login(&app.db, login)
        .await
        .unwrap()
        .unwrap()
        .app_user_id
        .to_string()
}

/// The user's role and whether they are disabled.
async fn user_state(app: &TestApp, login: &str) -> (String, bool) {
    let u = qrpay::db::user::user_by_login(&app.db, login)
        .await
        .unwrap()
        .unwrap();
    (u.role, u.disabled)
}

impl Console<'_> {
    async fn call(&self, name: &str, form: &[(&str, &str)], session: &str) -> Answer {
        self.post_fn(name, USERS, form, session).await
    }

    async fn create(&self, s: &str, login: &str, role: &str, pw: &str, again: &str) -> Answer {
        self.call(
            "create_user",
            &[
                ("login", login),
                ("role", role),
                ("password", pw),
                ("password_again", again),
            ],
            s,
        )
        .await
    }
}

/// Every audit row as one text, to look for what must never be in it.
async fn audit_text(app: &TestApp) -> String {
    qrpay::db::audit::latest(&app.db, 1, 1000)
        .await
        .unwrap()
        .iter()
        .map(|e| format!("{e:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn support_viewer_and_anonymous_callers_are_refused_by_every_users_function(app: TestApp) {
    add_user(&app, "root", "admin").await;
    let c = Console::new(&app);
    let root = user_id(&app, "root").await;
    let calls: [(&str, Vec<(&str, &str)>); 6] = [
        ("list_users", vec![]),
        (
            "create_user",
            vec![
                ("login", "mallory"),
                ("role", "admin"),
                ("password", "long enough pw"),
                ("password_again", "long enough pw"),
            ],
        ),
        ("set_user_role", vec![("id", &root), ("role", "viewer")]),
        ("disable_user", vec![("id", &root)]),
        ("enable_user", vec![("id", &root)]),
        (
            "reset_user_password",
            vec![
                ("id", &root),
                ("password", "long enough pw"),
                ("password_again", "long enough pw"),
            ],
        ),
    ];
    for (login, role) in [("vera", "viewer"), ("sasha", "support")] {
        add_user(&app, login, role).await;
        let s = c.session_of(login).await;
        for (name, form) in &calls {
            let a = c.call(name, form, &s).await;
            assert_eq!(a.error(), Some(ConsoleError::Forbidden), "{role} {name}");
        }
        let page = c.get(USERS, Some(&s)).await;
        assert!(page.body.contains(r#"data-testid="page-error""#), "{role}");
        assert!(!page.body.contains(r#"data-testid="user-row""#), "{role}");
        assert!(!page.body.contains("nav-users"), "{role}: no Users link");
        let home = c.get("/console", Some(&s)).await;
        assert!(home.body.contains("nav-dashboard") && !home.body.contains("nav-users"));
    }
    for (name, form) in &calls {
        let a = c
            .post(&format!("/console/fn/{name}"), USERS, form, None)
            .await;
        assert_eq!((a.status, a.location.as_str()), (303, "/console/login"));
    }
    assert_eq!(c.get(USERS, None).await.location, "/console/login");
    assert_eq!(scalar(&app, "select count(*) from app_user").await, 3);
    assert_eq!(user_state(&app, "root").await, ("admin".into(), false));
    assert_eq!(scalar(&app, "select count(*) from audit_log").await, 0);
}

async fn an_admin_adds_a_user_who_signs_in_and_a_taken_login_is_named_beside_the_field(
    app: TestApp,
) {
    add_user(&app, "root", "admin").await;
    let c = Console::new(&app);
    let s = c.session_of("root").await;
    let page = c.get(USERS, Some(&s)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"data-testid="nav-users""#));
    assert!(page.body.contains(r#"data-login="root""#));

    let a = c
        .create(&s, "vera", "viewer", "vera's password", "vera's password")
        .await;
    assert_eq!(
        (a.status, a.location.as_str()),
        (302, "/console/users?done=created"),
        "{:?}",
        a.error()
    );
    let page = c.get(&a.location, Some(&s)).await;
    assert!(page.body.contains("Пользователь добавлен."));
    assert!(page.body.contains(r#"data-login="vera""#));
    assert_eq!(user_state(&app, "vera").await, ("viewer".into(), false));
    let vera = c.login("vera", "vera's password").await;
    assert_eq!(vera.location, "/console", "{:?}", vera.error());
    // The sign-in time shows on the list from now on.
    let page = c.get(USERS, Some(&s)).await;
    let row = &page.body[page.body.find(r#"data-login="vera""#).unwrap()..];
    let last = &row[row.find(r#"data-testid="last-login""#).unwrap()..];
    let last = &last[last.find('>').unwrap() + 1..];
    assert!(
        last.starts_with("20"),
        "a time, not a dash: {}",
        &last[..40]
    );

    let before = scalar(&app, "select count(*) from app_user").await;
    for (login, role, pw, again, name, msg) in [
        (
            "vera",
            "support",
            "another password",
            "another password",
            "login",
            Msg::LoginTaken,
        ),
        (
            "",
            "viewer",
            "long enough pw",
            "long enough pw",
            "login",
            Msg::Required,
        ),
        (
            &"я".repeat(65),
            "viewer",
            "long enough pw",
            "long enough pw",
            "login",
            Msg::LoginRules,
        ),
        (
            "nina",
            "owner",
            "long enough pw",
            "long enough pw",
            "role",
            Msg::RoleInvalid,
        ),
        (
            "nina",
            "viewer",
            "short",
            "short",
            "password",
            Msg::PasswordTooShort,
        ),
        (
            "nina",
            "viewer",
            "long enough pw",
            "long enough pW",
            "password_again",
            Msg::PasswordsDiffer,
        ),
    ] {
        let a = c.create(&s, login, role, pw, again).await;
        assert_eq!(a.field(name), Some(msg), "{login:?} {role:?}");
        assert_eq!(a.kept("login").as_deref(), Some(login));
        assert!(!a.location.contains("password"), "no password in the URL");
        let back = c
            .get(a.location.trim_start_matches(&app.base), Some(&s))
            .await;
        assert!(
            back.body
                .contains(&format!(r#"data-testid="error-{name}""#))
        );
        if !login.is_empty() {
            assert!(
                back.body.contains(&format!(r#"value="{login}""#)),
                "{login}"
            );
        }
    }
    assert_eq!(scalar(&app, "select count(*) from app_user").await, before);

    // HTML typed as a login is only text.
    let a = c
        .create(
            &s,
            "<b>bold</b>",
            "support",
            "long enough pw",
            "long enough pw",
        )
        .await;
    assert_eq!(a.error(), None);
    let page = c.get(USERS, Some(&s)).await;
    assert!(page.body.contains("&lt;b&gt;bold&lt;/b&gt;"));
    assert!(!page.body.contains("<b>bold</b></span>"));

    let audit = qrpay::db::audit::latest(&app.db, 1, 10).await.unwrap();
    assert_eq!(audit.len(), 2);
    let created = &audit[1];
    assert_eq!(
        (
            created.action.as_str(),
            created.entity.as_str(),
            created.login.as_str()
        ),
        ("create", "app_user", "root")
    );
    let after: serde_json::Value = serde_json::from_str(created.after.as_deref().unwrap()).unwrap();
    assert_eq!(
        after,
        serde_json::json!({"login": "vera", "role": "viewer", "disabled": false})
    );
    let text = audit_text(&app).await;
    assert!(
        !text.contains("vera's password") && !text.contains("argon2"),
        "{text}"
    );
}

async fn an_admin_cannot_disable_or_demote_themselves_and_the_last_admin_stays_an_admin(
    app: TestApp,
) {
    add_user(&app, "root", "admin").await;
    let c = Console::new(&app);
    let s = c.session_of("root").await;
    let root = user_id(&app, "root").await;
    for role in ["support", "viewer"] {
        let a = c
            .call("set_user_role", &[("id", &root), ("role", role)], &s)
            .await;
        assert_eq!(a.form_message(), Some(Msg::NotYourself), "{role}");
    }
    let a = c.call("disable_user", &[("id", &root)], &s).await;
    assert_eq!(a.form_message(), Some(Msg::NotYourself));
    let page = c
        .get(a.location.trim_start_matches(&app.base), Some(&s))
        .await;
    assert!(page.body.contains(r#"data-testid="action-error""#));
    assert!(page.body.contains("Нельзя отключить себя"));
    assert_eq!(user_state(&app, "root").await, ("admin".into(), false));
    // Promoting oneself to what one is changes nothing and is not refused.
    let a = c
        .call("set_user_role", &[("id", &root), ("role", "admin")], &s)
        .await;
    assert_eq!(a.error(), None);

    // Whoever asks, the last enabled admin keeps the role (a second line behind the self check:
    // an admin demoted a moment ago may still have a request under way).
    let who = qrpay::db::audit::Who {
        app_user_id: None,
        login: "someone",
    };
    let root_id: i64 = root.parse().unwrap();
    assert!(matches!(
        qrpay::db::user::set_role(&app.db, &who, root_id, "viewer").await,
        Err(qrpay::db::user::UserError::LastAdmin)
    ));
    assert!(matches!(
        qrpay::db::user::set_disabled(&app.db, &who, root_id, true).await,
        Err(qrpay::db::user::UserError::LastAdmin)
    ));
    // A disabled admin does not count.
    add_user(&app, "ada", "admin").await;
    let ada = user_id(&app, "ada").await;
    assert_eq!(
        c.call("disable_user", &[("id", &ada)], &s).await.error(),
        None
    );
    assert!(matches!(
        qrpay::db::user::set_role(&app.db, &who, root_id, "support").await,
        Err(qrpay::db::user::UserError::LastAdmin)
    ));
    assert_eq!(
        c.call("enable_user", &[("id", &ada)], &s).await.error(),
        None
    );

    // Two admins demoting each other at the same moment: one of them stays an admin.
    let s_ada = c.session_of("ada").await;
    let demote_ada = [("id", ada.as_str()), ("role", "viewer")];
    let demote_root = [("id", root.as_str()), ("role", "viewer")];
    let (x, y) = tokio::join!(
        c.call("set_user_role", &demote_ada, &s),
        c.call("set_user_role", &demote_root, &s_ada),
    );
    let admins = scalar(
        &app,
        "select count(*) from app_user where role = 'admin' and not disabled",
    )
    .await;
    assert_eq!(admins, 1, "{:?} {:?}", x.error(), y.error());
    assert_eq!(
        scalar(
            &app,
            "select count(*) from audit_log where action = 'update'"
        )
        .await,
        1
    );
}

async fn a_disabled_user_is_refused_at_the_next_request_and_enabled_again_signs_in(app: TestApp) {
    add_user(&app, "root", "admin").await;
    add_user(&app, "vera", "viewer").await;
    let c = Console::new(&app);
    let s = c.session_of("root").await;
    let vs = c.session_of("vera").await;
    assert_eq!(c.get("/console", Some(&vs)).await.status, 200);
    let vera = user_id(&app, "vera").await;

    let a = c.call("disable_user", &[("id", &vera)], &s).await;
    assert_eq!(
        a.location,
        "/console/users?done=disabled",
        "{:?}",
        a.error()
    );
    assert_eq!(user_state(&app, "vera").await, ("viewer".into(), true));
    // Her open session is worth nothing from the very next request on.
    let page = c.get("/console", Some(&vs)).await;
    assert_eq!(
        (page.status, page.location.as_str()),
        (303, "/console/login")
    );
    let call = c
        .post("/console/fn/get_dashboard", "/console", &[], Some(&vs))
        .await;
    assert_eq!(call.location, "/console/login");
    assert_eq!(
        c.login("vera", PASSWORD).await.form_message(),
        Some(Msg::LoginFailed)
    );
    let list = c.get(USERS, Some(&s)).await;
    let row = &list.body[list.body.find(r#"data-login="vera""#).unwrap()..];
    assert!(row[..row.find("</tr>").unwrap()].contains("отключён"));

    let a = c.call("enable_user", &[("id", &vera)], &s).await;
    assert_eq!(a.location, "/console/users?done=enabled", "{:?}", a.error());
    assert_eq!(c.login("vera", PASSWORD).await.location, "/console");

    let audit = qrpay::db::audit::latest(&app.db, 1, 10).await.unwrap();
    let rows: Vec<_> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.before.clone(), e.after.clone()))
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].0, "disable");
    assert_eq!(rows[0].0, "enable");
    let before: serde_json::Value = serde_json::from_str(rows[1].1.as_deref().unwrap()).unwrap();
    let after: serde_json::Value = serde_json::from_str(rows[1].2.as_deref().unwrap()).unwrap();
    assert_eq!(
        (before["disabled"].as_bool(), after["disabled"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(audit[0].entity_id, vera);
}

async fn a_password_reset_lets_the_user_in_with_the_new_password_and_not_the_old(app: TestApp) {
    add_user(&app, "root", "admin").await;
    add_user(&app, "vera", "viewer").await;
    let c = Console::new(&app);
    let s = c.session_of("root").await;
    let vera = user_id(&app, "vera").await;
    let form = c.get(&format!("{USERS}?reset={vera}"), Some(&s)).await;
    assert!(form.body.contains(r#"data-testid="reset-form""#));
    let hash_before = qrpay::db::user::user_by_login(&app.db, "vera")
        .await
        .unwrap()
        .unwrap()
        .password_hash;

    for (pw, again, name, msg) in [
        ("short", "short", "password", Msg::PasswordTooShort),
        (
            "a new long one",
            "a new long 1",
            "password_again",
            Msg::PasswordsDiffer,
        ),
    ] {
        let a = c
            .call(
                "reset_user_password",
                &[("id", &vera), ("password", pw), ("password_again", again)],
                &s,
            )
            .await;
        assert_eq!(a.field(name), Some(msg));
    }
    let unchanged = qrpay::db::user::user_by_login(&app.db, "vera")
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    assert_eq!(unchanged, hash_before);

    let new = "a brand new password";
    let a = c
        .call(
            "reset_user_password",
            &[("id", &vera), ("password", new), ("password_again", new)],
            &s,
        )
        .await;
    assert_eq!(
        a.location,
        "/console/users?done=password",
        "{:?}",
        a.error()
    );
    assert_eq!(
        c.login("vera", PASSWORD).await.form_message(),
        Some(Msg::LoginFailed)
    );
    assert_eq!(c.login("vera", new).await.location, "/console");

    let audit = qrpay::db::audit::latest(&app.db, 1, 10).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (
            audit[0].action.as_str(),
            audit[0].entity_id.as_str(),
            audit[0].before.as_deref()
        ),
        ("password_reset", vera.as_str(), None)
    );
    let after: serde_json::Value =
        serde_json::from_str(audit[0].after.as_deref().unwrap()).unwrap();
    assert_eq!(after["password"], "password reset");
    let text = audit_text(&app).await;
    assert!(!text.contains(new) && !text.contains("argon2"), "{text}");
}

async fn a_role_change_is_audited_and_ends_the_users_sessions(app: TestApp) {
    add_user(&app, "root", "admin").await;
    add_user(&app, "vera", "viewer").await;
    let c = Console::new(&app);
    let s = c.session_of("root").await;
    let vs = c.session_of("vera").await;
    let vera = user_id(&app, "vera").await;
    let journal = c
        .post("/console/fn/list_audit", "/console", &[], Some(&vs))
        .await;
    assert_eq!(journal.error(), Some(ConsoleError::Forbidden));

    let a = c
        .call("set_user_role", &[("id", &vera), ("role", "support")], &s)
        .await;
    assert_eq!(a.location, "/console/users?done=role", "{:?}", a.error());
    let page = c.get(&a.location, Some(&s)).await;
    assert!(page.body.contains("Роль изменена."));
    // A role change ends her sessions (issue 12); signed in again, she may do what support does.
    let old = c.get("/console/audit", Some(&vs)).await;
    assert_eq!(old.location, "/console/login");
    let vs = c.session_of("vera").await;
    let journal = c.get("/console/audit", Some(&vs)).await;
    assert!(
        journal.body.contains(r#"data-testid="audit-row""#),
        "support reads the log"
    );

    let a = c
        .call("set_user_role", &[("id", &vera), ("role", "owner")], &s)
        .await;
    assert_eq!(a.form_message(), Some(Msg::RoleInvalid));
    let a = c
        .call("set_user_role", &[("id", "999999"), ("role", "viewer")], &s)
        .await;
    assert_eq!(a.error(), Some(ConsoleError::NotFound));

    let audit = qrpay::db::audit::latest(&app.db, 1, 10).await.unwrap();
    assert_eq!(audit.len(), 1);
    let e = &audit[0];
    assert_eq!(
        (e.action.as_str(), e.entity.as_str()),
        ("update", "app_user")
    );
    let before: serde_json::Value = serde_json::from_str(e.before.as_deref().unwrap()).unwrap();
    let after: serde_json::Value = serde_json::from_str(e.after.as_deref().unwrap()).unwrap();
    assert_eq!(
        (before["role"].as_str(), after["role"].as_str()),
        (Some("viewer"), Some("support"))
    );
}

both_backends!(
    support_viewer_and_anonymous_callers_are_refused_by_every_users_function,
    an_admin_adds_a_user_who_signs_in_and_a_taken_login_is_named_beside_the_field,
    an_admin_cannot_disable_or_demote_themselves_and_the_last_admin_stays_an_admin,
    a_disabled_user_is_refused_at_the_next_request_and_enabled_again_signs_in,
    a_password_reset_lets_the_user_in_with_the_new_password_and_not_the_old,
    a_role_change_is_audited_and_ends_the_users_sessions,
);
