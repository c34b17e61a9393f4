#!/usr/bin/env bash
# What PostgreSQL itself can do of qrpay's creation writes on this machine, with no qrpay in the
# way: pgbench (-M prepared, the protocol sqlx uses) runs the statements of one till creation
# (bench/pg-ceiling/*.sql, see their headers) against a fresh qrpay database:
#
#   bench/pg-ceiling.sh BIN [SECONDS] [CLIENTS...]
#
# BIN (a qrpay binary) makes the database (migrate, a till). Prints creations/s per variant and
# client count; compare with bench/creation-ratio.sh BIN postgres run beside it.
set -euo pipefail
bin=$(realpath "${1:?qrpay binary}"); secs=${2:-10}; shift 2 || true
clients=("${@:-16}")
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pgbench=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench | tail -n1)
. "$here/lib.sh"
bench_db "$bin" postgres
db=$bench_pg_db
keyhash=$(printf '%s' "$bench_key" | sha256sum | cut -d' ' -f1)
psql -h 127.0.0.1 -U postgres -qAt -d "$db" -c "create table ceiling_floor (id bigserial primary key, k bigint, body text)"
# The variants, and group commit emulated: 8 creations per transaction for the claims and again
# for the finishes (each creation's reads kept), made from finish-one-statement.sql; a
# transaction counts 8.
cp "$here"/pg-ceiling/*.sql "$bench_work/"
grep -v '^--' "$here/pg-ceiling/finish-one-statement.sql" | awk '
  /^\\set k / { next } /^\\set/ { print; next }
  { stmt[++n] = $0 }
  END {
    for (i = 0; i < 8; i++) print "\\set k" i " random(1, 2000000000)"
    for (i = 0; i < 8; i++) { print stmt[1]; print stmt[2] }
    for (part = 3; part <= 4; part++) {
      print "begin;"
      for (i = 0; i < 8; i++) { s = stmt[part]; gsub(/:k::text/, ":k" i "::text", s); print s }
      print "commit;"
    }
  }' > "$bench_work/batched-8.sql"
for c in "${clients[@]}"; do
  for v in one-row as-is finish-one-statement no-reads batched-8 async-commit; do
    tps=$("$pgbench" -h 127.0.0.1 -U postgres -n -M prepared -c "$c" -j 2 -T "$secs" \
      -D keyhash="$keyhash" -f "$bench_work/$v.sql" "$db" 2>&1 | sed -nE 's/^tps = ([0-9.]+).*/\1/p')
    per=1; [ "$v" = batched-8 ] && per=8
    printf '%-22s c=%-3s creations/s=%s\n' "$v" "$c" "$(awk -v t="${tps:-0}" -v p="$per" 'BEGIN{printf "%.0f", t*p}')"
  done
done
