-- Static QRs (`QRStatic`); see the SQLite migration of the same name for the reasons.
create table static_qr (
    static_qr_id bigint generated always as identity primary key,
    store_id bigint not null references store (store_id),
    till_id bigint not null unique references till (till_id),
    payment_type_id bigint not null references payment_type (payment_type_id),
    module text not null,
    name text not null,
    purpose text,
    amount bigint check (amount is null or amount > 0),
    order_ref text not null unique,
    qr_id text not null,
    qr_payload text not null,
    test boolean not null default false,
    active boolean not null default true,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (store_id, name)
);
create index static_qr_qr_id on static_qr (qr_id);
alter table payment add column static_qr_id bigint references static_qr (static_qr_id);
alter table payment add column bank_order text;
