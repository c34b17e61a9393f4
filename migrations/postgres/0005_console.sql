-- Console: login sessions (tower-sessions records) and failed logins for throttling.

create table console_session (
    console_session_id text primary key,
    data text not null,
    expires_at timestamptz not null
);
create index console_session_expires on console_session (expires_at);

create table login_failure (
    login_failure_id bigint generated always as identity primary key,
    login text not null,
    created_at timestamptz not null
);
create index login_failure_login on login_failure (login, created_at);
