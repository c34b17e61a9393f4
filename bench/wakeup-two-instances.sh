#!/usr/bin/env bash
# Cross-instance wake-up of one qrpay build: two instances on a fresh PostgreSQL database on
# 127.0.0.1, then `qrpay bench wakeup` (create on A, long-poll on A, pay through B).
#
#   bench/wakeup-two-instances.sh BIN [PAYMENTS]
set -euo pipefail
S=$1; N=${2:-300}
db="qrpay_wake_$$"; P=$((25000 + RANDOM % 5000))
psql -h 127.0.0.1 -U postgres -qAt -c "create database $db" >/dev/null
export QRPAY_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" RUST_LOG=warn
$S migrate >/dev/null 2>&1
KEY=$($S till add --name w 2>/dev/null | tail -n1)
QRPAY_OPS_LISTEN=127.0.0.1:$((P+2)) $S serve --listen 127.0.0.1:$P >/dev/null 2>&1 & a=$!
QRPAY_OPS_LISTEN=127.0.0.1:$((P+3)) $S serve --listen 127.0.0.1:$((P+1)) >/dev/null 2>&1 & b=$!
for p in $P $((P+1)); do for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$p/healthz >/dev/null && break; sleep 0.1; done; done
$S bench wakeup --a http://127.0.0.1:$P --b http://127.0.0.1:$((P+1)) --key "$KEY" --payments "$N" 2>&1 | tail -4
kill $a $b; wait 2>/dev/null || true
psql -h 127.0.0.1 -U postgres -qAt -c "drop database if exists $db" >/dev/null 2>&1 || true
