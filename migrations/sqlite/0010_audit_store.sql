-- The store an audit row belongs to, so the journal of the console's picked store lists its own
-- changes and refunds, and what all stores share (console users: store_id null).
alter table audit_log add column store_id integer references store (store_id);
-- Rows written before: everything but users belonged to the first store (the console only knew it).
update audit_log set store_id = (select min(store_id) from store) where entity <> 'app_user';
create index audit_log_store on audit_log (store_id, audit_log_id);
