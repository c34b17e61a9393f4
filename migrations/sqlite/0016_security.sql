-- Security hardening (issue 12).
-- Login throttling: one counter per (login, client address) and one per login over all addresses
-- (address ''), counted and judged in one upsert before the password is verified. Rows expire
-- with their window (a periodic clean-up). Replaces login_failure (one row per failure).
drop table login_failure;
create table login_throttle (
    login text not null,
    address text not null,
    failures integer not null,
    window_start text not null,
    primary key (login, address)
);
create index login_throttle_window on login_throttle (window_start);

-- Sessions carry the user's epoch from sign-in; a password reset, a disable, a role change or
-- «Выйти везде» bumps it, and every older session stops working at its next request.
alter table app_user add column session_epoch integer not null default 0;
