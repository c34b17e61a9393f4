//! Idempotent till requests: the key and request hash a request comes with, the answer stored
//! under them, and the replay of that answer when the same request comes again.

use super::{Error, PaymentService};
use crate::db::Tx;
use crate::db::idempotency::{self, IdempotencyRow};
use crate::db::till::TillIdentity;
use crate::domain::IdempotencyKey;
use axum::http::StatusCode;

/// A till request made idempotent by its key and the hash of what it asked.
pub struct Idempotent<'a> {
    pub key: &'a IdempotencyKey,
    pub request_hash: &'a str,
}

/// A JSON answer ready to send (also what an idempotent replay sends again).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
}

/// How a refusal becomes the till's stored answer; set by whoever builds the service (the till
/// API's error contract lives in `http/`, above this layer).
pub type TillAnswer = fn(&Error) -> Answer;

/// A view as the body of an answer.
pub(super) fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("BUG: views always serialize")
}

impl PaymentService {
    /// The earlier answer to the same key, or `None` when the key is new.
    pub(super) async fn replay(
        &self,
        till: &TillIdentity,
        idem: &Idempotent<'_>,
    ) -> Result<Option<Answer>, Error> {
        match idempotency::find_idempotency_key(&self.db, till.till_id, idem.key.as_str()).await? {
            None => Ok(None),
            Some(existing) => replay_of(existing, idem).map(Some),
        }
    }

    /// Saves the till's answer under its key in `tx` and commits it: what a retry replays.
    pub(super) async fn store_answer(
        &self,
        mut tx: Tx,
        till: &TillIdentity,
        idem: &Idempotent<'_>,
        answer: &Answer,
    ) -> Result<(), Error> {
        idempotency::save_idempotent_response(
            &mut tx,
            till.till_id,
            idem.key.as_str(),
            answer.status.as_u16(),
            &answer.body,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The answer to a repeated key: the first answer again, or a conflict.
pub(super) fn replay_of(existing: IdempotencyRow, idem: &Idempotent<'_>) -> Result<Answer, Error> {
    if existing.request_hash != idem.request_hash {
        return Err(Error::KeyReused);
    }
    match (existing.response_status, existing.response_body) {
        (Some(status), Some(body)) => Ok(Answer {
            status: StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK),
            body,
        }),
        _ => Err(Error::RequestInProgress),
    }
}
