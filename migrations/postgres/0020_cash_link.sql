-- A till's cash-register link (Raiffeisen `QRVariable`); see the SQLite migration of the same
-- name for the reasons.
alter table till add column cash_link_module text;
alter table till add column cash_link_qr_id text;
alter table till add column cash_link_payload text;
alter table till add column cash_link_source text check (cash_link_source in ('issued', 'bound'));
alter table till add column cash_link_at timestamptz;
create unique index till_cash_link_qr_id on till (cash_link_qr_id);
alter table payment add column cash_link_qr_id text;
create unique index payment_cash_link_open on payment (till_id)
    where cash_link_qr_id is not null and status in ('creating', 'pending', 'unknown');
