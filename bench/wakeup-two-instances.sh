#!/usr/bin/env bash
# Cross-instance wake-up of one qrpay build: two instances on a fresh PostgreSQL database on
# 127.0.0.1, then `qrpay bench wakeup` (create on A, long-poll on A, pay through B).
#
#   bench/wakeup-two-instances.sh BIN [PAYMENTS]
set -euo pipefail
S=$(realpath "${1:?qrpay binary}"); N=${2:-300}
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
bench_db "$S" postgres
P=$((25000 + RANDOM % 5000))
bench_serve "$S" "$P"
bench_serve "$S" $((P + 1))
"$S" bench wakeup --a "http://127.0.0.1:$P" --b "http://127.0.0.1:$((P + 1))" --key "$bench_key" --payments "$N" 2>&1 | tail -4
