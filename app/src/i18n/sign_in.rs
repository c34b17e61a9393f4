//! «Вход» and the first run: signing in and out, the first admin, and the errors any page can show.
//! Their texts: `app/locales/{ru,en}/console.ftl`, under each key in kebab-case.

/// Adds this area's keys to the list of `Msg` and hands it on (see `messages!` in `mod.rs`).
macro_rules! sign_in_keys {
    ($next:ident $(, $rest:ident)*; $($keys:ident,)*) => {
        $next!($($rest),*; $($keys,)*
            Console,
            LoginTitle,
            Login,
            Password,
            PasswordAgain,
            SignIn,
            SignOut,
            SignOutEverywhere,
            LoginFailed,
            LoginThrottled,
            TooManyAttempts,
            Required,
            LoginRules,
            PasswordTooShort,
            PasswordsDiffer,
            LoginTaken,
            SetupTitle,
            SetupLead,
            SetupCreate,
            SetupClosed,
            SetupDone,
            SignedOut,
            Unauthenticated,
            Forbidden,
            NotFound,
            Internal,
            BadRequest,
        );
    };
}
