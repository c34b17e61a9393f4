-- Payment creation (issue 16): a new payment has no QR id yet (it comes with the bank's answer)
-- and no bank transaction id (it comes when the payment is paid), yet each index held an entry
-- for its NULL — two index inserts at creation and one more move when the QR id arrived.
-- Every query that reads these indexes compares the column (`=`, or a prefix range), which
-- implies it is not null, so the partial indexes serve them as before.
drop index payment_qr_id;
create index payment_qr_id on payment (qr_id) where qr_id is not null;
drop index payment_bank_transaction_id;
create index payment_bank_transaction_id on payment (bank_transaction_id)
    where bank_transaction_id is not null;
