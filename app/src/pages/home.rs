//! The start page: what qrpay is and where to go next.

use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <main class="page" data-testid="home">
            <h1>"qrpay"</h1>
            <p class="lead">"Интегратор QR-оплат СБП для касс и киосков."</p>
            <p class="lead-en" lang="en">"QR payments (Faster Payments System) for tills and kiosks."</p>
            <section class="card">
                <h2>"API касс / Till API"</h2>
                <p>
                    "Описание API: " <a href="/api/v1/openapi.json" data-testid="openapi-link">"/api/v1/openapi.json"</a>
                </p>
                <p>"Ключ кассы создаётся командой " <code>"qrpay till add --name till-1"</code></p>
            </section>
            <section class="card">
                <h2>"Консоль / Console"</h2>
                <p><a href="/console/login" data-testid="console-link">"Войти в консоль / Sign in"</a></p>
            </section>
            <section class="card">
                <h2>"Состояние / Health"</h2>
                <p><a href="/readyz">"/readyz"</a></p>
            </section>
        </main>
    }
}
