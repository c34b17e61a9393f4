//! The frame of every page — header, menu, store and language pickers, the test banner — and the words forms share.
//! Their texts: `app/locales/{ru,en}/console.ftl`, under each key in kebab-case.

/// Adds this area's keys to the list of `Msg` and hands it on (see `messages!` in `mod.rs`).
macro_rules! layout_keys {
    ($next:ident $(, $rest:ident)*; $($keys:ident,)*) => {
        $next!($($rest),*; $($keys,)*
            ProductName,
            SettingsMenu,
            MenuIntegration,
            MenuAdministration,
            Language,
            Store,
            ChooseStore,
            TestBannerLead,
            TestBannerHint,
            Name,
            NameTooLong,
            NameTaken,
            Edit,
            Save,
            Cancel,
            Delete,
            Saved,
            Deleted,
            Yes,
            No,
            Enabled,
            TimeZone,
        );
    };
}
