//! Finding 6: `GET //evil.example?lang=en` answered 303 `Location: //evil.example`.

use crate::helpers::TestApp;
use crate::helpers::console::Console;

async fn the_language_switch_redirects_only_to_paths_of_this_site(app: TestApp) {
    let c = Console::new(&app);
    for (path, back) in [
        ("//evil.example?lang=en", "/evil.example"),
        (
            "//evil.example/console?lang=en&x=1",
            "/evil.example/console?x=1",
        ),
        ("/\\evil.example?lang=ru", "/evil.example"),
        ("/console/transactions?lang=en", "/console/transactions"),
    ] {
        let a = c.get(path, None).await;
        assert_eq!(a.status, 303, "{path}");
        assert_eq!(a.location, back, "{path}");
    }
}

crate::both_backends!(the_language_switch_redirects_only_to_paths_of_this_site);
