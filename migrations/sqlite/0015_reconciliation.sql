-- A comparison of the bank's registry of SBP operations with qrpay's payments and refunds: which
-- registry (file name and SHA-256), which merchant and days, when and by whom, and what was found
-- (the whole report as JSON text), so a reconciliation can be shown and proved later.
create table reconciliation (
    reconciliation_id integer primary key,
    merchant text not null,
    registry_name text not null,
    registry_sha256 text not null,
    first_day text not null,
    last_day text not null,
    lines integer not null,
    mismatches integer not null,
    report text not null check (json_valid(report)),
    created_at text not null,
    created_by text not null
);
create index reconciliation_created on reconciliation (created_at);
