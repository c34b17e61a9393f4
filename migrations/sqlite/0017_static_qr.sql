-- Static QRs (`QRStatic`) a store issues for places with no till (a donation box, a parking
-- sticker): the bank reports each payment made with one, and each becomes a qrpay payment.
-- A static QR is a point of sale of its own: it owns a till row (revoked at birth: no key can
-- ever act as it) that carries its payments in the per-till totals, filters and events, and
-- that the «Кассы» list leaves out. A static-QR payment records its QR and the order the bank
-- gave it (`bank_order`, which its refunds send with its `transactionId`); its `order_ref` is
-- the static QR's order and the bank's transaction id, so the same payment is taken once only.
create table static_qr (
    static_qr_id integer primary key,
    store_id integer not null references store (store_id),
    till_id integer not null unique references till (till_id),
    payment_type_id integer not null references payment_type (payment_type_id),
    module text not null,
    name text not null,
    purpose text,
    amount integer check (amount is null or amount > 0),
    order_ref text not null unique,
    qr_id text not null,
    qr_payload text not null,
    test integer not null default 0 check (test in (0, 1)),
    active integer not null default 1 check (active in (0, 1)),
    created_at text not null,
    updated_at text not null,
    unique (store_id, name)
);
create index static_qr_qr_id on static_qr (qr_id);
alter table payment add column static_qr_id integer references static_qr (static_qr_id);
alter table payment add column bank_order text;
