#!/usr/bin/env bash
# Creation throughput of one qrpay build as a ratio to the machine's floor, in one run:
#
#   bench/creation-ratio.sh BIN [sqlite|postgres] [SECONDS] [INSTANCES]
#
# Starts BIN on a fresh database (SQLite file, or a new PostgreSQL database on 127.0.0.1), adds a
# till, warms up with 2,000 creations (till-sim), then runs ../shared/bench/ratio.sh (wrk -t2 -c32
# against qrpay, then against the minimal SQLite-insert floor). With INSTANCES=2 (PostgreSQL
# only) two servers share the database and wrk's load is split between them (two wrk -c16).
# Prints the ratio lines and qrpay's batches/units from /metrics (SQLite group commit).
set -euo pipefail
bin=$(realpath "${1:?qrpay binary}"); backend=${2:-sqlite}; secs=${3:-10}; n=${4:-1}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ratio="$here/../../shared/bench/ratio.sh"
[ -x "$ratio" ] || ratio=/work/shared/bench/ratio.sh
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
if [ "$backend" = postgres ]; then
  db="qrpay_bench_$$"
  psql -h 127.0.0.1 -U postgres -qAt -c "create database $db" >/dev/null
  export QRPAY_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
  trap 'cleanup; psql -h 127.0.0.1 -U postgres -qAt -c "drop database if exists $db" >/dev/null 2>&1 || true' EXIT
else
  export QRPAY_DATABASE_URL="sqlite://$work/qrpay.db"
fi
export QRPAY_OPS_LISTEN=127.0.0.1:0 RUST_LOG=warn
"$bin" migrate >/dev/null
key=$("$bin" till add --name bench | tail -n1)
ports=()
for i in $(seq 1 "$n"); do
  port=$((21000 + RANDOM % 9000 + i))
  QRPAY_OPS_LISTEN="127.0.0.1:$((port + 1000))" "$bin" serve --listen "127.0.0.1:$port" >"$work/serve$i.log" 2>&1 &
  pids+=($!); ports+=("$port")
done
for p in "${ports[@]}"; do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$p/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
done
"$bin" till-sim --url "http://127.0.0.1:${ports[0]}" --key "$key" --payments 2000 --concurrency 32 >/dev/null
if [ "$n" -eq 1 ]; then
  "$ratio" "http://127.0.0.1:${ports[0]}" "$key" "$secs"
else
  # Several instances: the load split between them, each wrk -c$((32 / n)); summed.
  # A till per instance: the wrk processes start in the same second with the same seed, so
  # their Idempotency-Keys would collide (keys are per till).
  total=0
  for p in "${ports[@]}"; do
    k=$("$bin" till add --name "bench-$p" | tail -n1)
    QRPAY_KEY="$k" wrk -t1 -c$((32 / n)) -d"${secs}s" -s "$(dirname "$ratio")/create_payment.lua" "http://127.0.0.1:$p" | grep '^RESULT' >"$work/wrk$p" &
  done
  wait_wrk() { while pgrep -x wrk >/dev/null; do sleep 0.5; done; }
  wait_wrk
  for p in "${ports[@]}"; do cat "$work/wrk$p"; r=$(sed -E 's/.*rps=([0-9.]+).*/\1/' "$work/wrk$p"); total=$(awk -v a="$total" -v b="$r" 'BEGIN{print a+b}'); done
  echo "qrpay x$n total rps=$total"
fi
for p in "${ports[@]}"; do
  curl -s "http://127.0.0.1:$((p + 1000))/metrics" | grep -E '^qrpay_sqlite_write_(batches|units)_total' | tr '\n' ' '; echo
done
