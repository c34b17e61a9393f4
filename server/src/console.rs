//! The console's routes: the Leptos app rendered on the server, and its stylesheet.
//!
//! Unknown paths render the app's not-found page with a 404. No files are ever served from disk
//! here (Leptos' file handler would serve its site root, by default the working directory).

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

const STYLESHEET: &str = include_str!("../../style/qrpay.css");

pub fn router() -> Router {
    let options = LeptosOptions::builder().output_name("qrpay").build();
    let routes = generate_route_list(app::App);
    let shell = {
        let options = options.clone();
        move || app::shell(options.clone())
    };
    let not_found = leptos_axum::render_app_async(shell.clone());
    Router::new()
        .leptos_routes(&options, routes, shell)
        .route(
            "/style/qrpay.css",
            get(|| async {
                (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/css; charset=utf-8"),
                    )],
                    STYLESHEET,
                )
            }),
        )
        .fallback(move |req: Request<Body>| {
            let render = not_found.clone();
            async move {
                let mut res: Response = render(req).await.into_response();
                *res.status_mut() = StatusCode::NOT_FOUND;
                res
            }
        })
        .with_state(options)
}
