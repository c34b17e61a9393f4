//! The console's server side. Here: its routes (the Leptos app rendered on the server, its server
//! functions under `/console/fn/`, its stylesheet, the CSV export; around them sessions, the
//! signed-in user, the language and the refusal of cross-site posts) and `ConsoleBackend`, which
//! implements the ports that `app::backend` declares, one file per console area.
//!
//! Unknown paths render the app's not-found page with a 404. No files are ever served from disk
//! here (Leptos' file handler would serve its site root, by default the working directory).

mod audit;
mod cash_link;
mod confirm;
mod dashboard;
mod flash;
pub mod guard;
pub mod health;
mod modules;
mod reconcile;
mod session;
mod settings;
mod static_qrs;
mod support;
mod tills;
mod transactions;
mod users;

use crate::auth::session::DbSessionStore;
use crate::db::audit::Who;
use crate::db::{self, Db};
use app::backend::{Actor, Role};
use app::error::{ConsoleError, FormErrors};
use app::i18n::Msg;
use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list_with_exclusions_and_ssg_and_context};
use std::sync::{Arc, Mutex};
use tower_http::limit::RequestBodyLimitLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

const STYLESHEET: &str = include_str!("../../../style/qrpay.css");
pub const SESSION_COOKIE: &str = "qrpay_console";
pub const LANG_COOKIE: &str = "qrpay_lang";
const LOGIN_PATH: &str = "/console/login";

/// How the console is reached from browsers.
#[derive(Clone, Debug)]
pub struct ConsoleSettings {
    /// The origin browsers use (`https://pay.example.ru`); form posts from any other are refused.
    pub origin: String,
    /// Mark the session cookie `Secure` (served over https).
    pub secure_cookie: bool,
    /// Take the client's address from the last `X-Forwarded-For` hop (qrpay behind a reverse
    /// proxy, `QRPAY_TRUST_FORWARDED_FOR`); otherwise the TCP peer's address.
    pub trust_forwarded_for: bool,
}

impl ConsoleSettings {
    /// From the public URL: its origin, and `Secure` cookies when it is https.
    pub fn from_public_url(public_url: &str) -> Self {
        let url = public_url.trim_end_matches('/');
        let origin = match url.find("://") {
            Some(i) => match url[i + 3..].find('/') {
                Some(j) => url[..i + 3 + j].to_owned(),
                None => url.to_owned(),
            },
            None => url.to_owned(),
        };
        Self {
            secure_cookie: origin.starts_with("https://"),
            origin,
            trust_forwarded_for: false,
        }
    }
}

pub fn router(
    backend: Arc<ConsoleBackend>,
    settings: ConsoleSettings,
    store: DbSessionStore,
) -> Router {
    let options = LeptosOptions::builder().output_name("qrpay").build();
    let context = {
        let b = app::backend::Backend(backend.clone());
        move || {
            provide_context(b.clone());
            // Leptos marks its inline scripts with the nonce in context: make it the one the
            // response's Content-Security-Policy names (`security_headers`).
            if let Some(n) = use_context::<axum::http::request::Parts>()
                .and_then(|p| p.extensions.get::<CspNonce>().cloned())
            {
                provide_context(leptos::nonce::Nonce::from_value(n.0));
            }
        }
    };
    let (routes, _) =
        generate_route_list_with_exclusions_and_ssg_and_context(app::App, None, context.clone());
    let shell = {
        let options = options.clone();
        move || app::shell(options.clone())
    };
    let not_found = leptos_axum::render_app_async_with_context(context.clone(), shell.clone());
    let sessions = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(settings.secure_cookie)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(8)));
    let csv_backend = backend.clone();
    let image_backend = backend.clone();
    let upload_backend = backend.clone();
    let trust_forwarded_for = settings.trust_forwarded_for;
    Router::new()
        .leptos_routes_with_context(&options, routes, context, shell)
        .route(
            "/console/transactions.csv",
            get(move |req: Request| transactions_csv(csv_backend.clone(), req)),
        )
        .route(
            "/console/static-qrs/{id}/{image}",
            get(move |req: Request| static_qrs::image(image_backend.clone(), req)),
        )
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
        .layer(RequestBodyLimitLayer::new(64 * 1024))
        // The registry upload alone takes a large body.
        .merge(
            Router::new()
                .route(
                    app::pages::reconcile::UPLOAD_PATH,
                    post(move |req: Request| reconcile::upload(upload_backend.clone(), req)),
                )
                .layer(DefaultBodyLimit::max(reconcile::REGISTRY_LIMIT))
                .layer(RequestBodyLimitLayer::new(reconcile::REGISTRY_LIMIT)),
        )
        .layer(middleware::from_fn_with_state(backend, resolve_actor))
        .layer(sessions)
        .layer(middleware::from_fn(resolve_lang))
        .layer(middleware::from_fn(move |req, next| {
            guard::client_address(trust_forwarded_for, req, next)
        }))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(
            Arc::new(flash::FlashKey::new(settings.secure_cookie)),
            flash::errors_only_from_this_server,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::new(settings),
            refuse_cross_site,
        ))
}

/// The CSV export of the transactions filter in the query string (any role; anonymous visitors
/// were sent to the login page by `resolve_actor` already).
async fn transactions_csv(backend: Arc<ConsoleBackend>, req: Request) -> Response {
    let Some(actor) = req.extensions().get::<Actor>().cloned() else {
        return Redirect::to(LOGIN_PATH).into_response();
    };
    let mut query = app::backend::transactions::TransactionQuery::default();
    let pairs: Vec<(String, String)> =
        axum::extract::Query::try_from_uri(req.uri()).map_or_else(|_| Vec::new(), |q| q.0);
    for (k, v) in &pairs {
        query.set(k, v);
    }
    match backend.transactions_csv(&actor, &query).await {
        Ok(chunks) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/csv; charset=utf-8"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("attachment; filename=\"transactions.csv\""),
                ),
            ],
            // A failure mid-way ends the body early (the download then fails, never looks
            // complete); it is logged where it happened.
            Body::from_stream(futures::StreamExt::map(chunks, |chunk| {
                chunk.map_err(|_| std::io::Error::other("the CSV export failed"))
            })),
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The nonce of one console response's Content-Security-Policy.
#[derive(Clone, Debug)]
struct CspNonce(String);

/// The console's security headers: a Content-Security-Policy whose only allowed inline scripts
/// and styles carry this response's nonce (Leptos puts it on its own), no framing
/// (`frame-ancestors 'none'`, `X-Frame-Options: DENY`), and a referrer only for this site
/// (`same-origin`: the no-JavaScript form posts go back to the page they came from by it).
async fn security_headers(mut req: Request, next: Next) -> Response {
    let nonce = leptos::nonce::Nonce::new().to_string();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; \
         img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
         base-uri 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// Refuses state-changing requests that a browser sends on behalf of another site (login CSRF
/// included): `Sec-Fetch-Site` when the browser sends it, else `Origin`.
async fn refuse_cross_site(
    State(settings): State<Arc<ConsoleSettings>>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let h = req.headers();
    let allowed = match h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("same-origin") | Some("none") => true,
        Some(_) => false,
        None => match h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            Some(origin) => origin == settings.origin,
            // No browser metadata: not a browser acting for another site.
            None => true,
        },
    };
    if allowed {
        next.run(req).await
    } else {
        tracing::warn!(path = %req.uri().path(), "cross-site post to the console refused");
        (StatusCode::FORBIDDEN, "cross-site form posts are refused").into_response()
    }
}

fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Puts the reader's language into the request; `?lang=en` on a page sets the cookie and comes
/// back to the page without the parameter (a link, so it works without JavaScript).
async fn resolve_lang(mut req: Request, next: Next) -> Response {
    if req.method() == Method::GET
        && let Some(query) = req.uri().query()
    {
        let mut chosen = None;
        let rest: Vec<&str> = query
            .split('&')
            .filter(|kv| match kv.strip_prefix("lang=") {
                Some(code) => {
                    chosen = app::i18n::Lang::from_code(code).or(chosen);
                    false
                }
                None => true,
            })
            .collect();
        if let Some(lang) = chosen {
            // Back to a path of this site only: `//host` or `/\host` would be another site's
            // address (an open redirect), so the path keeps one leading slash.
            let path = format!("/{}", req.uri().path().trim_start_matches(['/', '\\']));
            let back = if rest.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", rest.join("&"))
            };
            let mut res = Redirect::to(&back).into_response();
            let cookie = format!(
                "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
                lang.code()
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            return res;
        }
    }
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = app::i18n::Lang::resolve(cookie(&req, LANG_COOKIE), accept);
    req.extensions_mut().insert(lang);
    next.run(req).await
}

/// Puts the signed-in user into the request. Without one, console pages send the visitor to the
/// login page and server functions other than the anonymous ones are refused here already.
async fn resolve_actor(
    State(backend): State<Arc<ConsoleBackend>>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let actor = match backend.actor_of(&session).await {
        Ok(a) => a,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let path = req.uri().path();
    let is_fn = path.starts_with("/console/fn/");
    let is_page = path.starts_with("/console") && !is_fn;
    let open =
        matches!(path, LOGIN_PATH | "/console/setup") || app::api::ANONYMOUS_FNS.contains(&path);
    match actor {
        Some(actor) => {
            req.extensions_mut().insert(actor);
        }
        None => {
            // A session whose user was disabled or removed is of no use to anyone.
            if session.get_value("user").await.ok().flatten().is_some() {
                let _ = session.flush().await;
            }
            if is_fn && !open {
                return refuse_anonymous(&req);
            }
            if is_page && !open {
                return Redirect::to(LOGIN_PATH).into_response();
            }
        }
    }
    let mut res = next.run(req).await;
    if is_page {
        // Console pages show who is signed in and the store's data: never keep them in caches.
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// What an anonymous call of a server function gets: browsers go to the login page, other
/// clients a plain 401.
fn refuse_anonymous(req: &Request) -> Response {
    let html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if html {
        Redirect::to(LOGIN_PATH).into_response()
    } else {
        (StatusCode::UNAUTHORIZED, "sign in first").into_response()
    }
}

/// The console's backend: implements `app::backend::ConsolePorts` over the database, one file
/// per area; the router also asks it for the session's user and the one-time setup link.
pub struct ConsoleBackend {
    db: Db,
    /// The installed payment modules, for the «Виды оплаты» form.
    providers: crate::providers::Providers,
    /// While no user exists: the token of the one-time setup link.
    setup_token: Mutex<Option<String>>,
    /// Refunds go through the payment service (absent only in tests that never refund).
    payments: Option<Arc<crate::payments::service::PaymentService>>,
    /// For the «Состояние» page's checks.
    health: health::HealthSettings,
    /// Sign-in's per-address rate limit and hashing slots.
    guard: guard::LoginGuard,
    /// Production mode: the Raiffeisen API address must be https even on loopback.
    production: bool,
}

fn internal(e: impl std::fmt::Display) -> ConsoleError {
    tracing::error!(error = %e, "console backend");
    ConsoleError::Internal
}

impl ConsoleBackend {
    pub fn new(db: Db) -> Self {
        Self {
            providers: crate::providers::Providers::installed(&db),
            db,
            setup_token: Mutex::new(None),
            payments: None,
            health: Default::default(),
            guard: guard::LoginGuard::default(),
            production: false,
        }
    }

    /// The default broker and the data directory the «Состояние» page checks.
    pub fn with_health(mut self, health: health::HealthSettings) -> Self {
        self.health = health;
        self
    }

    /// Sign-in attempts one client address may make a minute (see `guard`).
    pub fn with_sign_ins_per_minute(mut self, per_minute: u32) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        self.guard = guard::LoginGuard::new(per_minute, cores.clamp(2, 4));
        self
    }

    /// Production mode (see `config::Settings::production`).
    pub fn with_production(mut self, production: bool) -> Self {
        self.production = production;
        self
    }

    /// The periodic clean-up of sign-in state: expired sessions, sign-in counters whose window
    /// has passed, and addresses whose rate limit has filled up again.
    pub async fn clean_up_sign_in_state(&self) {
        if let Err(e) = db::session::delete_expired_sessions(&self.db).await {
            tracing::warn!(error = %e, "cannot delete expired console sessions");
        }
        let before = db::now() - guard::THROTTLE_WINDOW;
        if let Err(e) = db::session::delete_stale_login_attempts(&self.db, before).await {
            tracing::warn!(error = %e, "cannot delete old sign-in counters");
        }
        self.guard.forget_idle();
    }

    /// The payment service console refunds go through.
    pub fn with_payments(
        mut self,
        payments: Arc<crate::payments::service::PaymentService>,
    ) -> Self {
        self.payments = Some(payments);
        self
    }

    /// The store the actor works on (picked in the session, else the first).
    pub(crate) async fn store_of(&self, actor: &Actor) -> Result<db::store::Store, ConsoleError> {
        db::store::store_by_id(&self.db, actor.store_id)
            .await
            .map_err(internal)
    }

    /// Production mode (test modules off), as the payment service runs.
    fn production(&self) -> bool {
        self.payments.as_ref().is_some_and(|p| p.production())
    }

    /// The actor's store, and its time zone.
    async fn store(
        &self,
        actor: &Actor,
    ) -> Result<(db::store::Store, chrono_tz::Tz), ConsoleError> {
        let store = self.store_of(actor).await?;
        let tz = store_tz(&store);
        Ok((store, tz))
    }
}

/// A second check behind the server fn's `require`: configuration changes are for admins.
fn admin_only(actor: &Actor) -> Result<(), ConsoleError> {
    if actor.role >= Role::Admin {
        Ok(())
    } else {
        Err(ConsoleError::Forbidden)
    }
}

fn who(actor: &Actor) -> Who<'_> {
    Who::user(actor.user_id, &actor.login)
}

/// «Name taken» beside the name field, the typed values kept.
fn name_taken(values: &[(&str, &str)]) -> ConsoleError {
    let mut f = FormErrors::default();
    f.field("name", Msg::NameTaken);
    for (k, v) in values {
        f.keep(k, v);
    }
    ConsoleError::Invalid(f)
}

/// The store's time zone; an unknown one (the console checks it before saving) is logged and
/// read as Europe/Moscow.
fn store_tz(store: &db::store::Store) -> chrono_tz::Tz {
    store.time_zone.parse().unwrap_or_else(|_| {
        tracing::warn!(time_zone = %store.time_zone, "unknown store time zone; using Europe/Moscow");
        chrono_tz::Europe::Moscow
    })
}

fn valid_http_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::ConsoleSettings;

    #[test]
    fn the_allowed_origin_and_secure_flag_come_from_the_public_url() {
        let s = ConsoleSettings::from_public_url("https://pay.example.ru/qrpay/");
        assert_eq!(s.origin, "https://pay.example.ru");
        assert!(s.secure_cookie);
        let s = ConsoleSettings::from_public_url("http://127.0.0.1:3100");
        assert_eq!(s.origin, "http://127.0.0.1:3100");
        assert!(!s.secure_cookie);
    }
}
