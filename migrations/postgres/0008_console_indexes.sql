-- Console transactions page at a million payments (issue 4, performance); see the SQLite file
-- of the same name for the reasons. The search box matches references by prefix in byte order
-- (collate "C"), whatever the database's collation.

drop index payment_store_created;
create index payment_store_created on payment (store_id, created_at, payment_id)
    include (status, till_id, amount, refunded_amount);
create index payment_store_till_created on payment (store_id, till_id, created_at, payment_id);
create index payment_order_ref_c on payment (order_ref collate "C");
create index payment_qr_id on payment (qr_id collate "C");
create index payment_bank_transaction_id on payment (bank_transaction_id collate "C");

create table payment_day (
    store_id bigint not null references store (store_id),
    day date not null,
    till_id bigint not null,
    status text not null,
    payments bigint not null,
    amount bigint not null,
    refunded bigint not null,
    primary key (store_id, day, till_id, status)
);

create table payment_day_state (
    store_id bigint primary key references store (store_id),
    time_zone text not null,
    rolled_until date not null
);

create table payment_day_dirty (
    payment_day_dirty_id bigint generated always as identity primary key,
    store_id bigint not null,
    created_at timestamptz not null
);

create function payment_day_note_late_change() returns trigger language plpgsql as $$
begin
    insert into payment_day_dirty (store_id, created_at) values (old.store_id, old.created_at);
    return null;
end;
$$;

create trigger payment_day_late_change after update of status, amount, refunded_amount, till_id on payment
    for each row when (new.updated_at - old.created_at > interval '1 hour')
    execute function payment_day_note_late_change();
