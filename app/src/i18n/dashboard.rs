//! «Сводка»: today, the chart of the last days, what waits, late payments.
//! Their texts: `app/locales/{ru,en}/console.ftl`, under each key in kebab-case.

/// Adds this area's keys to the list of `Msg` and hands it on (see `messages!` in `mod.rs`).
macro_rules! dashboard_keys {
    ($next:ident $(, $rest:ident)*; $($keys:ident,)*) => {
        $next!($($rest),*; $($keys,)*
            Dashboard,
            DashToday,
            DashPaidCount,
            DashPaidSum,
            DashRefunded,
            DashChart,
            DashChartLead,
            DashDay,
            DashPending,
            DashNoPending,
            DashLate,
            DashLateLead,
            DashNoLate,
            DashMore,
            DashLateMore,
            DashTestExcluded,
            DashTestIncluded,
            DashShowTest,
            DashHideTest,
        );
    };
}
