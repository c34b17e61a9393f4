-- The outbox relay: per-row delivery bookkeeping (attempts, last error) and a per-store lease,
-- so that one relay at a time publishes a store's events, in order, also with several qrpay
-- processes on one database. A lease whose `lease_until` has passed can be taken over.

alter table outbox add column attempts bigint not null default 0;
alter table outbox add column last_error text;
alter table outbox add column last_attempt_at timestamptz;
create index outbox_unsent_store on outbox (store_id, outbox_id) where sent_at is null;

create table outbox_lease (
    store_id bigint primary key references store (store_id),
    holder text not null,
    lease_until timestamptz not null
);
