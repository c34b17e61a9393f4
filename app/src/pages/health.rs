//! «Состояние»: the same checks as `qrpay doctor`, one line each, ✓ or ✗ with what to do.
//! Admins only.

use crate::api::health::get_health_checks;
use crate::components::layout::{ConsoleLayout, use_lang};
use crate::components::page_error::PageError;
use crate::i18n::{Lang, Msg, Phrase, PhrasePiece};
use leptos::prelude::*;
use leptos_meta::Title;

/// The console's name of a check kind.
fn kind_label(kind: &str, lang: Lang) -> &'static str {
    match kind {
        "database" => Msg::HealthDatabase,
        "public_url" => Msg::HealthPublicUrl,
        "payment_type" => Msg::PaymentType,
        "broker" => Msg::HealthBroker,
        "admin" => Msg::HealthAdmin,
        "test_modules" => Msg::HealthTestModules,
        "disk" => Msg::HealthDisk,
        _ => Msg::HealthClock,
    }
    .text(lang)
}

/// A phrase in the reader's language, its values and commands as code.
fn phrase_view(phrase: &Phrase, lang: Lang) -> impl IntoView + use<> {
    phrase
        .pieces(lang)
        .into_iter()
        .map(|p| match p {
            PhrasePiece::Text(t) => t.into_any(),
            PhrasePiece::Code(c) => view! { <code>{c}</code> }.into_any(),
        })
        .collect_view()
}

#[component]
pub fn HealthPage() -> impl IntoView {
    let lang = use_lang();
    view! {
        <Title text=Msg::Health.text(lang)/>
        <ConsoleLayout active=Msg::Health>
            <h1>{Msg::Health.text(lang)}</h1>
            <p class="muted">{phrase_view(&Phrase::new(Msg::HealthLead), lang)}</p>
            <Suspense>
                {move || Suspend::new(async move {
                    match get_health_checks().await {
                        Err(e) => view! { <PageError error=e/> }.into_any(),
                        Ok(checks) => {
                            let failed = checks.iter().filter(|c| !c.ok).count();
                            view! {
                                <p class=if failed == 0 { "notice" } else { "form-error" } data-testid="health-summary" data-failed=failed.to_string()>
                                    {if failed == 0 { Msg::HealthAllOk.text(lang) } else { Msg::HealthSomeFailed.text(lang) }}
                                </p>
                                <table class="grid" data-testid="health-checks">
                                    <tbody>
                                        {checks.into_iter().map(|c| view! {
                                            <tr data-testid="health-check" data-kind=c.kind.clone() data-ok=c.ok.to_string()>
                                                <td aria-label=if c.ok { Msg::HealthCheckPassed.text(lang) } else { Msg::HealthCheckFailed.text(lang) }>{if c.ok { "✓" } else { "✗" }}</td>
                                                <th scope="row">{kind_label(&c.kind, lang)}</th>
                                                <td data-testid="detail">{phrase_view(&c.detail, lang)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </ConsoleLayout>
    }
}
