-- Console: the audit log of configuration changes (who, when, what before and after).

create table audit_log (
    audit_log_id bigint generated always as identity primary key,
    app_user_id bigint references app_user (app_user_id),
    login text not null,
    action text not null,
    entity text not null,
    entity_id text not null,
    before jsonb,
    after jsonb,
    created_at timestamptz not null
);
create index audit_log_created on audit_log (created_at);
