-- Core schema: configuration (store, authorization servers, payment types, tills, users),
-- payments and refunds with their event history, the outbox and idempotency records.
-- Timestamps are timestamptz; money is bigint kopecks.

create table store (
    store_id bigint generated always as identity primary key,
    code text not null unique,
    name text not null,
    integrator_url text,
    rabbitmq_url text,
    time_zone text not null default 'Europe/Moscow',
    refund_late_payments boolean not null default true,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table auth_server (
    auth_server_id bigint generated always as identity primary key,
    store_id bigint not null references store (store_id),
    kind text not null default 'qr_payment' check (kind in ('qr_payment')),
    name text not null,
    response_timeout_secs bigint not null check (response_timeout_secs between 1 and 3600),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (store_id, name)
);

create table payment_type (
    payment_type_id bigint generated always as identity primary key,
    store_id bigint not null references store (store_id),
    auth_server_id bigint not null references auth_server (auth_server_id),
    name text not null,
    module text not null,
    scan_customer_qr boolean not null default false,
    enabled boolean not null default true,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (store_id, name)
);

create table till (
    till_id bigint generated always as identity primary key,
    store_id bigint not null references store (store_id),
    name text not null,
    kind text not null default 'till' check (kind in ('till', 'kiosk')),
    key_hash text not null unique,
    key_prefix text not null,
    revoked_at timestamptz,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (store_id, name)
);

create table app_user (
    app_user_id bigint generated always as identity primary key,
    login text not null unique,
    password_hash text not null,
    role text not null check (role in ('admin', 'support', 'viewer')),
    disabled boolean not null default false,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table payment (
    payment_id text primary key,
    store_id bigint not null references store (store_id),
    till_id bigint not null references till (till_id),
    payment_type_id bigint not null references payment_type (payment_type_id),
    module text not null,
    status text not null check (status in ('creating', 'pending', 'paid', 'declined', 'expired', 'cancelled', 'failed', 'unknown')),
    amount bigint not null check (amount > 0),
    currency text not null default 'RUB',
    receipt text not null,
    description text,
    customer_qr text,
    order_ref text not null unique,
    qr_id text,
    qr_payload text,
    bank_transaction_id text,
    failure_code text,
    failure_message text,
    expires_at timestamptz not null,
    paid_at timestamptz,
    refunded_amount bigint not null default 0 check (refunded_amount >= 0 and refunded_amount <= amount),
    late boolean not null default false,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index payment_store_receipt on payment (store_id, receipt);
create index payment_status_expires on payment (status, expires_at);
create index payment_store_created on payment (store_id, created_at);

create table refund (
    refund_id text primary key,
    payment_id text not null references payment (payment_id),
    store_id bigint not null references store (store_id),
    till_id bigint references till (till_id),
    amount bigint not null check (amount > 0),
    status text not null check (status in ('pending', 'completed', 'declined', 'unknown')),
    reason text,
    refund_ref text not null unique,
    failure_code text,
    failure_message text,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    completed_at timestamptz
);
create index refund_payment on refund (payment_id);
create index refund_status on refund (status);

create table payment_event (
    payment_event_id bigint generated always as identity primary key,
    payment_id text not null references payment (payment_id),
    refund_id text references refund (refund_id),
    from_status text,
    to_status text not null,
    trigger text not null,
    detail text,
    created_at timestamptz not null
);
create index payment_event_payment on payment_event (payment_id);

create table outbox (
    outbox_id bigint generated always as identity primary key,
    event_id text not null unique,
    store_id bigint not null references store (store_id),
    till_id bigint,
    routing_key text not null,
    payload text not null,
    created_at timestamptz not null,
    sent_at timestamptz
);
create index outbox_unsent on outbox (outbox_id) where sent_at is null;

create table idempotency (
    till_id bigint not null references till (till_id),
    idempotency_key text not null,
    request_hash text not null,
    response_status bigint,
    response_body text,
    created_at timestamptz not null,
    primary key (till_id, idempotency_key)
);
