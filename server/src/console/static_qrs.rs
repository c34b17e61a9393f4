//! «Статические QR»: the store's static QRs (issued and deactivated through the payment
//! service, which asks the bank), and their QR images for the plate (`qr.png`, `qr.svg`).
//! Admins only.

use super::{ConsoleBackend, admin_only, internal, name_taken, store_tz, who};
use crate::db;
use crate::payments::{self, IssueStaticQr};
use app::backend::Actor;
use app::backend::static_qrs::{StaticQrInput, StaticQrItem, StaticQrsPort};
use app::error::{ConsoleError, FormErrors};
use app::i18n::Msg;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

/// A refusal of the payment service, in the console's words.
fn refusal(e: payments::Error, values: &[(&str, &str)]) -> ConsoleError {
    let mut f = FormErrors::default();
    for (k, v) in values {
        f.keep(k, v);
    }
    match e {
        payments::Error::InvalidState(m) if m.starts_with("name:") => return name_taken(values),
        payments::Error::InvalidState(m) if m.starts_with("payment_type:") => {
            f.field("payment_type_id", Msg::StaticQrNoModule)
        }
        payments::Error::UnknownPaymentType(_)
        | payments::Error::PaymentTypeDisabled(_)
        | payments::Error::TestModuleOff { .. }
        | payments::Error::ModuleNotInstalled(_) => {
            f.field("payment_type_id", Msg::StaticQrNoModule)
        }
        payments::Error::BankRefused { .. } | payments::Error::InvalidState(_) => {
            f.form = Some(Msg::StaticQrBankRefused)
        }
        payments::Error::NotFound(_) => return ConsoleError::NotFound,
        other => return internal(other),
    }
    ConsoleError::Invalid(f)
}

impl ConsoleBackend {
    pub(super) fn payment_service(&self) -> Result<&Arc<payments::PaymentService>, ConsoleError> {
        self.payments
            .as_ref()
            .ok_or_else(|| internal("the console has no payment service"))
    }
}

#[async_trait::async_trait]
impl StaticQrsPort for ConsoleBackend {
    async fn list_static_qrs(&self, actor: &Actor) -> Result<Vec<StaticQrItem>, ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let tz = store_tz(&store);
        let rows = db::static_qr::list_static_qrs(&self.db, store.store_id)
            .await
            .map_err(internal)?;
        rows.into_iter()
            .map(|q| {
                Ok(StaticQrItem {
                    qr_svg: crate::qr::svg(&q.qr_payload, 512).map_err(internal)?,
                    id: q.static_qr_id,
                    name: q.name,
                    purpose: q.purpose,
                    amount: q.amount,
                    payment_type: q.payment_type_name,
                    module: q.module,
                    qr_id: q.qr_id,
                    payload: q.qr_payload,
                    active: q.active,
                    test: q.test,
                    payments: q.payments,
                    paid_total: q.paid_total,
                    local_time: q
                        .created_at
                        .with_timezone(&tz)
                        .format("%Y-%m-%d %H:%M")
                        .to_string(),
                    store_name: store.name.clone(),
                })
            })
            .collect()
    }

    async fn issue_static_qr(
        &self,
        actor: &Actor,
        input: StaticQrInput,
    ) -> Result<i64, ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        let payment_type = match input.payment_type_id {
            None => None,
            Some(id) => Some(
                db::payment_type::list_payment_types(&self.db)
                    .await
                    .map_err(internal)?
                    .into_iter()
                    .find(|p| p.payment_type_id == id && p.store_id == store.store_id)
                    .ok_or(ConsoleError::NotFound)?
                    .name,
            ),
        };
        let amount = input.amount.map(|k| k.to_string()).unwrap_or_default();
        let values = [
            ("name", input.name.as_str()),
            ("purpose", input.purpose.as_deref().unwrap_or("")),
            ("amount", amount.as_str()),
        ];
        let qr = self
            .payment_service()?
            .issue_static_qr(
                &who(actor),
                &IssueStaticQr {
                    store_id: store.store_id,
                    payment_type: payment_type.as_deref(),
                    name: &input.name,
                    purpose: input.purpose.as_deref(),
                    amount: input.amount,
                },
            )
            .await
            .map_err(|e| refusal(e, &values))?;
        Ok(qr.static_qr_id)
    }

    async fn deactivate_static_qr(&self, actor: &Actor, id: i64) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let store = self.store_of(actor).await?;
        self.payment_service()?
            .deactivate_static_qr(&who(actor), store.store_id, id)
            .await
            .map_err(|e| refusal(e, &[]))?;
        Ok(())
    }
}

/// `GET /console/static-qrs/{id}/qr.png|qr.svg`: the QR of the actor's store's static QR, for
/// the plate (PNG 1024 px, or SVG).
pub async fn image(backend: Arc<ConsoleBackend>, req: Request) -> Response {
    let Some(actor) = req.extensions().get::<Actor>().cloned() else {
        return Redirect::to(super::LOGIN_PATH).into_response();
    };
    if admin_only(&actor).is_err() {
        return StatusCode::FORBIDDEN.into_response();
    }
    let path = req.uri().path();
    let Some((id, ext)) = path
        .strip_prefix("/console/static-qrs/")
        .and_then(|rest| rest.split_once("/qr."))
        .and_then(|(id, ext)| Some((id.parse::<i64>().ok()?, ext.to_owned())))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(store) = backend.store_of(&actor).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let qr = match db::static_qr::get_static_qr(&backend.db, store.store_id, id).await {
        Ok(Some(qr)) => qr,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "static QR image");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let rendered = match ext.as_str() {
        "png" => crate::qr::png(&qr.qr_payload, 1024).map(|b| ("image/png", b)),
        "svg" => crate::qr::svg(&qr.qr_payload, 1024).map(|s| ("image/svg+xml", s.into_bytes())),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match rendered {
        Ok((content_type, bytes)) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "static QR image");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
