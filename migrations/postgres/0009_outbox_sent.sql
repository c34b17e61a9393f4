-- Published events, oldest first, for the hourly clean-up (QRPAY_OUTBOX_RETENTION_DAYS); unsent
-- rows are not in it, so marking a row sent is the only write that touches it.
create index outbox_sent on outbox (sent_at) where sent_at is not null;
