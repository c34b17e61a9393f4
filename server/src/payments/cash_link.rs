//! A till's cash-register link («кассовая ссылка», `QRVariable`): registering one at the bank of
//! the till's payment type, or binding a plate the bank printed, and recording it on the till
//! (audited). Payments through the link are created by `create.rs` like any other.

use super::bank::bounded;
use super::static_qr::{bank_refused, invalid};
use super::{Error, PaymentService};
use crate::db::ConfigError;
use crate::db::audit::Who;
use crate::db::cash_link::{self, CashLink, CashLinkSource, NewCashLink};
use crate::providers::CashLinkRequest;
use std::time::Duration;

/// How long registering or binding a link may take at most.
const LINK_CALL_LIMIT: Duration = Duration::from_secs(10);

/// A cash link to give a till.
#[derive(Debug, Clone, Copy)]
pub struct IssueCashLink<'a> {
    pub store_id: i64,
    pub till_id: i64,
    /// Whose module registers the link, by name; `None`: the till's default payment type.
    pub payment_type: Option<&'a str>,
    /// `None`: register a new link; `Some`: bind the bank-printed plate with this QR id.
    pub bind_qr_id: Option<&'a str>,
}

/// A plate's QR id as printed: 1–32 letters and digits.
fn plate_id(text: &str) -> Result<&str, Error> {
    let id = text.trim();
    if (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(invalid(
            "qr_id: the plate's QR id is 1-32 letters and digits",
        ))
    }
}

impl PaymentService {
    /// Registers (or binds) the till's cash link at the bank and records it on the till,
    /// replacing the one it had. Refused while a payment holds the till's current link.
    #[tracing::instrument(skip_all, fields(till_id = req.till_id))]
    pub async fn issue_cash_link(
        &self,
        who: &Who<'_>,
        req: &IssueCashLink<'_>,
    ) -> Result<CashLink, Error> {
        let bind = req.bind_qr_id.map(plate_id).transpose()?;
        let (pt, provider) = self
            .usable_payment_type(req.store_id, req.till_id, req.payment_type)
            .await?;
        if !provider.capabilities().cash_link {
            return Err(invalid(format!(
                "payment_type: the module {} has no cash-register links",
                pt.module
            )));
        }
        if let Some(open) = cash_link::open_cash_link_payment(&self.db, req.till_id).await? {
            return Err(Error::TillBusy { payment_id: open });
        }
        let (action, source) = match bind {
            Some(_) => ("to bind the plate", CashLinkSource::Bound),
            None => ("to register the cash-register link", CashLinkSource::Issued),
        };
        let issued = bounded(
            LINK_CALL_LIMIT.min(self.bank_call_timeout),
            provider.issue_cash_link(&CashLinkRequest {
                store_id: req.store_id,
                bind_qr_id: bind,
            }),
        )
        .await
        .map_err(|e| bank_refused(action, e))?;
        cash_link::set_cash_link(
            &self.db,
            who,
            NewCashLink {
                till_id: req.till_id,
                module: &pt.module,
                qr_id: &issued.qr_id,
                payload: &issued.payload,
                source,
            },
        )
        .await
        .map_err(|e| match e {
            ConfigError::Duplicate(_) => {
                invalid("qr_id: this plate is bound to another till already")
            }
            ConfigError::NotFound(what) => Error::NotFound(what),
            ConfigError::Invalid(why) => invalid(why),
            ConfigError::Db(e) => e.into(),
        })?;
        cash_link::cash_link_of_till(&self.db, req.till_id)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("BUG: the link was just recorded")))
    }
}
