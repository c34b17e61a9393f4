//! The console as a browser without JavaScript uses it: one client that signs in, reads pages
//! and posts forms without following redirects, and reads the server functions' answers.

use super::TestApp;
use app::error::ConsoleError;
use app::i18n::Msg;
use leptos::server_fn::error::ServerFnUrlError;
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, LOCATION, REFERER, SET_COOKIE};
use reqwest::redirect::Policy;

pub const PASSWORD: &str = "correct horse battery";

pub struct Console<'a> {
    pub app: &'a TestApp,
    pub http: reqwest::Client,
    /// The flash cookie of the last form error, sent with the next page as a browser does
    /// (pages show a form error only with it).
    flash: std::sync::Mutex<Option<String>>,
}

pub struct Answer {
    pub status: u16,
    pub cache_control: String,
    pub location: String,
    pub set_cookie: Vec<String>,
    pub body: String,
}

impl Answer {
    /// The console session cookie this answer sets (`name=value`), if any.
    pub fn session(&self) -> Option<String> {
        self.set_cookie
            .iter()
            .find(|c| c.starts_with("qrpay_console="))
            .map(|c| c.split(';').next().unwrap_or_default().to_owned())
    }

    /// The error a server function put into the redirect (`__err`), if any.
    pub fn error(&self) -> Option<ConsoleError> {
        let url = reqwest::Url::parse(&self.location).ok()?;
        let err = url
            .query_pairs()
            .filter(|(k, _)| k == "__err")
            .last()?
            .1
            .into_owned();
        Some(ServerFnUrlError::<ConsoleError>::decode_err(&err))
    }

    pub fn form_message(&self) -> Option<Msg> {
        match self.error()? {
            ConsoleError::Invalid(f) => f.form,
            _ => None,
        }
    }

    /// The message beside the field `name`, if the answer is a form error.
    pub fn field(&self, name: &str) -> Option<Msg> {
        match self.error()? {
            ConsoleError::Invalid(f) => f.error(name),
            _ => None,
        }
    }

    /// The value of `name` the form error keeps for the form to show again.
    pub fn kept(&self, name: &str) -> Option<String> {
        match self.error()? {
            ConsoleError::Invalid(f) => f.value(name),
            _ => None,
        }
    }
}

impl<'a> Console<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        Self {
            app,
            http,
            flash: Default::default(),
        }
    }

    /// Keeps (or forgets) the flash cookie an answer sets.
    fn remember_flash(&self, a: &Answer) {
        for c in &a.set_cookie {
            if let Some(rest) = c.strip_prefix("qrpay_flash=") {
                let value = rest.split(';').next().unwrap_or_default();
                *self.flash.lock().unwrap() =
                    (!value.is_empty()).then(|| format!("qrpay_flash={value}"));
            }
        }
    }

    pub async fn answer(r: reqwest::RequestBuilder) -> Answer {
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let cache_control = r
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let set_cookie = r
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let body = r.text().await.unwrap();
        Answer {
            status,
            cache_control,
            location,
            set_cookie,
            body,
        }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Answer {
        let mut r = self
            .http
            .get(format!("{}{path}", self.app.base))
            .header(ACCEPT, "text/html");
        let flash = self.flash.lock().unwrap().clone();
        let cookies: Vec<&str> = cookie.into_iter().chain(flash.as_deref()).collect();
        if !cookies.is_empty() {
            r = r.header(COOKIE, cookies.join("; "));
        }
        let a = Self::answer(r).await;
        self.remember_flash(&a);
        a
    }

    /// The page an answer sends the browser to, as `cookie`'s browser sees it.
    pub async fn follow(&self, a: &Answer, cookie: &str) -> String {
        self.get(&a.location.replace(&self.app.base, ""), Some(cookie))
            .await
            .body
    }

    /// A form post as a browser without JavaScript makes it, from the page `from`.
    pub async fn post(
        &self,
        path: &str,
        from: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Answer {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut r = self
            .http
            .post(format!("{}{path}", self.app.base))
            .header(ACCEPT, "text/html")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(REFERER, format!("{}{from}", self.app.base))
            .body(body);
        if let Some(c) = cookie {
            r = r.header(COOKIE, c);
        }
        let a = Self::answer(r).await;
        self.remember_flash(&a);
        a
    }

    pub async fn login(&self, login: &str, password: &str) -> Answer {
        self.post(
            "/console/fn/login",
            "/console/login",
            &[("login", login), ("password", password)],
            None,
        )
        .await
    }

    /// A form post to the server function `name` with the session cookie `session`.
    pub async fn post_fn(
        &self,
        name: &str,
        from: &str,
        form: &[(&str, &str)],
        session: &str,
    ) -> Answer {
        self.post(&format!("/console/fn/{name}"), from, form, Some(session))
            .await
    }

    /// Signs in and returns the session cookie.
    pub async fn session_of(&self, login: &str) -> String {
        let a = self.login(login, PASSWORD).await;
        assert_eq!(a.location, "/console", "{:?}", a.error());
        a.session().expect("a session cookie")
    }

    /// Adds a user with the role (password `PASSWORD`) and signs in; returns the session cookie.
    pub async fn user(&self, login: &str, role: &str) -> String {
        add_user(self.app, login, role).await;
        self.session_of(login).await
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn add_user(app: &TestApp, login: &str, role: &str) {
    let hash = tokio::task::spawn_blocking(|| qrpay::auth::password::hash(PASSWORD))
        .await
        .unwrap()
        .unwrap();
    qrpay::db::user::create_user(&app.db, &qrpay::db::audit::Who::SEED, login, &hash, role)
        .await
        .unwrap();
}

/// The text of the element with `data-testid=id` (markers between text nodes removed).
pub fn text_of(body: &str, id: &str) -> Option<String> {
    let body = body.replace("<!---->", "").replace("<!>", "");
    let start = body.find(&format!("data-testid=\"{id}\""))?;
    let rest = &body[start..];
    let rest = &rest[rest.find('>')? + 1..];
    Some(rest[..rest.find('<')?].to_owned())
}

/// The payment ids a transactions page lists, in order.
pub fn listed(body: &str) -> Vec<String> {
    body.match_indices("data-payment-id=\"")
        .map(|(i, m)| {
            let rest = &body[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

/// The totals line of the transactions page for payments of these (amount, refunded): count,
/// sum and refunded sum as the Russian page writes them.
pub fn totals_text(rows: impl Iterator<Item = (i64, i64)>) -> (String, String, String) {
    use app::i18n::{Lang, format_money};
    let (mut n, mut a, mut r) = (0, 0, 0);
    for (amount, refunded) in rows {
        n += 1;
        a += amount;
        r += refunded;
    }
    (
        n.to_string(),
        format_money(a, Lang::Ru),
        format_money(r, Lang::Ru),
    )
}
