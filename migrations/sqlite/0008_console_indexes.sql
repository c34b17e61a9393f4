-- Console transactions page at a million payments (issue 4, performance).
--
-- 1. Indexes for the list: the store's payments newest first with the columns the totals read
--    (replaces payment_store_created), per till, and the references the search box matches by
--    prefix (order_ref has its unique index already; receipt has payment_store_receipt).
-- 2. payment_day: the totals of closed days (local days of the store's time zone) per till and
--    status, so the totals of a filter by status, till and period add up at most a few thousand
--    rows instead of scanning every payment of the period. qrpay fills it when the console asks
--    (days that ended more than two hours ago), see db/console.rs.
-- 3. A payment changed more than an hour after its creation (a refund, a late payment) may
--    belong to a day already added up: the trigger notes it in payment_day_dirty and the next
--    console read adds that day up again. Changes within the first hour (the normal life of a
--    payment) do not fire it.

drop index payment_store_created;
create index payment_store_created on payment (store_id, created_at, payment_id, status, till_id, amount, refunded_amount);
create index payment_store_till_created on payment (store_id, till_id, created_at, payment_id);
create index payment_qr_id on payment (qr_id);
create index payment_bank_transaction_id on payment (bank_transaction_id);

create table payment_day (
    store_id integer not null references store (store_id),
    day text not null,
    till_id integer not null,
    status text not null,
    payments integer not null,
    amount integer not null,
    refunded integer not null,
    primary key (store_id, day, till_id, status)
);

create table payment_day_state (
    store_id integer primary key references store (store_id),
    time_zone text not null,
    rolled_until text not null
);

create table payment_day_dirty (
    payment_day_dirty_id integer primary key,
    store_id integer not null,
    created_at text not null
);

create trigger payment_day_late_change after update of status, amount, refunded_amount, till_id on payment
when julianday(new.updated_at) - julianday(old.created_at) > 1.0 / 24
begin
    insert into payment_day_dirty (store_id, created_at) values (old.store_id, old.created_at);
end;
