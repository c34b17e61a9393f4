//! «Журнал»: the latest configuration changes, refunds and support actions, in words: who
//! («касса till-1», «CLI», «qrpay (автоматически)»), what and «поле: было → стало» in the
//! console's language. Admin and support.

use crate::api::audit::list_audit;
use crate::backend::audit::{AuditChange, AuditRefund};
use crate::backend::transactions::url_encode;
use crate::components::layout::{ConsoleLayout, use_lang};
use crate::components::page_error::PageError;
use crate::i18n::{Lang, Msg, format_money};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AuditPage() -> impl IntoView {
    let lang = use_lang();
    view! {
        <Title text=Msg::Audit.text(lang)/>
        <ConsoleLayout active=Msg::Audit>
            <h1>{Msg::Audit.text(lang)}</h1>
            <p class="lead">{Msg::AuditLead.text(lang)}</p>
            <Suspense>
                {move || Suspend::new(async move {
                    match list_audit().await {
                        Err(e) => view! { <PageError error=e/> }.into_any(),
                        Ok(rows) if rows.is_empty() => view! { <p data-testid="no-audit">{Msg::NoAudit.text(lang)}</p> }.into_any(),
                        Ok(rows) => view! {
                            <table class="grid" data-testid="audit">
                                <thead><tr>
                                    <th>{Msg::ColTime.text(lang)}</th>
                                    <th>{Msg::ColWho.text(lang)}</th>
                                    <th>{Msg::ColAction.text(lang)}</th>
                                    <th>{Msg::ColObject.text(lang)}</th>
                                    <th>{Msg::ColChanges.text(lang)}</th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|r| match r.refund {
                                        Some(refund) => refund_row(r.local_time, r.login, refund, lang).into_any(),
                                        None => view! {
                                            <tr data-testid="audit-row" data-action=r.action.clone()>
                                                <td class="time">{r.local_time}</td>
                                                <td data-testid="who">{actor_words(&r.login, lang)}</td>
                                                <td data-testid="action">{action_words(&r.action, lang)}</td>
                                                <td data-testid="entity">{entity_view(&r.entity, r.entity_id, lang)}</td>
                                                <td data-testid="changes">{changes_view(r.changes, lang)}</td>
                                            </tr>
                                        }.into_any(),
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </ConsoleLayout>
    }
}

/// Who did it, as people say it: «касса till-1», «CLI», «qrpay (автоматически)», or the login.
pub fn actor_words(login: &str, lang: Lang) -> String {
    match login {
        "cli" => "CLI".to_owned(),
        "qrpay" | "qrpay:late-payment" => Msg::ActorAutomatic.text(lang).to_owned(),
        other => match other.strip_prefix("till:") {
            Some(till) => format!("{} {till}", Msg::ActorTill.text(lang)),
            None => other.to_owned(),
        },
    }
}

fn action_words(action: &str, lang: Lang) -> String {
    let m = match action {
        "create" => Msg::AuditActCreate,
        "update" => Msg::AuditActUpdate,
        "delete" => Msg::AuditActDelete,
        "revoke" => Msg::AuditActRevoke,
        "reconcile" => Msg::AuditActReconcile,
        "cancel" => Msg::AuditActCancel,
        "ask_bank" => Msg::AuditActAskBank,
        "republish" => Msg::AuditActRepublish,
        "backup" => Msg::AuditActBackup,
        "refund" => Msg::AuditRefund,
        other => return other.to_owned(),
    };
    m.text(lang).to_owned()
}

fn entity_view(entity: &str, id: String, lang: Lang) -> AnyView {
    let m = match entity {
        "payment" => {
            let href = format!("/console/transactions/{}", url_encode(&id));
            return view! {
                {Msg::AuditTransaction.text(lang)} " "
                <a href=href data-testid="entity-payment"><code>{id}</code></a>
            }
            .into_any();
        }
        "till" => Msg::EntTill,
        "auth_server" => Msg::EntAuthServer,
        "payment_type" => Msg::EntPaymentType,
        "store" => Msg::EntStore,
        "app_user" => Msg::EntUser,
        "raiffeisen_setting" => Msg::EntRaiffeisen,
        "reconciliation" => Msg::EntReconciliation,
        "database" => Msg::EntDatabase,
        other => return view! { {other.to_owned()} " #" {id} }.into_any(),
    };
    view! { {m.text(lang)} " #" {id} }.into_any()
}

/// The label of a stored field, in the console's words (unknown fields as they are stored).
fn field_words(field: &str, lang: Lang) -> String {
    let leaf = field.rsplit('.').next().unwrap_or(field);
    let m = match leaf {
        "name" => Msg::Name,
        "login" => Msg::Login,
        "password" => Msg::Password,
        "role" => Msg::Role,
        "disabled" => Msg::FieldDisabled,
        "revoked" => Msg::FieldRevoked,
        "key_prefix" => Msg::FieldKeyPrefix,
        "qr_outputs" => Msg::QrOutputs,
        "kind" => Msg::TillKind,
        "language" => Msg::TillLanguage,
        "screen" => Msg::OutScreen,
        "display" => Msg::OutDisplay,
        "receipt" => Msg::OutReceipt,
        "paper_width" => Msg::PaperWidth,
        "escpos_native" => Msg::EscposNative,
        "response_timeout_secs" => Msg::ResponseTimeout,
        "scan_customer_qr" => Msg::ScanCustomerQr,
        "module" => Msg::PaymentModule,
        "enabled" => Msg::Enabled,
        "default_payment_type_id" | "default_payment_type" => Msg::DefaultPaymentType,
        "auth_server_id" => Msg::AuthServer,
        "code" => Msg::StoreCode,
        "time_zone" => Msg::TimeZone,
        "integrator_url" => Msg::IntegratorUrl,
        "rabbitmq_url" => Msg::RabbitMqServer,
        "refund_late_payments" => Msg::RefundLatePayments,
        "base_url" => Msg::RaiffeisenBase,
        "sbp_merchant_id" => Msg::SbpMerchantId,
        "secret_key" => Msg::SecretKey,
        "status" => Msg::FieldStatus,
        "outcome" => Msg::FieldOutcome,
        "bank_detail" => Msg::FieldBankSaid,
        "events" => Msg::FieldEvents,
        "bytes" => Msg::FieldBytes,
        "days" => Msg::FieldDays,
        "lines" => Msg::FieldLines,
        "mismatches" => Msg::FieldMismatches,
        "registry" => Msg::FieldRegistry,
        "merchant" => Msg::SbpMerchantId,
        "payments" => Msg::FieldPayments,
        "refund_id" => Msg::RefundTitle,
        _ => return field.to_owned(),
    };
    m.text(lang).to_owned()
}

/// A stored value in words: yes and no, a status, an outcome; «—» for none.
fn value_words(field: &str, value: Option<String>, lang: Lang) -> String {
    let Some(v) = value else {
        return "—".to_owned();
    };
    let m = match (field, v.as_str()) {
        (_, "true") => Some(Msg::Yes),
        (_, "false") => Some(Msg::No),
        ("status", s) => Msg::for_status(s),
        ("outcome", s) => Msg::from_name(s),
        ("role", "admin") => Some(Msg::RoleAdmin),
        ("role", "support") => Some(Msg::RoleSupport),
        ("role", "viewer") => Some(Msg::RoleViewer),
        ("kind", "till") => Some(Msg::KindTill),
        ("kind", "kiosk") => Some(Msg::KindKiosk),
        // Each language by its own name, as the till's form offers them.
        ("language", "ru") => return "Русский".to_owned(),
        ("language", "en") => return "English".to_owned(),
        ("qr_outputs", list) => {
            let words: Vec<&str> = list
                .split(',')
                .filter(|o| !o.is_empty())
                .map(|o| match o {
                    "screen" => Msg::OutScreen.text(lang),
                    "display" => Msg::OutDisplay.text(lang),
                    "receipt" => Msg::OutReceipt.text(lang),
                    other => other,
                })
                .collect();
            return words.join(", ");
        }
        ("secret_key", "set") => Some(Msg::SecretKeySet),
        ("secret_key", "changed") => Some(Msg::SecretKeyChanged),
        _ => None,
    };
    m.map(|m| m.text(lang).to_owned()).unwrap_or(v)
}

/// «поле: было → стало», one line per field.
fn changes_view(changes: Vec<AuditChange>, lang: Lang) -> AnyView {
    if changes.is_empty() {
        return view! { "—" }.into_any();
    }
    view! {
        <ul class="changes">
            {changes.into_iter().map(|c| {
                let label = field_words(&c.field, lang);
                let leaf = c.field.rsplit('.').next().unwrap_or(&c.field).to_owned();
                let created = c.before.is_none();
                let before = value_words(&leaf, c.before, lang);
                let after = value_words(&leaf, c.after, lang);
                view! {
                    <li data-testid="change" data-field=c.field.clone()>
                        <span class="field">{label}</span> ": "
                        {(!created).then(|| view! { <span data-testid="was">{before}</span> " → " })}
                        <span data-testid="now">{after}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// A refund as a sentence: the amount, the reason and the refund's id, linked to its transaction.
fn refund_row(local_time: String, login: String, r: AuditRefund, lang: Lang) -> impl IntoView {
    let href = format!("/console/transactions/{}", url_encode(&r.payment_id));
    view! {
        <tr data-testid="audit-row" data-kind="refund">
            <td class="time">{local_time}</td>
            <td data-testid="who">{actor_words(&login, lang)}</td>
            <td data-testid="action">{Msg::AuditRefund.text(lang)}</td>
            <td data-testid="entity">
                {Msg::AuditTransaction.text(lang)} " "
                <a href=href data-testid="refund-payment"><code>{r.payment_id}</code></a>
            </td>
            <td data-testid="after">
                <strong data-testid="refund-amount">{format_money(r.amount, lang)}</strong>
                {r.reason.map(|reason| if r.automatic { Msg::LateRefundReason.text(lang).to_owned() } else { reason }).map(|reason| view! {
                    " · " {Msg::AuditReason.text(lang)} " «" <span data-testid="refund-reason">{reason}</span> "»"
                })}
                " · " {Msg::AuditRefund.text(lang)} " " <code data-testid="refund-id">{r.refund_id}</code>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_and_values_are_told_in_the_consoles_words() {
        assert_eq!(actor_words("till:till-1", Lang::Ru), "касса till-1");
        assert_eq!(actor_words("cli", Lang::Ru), "CLI");
        assert_eq!(
            actor_words("qrpay:late-payment", Lang::Ru),
            "qrpay (автоматически)"
        );
        assert_eq!(actor_words("sofia", Lang::En), "sofia");
        assert_eq!(value_words("revoked", Some("true".into()), Lang::Ru), "да");
        assert_eq!(
            value_words("status", Some("cancelled".into()), Lang::Ru),
            "отменена"
        );
        assert_eq!(
            value_words("outcome", Some("BankSaysPaid".into()), Lang::Ru),
            "Банк: оплачено."
        );
        assert_eq!(value_words("name", None, Lang::Ru), "—");
        assert_eq!(field_words("qr_outputs.screen", Lang::Ru), "экран киоска");
        assert_eq!(field_words("odd_field", Lang::Ru), "odd_field");
        assert_eq!(
            value_words("qr_outputs", Some("screen,receipt".into()), Lang::Ru),
            "экран киоска, чек"
        );
        assert_eq!(value_words("kind", Some("kiosk".into()), Lang::Ru), "киоск");
    }
}
