//! The one error type of the console's server functions. It travels to the browser (JSON, in the
//! `__err` query parameter after a JavaScript-less form post) and is shown as a `Msg`.

use crate::i18n::Msg;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum ConsoleError {
    #[error("not signed in")]
    Unauthenticated,
    #[error("the role may not do this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Invalid(FormErrors),
    /// Details are logged on the server only.
    #[error("internal error")]
    Internal,
    /// The request could not be decoded (arguments, transport); never shown raw.
    #[error("bad request: {0}")]
    Transport(String),
}

impl ConsoleError {
    /// A form-level message, with the non-secret values to put back into the form.
    pub fn form(msg: Msg, values: &[(&str, &str)]) -> Self {
        ConsoleError::Invalid(FormErrors {
            form: Some(msg),
            fields: Vec::new(),
            values: values
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        })
    }

    pub fn message(&self) -> Msg {
        match self {
            ConsoleError::Unauthenticated => Msg::Unauthenticated,
            ConsoleError::Forbidden => Msg::Forbidden,
            ConsoleError::NotFound => Msg::NotFound,
            ConsoleError::Invalid(f) => f.form.unwrap_or(Msg::BadRequest),
            ConsoleError::Internal => Msg::Internal,
            ConsoleError::Transport(_) => Msg::BadRequest,
        }
    }
}

/// What was wrong with a form: a message for the form, messages beside fields, and the values
/// typed (never passwords or keys: they would end up in the URL).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FormErrors {
    pub form: Option<Msg>,
    pub fields: Vec<(String, Msg)>,
    pub values: Vec<(String, String)>,
}

impl FormErrors {
    pub fn field(&mut self, name: &str, msg: Msg) {
        self.fields.push((name.to_owned(), msg));
    }

    pub fn keep(&mut self, name: &str, value: &str) {
        self.values.push((name.to_owned(), value.to_owned()));
    }

    pub fn error(&self, name: &str) -> Option<Msg> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, m)| *m)
    }

    pub fn value(&self, name: &str) -> Option<String> {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// `Err(Invalid)` when any field has a message.
    pub fn into_result(self) -> Result<(), ConsoleError> {
        if self.fields.is_empty() && self.form.is_none() {
            Ok(())
        } else {
            Err(ConsoleError::Invalid(self))
        }
    }
}

impl FromServerFnError for ConsoleError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ConsoleError::Transport(value.to_string())
    }
}
