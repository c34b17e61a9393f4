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
. "$here/lib.sh"
bench_db "$bin" "$backend"
key=$bench_key
ports=()
for i in $(seq 1 "$n"); do
  port=$((21000 + RANDOM % 9000 + i))
  bench_serve "$bin" "$port"
  ports+=("$port")
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
    QRPAY_KEY="$k" wrk -t1 -c$((32 / n)) -d"${secs}s" -s "$(dirname "$ratio")/create_payment.lua" "http://127.0.0.1:$p" | grep '^RESULT' >"$bench_work/wrk$p" &
  done
  wait_wrk() { while pgrep -x wrk >/dev/null; do sleep 0.5; done; }
  wait_wrk
  for p in "${ports[@]}"; do cat "$bench_work/wrk$p"; r=$(sed -E 's/.*rps=([0-9.]+).*/\1/' "$bench_work/wrk$p"); total=$(awk -v a="$total" -v b="$r" 'BEGIN{print a+b}'); done
  echo "qrpay x$n total rps=$total"
fi
for p in "${ports[@]}"; do
  curl -s "http://127.0.0.1:$((p + 1000))/metrics" | grep -E '^qrpay_sqlite_write_(batches|units)_total' | tr '\n' ' '; echo
done
