//! The qrpay console: Leptos components rendered on the server. Works with JavaScript off.

pub mod api;
pub mod backend;
pub mod components;
pub mod error;
pub mod i18n;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The HTML document around every console page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let _ = options;
    let lang = request_lang();
    view! {
        <!DOCTYPE html>
        <html lang=lang.code()>
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
    let lang = request_lang();
    provide_context(lang);
    // Every page's title ends with the product's name («qrpay — интегратор QR-оплат СБП»).
    let product = i18n::Msg::ProductName.text(lang);
    let formatter = move |text: String| {
        if text.is_empty() {
            product.to_owned()
        } else {
            format!("{text} · {product}")
        }
    };
    view! {
        <Title formatter=formatter text=""/>
        <Router>
            <Routes fallback=pages::not_found::NotFoundPage>
                <Route path=path!("/") view=pages::home::HomePage ssr=SsrMode::Async/>
                <Route path=path!("/console") view=pages::dashboard::DashboardPage ssr=SsrMode::Async/>
                <Route path=path!("/console/login") view=pages::login::LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/console/setup") view=pages::setup::SetupPage ssr=SsrMode::Async/>
                <Route
                    path=path!("/console/transactions")
                    view=pages::transactions::TransactionsPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/console/transactions/:id")
                    view=pages::transaction::TransactionPage
                    ssr=SsrMode::Async
                />
                // ---- admin configuration ----
                <Route path=path!("/console/store") view=pages::store::StorePage ssr=SsrMode::Async/>
                <Route path=path!("/console/auth-servers") view=pages::auth_servers::AuthServersPage ssr=SsrMode::Async/>
                <Route path=path!("/console/payment-types") view=pages::payment_types::PaymentTypesPage ssr=SsrMode::Async/>
                <Route path=path!("/console/tills") view=pages::tills::TillsPage ssr=SsrMode::Async/>
                <Route
                    path=path!("/console/tills/:id/cash-link")
                    view=pages::cash_link::CashLinkPage
                    ssr=SsrMode::Async
                />
                <Route path=path!("/console/static-qrs") view=pages::static_qrs::StaticQrsPage ssr=SsrMode::Async/>
                <Route
                    path=path!("/console/static-qrs/:id/plate")
                    view=pages::static_qrs::StaticQrPlatePage
                    ssr=SsrMode::Async
                />
                <Route path=path!("/console/audit") view=pages::audit::AuditPage ssr=SsrMode::Async/>
                <Route path=path!("/console/reconcile") view=pages::reconcile::ReconcilePage ssr=SsrMode::Async/>
                <Route path=path!("/console/modules") view=pages::modules::ModulesPage ssr=SsrMode::Async/>
                <Route path=path!("/console/users") view=pages::users::UsersPage ssr=SsrMode::Async/>
                <Route path=path!("/console/health") view=pages::health::HealthPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}

/// The language the server resolved for this request (cookie, then Accept-Language).
fn request_lang() -> i18n::Lang {
    use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<i18n::Lang>().copied())
        .unwrap_or_default()
}
