-- A comparison of the bank's registry of SBP operations with qrpay's payments and refunds: which
-- registry (file name and SHA-256), which merchant and days, when and by whom, and what was found
-- (the whole report as JSON text), so a reconciliation can be shown and proved later.
create table reconciliation (
    reconciliation_id bigint generated always as identity primary key,
    merchant text not null,
    registry_name text not null,
    registry_sha256 text not null,
    first_day date not null,
    last_day date not null,
    lines bigint not null,
    mismatches bigint not null,
    report text not null,
    created_at timestamptz not null,
    created_by text not null
);
create index reconciliation_created on reconciliation (created_at);
