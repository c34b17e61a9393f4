//! «Пользователи»: people, roles, passwords.
//! Their texts: `app/locales/{ru,en}/console.ftl`, under each key in kebab-case.

/// Adds this area's keys to the list of `Msg` and hands it on (see `messages!` in `mod.rs`).
macro_rules! users_keys {
    ($next:ident $(, $rest:ident)*; $($keys:ident,)*) => {
        $next!($($rest),*; $($keys,)*
            RoleAdmin,
            RoleSupport,
            RoleViewer,
            Users,
            UsersLead,
            AddUser,
            Role,
            RoleInvalid,
            UserState,
            UserActive,
            UserDisabled,
            UserCreated,
            LastSignIn,
            ItIsYou,
            ChangeRole,
            Disable,
            Enable,
            ResetPassword,
            ResetPasswordFor,
            NewPassword,
            UserAdded,
            RoleChanged,
            UserWasDisabled,
            UserWasEnabled,
            PasswordWasReset,
            NotYourself,
            LastAdmin,
            NoUsers,
        );
    };
}
