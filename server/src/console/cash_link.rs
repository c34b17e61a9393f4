//! «Кассы» → a till → «Кассовая ссылка»: the till's cash-register link and its plate, issued
//! or bound through the payment service (which asks the bank and audits). Admins only.

use super::{ConsoleBackend, admin_only, internal, store_tz, who};
use crate::db;
use crate::payments::view::PlateView;
use crate::payments::{self, IssueCashLink};
use app::backend::Actor;
use app::backend::cash_link::{CashLinkItem, CashLinkPort, CashLinkView};
use app::error::{ConsoleError, FormErrors};
use app::i18n::Msg;

/// A refusal of the payment service, in the console's words.
fn refusal(e: payments::Error, bind_qr_id: Option<&str>) -> ConsoleError {
    let mut f = FormErrors::default();
    if let Some(qr_id) = bind_qr_id {
        f.keep("qr_id", qr_id);
    }
    match e {
        payments::Error::InvalidState(m) if m.starts_with("qr_id:") => {
            f.field("qr_id", Msg::CashLinkBadPlate)
        }
        payments::Error::InvalidState(m) if m.starts_with("payment_type:") => {
            f.form = Some(Msg::CashLinkNoModule)
        }
        payments::Error::UnknownPaymentType(_)
        | payments::Error::PaymentTypeDisabled(_)
        | payments::Error::TestModuleOff { .. }
        | payments::Error::ModuleNotInstalled(_) => f.form = Some(Msg::CashLinkNoModule),
        payments::Error::TillBusy { .. } => f.form = Some(Msg::CashLinkBusy),
        payments::Error::BankRefused { .. } | payments::Error::InvalidState(_) => {
            f.form = Some(Msg::StaticQrBankRefused)
        }
        payments::Error::NotFound(_) => return ConsoleError::NotFound,
        other => return internal(other),
    }
    ConsoleError::Invalid(f)
}

impl ConsoleBackend {
    /// The actor's store's till `till_id` (its name), else not found.
    async fn own_till(
        &self,
        actor: &Actor,
        till_id: i64,
    ) -> Result<(db::store::Store, String), ConsoleError> {
        let store = self.store_of(actor).await?;
        let name = db::till::store_tills(&self.db, store.store_id)
            .await
            .map_err(internal)?
            .into_iter()
            .find(|(id, _)| *id == till_id)
            .map(|(_, name)| name)
            .ok_or(ConsoleError::NotFound)?;
        Ok((store, name))
    }
}

#[async_trait::async_trait]
impl CashLinkPort for ConsoleBackend {
    async fn get_cash_link(
        &self,
        actor: &Actor,
        till_id: i64,
    ) -> Result<CashLinkView, ConsoleError> {
        admin_only(actor)?;
        let (store, till_name) = self.own_till(actor, till_id).await?;
        let tz = store_tz(&store);
        let public_url = self.payment_service()?.public_url().to_owned();
        let link = db::cash_link::cash_link_of_till(&self.db, till_id)
            .await
            .map_err(internal)?
            .map(|l| {
                let plate = PlateView::of(&public_url, &l.qr_id);
                Ok::<_, ConsoleError>(CashLinkItem {
                    qr_svg: crate::qr::svg(&l.payload, 512).map_err(internal)?,
                    local_time: l
                        .created_at
                        .with_timezone(&tz)
                        .format("%Y-%m-%d %H:%M")
                        .to_string(),
                    page_url: plate.page_url,
                    svg_url: plate.svg_url,
                    png_url: plate.png_url,
                    qr_id: l.qr_id,
                    payload: l.payload,
                    module: l.module,
                    source: l.source,
                })
            })
            .transpose()?;
        Ok(CashLinkView {
            till_id,
            till_name,
            store_name: store.name,
            link,
        })
    }

    async fn issue_cash_link(
        &self,
        actor: &Actor,
        till_id: i64,
        bind_qr_id: Option<String>,
    ) -> Result<(), ConsoleError> {
        admin_only(actor)?;
        let (store, _) = self.own_till(actor, till_id).await?;
        self.payment_service()?
            .issue_cash_link(
                &who(actor),
                &IssueCashLink {
                    store_id: store.store_id,
                    till_id,
                    payment_type: None,
                    bind_qr_id: bind_qr_id.as_deref(),
                },
            )
            .await
            .map_err(|e| refusal(e, bind_qr_id.as_deref()))?;
        Ok(())
    }
}
