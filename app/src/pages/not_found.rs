use leptos::prelude::*;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <main class="page" data-testid="not-found">
            <h1>"Страница не найдена"</h1>
            <p lang="en">"Page not found."</p>
            <p><a href="/">"На главную / Home"</a></p>
        </main>
    }
}
