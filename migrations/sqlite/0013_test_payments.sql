-- Test payments can never pass for money: a payment made on a test module (the sandbox) is
-- marked `test` when it is created, so the console's totals and the CSV can tell it apart with
-- one column. Payments made before this on the sandbox are test payments too.
-- Which payment type a till uses when it names none is explicit: the till's own default, else
-- the store's default (set here to what "the first enabled one" was, so nothing changes for
-- existing stores until someone chooses).
alter table payment add column test integer not null default 0 check (test in (0, 1));
update payment set test = 1 where module = 'sandbox';
alter table till add column default_payment_type_id integer references payment_type (payment_type_id);
alter table store add column default_payment_type_id integer references payment_type (payment_type_id);
update store set default_payment_type_id = (
    select min(pt.payment_type_id) from payment_type pt
    where pt.store_id = store.store_id and pt.enabled = 1
);
-- What `qrpay doctor` checks: the callback URL last registered with the bank, and when.
alter table raiffeisen_setting add column callback_url text;
alter table raiffeisen_setting add column callback_registered_at text;
