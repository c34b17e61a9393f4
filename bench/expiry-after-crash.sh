#!/usr/bin/env bash
# Expiry lateness under load and after a SIGKILL + restart (issue 11), on SQLite.
#
#   bench/expiry-after-crash.sh BIN [SECONDS]
#
# BIN: a release `qrpay`. A fresh SQLite database; the store's default payment type (sandbox) gets
# a 5 s QR lifetime, so everything created expires while the load goes on. `till-sim` creates
# payments at 150/s for SECONDS (default 30); a third of the way in, qrpay is killed with SIGKILL
# and started again at once on the same database and port. Afterwards, from the database: how late
# each payment's `expired` event came after its deadline, for deadlines that fell before the kill,
# during the restart (deadline within 5 s after it) and later, as p50 / p99 / max.
set -euo pipefail
bin=${1:?path to a release qrpay}; secs=${2:-30}
work="$(mktemp -d)"; db="sqlite://$work/qrpay.db"; port=$((20000 + RANDOM % 20000))
export QRPAY_DATABASE_URL="$db" RUST_LOG=error
unset QRPAY_AMQP_URL
"$bin" migrate >/dev/null
key=$("$bin" till add --name bench | tail -n1)
sqlite3 "$work/qrpay.db" "update auth_server set response_timeout_secs = 5"
serve() { "$bin" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 & echo $!; }
pid=$(serve)
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
"$bin" till-sim --url "http://127.0.0.1:$port" --key "$key" --payments $((secs * 150)) \
  --concurrency 16 --rate 150 >"$work/sim.txt" 2>&1 & sim=$!
sleep $((secs / 3))
kill -9 "$pid"; killed=$(date -u +%Y-%m-%dT%H:%M:%S.%N)
pid=$(serve)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
up=$(date -u +%Y-%m-%dT%H:%M:%S.%N)
wait "$sim" || true
sleep 8
kill "$pid"; wait "$pid" 2>/dev/null || true
echo "killed at $killed, serving again at $up"
grep -E "created|errors|throughput" "$work/sim.txt" | head -5 || true
python3 - "$work/qrpay.db" "$killed" "$up" <<'PY'
import sqlite3, sys
from datetime import datetime, timedelta
def t(s):
    s = s.replace(" ", "T").replace("Z", "+00:00")
    if "+" not in s[10:]: s += "+00:00"
    head, tz = s[:-6], s[-6:]
    if "." in head:
        a, b = head.split("."); head = a + "." + (b + "000000")[:6]
    return datetime.fromisoformat(head + tz)
db, killed, up = sys.argv[1], t(sys.argv[2][:26] + "+00:00"), t(sys.argv[3][:26] + "+00:00")
rows = sqlite3.connect(db).execute(
    "select p.expires_at, e.created_at from payment p join payment_event e "
    "on e.payment_id = p.payment_id and e.to_status = 'expired' and e.refund_id is null").fetchall()
groups = {"deadline before the kill": [], "deadline in the 5 s after the restart": [], "deadline later": []}
for exp, at in rows:
    d, a = t(exp), t(at)
    late = (a - d).total_seconds() * 1000
    key = ("deadline before the kill" if d < killed else
           "deadline in the 5 s after the restart" if d < up + timedelta(seconds=5) else "deadline later")
    groups[key].append(late)
left = sqlite3.connect(db).execute("select status, count(*) from payment group by status").fetchall()
print("payments by status:", dict(left))
for name, xs in groups.items():
    xs.sort()
    if not xs: print(f"{name}: none"); continue
    q = lambda p: xs[min(len(xs) - 1, int(p * len(xs)))]
    print(f"{name}: {len(xs)} expired, lateness p50 {q(0.5):.0f} ms, p99 {q(0.99):.0f} ms, max {xs[-1]:.0f} ms")
PY
