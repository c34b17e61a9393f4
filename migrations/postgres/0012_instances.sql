-- Several qrpay instances on one database.
-- Work claims: the expiry and sync workers claim a payment or refund (`claimed_by`, until
-- `claimed_until`) before they ask the bank about it, so that two instances never work the same
-- one at once; a claim is renewed while its job runs and lapses by itself when its instance
-- dies. Rows are claimed with `for update skip locked`, so two instances split the due work.
alter table payment add column claimed_by text;
alter table payment add column claimed_until timestamptz;
alter table refund add column claimed_by text;
alter table refund add column claimed_until timestamptz;

-- Every status change of a payment notifies `qrpay_payment` with its id (delivered at commit),
-- so that long-polls on every instance are woken at once, whichever code path made the change.
create function qrpay_payment_changed() returns trigger language plpgsql as $$
begin
    perform pg_notify('qrpay_payment', new.payment_id);
    return null;
end
$$;
create trigger payment_status_changed after update of status on payment
    for each row when (old.status is distinct from new.status)
    execute function qrpay_payment_changed();
