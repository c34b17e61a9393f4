-- Raiffeisen SBP settings per store: which bank host, the merchant's SBP id and its secret key.
-- The secret is write-only from the console and the CLI; it is never rendered back.
create table raiffeisen_setting (
    store_id integer primary key references store (store_id),
    base_url text not null,
    sbp_merchant_id text not null check (length(sbp_merchant_id) between 1 and 12),
    secret_key text not null check (length(secret_key) > 0),
    created_at text not null,
    updated_at text not null
);

