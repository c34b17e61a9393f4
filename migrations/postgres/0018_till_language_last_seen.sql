-- The language of a till's error messages (the till API answers in it unless the request's
-- Accept-Language names another), and when the till was last heard from (written at most once a
-- minute per till, not on every request).
alter table till add column language text not null default 'ru' check (language in ('ru', 'en'));
alter table till add column last_seen_at timestamptz;
