//! The frame of every signed-in page: header with the user and role, navigation, language switch,
//! sign-out. Visitors without a session are sent to the login page.

use crate::api::current_actor;
use crate::api::session::{ChooseStore, list_stores};
use crate::api::session::{Logout, LogoutEverywhere};
use crate::backend::Role;
use crate::i18n::{Lang, Msg};
use leptos::prelude::*;
use leptos_router::components::Redirect;

pub fn use_lang() -> Lang {
    use_context::<Lang>().unwrap_or_default()
}

/// Links that switch the language: the server sets the cookie and sends the visitor back.
#[component]
pub fn LangSwitch() -> impl IntoView {
    let lang = use_lang();
    let link = move |l: Lang, label: &'static str| {
        view! {
            <a
                href=format!("?lang={}", l.code())
                class:current=move || lang == l
                data-testid=format!("lang-{}", l.code())
                hreflang=l.code()
            >
                {label}
            </a>
        }
    };
    view! {
        <nav class="lang" aria-label=Msg::Language.text(lang)>
            {link(Lang::Ru, "RU")} " · " {link(Lang::En, "EN")}
        </nav>
    }
}

/// The store the console works on: its name, and a picker when there is more than one store.
#[component]
pub fn StorePicker(current: i64) -> impl IntoView {
    let lang = use_lang();
    let choose = ServerAction::<ChooseStore>::new();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let stores = list_stores().await.unwrap_or_default();
                let name = stores
                    .iter()
                    .find(|s| s.store_id == current)
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                if stores.len() < 2 {
                    return view! { <span class="store" data-testid="current-store">{name}</span> }
                        .into_any();
                }
                view! {
                    <ActionForm action=choose attr:class="store-picker" attr:data-testid="store-picker">
                        <label>
                            <span class="visually-hidden">{Msg::Store.text(lang)}</span>
                            <select name="store_id" data-testid="store-select" aria-label=Msg::Store.text(lang)>
                                {stores
                                    .into_iter()
                                    .map(|s| {
                                        view! {
                                            <option value=s.store_id.to_string() selected=s.store_id == current>
                                                {format!("{} ({})", s.name, s.code)}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                        </label>
                        <button type="submit" data-testid="store-choose">{Msg::ChooseStore.text(lang)}</button>
                    </ActionForm>
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// A menu link: its label (also what marks it active), address and test id.
type NavLink = (Msg, &'static str, &'static str);

#[component]
pub fn ConsoleLayout(active: Msg, children: Children) -> impl IntoView {
    let lang = use_lang();
    let Some(actor) = current_actor() else {
        return view! { <Redirect path="/console/login"/> }.into_any();
    };
    let logout = ServerAction::<Logout>::new();
    let logout_everywhere = ServerAction::<LogoutEverywhere>::new();
    // On top: what every role works with. Configuration is grouped under one item, as the
    // seed names it; a <details> menu opens without JavaScript.
    let mut top = vec![
        (Msg::Dashboard, "/console", "nav-dashboard"),
        (
            Msg::Transactions,
            "/console/transactions",
            "nav-transactions",
        ),
    ];
    if actor.role >= Role::Support {
        top.push((Msg::Audit, "/console/audit", "nav-audit"));
        top.push((Msg::Reconcile, "/console/reconcile", "nav-reconcile"));
    }
    // ---- admin configuration: links only for the roles whose server fns accept them ----
    let groups: Vec<(Option<Msg>, Vec<NavLink>)> = if actor.role >= Role::Admin {
        vec![
            (
                None,
                vec![(Msg::StoreSettings, "/console/store", "nav-store")],
            ),
            (
                Some(Msg::MenuIntegration),
                vec![
                    (
                        Msg::AuthServers,
                        "/console/auth-servers",
                        "nav-auth-servers",
                    ),
                    (
                        Msg::PaymentTypes,
                        "/console/payment-types",
                        "nav-payment-types",
                    ),
                    (Msg::PaymentModules, "/console/modules", "nav-modules"),
                    (Msg::Tills, "/console/tills", "nav-tills"),
                    (Msg::StaticQrs, "/console/static-qrs", "nav-static-qrs"),
                ],
            ),
            (
                Some(Msg::MenuAdministration),
                vec![
                    (Msg::Users, "/console/users", "nav-users"),
                    (Msg::Health, "/console/health", "nav-health"),
                ],
            ),
        ]
    } else {
        Vec::new()
    };
    let link = move |(msg, href, id): NavLink| {
        view! {
            <a href=href data-testid=id class:active=active == msg>
                {msg.text(lang)}
            </a>
        }
    };
    let in_settings = groups
        .iter()
        .any(|(_, links)| links.iter().any(|l| l.0 == active));
    let settings = (!groups.is_empty()).then(|| {
        view! {
            <details class="menu" data-testid="nav-settings">
                <summary data-testid="nav-settings-toggle" class:active=in_settings>
                    {Msg::SettingsMenu.text(lang)}
                </summary>
                <div class="menu-panel">
                    {groups
                        .into_iter()
                        .map(|(title, links)| {
                            view! {
                                <div class="menu-group">
                                    {title.map(|t| view! { <p class="menu-title">{t.text(lang)}</p> })}
                                    {links.into_iter().map(link).collect_view()}
                                </div>
                            }
                        })
                        .collect_view()}
                </div>
            </details>
        }
    });
    view! {
        <header class="topbar">
            <div class="topbar-row">
                <a class="brand" href="/console" data-testid="brand">{Msg::ProductName.text(lang)}</a>
            <span class="spacer"></span>
            <StorePicker current=actor.store_id/>
            <LangSwitch/>
            <span class="user" data-testid="current-user">
                {actor.login.clone()} " (" <span data-testid="current-role">{actor.role.label().text(lang)}</span> ")"
            </span>
            <ActionForm action=logout attr:class="logout">
                <button type="submit" data-testid="logout">{Msg::SignOut.text(lang)}</button>
            </ActionForm>
            <ActionForm action=logout_everywhere attr:class="logout">
                <button type="submit" data-testid="logout-everywhere">{Msg::SignOutEverywhere.text(lang)}</button>
            </ActionForm>
            </div>
            <nav class="main-nav" aria-label=Msg::Console.text(lang)>
                {top.into_iter().map(link).collect_view()}
                {settings}
            </nav>
        </header>
        <TestBanner/>
        <main class="page console">{children()}</main>
    }
    .into_any()
}

/// The red band on every page while the store has an enabled payment type on a test module:
/// payments through it are not money.
#[component]
pub fn TestBanner() -> impl IntoView {
    let lang = use_lang();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let names = crate::api::settings::get_test_types().await.unwrap_or_default();
                (!names.is_empty()).then(|| view! {
                    <div class="test-banner" role="alert" data-testid="test-banner">
                        <strong>{Msg::TestBannerLead.text(lang)}</strong> " "
                        <span data-testid="test-types">{names.join(", ")}</span> ". "
                        {Msg::TestBannerHint.text(lang)}
                    </div>
                })
            })}
        </Suspense>
    }
}

/// The message beside a form field, if the last post of the form had one for it.
pub fn field_error(
    form: &crate::error::FormErrors,
    name: &'static str,
    lang: Lang,
) -> Option<impl IntoView + use<>> {
    form.error(name).map(|m| {
        view! { <p class="field-error" data-testid=format!("error-{name}")>{m.text(lang)}</p> }
    })
}
