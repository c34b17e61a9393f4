-- Payment change notifications are sent by qrpay after the change commits (db/notify.rs), many
-- ids in one statement, no longer by a trigger inside the change's transaction: PostgreSQL
-- commits the transactions that notify one at a time, holding a cluster-wide lock through
-- their WAL flush, which bounded payment creation (BENCHMARKS.md, issue 16).
drop trigger payment_status_changed on payment;
drop function qrpay_payment_changed();
