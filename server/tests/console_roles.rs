//! Every server function of the console, called by each role and by nobody: the table below says
//! who may call what, and it must name every server function there is (a new one without a row
//! fails the test, so its role cannot be forgotten).

use crate::both_backends;
use crate::helpers::TestApp;
use crate::helpers::console::{Console, add_user};
use app::backend::Role;
use app::error::ConsoleError;

/// A server function's name, the least role that may call it, and a form for it.
type Row = (
    &'static str,
    Option<Role>,
    Vec<(&'static str, &'static str)>,
);

/// Who may call a function (`None`: anyone, signed in or not) and a form that parses, so that the
/// call reaches the role check. Ids point at nothing where the call would change something.
fn table() -> Vec<Row> {
    use Role::*;
    let q = vec![
        ("query[status]", ""),
        ("query[from]", ""),
        ("query[to]", ""),
        ("query[till]", ""),
        ("query[min]", ""),
        ("query[max]", ""),
        ("query[q]", ""),
        ("query[after]", ""),
    ];
    vec![
        ("login", None, vec![("login", "nobody"), ("password", "x")]),
        (
            "create_first_admin",
            None,
            vec![
                ("token", "not-the-token"),
                ("login", "root"),
                ("password", "long enough password"),
                ("password_again", "long enough password"),
            ],
        ),
        ("get_dashboard", Some(Viewer), vec![]),
        ("get_test_types", Some(Viewer), vec![]),
        ("get_health_checks", Some(Admin), vec![]),
        (
            "save_default_payment_type",
            Some(Admin),
            vec![("payment_type_id", "999999")],
        ),
        (
            "save_till_payment_type",
            Some(Admin),
            vec![("id", "999999"), ("payment_type_id", "")],
        ),
        ("list_stores", Some(Viewer), vec![]),
        ("choose_store", Some(Viewer), vec![("store_id", "999999")]),
        ("search_transactions", Some(Viewer), q),
        (
            "get_transaction",
            Some(Viewer),
            vec![("payment_id", "nope")],
        ),
        (
            "refund_payment",
            Some(Support),
            vec![
                ("payment_id", "nope"),
                ("mode", "full"),
                ("amount", ""),
                ("reason", ""),
            ],
        ),
        (
            "cancel_payment",
            Some(Support),
            vec![("payment_id", "nope")],
        ),
        ("ask_bank", Some(Support), vec![("payment_id", "nope")]),
        (
            "republish_events",
            Some(Support),
            vec![("payment_id", "nope")],
        ),
        (
            "confirm_action",
            Some(Support),
            vec![("payment_id", "nope"), ("token", "nope")],
        ),
        (
            "get_support_state",
            Some(Support),
            vec![("payment_id", "nope")],
        ),
        ("list_audit", Some(Support), vec![]),
        ("list_reconciliations", Some(Support), vec![]),
        ("get_reconciliation", Some(Support), vec![("id", "1")]),
        (
            "ask_bank_about_payment",
            Some(Support),
            vec![("id", "999999"), ("payment_id", "nope")],
        ),
        ("get_payment_modules", Some(Admin), vec![]),
        (
            "save_raiffeisen_settings",
            Some(Admin),
            vec![("base", "nowhere"), ("sbp_merchant_id", "")],
        ),
        ("register_raiffeisen_callback", Some(Admin), vec![]),
        ("list_auth_servers", Some(Admin), vec![]),
        (
            "save_auth_server",
            Some(Admin),
            vec![("name", ""), ("response_timeout_secs", "0")],
        ),
        ("delete_auth_server", Some(Admin), vec![("id", "999999")]),
        ("list_tills", Some(Admin), vec![]),
        ("get_cash_link", Some(Admin), vec![("id", "999999")]),
        ("issue_cash_link", Some(Admin), vec![("id", "999999")]),
        (
            "bind_cash_link",
            Some(Admin),
            vec![("id", "999999"), ("qr_id", "AV1")],
        ),
        ("list_static_qrs", Some(Admin), vec![]),
        (
            "issue_static_qr",
            Some(Admin),
            vec![("name", ""), ("payment_type_id", "")],
        ),
        ("deactivate_static_qr", Some(Admin), vec![("id", "999999")]),
        (
            "create_till",
            Some(Admin),
            vec![("name", ""), ("kind", "till"), ("paper_width", "1")],
        ),
        ("revoke_till", Some(Admin), vec![("id", "999999")]),
        (
            "save_till",
            Some(Admin),
            vec![
                ("id", "999999"),
                ("name", "T"),
                ("kind", "till"),
                ("language", "ru"),
                ("paper_width", "384"),
            ],
        ),
        ("list_payment_types", Some(Admin), vec![]),
        (
            "save_payment_type",
            Some(Admin),
            vec![("name", ""), ("auth_server_id", "999999"), ("module", "")],
        ),
        ("get_store_settings", Some(Admin), vec![]),
        (
            "save_store_settings",
            Some(Admin),
            vec![
                ("name", ""),
                ("code", ""),
                ("integrator_url", ""),
                ("rabbitmq_url", ""),
                ("time_zone", ""),
            ],
        ),
        (
            "check_rabbitmq",
            Some(Admin),
            vec![("rabbitmq_url", "not a url")],
        ),
        ("list_users", Some(Admin), vec![]),
        (
            "create_user",
            Some(Admin),
            vec![
                ("login", ""),
                ("role", "viewer"),
                ("password", "x"),
                ("password_again", "y"),
            ],
        ),
        (
            "set_user_role",
            Some(Admin),
            vec![("id", "999999"), ("role", "viewer")],
        ),
        ("disable_user", Some(Admin), vec![("id", "999999")]),
        ("enable_user", Some(Admin), vec![("id", "999999")]),
        (
            "reset_user_password",
            Some(Admin),
            vec![("id", "999999"), ("password", "x"), ("password_again", "y")],
        ),
        // Last: they end the session the calls above use (the first leaves it dead for the second).
        ("logout_everywhere", Some(Viewer), vec![]),
        ("logout", Some(Viewer), vec![]),
    ]
}

async fn every_server_function_answers_each_role_as_the_table_says(app: TestApp) {
    let table = table();
    let mut listed: Vec<String> = table
        .iter()
        .map(|(name, _, _)| format!("/console/fn/{name}"))
        .collect();
    let mut served: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p.to_owned())
        .filter(|p| p.starts_with("/console/fn/"))
        .collect();
    listed.sort();
    served.sort();
    assert_eq!(
        listed, served,
        "every server function has one row in the table"
    );
    for (name, min, _) in &table {
        let anonymous = app::api::ANONYMOUS_FNS.contains(&format!("/console/fn/{name}").as_str());
        assert_eq!(
            anonymous,
            min.is_none(),
            "{name}: open to anonymous callers?"
        );
    }

    let c = Console::new(&app);
    for (login, role) in [
        ("vera", Role::Viewer),
        ("sasha", Role::Support),
        ("adam", Role::Admin),
    ] {
        add_user(&app, login, role.code()).await;
        let s = c.session_of(login).await;
        for (name, min, form) in &table {
            let Some(min) = min else { continue };
            let path = format!("/console/fn/{name}");
            let a = c.post(&path, "/console", form, Some(&s)).await;
            let error = a.error();
            if role < *min {
                assert_eq!(
                    error,
                    Some(ConsoleError::Forbidden),
                    "{login} ({role:?}) {name}"
                );
            } else {
                assert!(
                    !matches!(
                        error,
                        Some(ConsoleError::Forbidden)
                            | Some(ConsoleError::Unauthenticated)
                            | Some(ConsoleError::Transport(_))
                    ),
                    "{login} ({role:?}) {name}: {error:?}"
                );
            }
        }
    }

    // Nobody signed in: the open ones answer, the rest send the visitor to the login page.
    for (name, min, form) in &table {
        let path = format!("/console/fn/{name}");
        let a = c.post(&path, "/console/login", form, None).await;
        match min {
            None => assert!(
                !matches!(
                    a.error(),
                    Some(ConsoleError::Unauthenticated) | Some(ConsoleError::Transport(_))
                ),
                "{name}: {:?}",
                a.error()
            ),
            Some(_) => assert_eq!(
                (a.status, a.location.as_str()),
                (303, "/console/login"),
                "{name}"
            ),
        }
    }
}

both_backends!(every_server_function_answers_each_role_as_the_table_says);
