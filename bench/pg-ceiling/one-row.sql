-- PostgreSQL's own floor: one row of one small table per transaction (what the SQLite floor of
-- ../shared/bench/ratio.sh does per request), 1 round trip, 1 commit.
\set k random(1, 2000000000)
insert into ceiling_floor (k, body) values (:k, 'floor');
