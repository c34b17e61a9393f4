//! The console over HTTP: sign-in, sessions and their cookie, throttling, the first-run link,
//! guards on pages and server functions, cross-site posts, the transactions page.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::helpers::console::{Console, PASSWORD, add_user, urlencode};
use crate::helpers::db::{Arg, execute, execute_with, scalar};
use app::error::ConsoleError;
use app::i18n::Msg;
use qrpay::db::Db;
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, SET_COOKIE};

async fn session_rows(app: &TestApp) -> i64 {
    scalar(app, "select count(*) from console_session").await
}

async fn sign_in_with_the_right_password_sets_a_strict_http_only_cookie_and_a_new_id_each_time(
    app: TestApp,
) {
    add_user(&app, "anna", "support").await;
    let c = Console::new(&app);
    let first = c.login("anna", PASSWORD).await;
    assert_eq!(first.status, 302);
    assert_eq!(first.location, "/console");
    let cookie = first
        .set_cookie
        .iter()
        .find(|c| c.starts_with("qrpay_console="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http must not get Secure: {cookie}"
    );
    let a = first.session().unwrap();

    let page = c.get("/console/transactions", Some(&a)).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.cache_control, "no-store");
    assert!(page.body.contains("data-testid=\"current-user\""));
    assert!(page.body.contains("anna"));
    assert!(page.body.contains("поддержка"));

    // Signing in again with the old cookie gives a new id and the old one stops working.
    let again = c
        .post(
            "/console/fn/login",
            "/console/login",
            &[("login", "anna"), ("password", PASSWORD)],
            Some(&a),
        )
        .await;
    let b = again.session().expect("a new session cookie");
    assert_ne!(a, b);
    assert_eq!(c.get("/console/transactions", Some(&a)).await.status, 303);
    assert_eq!(c.get("/console/transactions", Some(&b)).await.status, 200);
    assert_eq!(session_rows(&app).await, 1);
}

async fn wrong_password_and_unknown_login_get_the_same_answer_and_no_session(app: TestApp) {
    add_user(&app, "anna", "admin").await;
    let c = Console::new(&app);
    for (login, pw) in [("anna", "wrong password"), ("nobody", PASSWORD)] {
        let a = c.login(login, pw).await;
        assert_eq!(a.status, 302);
        assert!(
            a.location
                .starts_with(&format!("{}/console/login?", app.base)),
            "{}",
            a.location
        );
        assert_eq!(a.form_message(), Some(Msg::LoginFailed));
        assert!(a.session().is_none());
        // The login typed stays in the form; the password never travels in the URL.
        match a.error() {
            Some(ConsoleError::Invalid(f)) => assert_eq!(f.value("login").as_deref(), Some(login)),
            other => panic!("{other:?}"),
        }
        assert!(!a.location.contains(&urlencode(pw)));
        let page = c.get(&a.location.replace(&app.base, ""), None).await;
        assert!(page.body.contains("Неверный логин или пароль."));
    }
    let empty = c.login("", "").await;
    match empty.error() {
        Some(ConsoleError::Invalid(f)) => {
            assert_eq!(f.error("login"), Some(Msg::Required));
            assert_eq!(f.error("password"), Some(Msg::Required));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(session_rows(&app).await, 0);
}

async fn an_unknown_login_takes_about_as_long_as_a_wrong_password(app: TestApp) {
    add_user(&app, "anna", "viewer").await;
    let c = Console::new(&app);
    // Warm up (the dummy hash is computed once, at start).
    c.login("someone", "x").await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    // Four: a fifth failure would start the throttle, which answers without hashing.
    for i in 0..4 {
        let t = std::time::Instant::now();
        c.login("anna", &format!("wrong {i}")).await;
        known.push(t.elapsed());
        let t = std::time::Instant::now();
        c.login(&format!("nobody-{i}"), "wrong").await;
        unknown.push(t.elapsed());
    }
    // The fastest of four: what the work costs, with the least noise from a busy machine.
    let k = known.iter().min().unwrap().as_secs_f64();
    let u = unknown.iter().min().unwrap().as_secs_f64();
    // Both run one argon2 verification; without the dummy hash the unknown login would answer
    // in a small fraction of the time.
    assert!(
        u > k * 0.4 && u < k * 2.5,
        "known {k:.3} s, unknown {u:.3} s"
    );
}

async fn five_failed_logins_make_even_the_right_password_wait(app: TestApp) {
    add_user(&app, "anna", "viewer").await;
    add_user(&app, "boris", "viewer").await;
    let c = Console::new(&app);
    for _ in 0..5 {
        assert_eq!(
            c.login("anna", "wrong password").await.form_message(),
            Some(Msg::LoginFailed)
        );
    }
    let a = c.login("anna", PASSWORD).await;
    assert_eq!(a.form_message(), Some(Msg::LoginThrottled));
    assert!(a.session().is_none());
    // Throttling is per login: another user signs in.
    c.session_of("boris").await;
}

/// Unknown logins are throttled the same way (nothing tells them apart). A test of its own: one
/// address may try only so many sign-ins a minute over all logins.
async fn unknown_logins_are_throttled_like_known_ones(app: TestApp) {
    let c = Console::new(&app);
    for _ in 0..5 {
        c.login("ghost", "x").await;
    }
    assert_eq!(
        c.login("ghost", "x").await.form_message(),
        Some(Msg::LoginThrottled)
    );
}

async fn sign_out_deletes_the_session(app: TestApp) {
    add_user(&app, "anna", "viewer").await;
    let c = Console::new(&app);
    let s = c.session_of("anna").await;
    assert_eq!(session_rows(&app).await, 1);
    let out = c
        .post("/console/fn/logout", "/console/transactions", &[], Some(&s))
        .await;
    assert_eq!(out.status, 302);
    assert_eq!(out.location, "/console/login?done=signed_out");
    assert!(
        out.set_cookie
            .iter()
            .any(|c| c.starts_with("qrpay_console=;") || c.contains("Max-Age=0")),
        "{:?}",
        out.set_cookie
    );
    assert_eq!(session_rows(&app).await, 0);
    assert_eq!(c.get("/console/transactions", Some(&s)).await.status, 303);
    let page = c.get("/console/login?done=signed_out", None).await;
    assert!(page.body.contains("Вы вышли."));
}

async fn console_pages_without_a_session_redirect_to_the_login_page(app: TestApp) {
    let c = Console::new(&app);
    for path in ["/console", "/console/transactions", "/console/nope"] {
        let a = c.get(path, None).await;
        assert_eq!(a.status, 303, "{path}");
        assert_eq!(a.location, "/console/login", "{path}");
    }
    let login = c.get("/console/login", None).await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("action=\"/console/fn/login\""));
    assert!(login.set_cookie.is_empty(), "no session before signing in");
    // Signed in, the login page sends the user on.
    add_user(&app, "anna", "viewer").await;
    let s = c.session_of("anna").await;
    let a = c.get("/console/login", Some(&s)).await;
    assert_eq!((a.status, a.location.as_str()), (302, "/console"));
}

async fn every_server_function_but_the_sign_in_ones_refuses_anonymous_calls(app: TestApp) {
    let c = Console::new(&app);
    let fns: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p)
        .filter(|p| p.starts_with("/console/fn/"))
        .collect();
    assert!(fns.contains(&"/console/fn/search_transactions"), "{fns:?}");
    assert!(fns.contains(&"/console/fn/logout"), "{fns:?}");
    for path in fns.iter().filter(|p| !app::api::ANONYMOUS_FNS.contains(p)) {
        let a = c.post(path, "/console/transactions", &[], None).await;
        assert_eq!(
            (a.status, a.location.as_str()),
            (303, "/console/login"),
            "{path}"
        );
        let plain = c
            .http
            .post(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), 401, "{path}");
    }
    for path in app::api::ANONYMOUS_FNS {
        assert!(fns.contains(path), "{path} is not a server function");
    }
}

async fn a_used_session_moves_its_expiry_and_an_expired_one_is_refused(app: TestApp) {
    add_user(&app, "anna", "viewer").await;
    let c = Console::new(&app);
    let s = c.session_of("anna").await;
    let soon = chrono::Utc::now() + chrono::TimeDelta::minutes(1);
    let expires = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            let sql = "select expires_at from console_session";
            let at: chrono::DateTime<chrono::Utc> = match &db {
                Db::Sqlite { write, .. } => sqlx::query_scalar(sql).fetch_one(write).await,
                Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            }
            .unwrap();
            at
        }
    };
    // Used now and then (marked as seen long ago), a session is saved with a new expiry.
    let sql = "update console_session set expires_at = $1, data = replace(data, '\"seen\":', '\"seen\":0,\"before\":')";
    execute_with(&app, sql, &[Arg::Time(soon)]).await;
    assert_eq!(c.get("/console/transactions", Some(&s)).await.status, 200);
    assert!(expires(&app).await > chrono::Utc::now() + chrono::TimeDelta::hours(7));
    // Past its expiry a session is worth nothing.
    let past = chrono::Utc::now() - chrono::TimeDelta::minutes(1);
    let sql = "update console_session set expires_at = $1";
    execute_with(&app, sql, &[Arg::Time(past)]).await;
    assert_eq!(c.get("/console/transactions", Some(&s)).await.status, 303);
}

async fn a_disabled_user_loses_the_session_and_cannot_sign_in(app: TestApp) {
    add_user(&app, "anna", "admin").await;
    let c = Console::new(&app);
    let s = c.session_of("anna").await;
    execute(
        &app,
        "update app_user set disabled = true where login = 'anna'",
    )
    .await;
    assert_eq!(c.get("/console/transactions", Some(&s)).await.status, 303);
    let call = c
        .post(
            "/console/fn/search_transactions",
            "/console/transactions",
            &[],
            Some(&s),
        )
        .await;
    assert_eq!(call.location, "/console/login");
    assert_eq!(
        c.login("anna", PASSWORD).await.form_message(),
        Some(Msg::LoginFailed)
    );
}

async fn cross_site_posts_are_refused(app: TestApp) {
    add_user(&app, "anna", "admin").await;
    let c = Console::new(&app);
    let s = c.session_of("anna").await;
    let body = format!("login=anna&password={}", urlencode(PASSWORD));
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "http://evil.example"),
        ("origin", "null"),
    ] {
        for path in ["/console/fn/login", "/console/fn/logout"] {
            let r = c
                .http
                .post(format!("{}{path}", app.base))
                .header(ACCEPT, "text/html")
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(COOKIE, &s)
                .header(name, value)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{path} with {name}: {value}");
            assert!(r.headers().get(SET_COOKIE).is_none());
        }
    }
    // The session survived the refused logout; same-origin posts go through.
    assert_eq!(session_rows(&app).await, 1);
    let ok = c
        .http
        .post(format!("{}/console/fn/logout", app.base))
        .header(ACCEPT, "text/html")
        .header(COOKIE, &s)
        .header("origin", &app.base)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 302);
    assert_eq!(session_rows(&app).await, 0);
}

async fn the_transactions_page_lists_the_store_payments_in_its_time_zone_for_every_role(
    app: TestApp,
) {
    let first = app.create_payment(123_456).await;
    let paid = app.paid_payment(99_900).await;
    let c = Console::new(&app);
    for role in ["viewer", "support", "admin"] {
        add_user(&app, role, role).await;
        let s = c.session_of(role).await;
        let page = c.get("/console/transactions", Some(&s)).await;
        assert_eq!(page.status, 200, "{role}");
        assert_eq!(
            page.body.matches("data-testid=\"transaction-row\"").count(),
            2
        );
        assert!(page.body.contains(first["id"].as_str().unwrap()));
        assert!(page.body.contains(&paid));
        assert!(page.body.contains("1\u{a0}234,56\u{a0}₽"), "{}", page.body);
        assert!(page.body.contains("999,00\u{a0}₽"));
        assert!(page.body.contains("ожидает оплаты"));
        assert!(page.body.contains("оплачена"));
        assert!(page.body.contains("Europe/Moscow"));
    }
    // The time shown is the store's (Moscow, UTC+3), not UTC.
    let created: chrono::DateTime<chrono::Utc> =
        first["created_at"].as_str().unwrap().parse().unwrap();
    let moscow = created + chrono::TimeDelta::hours(3);
    let s = c.session_of("viewer").await;
    let page = c.get("/console/transactions", Some(&s)).await;
    assert!(
        page.body
            .contains(&moscow.format("%Y-%m-%d %H:%M:%S").to_string()),
        "{}",
        page.body
    );
}

async fn the_language_switch_sets_a_cookie_and_english_follows_it_or_accept_language(app: TestApp) {
    add_user(&app, "anna", "admin").await;
    let c = Console::new(&app);
    let s = c.session_of("anna").await;
    let switch = c.get("/console/transactions?lang=en", Some(&s)).await;
    assert_eq!(
        (switch.status, switch.location.as_str()),
        (303, "/console/transactions")
    );
    let lang = switch
        .set_cookie
        .iter()
        .find(|c| c.starts_with("qrpay_lang=en"))
        .expect("a language cookie");
    assert!(lang.contains("Path=/"));
    let page = c
        .get(
            "/console/transactions",
            Some(&format!("{s}; qrpay_lang=en")),
        )
        .await;
    assert!(page.body.contains("<html lang=\"en\""));
    assert!(page.body.contains(">Transactions<"));
    assert!(page.body.contains("administrator"));
    let ru = c.get("/console/transactions", Some(&s)).await;
    assert!(ru.body.contains("<html lang=\"ru\""));
    assert!(ru.body.contains(">Транзакции<"));
    let by_header = Console::answer(
        c.http
            .get(format!("{}/console/login", app.base))
            .header("accept-language", "en-GB,en;q=0.9,ru;q=0.5"),
    )
    .await;
    assert!(by_header.body.contains(">Sign in<"));
}

async fn the_first_run_link_creates_one_admin_and_then_closes(app: TestApp) {
    let link = app
        .setup_link
        .clone()
        .expect("a setup link on an empty database");
    let path = link.replace(&app.base, "");
    let token = path.split("token=").nth(1).unwrap().to_owned();
    let c = Console::new(&app);
    let page = c.get(&path, None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-testid=\"setup-submit\""));
    let wrong = c.get("/console/setup?token=nope", None).await;
    assert!(wrong.body.contains("data-testid=\"setup-closed\""));
    assert!(!wrong.body.contains("setup-submit"));

    let form = |t: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![
            ("login", "root"),
            ("password", PASSWORD),
            ("password_again", t),
        ]
    };
    let mut differ = vec![("token", token.as_str())];
    differ.extend(form("something else"));
    let a = c
        .post("/console/fn/create_first_admin", &path, &differ, None)
        .await;
    match a.error() {
        Some(ConsoleError::Invalid(f)) => {
            assert_eq!(f.error("password_again"), Some(Msg::PasswordsDiffer));
            assert_eq!(f.value("login").as_deref(), Some("root"));
        }
        other => panic!("{other:?}"),
    }
    let mut bad_token = vec![("token", "nope")];
    bad_token.extend(form(PASSWORD));
    let a = c
        .post("/console/fn/create_first_admin", &path, &bad_token, None)
        .await;
    assert_eq!(a.form_message(), Some(Msg::SetupClosed));
    assert_eq!(qrpay::db::user::count_users(&app.db).await.unwrap(), 0);

    let mut good = vec![("token", token.as_str())];
    good.extend(form(PASSWORD));
    let a = c
        .post("/console/fn/create_first_admin", &path, &good, None)
        .await;
    assert_eq!(a.location, "/console/login?done=setup", "{:?}", a.error());
    let s = c.session_of("root").await;
    let page = c.get("/console/transactions", Some(&s)).await;
    assert!(page.body.contains("администратор"));

    // The link works once.
    let again = c
        .post("/console/fn/create_first_admin", &path, &good, None)
        .await;
    assert_eq!(again.form_message(), Some(Msg::SetupClosed));
    assert!(c.get(&path, None).await.body.contains("setup-closed"));
    assert_eq!(qrpay::db::user::count_users(&app.db).await.unwrap(), 1);
}

async fn the_store_picker_switches_every_page_to_the_picked_store(app: TestApp) {
    add_user(&app, "vera", "viewer").await;
    let c = Console::new(&app);
    let s = c.session_of("vera").await;
    // One store: its name, no picker.
    let one = c.get("/console/transactions", Some(&s)).await.body;
    assert!(one.contains("data-testid=\"current-store\""), "{one}");
    assert!(!one.contains("data-testid=\"store-picker\""));

    let main_payment = app.paid_payment(1000).await;
    let other = qrpay::db::store::add_store_ready_to_pay(
        &app.db,
        &qrpay::db::audit::Who::SEED,
        "north",
        "Северный <b>",
    )
    .await
    .unwrap();
    let key = crate::helpers::add_till(&app.db, Some(other), "north-1").await;
    let r = app
        .post_raw(
            "/api/v1/payments",
            Some(&key),
            Some(&crate::helpers::new_key()),
            r#"{"amount": 777, "receipt": "N-1"}"#,
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let north_payment = r.body["id"].as_str().unwrap().to_owned();

    // Two stores: the picker, on the first store until another is picked.
    let before = c.get("/console/transactions", Some(&s)).await.body;
    assert!(before.contains("data-testid=\"store-picker\""));
    assert!(before.contains("Северный &lt;b&gt;"), "names are text");
    assert!(before.contains(&main_payment) && !before.contains(&north_payment));

    let unknown = c
        .post(
            "/console/fn/choose_store",
            "/console/transactions",
            &[("store_id", "999999")],
            Some(&s),
        )
        .await;
    assert_eq!(unknown.error(), Some(ConsoleError::NotFound));

    let picked = c
        .post(
            "/console/fn/choose_store",
            "/console/transactions",
            &[("store_id", &other.to_string())],
            Some(&s),
        )
        .await;
    assert_eq!(picked.error(), None);
    assert!(
        picked
            .location
            .starts_with(&format!("{}/console/transactions", app.base)),
        "back to the page the form was on: {}",
        picked.location
    );
    let after = c.get("/console/transactions", Some(&s)).await.body;
    assert!(
        after.contains(&north_payment) && !after.contains(&main_payment),
        "{after}"
    );
    let detail = c
        .get(&format!("/console/transactions/{main_payment}"), Some(&s))
        .await;
    assert_eq!(detail.status, 404, "another store's payment is not shown");
    // The choice is the session's: a new session starts on the first store again.
    let fresh = c.session_of("vera").await;
    let body = c.get("/console/transactions", Some(&fresh)).await.body;
    assert!(body.contains(&main_payment) && !body.contains(&north_payment));
}

async fn the_journal_lists_the_picked_store_and_what_all_stores_share(app: TestApp) {
    add_user(&app, "adam", "admin").await;
    let c = Console::new(&app);
    let s = c.session_of("adam").await;
    let other = qrpay::db::store::add_store_ready_to_pay(
        &app.db,
        &qrpay::db::audit::Who::SEED,
        "north",
        "Северный",
    )
    .await
    .unwrap();
    let save = |name: &'static str| {
        let s = s.clone();
        let c = &c;
        async move {
            let a = c
                .post(
                    "/console/fn/save_auth_server",
                    "/console/auth-servers",
                    &[("name", name), ("response_timeout_secs", "30")],
                    Some(&s),
                )
                .await;
            assert_eq!(a.error(), None, "{name}");
        }
    };
    save("Сервер-Главный").await;
    let picked = c
        .post(
            "/console/fn/choose_store",
            "/console",
            &[("store_id", &other.to_string())],
            Some(&s),
        )
        .await;
    assert_eq!(picked.error(), None);
    save("Сервер-Северный").await;
    let user = c
        .post(
            "/console/fn/create_user",
            "/console/users",
            &[
                ("login", "shared-viewer"),
                ("role", "viewer"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
            Some(&s),
        )
        .await;
    assert_eq!(user.error(), None);

    let north = c.get("/console/audit", Some(&s)).await.body;
    assert!(north.contains("Сервер-Северный"), "{north}");
    assert!(!north.contains("Сервер-Главный"), "another store's change");
    assert!(
        north.contains("shared-viewer"),
        "users belong to every store"
    );
    c.post(
        "/console/fn/choose_store",
        "/console",
        &[("store_id", "1")],
        Some(&s),
    )
    .await;
    let main = c.get("/console/audit", Some(&s)).await.body;
    assert!(main.contains("Сервер-Главный") && !main.contains("Сервер-Северный"));
    assert!(main.contains("shared-viewer"));
}

both_backends!(
    the_journal_lists_the_picked_store_and_what_all_stores_share,
    the_store_picker_switches_every_page_to_the_picked_store,
    sign_in_with_the_right_password_sets_a_strict_http_only_cookie_and_a_new_id_each_time,
    wrong_password_and_unknown_login_get_the_same_answer_and_no_session,
    five_failed_logins_make_even_the_right_password_wait,
    unknown_logins_are_throttled_like_known_ones,
    an_unknown_login_takes_about_as_long_as_a_wrong_password,
    sign_out_deletes_the_session,
    console_pages_without_a_session_redirect_to_the_login_page,
    every_server_function_but_the_sign_in_ones_refuses_anonymous_calls,
    a_disabled_user_loses_the_session_and_cannot_sign_in,
    a_used_session_moves_its_expiry_and_an_expired_one_is_refused,
    cross_site_posts_are_refused,
    the_transactions_page_lists_the_store_payments_in_its_time_zone_for_every_role,
    the_language_switch_sets_a_cookie_and_english_follows_it_or_accept_language,
    the_first_run_link_creates_one_admin_and_then_closes,
);
