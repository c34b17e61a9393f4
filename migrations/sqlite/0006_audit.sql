-- Console: the audit log of configuration changes (who, when, what before and after).
-- Timestamps are RFC 3339 text in UTC; before/after are JSON text (null when there was none).

create table audit_log (
    audit_log_id integer primary key,
    app_user_id integer references app_user (app_user_id),
    login text not null,
    action text not null,
    entity text not null,
    entity_id text not null,
    before text check (before is null or json_valid(before)),
    after text check (after is null or json_valid(after)),
    created_at text not null
);
create index audit_log_created on audit_log (created_at);
