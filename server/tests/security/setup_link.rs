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

crate::both_backends!(the_setup_link_creates_one_admin_however_many_posts_race);
