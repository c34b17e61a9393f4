//! Signing in and out, the one-time setup link for the first admin, the signed-in user of a
//! session (`actor_of`) and the store picker kept in the session.

use super::{ConsoleBackend, guard, internal};
use crate::auth::password;
use crate::db;
use app::backend::session::{SessionPort, StoreItem};
use app::backend::{Actor, Role};
use app::error::ConsoleError;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

/// The session key of the signed-in user.
const SESSION_USER: &str = "user";
/// The session key of when the session was last marked as used (unix seconds).
const SESSION_SEEN: &str = "seen";
/// The store picked in the console's store picker.
const SESSION_STORE: &str = "store";
/// A session is saved again (which moves its expiry) at most this often, not on every request:
/// SQLite has one writer, and payments need it more.
const SEEN_EVERY_SECS: i64 = 300;

#[derive(Serialize, Deserialize, Debug, Clone, Copy)]
struct SessionUser {
    user_id: i64,
    /// The user's `session_epoch` at sign-in; a session of an older epoch is over.
    #[serde(default)]
    epoch: i64,
}

/// The request's session (the console router puts it there).
pub(super) fn session(parts: &Parts) -> Result<Session, ConsoleError> {
    parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| internal("no session layer on the console router"))
}

impl ConsoleBackend {
    /// On a database without users: makes the one-time setup token (256 random bits) and returns it.
    pub async fn open_setup(&self) -> anyhow::Result<Option<String>> {
        if db::user::count_users(&self.db).await? > 0 {
            return Ok(None);
        }
        let token = crate::auth::till_key::generate()
            .trim_start_matches("qrp_")
            .to_owned();
        *self.setup_token.lock().expect("BUG: poisoned") = Some(token.clone());
        Ok(Some(token))
    }

    /// The signed-in user of a session, if the session holds one who may still sign in.
    pub async fn actor_of(&self, session: &Session) -> Result<Option<Actor>, ConsoleError> {
        let Some(su) = session
            .get::<SessionUser>(SESSION_USER)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let user = db::user::user_by_id(&self.db, su.user_id)
            .await
            .map_err(internal)?;
        let now = chrono::Utc::now().timestamp();
        let seen = session
            .get::<i64>(SESSION_SEEN)
            .await
            .map_err(internal)?
            .unwrap_or(0);
        if now - seen >= SEEN_EVERY_SECS {
            session.insert(SESSION_SEEN, now).await.map_err(internal)?;
        }
        let Some((u, role)) = user.and_then(|u| {
            let role = Role::parse(&u.role)?;
            (!u.disabled && u.session_epoch == su.epoch).then_some((u, role))
        }) else {
            return Ok(None);
        };
        Ok(Some(Actor {
            user_id: u.app_user_id,
            login: u.login,
            role,
            store_id: self.session_store(session).await?,
        }))
    }

    /// The store a session works on: its picked store (`choose_store` checked that it exists, and
    /// stores are never deleted), else the first one. Each request then reads it once, in
    /// `store_of`.
    async fn session_store(&self, session: &Session) -> Result<i64, ConsoleError> {
        let picked = session.get::<i64>(SESSION_STORE).await.map_err(internal)?;
        if let Some(id) = picked {
            return Ok(id);
        }
        db::store::find_store(&self.db, None)
            .await
            .map(|s| s.store_id)
            .map_err(internal)
    }

    /// The setup token, taken away when `token` is it (so that it works once).
    fn take_setup_token(&self, token: &str) -> Option<String> {
        let mut held = self.setup_token.lock().expect("BUG: poisoned");
        match &*held {
            Some(t) if constant_time_eq(t.as_bytes(), token.as_bytes()) => held.take(),
            _ => None,
        }
    }

    /// Creates the first admin, while there is no user.
    async fn create_first_admin_with(&self, login: &str, pw: &str) -> Result<(), ConsoleError> {
        if db::user::count_users(&self.db).await.map_err(internal)? > 0 {
            return Err(ConsoleError::form(app::i18n::Msg::SetupClosed, &[]));
        }
        let pw = pw.to_owned();
        let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
            .await
            .map_err(internal)?
            .map_err(|_| ConsoleError::form(app::i18n::Msg::PasswordTooShort, &[]))?;
        // The setup link fills an empty database: like the first start's defaults, it leaves no
        // audit row (there is nobody yet to name as the actor). "No user yet" is checked again
        // in the insert itself: another instance's setup link may have been used meanwhile.
        match db::user::create_first_admin(&self.db, login, &hash).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(ConsoleError::form(app::i18n::Msg::SetupClosed, &[])),
            Err(e) => Err(internal(e)),
        }
    }

    fn setup_token_matches(&self, token: &str) -> bool {
        match &*self.setup_token.lock().expect("BUG: poisoned") {
            Some(t) => constant_time_eq(t.as_bytes(), token.as_bytes()),
            None => false,
        }
    }
}

/// Constant-time comparison of two byte strings of possibly different lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[async_trait::async_trait]
impl SessionPort for ConsoleBackend {
    async fn login(&self, parts: &Parts, login: &str, pw: &str) -> Result<Actor, ConsoleError> {
        // No user has a longer login, and nothing longer is hashed, stored or put into the URL.
        if login.chars().count() > guard::MAX_LOGIN_CHARS {
            return Err(ConsoleError::form(app::i18n::Msg::LoginFailed, &[]));
        }
        let form_error = |m| ConsoleError::form(m, &[("login", login)]);
        if pw.len() > guard::MAX_PASSWORD_BYTES {
            return Err(form_error(app::i18n::Msg::LoginFailed));
        }
        let shown = crate::telemetry::quoted(login);
        let addr = parts
            .extensions
            .get::<guard::ClientAddr>()
            .map_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |a| {
                a.0
            });
        if !self.guard.address_allows(addr) {
            tracing::warn!(login = %shown, %addr, "console sign-ins from this address slowed");
            return Err(form_error(app::i18n::Msg::TooManyAttempts));
        }
        let address = addr.to_string();
        let window_after = db::now() - guard::THROTTLE_WINDOW;
        let attempts = db::session::count_login_attempt(&self.db, login, &address, window_after)
            .await
            .map_err(internal)?;
        if !guard::attempt_allowed(attempts) {
            tracing::warn!(login = %shown, %addr, ?attempts, "console login throttled");
            return Err(form_error(app::i18n::Msg::LoginThrottled));
        }
        let user = db::user::user_by_login(&self.db, login)
            .await
            .map_err(internal)?;
        // Unknown logins are verified against a dummy hash: same work, same time.
        let phc = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| password::dummy_hash().to_owned());
        let Some(mut slot) = self.guard.hash_slot().await else {
            // Not judged: the attempt does not count against the login.
            if let Err(e) = db::session::uncount_login_attempt(&self.db, login, &address).await {
                tracing::warn!(error = %e, "cannot uncount a sign-in attempt");
            }
            tracing::warn!(login = %shown, %addr, "console login refused: busy hashing");
            return Err(form_error(app::i18n::Msg::TooManyAttempts));
        };
        let pw = pw.to_owned();
        // The slot is held by the hash itself: a caller that goes away does not free it early.
        let matches = tokio::task::spawn_blocking(move || slot.verify(&phc, &pw))
            .await
            .map_err(internal)?;
        let actor = match user {
            Some(u) if matches && !u.disabled => Role::parse(&u.role).map(|role| {
                let actor = Actor {
                    user_id: u.app_user_id,
                    login: u.login,
                    role,
                    store_id: 0,
                };
                (actor, u.session_epoch)
            }),
            _ => None,
        };
        let Some((actor, epoch)) = actor else {
            tracing::info!(login = %shown, %addr, "console login failed");
            return Err(form_error(app::i18n::Msg::LoginFailed));
        };
        db::session::clear_login_attempts(&self.db, login, &address)
            .await
            .map_err(internal)?;
        let session = session(parts)?;
        let actor = Actor {
            store_id: self.session_store(&session).await?,
            ..actor
        };
        // A new id at sign-in: an id planted before it (session fixation) is worth nothing.
        session.cycle_id().await.map_err(internal)?;
        session
            .insert(
                SESSION_USER,
                SessionUser {
                    user_id: actor.user_id,
                    epoch,
                },
            )
            .await
            .map_err(internal)?;
        session
            .insert(SESSION_SEEN, chrono::Utc::now().timestamp())
            .await
            .map_err(internal)?;
        if let Err(e) = db::user::record_sign_in(&self.db, actor.user_id).await {
            tracing::warn!(login = %shown, error = %e, "cannot record the sign-in time");
        }
        tracing::info!(login = %shown, %addr, role = ?actor.role, "console login");
        Ok(actor)
    }

    async fn list_stores(&self, _actor: &Actor) -> Result<Vec<StoreItem>, ConsoleError> {
        let stores = db::store::list_stores(&self.db).await.map_err(internal)?;
        Ok(stores
            .into_iter()
            .map(|s| StoreItem {
                store_id: s.store_id,
                code: s.code,
                name: s.name,
            })
            .collect())
    }

    async fn choose_store(
        &self,
        parts: &Parts,
        actor: &Actor,
        store_id: i64,
    ) -> Result<(), ConsoleError> {
        match db::store::store_by_id(&self.db, store_id).await {
            Ok(_) => {}
            Err(db::ConfigError::NotFound(_)) => return Err(ConsoleError::NotFound),
            Err(e) => return Err(internal(e)),
        }
        session(parts)?
            .insert(SESSION_STORE, store_id)
            .await
            .map_err(internal)?;
        tracing::info!(login = %actor.login, store_id, "console store picked");
        Ok(())
    }

    async fn logout(&self, parts: &Parts) -> Result<(), ConsoleError> {
        session(parts)?.flush().await.map_err(internal)
    }

    async fn logout_everywhere(&self, parts: &Parts, actor: &Actor) -> Result<(), ConsoleError> {
        db::user::end_sessions(&self.db, actor.user_id)
            .await
            .map_err(internal)?;
        tracing::info!(login = %crate::telemetry::quoted(&actor.login), "signed out everywhere");
        session(parts)?.flush().await.map_err(internal)
    }

    async fn setup_open(&self, token: &str) -> bool {
        self.setup_token_matches(token) && matches!(db::user::count_users(&self.db).await, Ok(0))
    }

    async fn create_first_admin(
        &self,
        token: &str,
        login: &str,
        pw: &str,
    ) -> Result<(), ConsoleError> {
        let login = login.trim();
        let rules = || ConsoleError::form(app::i18n::Msg::LoginRules, &[("login", login)]);
        db::user::check_new_user(login, "admin").map_err(|_| rules())?;
        if pw.chars().count() < app::api::session::MIN_PASSWORD_CHARS {
            return Err(ConsoleError::form(app::i18n::Msg::PasswordTooShort, &[]));
        }
        // The token is taken before anything else happens: of posts racing with it, one goes on.
        let Some(taken) = self.take_setup_token(token) else {
            return Err(ConsoleError::form(app::i18n::Msg::SetupClosed, &[]));
        };
        let created = self.create_first_admin_with(login, pw).await;
        if created.is_err() {
            // Nothing was created: the link works again.
            *self.setup_token.lock().expect("BUG: poisoned") = Some(taken);
        }
        created?;
        tracing::info!(
            login = %crate::telemetry::quoted(login),
            "first console admin created through the setup link"
        );
        Ok(())
    }
}
