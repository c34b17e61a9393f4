//! The qrpay console: Leptos components rendered on the server. Works with JavaScript off.

pub mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The HTML document around every console page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let _ = options;
    view! {
        <!DOCTYPE html>
        <html lang="ru">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" href="/style/qrpay.css"/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="qrpay"/>
        <Router>
            <Routes fallback=pages::not_found::NotFoundPage>
                <Route path=path!("/") view=pages::home::HomePage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
