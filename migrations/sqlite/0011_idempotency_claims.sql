-- What an `Idempotency-Key` guards (the payment it created or the refund it asked for) and how
-- long its request may hold it: a retry of a claim whose work ended without its answer stored
-- (a crash, a hang-up) gets the payment or refund as it is now, and a claim past its lease (its
-- process died) is answered instead of waited on. Claims made before this have no lease.
-- A creation's claim is found by its payment among its till's claims (the primary key's prefix,
-- only when a crash left it unanswered): no index of its own, so a creation writes no more index
-- entries than before. Refund claims are few: a partial index finds them at every refund's answer.
alter table idempotency add column payment_id text;
alter table idempotency add column refund_id text;
alter table idempotency add column lease_until text;
create index idempotency_refund on idempotency (refund_id) where refund_id is not null;
