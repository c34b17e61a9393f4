-- Console: login sessions (tower-sessions records) and failed logins for throttling.
-- Timestamps are RFC 3339 text in UTC.

create table console_session (
    console_session_id text primary key,
    data text not null,
    expires_at text not null
);
create index console_session_expires on console_session (expires_at);

create table login_failure (
    login_failure_id integer primary key,
    login text not null,
    created_at text not null
);
create index login_failure_login on login_failure (login, created_at);
