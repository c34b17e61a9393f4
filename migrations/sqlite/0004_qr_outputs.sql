-- Where a till shows the QR (kiosk screen, customer display, receipt tape) and how it prints it.
-- qr_outputs is a canonical comma list (screen, display, receipt in that order; '' = none).
alter table till add column qr_outputs text not null default 'screen,display,receipt'
    check (qr_outputs in ('', 'screen', 'display', 'receipt', 'screen,display', 'screen,receipt',
                          'display,receipt', 'screen,display,receipt'));
alter table till add column paper_width integer not null default 576
    check (paper_width in (384, 576));
alter table till add column escpos_native integer not null default 0
    check (escpos_native in (0, 1));
