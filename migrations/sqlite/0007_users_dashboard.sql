-- Console users page and dashboard: when each user last signed in, and a small index of the late
-- payments that still need a refund (the dashboard lists them without reading every payment).

alter table app_user add column last_login_at text;

create index payment_late_open on payment (store_id, created_at) where late and refunded_amount < amount;
