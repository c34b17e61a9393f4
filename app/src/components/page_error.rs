//! A page whose data could not be loaded: the message in the reader's language, and the HTTP status
//! that goes with it (403 for a role that may not, 404 for nothing there), so scripts and monitoring
//! see a refusal as a refusal and not as a 200 page.

use crate::components::layout::use_lang;
use crate::error::ConsoleError;
use leptos::prelude::*;

/// The status a page answers with when loading its data failed this way.
pub fn status_of(error: &ConsoleError) -> http::StatusCode {
    use http::StatusCode;
    match error {
        ConsoleError::Unauthenticated => StatusCode::UNAUTHORIZED,
        ConsoleError::Forbidden => StatusCode::FORBIDDEN,
        ConsoleError::NotFound => StatusCode::NOT_FOUND,
        ConsoleError::Invalid(_) | ConsoleError::Transport(_) => StatusCode::BAD_REQUEST,
        ConsoleError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[component]
pub fn PageError(
    error: ConsoleError,
    #[prop(default = "page-error")] testid: &'static str,
) -> impl IntoView {
    let lang = use_lang();
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status_of(&error));
    }
    view! {
        <p class="form-error" role="alert" data-testid=testid>{error.message().text(lang)}</p>
    }
}
