-- The console's capped totals leave test payments out unless asked (issue 16): `test` joins the
-- columns of the store's date-ordered index, so walking it adds up an amount range or a period
-- without reading each payment's row (at 1M rows: 26 ms instead of 160 ms for 10,001 payments).
drop index payment_store_created;
create index payment_store_created on payment (store_id, created_at, payment_id, status, till_id, amount, refunded_amount, test);
