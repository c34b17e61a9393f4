-- A till's cash-register link («кассовая ссылка», Raiffeisen `QRVariable`): one QR per till,
-- printed once on a plate, activated by an order for each sale. The till row carries the link
-- (which module issued it, its QR id and payload, whether qrpay registered it or bound a
-- bank-issued plate). A payment made through the link records the link's QR id: the bank is
-- asked about it by order, and at most one such payment per till is open at a time (the
-- partial unique index makes a second one fail even when two requests race).
alter table till add column cash_link_module text;
alter table till add column cash_link_qr_id text;
alter table till add column cash_link_payload text;
alter table till add column cash_link_source text check (cash_link_source in ('issued', 'bound'));
alter table till add column cash_link_at text;
create unique index till_cash_link_qr_id on till (cash_link_qr_id);
alter table payment add column cash_link_qr_id text;
create unique index payment_cash_link_open on payment (till_id)
    where cash_link_qr_id is not null and status in ('creating', 'pending', 'unknown');
