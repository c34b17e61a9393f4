-- Work claims (see the PostgreSQL migration): the expiry and sync workers claim a payment or
-- refund before they ask the bank about it; a claim lapses at `claimed_until`. SQLite has one
-- writer, so a conditional update is the claim. (No notifications: SQLite serves one instance.)
alter table payment add column claimed_by text;
alter table payment add column claimed_until text;
alter table refund add column claimed_by text;
alter table refund add column claimed_until text;
