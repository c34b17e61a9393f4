//! Server functions, one module per area. Every one starts with `require` (or, for the few open
//! to anonymous visitors, says why not); the server also gates `/console/fn/*` as a second line.

pub mod audit;
pub mod cash_link;
pub mod dashboard;
pub mod health;
pub mod modules;
pub mod reconcile;
pub mod session;
pub mod settings;
pub mod static_qrs;
pub mod support;
pub mod tills;
pub mod transactions;
pub mod users;

use crate::backend::{Actor, Backend, ConsolePorts, Role};
use crate::error::{ConsoleError, FormErrors};
use http::request::Parts;
use leptos::prelude::*;
use std::sync::Arc;

/// The server functions anonymous visitors may call; everything else needs a session.
pub const ANONYMOUS_FNS: &[&str] = &["/console/fn/login", "/console/fn/create_first_admin"];

pub(crate) fn backend() -> Result<Arc<dyn ConsolePorts>, ConsoleError> {
    use_context::<Backend>()
        .map(|b| b.0)
        .ok_or(ConsoleError::Internal)
}

pub(crate) fn parts() -> Result<Parts, ConsoleError> {
    use_context::<Parts>().ok_or(ConsoleError::Internal)
}

/// The signed-in user of the current request, if any.
pub fn current_actor() -> Option<Actor> {
    use_context::<Parts>().and_then(|p| p.extensions.get::<Actor>().cloned())
}

/// The backend and the signed-in user, when that user's role is at least `min`.
pub fn require(min: Role) -> Result<(Arc<dyn ConsolePorts>, Actor), ConsoleError> {
    let backend = backend()?;
    let actor = admit(current_actor(), min)?;
    Ok((backend, actor))
}

/// The signed-in user, when there is one whose role is at least `min`.
fn admit(actor: Option<Actor>, min: Role) -> Result<Actor, ConsoleError> {
    let actor = actor.ok_or(ConsoleError::Unauthenticated)?;
    if actor.role < min {
        return Err(ConsoleError::Forbidden);
    }
    Ok(actor)
}

/// Puts the values the person typed back around the backend's field errors (e.g. «name
/// taken»), so the form comes back filled in.
pub(crate) fn with_typed_values(typed: &FormErrors, e: ConsoleError) -> ConsoleError {
    match e {
        ConsoleError::Invalid(f) => {
            let mut errors = typed.clone();
            errors.fields = f.fields;
            errors.form = f.form;
            ConsoleError::Invalid(errors)
        }
        e => e,
    }
}

/// An id posted by a form; one that does not parse names nothing, so it is `NotFound`.
pub(crate) fn parse_id(s: &str) -> Result<i64, ConsoleError> {
    s.trim().parse().map_err(|_| ConsoleError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_refuses_no_session_and_lower_roles_and_admits_equal_or_higher() {
        use Role::*;
        for (who, min, ok) in [
            (None, Viewer, Err(ConsoleError::Unauthenticated)),
            (Some(Viewer), Viewer, Ok(())),
            (Some(Viewer), Support, Err(ConsoleError::Forbidden)),
            (Some(Support), Admin, Err(ConsoleError::Forbidden)),
            (Some(Support), Support, Ok(())),
            (Some(Admin), Support, Ok(())),
            (Some(Admin), Admin, Ok(())),
        ] {
            let actor = who.map(|role| Actor {
                user_id: 1,
                login: "u".into(),
                role,
                store_id: 1,
            });
            let got = admit(actor, min).map(|_| ());
            assert_eq!(got, ok, "{who:?} for {min:?}");
        }
    }
}
