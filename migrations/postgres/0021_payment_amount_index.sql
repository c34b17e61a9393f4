-- The console's amount filter (issue 16): a range that holds few payments of the store (a
-- large amount, an exact sum) is gathered from this index instead of walking every payment of
-- the store in date order to find them (db/payment_search.rs, `Plan::FewByAmount`).
create index payment_store_amount on payment (store_id, amount, created_at);
