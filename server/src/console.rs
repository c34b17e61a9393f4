//! The console's routes: the Leptos app rendered on the server, and its stylesheet.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

const STYLESHEET: &str = include_str!("../../style/qrpay.css");

pub fn router() -> Router {
    let options = LeptosOptions::builder().output_name("qrpay").build();
    let routes = generate_route_list(app::App);
    Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || app::shell(options.clone())
        })
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
        .fallback(leptos_axum::file_and_error_handler(app::shell))
        .with_state(options)
}
