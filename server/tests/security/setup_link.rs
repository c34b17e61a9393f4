//! Finding 9: three simultaneous posts of the one-time setup link created three admins.

use crate::helpers::TestApp;
use crate::helpers::console::{Console, PASSWORD};
use futures::future::join_all;

async fn the_setup_link_creates_one_admin_however_many_posts_race(app: TestApp) {
    let link = app
        .setup_link
        .clone()
        .expect("a setup link on an empty database");
    let path = link.replace(&app.base, "");
    let token = path.split("token=").nth(1).unwrap().to_owned();
    let c = Console::new(&app);
    let logins = ["root-1", "root-2", "root-3", "root-4", "root-5"];
    let answers = join_all(logins.iter().map(|login| {
        let form = [
            ("token", token.as_str()),
            ("login", *login),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
        ];
        let c = &c;
        let path = path.clone();
        async move {
            c.post("/console/fn/create_first_admin", &path, &form, None)
                .await
        }
    }))
    .await;
    let created = answers
        .iter()
        .filter(|a| a.location == "/console/login?done=setup")
        .count();
    assert_eq!(qrpay::db::user::count_users(&app.db).await.unwrap(), 1);
    assert_eq!(
        created, 1,
        "{} posts were told the admin was created",
        created
    );
}

/// The post of one setup link: `(console, path, token)`.
fn setup_form(app: &TestApp) -> (Console<'_>, String, String) {
    let link = app
        .setup_link
        .clone()
        .expect("a setup link on an empty database");
    let path = link.replace(&app.base, "");
    let token = path.split("token=").nth(1).unwrap().to_owned();
    (Console::new(app), path, token)
}

/// Posts the setup form of `link` (from [`setup_form`]) for `login`.
async fn use_link(
    (c, path, token): &(Console<'_>, String, String),
    login: &str,
) -> crate::helpers::console::Answer {
    let form = [
        ("token", token.as_str()),
        ("login", login),
        ("password", PASSWORD),
        ("password_again", PASSWORD),
    ];
    c.post("/console/fn/create_first_admin", path, &form, None)
        .await
}

/// Two qrpay instances on one empty database each print their own setup link; used at once,
/// only one of them creates an admin (the insert itself checks that there is no user yet).
async fn two_instances_setup_links_used_at_once_create_one_admin(app: TestApp) {
    let other = crate::helpers::spawn_app_on(&app.database_url, None, false).await;
    let (a, b) = (setup_form(&app), setup_form(&other));
    let (x, y) = futures::join!(use_link(&a, "root-a"), use_link(&b, "root-b"));
    let created = [x, y]
        .iter()
        .filter(|r| r.location == "/console/login?done=setup")
        .count();
    assert_eq!(qrpay::db::user::count_users(&app.db).await.unwrap(), 1);
    assert_eq!(created, 1);
}

crate::both_backends!(
    the_setup_link_creates_one_admin_however_many_posts_race,
    two_instances_setup_links_used_at_once_create_one_admin,
);
