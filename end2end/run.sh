#!/usr/bin/env bash
# Browser tests against a fresh qrpay: bash end2end/run.sh [path/to/qrpay] [playwright args, e.g. -g users]
set -euo pipefail

# Resolve a relative binary path against the caller's cwd, then work from here.
BIN="${1:-}"
shift || true
if [[ -n "$BIN" && "$BIN" != /* ]]; then BIN="$PWD/$BIN"; fi
cd "$(dirname "${BASH_SOURCE[0]}")"
BIN="${BIN:-$PWD/../target/debug/qrpay}"
[[ -x "$BIN" ]] || { echo "run.sh: no qrpay binary at $BIN" >&2; exit 2; }

ADDR="${QRPAY_E2E_ADDR:-127.0.0.1:3100}"
export QRPAY_E2E_URL="http://$ADDR"

healthy() {
  node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' \
    "$QRPAY_E2E_URL/healthz"
}

if healthy; then echo "run.sh: something already answers on $ADDR; stop it first" >&2; exit 2; fi
[[ -d node_modules/@playwright/test ]] || PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund

TMP="$(mktemp -d -t qrpay-e2e.XXXXXX)"
export QRPAY_DATABASE_URL="sqlite://$TMP/qrpay.db"
SERVER_PID=
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# Every browser test signs in from 127.0.0.1: lift the per-address sign-in rate for them.
QRPAY_LISTEN="$ADDR" QRPAY_OPS_LISTEN=127.0.0.1:0 QRPAY_SIGN_INS_PER_MINUTE=1000 "$BIN" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 60); do
  healthy && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "run.sh: server exited:" >&2; cat "$TMP/server.log" >&2; exit 1; }
  sleep 0.5
done
healthy || { echo "run.sh: no /healthz after 30 s:" >&2; cat "$TMP/server.log" >&2; exit 1; }

QRPAY_E2E_TILL_KEY="$("$BIN" till add --name e2e-till)"
# A second store, so that the console shows its store picker.
"$BIN" store add --code e2e-north --name "E2E Север"
export QRPAY_E2E_TILL_KEY
# Specs that start a bank emulator or use the command line run this binary.
export QRPAY_E2E_BIN="$BIN"
export QRPAY_E2E_LOGIN=e2e-admin
QRPAY_E2E_PASSWORD="e2e-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export QRPAY_E2E_PASSWORD
printf '%s' "$QRPAY_E2E_PASSWORD" | "$BIN" user add --login "$QRPAY_E2E_LOGIN" --role admin --password-stdin
# A viewer with the same password: the tests check what a viewer may not do.
export QRPAY_E2E_VIEWER=e2e-viewer
printf '%s' "$QRPAY_E2E_PASSWORD" | "$BIN" user add --login "$QRPAY_E2E_VIEWER" --role viewer --password-stdin

set +e
npx playwright test --reporter=list "$@"
STATUS=$?
set -e
if [[ $STATUS -ne 0 ]]; then echo "--- server log ---" >&2; tail -n 50 "$TMP/server.log" >&2; fi
exit $STATUS
