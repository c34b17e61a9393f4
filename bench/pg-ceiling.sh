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
db="qrpay_ceiling_$$"
psql -h 127.0.0.1 -U postgres -qAt -c "create database $db" >/dev/null
trap 'psql -h 127.0.0.1 -U postgres -qAt -c "drop database if exists $db" >/dev/null 2>&1 || true' EXIT
export QRPAY_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" RUST_LOG=warn
"$bin" migrate >/dev/null 2>&1
key=$("$bin" till add --name ceiling 2>/dev/null | tail -n1)
keyhash=$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)
psql -h 127.0.0.1 -U postgres -qAt -d "$db" -c "create table ceiling_floor (id bigserial primary key, k bigint, body text)"
for c in "${clients[@]}"; do
  for v in one-row as-is finish-one-statement no-reads batched-8 async-commit; do
    tps=$("$pgbench" -h 127.0.0.1 -U postgres -n -M prepared -c "$c" -j 2 -T "$secs" \
      -D keyhash="$keyhash" -f "$here/pg-ceiling/$v.sql" "$db" 2>&1 | sed -nE 's/^tps = ([0-9.]+).*/\1/p')
    per=1; [ "$v" = batched-8 ] && per=8
    printf '%-22s c=%-3s creations/s=%s\n' "$v" "$c" "$(awk -v t="${tps:-0}" -v p="$per" 'BEGIN{printf "%.0f", t*p}')"
  done
done
